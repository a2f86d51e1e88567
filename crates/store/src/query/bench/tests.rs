//! The benchmark loader: incremental compaction keeps the file count bounded and loses no row.
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use model::{Category, Record};

use super::{
    DuckDb, LoadOptions, LoadReport, load_parallel, median, time_interleaved, time_range_queries,
};
use crate::archive::test_util::{DAY, JAN_1, record};
use crate::archive::{Archive, ArchiveConfig};
use crate::query::QueryEngine;

/// Sign-ins loaded by the tests.
const N: u64 = 1200;

/// Rows between commits in the tests.
const COMMIT: u64 = 100;

/// `N` sign-ins in time order over two days, each with its own key and user.
fn sign_ins() -> Vec<Record> {
    let step = 2 * DAY / N as i64;
    (0..N as i64)
        .map(|i| record(Category::SignInLogs, JAN_1 + i * step, &format!("s{i}")))
        .collect()
}

/// Small files: 10 rows each, a commit every `COMMIT` rows.
fn load(dir: &std::path::Path, compact: bool) -> (Archive, LoadReport) {
    let cfg = ArchiveConfig {
        flush_rows: 10,
        row_group_rows: 64,
        ..ArchiveConfig::default()
    };
    let mut archive = Archive::open(dir, cfg).unwrap();
    let options = LoadOptions {
        commit_every: COMMIT,
        compact,
        ..LoadOptions::new(2, u64::MAX)
    };
    let report =
        load_parallel(&mut archive, sign_ins().into_iter(), &options, |r| vec![r]).unwrap();
    (archive, report)
}

async fn count(engine: &QueryEngine, sql: &str) -> u64 {
    let batches = engine.sql(sql).await.unwrap();
    let n = batches[0].column(0).as_primitive::<Int64Type>().value(0);
    u64::try_from(n).unwrap()
}

fn rows(archive: &Archive) -> u64 {
    archive.manifest().files.iter().map(|f| f.rows).sum()
}

#[tokio::test]
async fn incremental_compaction_bounds_the_files_and_keeps_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let (archive, report) = load(tmp.path(), true);
    assert_eq!(report.records, N);
    assert_eq!(report.items, N);
    assert_eq!(
        report.compactions,
        N / COMMIT + 1,
        "one per commit, then the final one"
    );
    // One commit interval writes 10 files of 10 rows; compaction folds them (6 at a time) into
    // the few files before it, so the count never grows with the input.
    assert!(
        report.peak_files <= 20,
        "peak {} files with compaction after every commit",
        report.peak_files
    );
    let files = &archive.manifest().files;
    assert!(files.len() <= 6, "{} files at the end", files.len());
    assert_eq!(rows(&archive), N);
    assert_eq!(archive.next_offset(), N);
    let listed: u64 = files.iter().map(|f| f.bytes).sum();
    assert!(
        report.peak_bytes >= listed,
        "the peak includes the end state"
    );
    drop(archive);

    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM SigninLogs").await, N);
    assert_eq!(
        count(&engine, "SELECT count(DISTINCT _Key) FROM SigninLogs").await,
        N
    );
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM SigninLogs WHERE day = '2024-01-02'"
        )
        .await,
        N / 2
    );

    // Without it every small file exists until the end: the peak grows with the input.
    let tmp2 = tempfile::tempdir().unwrap();
    let (archive2, report2) = load(tmp2.path(), false);
    assert_eq!(report2.records, N);
    assert_eq!(report2.compactions, 1);
    assert!(
        report2.peak_files >= (N / 10) as usize,
        "{} files without compaction",
        report2.peak_files
    );
    assert!(report2.peak_bytes > report.peak_bytes);
    assert_eq!(rows(&archive2), N);
}

#[test]
fn load_stops_at_max_records_and_median_is_the_middle_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    let options = LoadOptions::new(3, 234);
    let report =
        load_parallel(&mut archive, sign_ins().into_iter(), &options, |r| vec![r]).unwrap();
    assert_eq!(report.records, 234);
    assert_eq!(rows(&archive), 234);
    assert_eq!(archive.next_offset(), 234);
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
}

/// A stand-in for `scripts/bench/duckdb_query.py --serve` speaking its protocol (no DuckDB
/// needed): answers 7 rows in 1 ms, 9 rows over the latest-revision views, an error for `bad`.
const FAKE_BASELINE: &str = r#"
import json, sys
print(json.dumps({"version": "fake-1"}), flush=True)
for line in sys.stdin:
    r = json.loads(line)
    if "bad" in r["sql"]:
        print(json.dumps({"error": "no such table"}), flush=True)
    else:
        print(json.dumps({"s": 0.001, "rows": 9 if r["dedup"] else 7}), flush=True)
"#;

#[tokio::test]
async fn baseline_runs_alternate_with_ours_and_errors_surface() {
    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    load_parallel(
        &mut archive,
        sign_ins().into_iter(),
        &LoadOptions::new(1, 30),
        |r| vec![r],
    )
    .unwrap();
    drop(archive);
    let script = tmp.path().join("fake.py");
    std::fs::write(&script, FAKE_BASELINE).unwrap();
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let mut duck = DuckDb::start(&script, tmp.path())
        .unwrap_or_else(|e| panic!("python3 is needed (scripts/install-test-deps): {e}"));
    assert_eq!(duck.version(), "fake-1");
    let sql = "SELECT UserPrincipalName FROM SigninLogs LIMIT 5";
    let (ours, theirs) = time_interleaved(&engine, &mut duck, &[false, true], sql, 3)
        .await
        .unwrap();
    assert_eq!(ours.rows, 5);
    assert_eq!(ours.runs_s.len(), 3);
    assert_eq!(theirs.len(), 2);
    assert_eq!((theirs[0].rows, theirs[1].rows), (7, 9));
    assert_eq!(theirs[0].runs_s, [0.001; 3]);
    assert_eq!(theirs[1].median_s, 0.001);
    let err = duck.run("SELECT * FROM bad", false).unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
    // The process is still usable after an error answer.
    assert_eq!(duck.run(sql, false).unwrap(), (0.001, 7));
}

#[test]
fn time_range_queries_use_the_last_hour_and_the_middle_day() {
    let queries = time_range_queries(JAN_1 + DAY / 2, JAN_1 + 4 * DAY + 3 * DAY / 4);
    assert_eq!(queries.len(), 2);
    assert!(
        queries[0].1.contains("TIMESTAMP '2024-01-05 18:00:00'"),
        "{}",
        queries[0].1
    );
    assert!(
        queries[1].1.contains(
            "TIMESTAMP '2024-01-03 00:00:00' AND CreatedDateTime < TIMESTAMP '2024-01-04 00:00:00'"
        ),
        "{}",
        queries[1].1
    );
}
