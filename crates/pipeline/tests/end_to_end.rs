//! End to end through the pipeline: a simulated tenant's day in all three shapes is imported, archived and
//! counted with SQL against the generator's ground truth; sinks consume with their own offsets and never
//! skip a batch that failed.
#![allow(clippy::unwrap_used)]

use model::Category;
use pipeline::Pipeline;
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use store::query::QueryEngine;
use testkit::pipeline::{assert_archive_matches, count, expected_rows, open};

/// Writes a simulated day: every event in its diagnostic shape (as `{"records":[...]}` bodies), and the
/// events that have one in their Graph and Log Analytics shapes too, each shape in its own file. Returns the
/// expected row count per category.
fn write_day(dir: &Path, users: u32, seed: u64) -> BTreeMap<Category, u64> {
    let cfg = sim::TenantConfig {
        seed,
        users,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg).with_truth(true);
    let mut diag =
        std::io::BufWriter::new(std::fs::File::create(dir.join("diagnostic.json")).unwrap());
    let mut graph = std::io::BufWriter::new(std::fs::File::create(dir.join("graph.json")).unwrap());
    let mut la = std::io::BufWriter::new(std::fs::File::create(dir.join("la.json")).unwrap());
    let mut batch = Vec::new();
    for event in generator.by_ref() {
        if let Some(v) = sim::render(&event, sim::Shape::Diagnostic, true, &tenant) {
            batch.push(v);
        }
        if batch.len() == 50 {
            serde_json::to_writer(
                &mut diag,
                &serde_json::json!({ "records": std::mem::take(&mut batch) }),
            )
            .unwrap();
            diag.write_all(b"\n").unwrap();
        }
        for (shape, out) in [
            (sim::Shape::Graph, &mut graph),
            (sim::Shape::LogAnalytics, &mut la),
        ] {
            if let Some(v) = sim::render(&event, shape, true, &tenant) {
                serde_json::to_writer(&mut *out, &v).unwrap();
                out.write_all(b"\n").unwrap();
            }
        }
    }
    serde_json::to_writer(&mut diag, &serde_json::json!({ "records": batch })).unwrap();
    for w in [&mut diag, &mut graph, &mut la] {
        w.flush().unwrap();
    }
    expected_rows(&generator.into_truth().unwrap())
}

fn import(p: &mut Pipeline, dir: &Path) -> pipeline::ImportReport {
    let source = FileSource::new(FileSourceConfig::new(
        "test",
        vec![format!("{}/*.json", dir.display())],
    ))
    .unwrap();
    p.import(&source, Progress::default()).unwrap()
}

#[test]
fn archive_counts_equal_ground_truth_for_every_category_whatever_the_shape() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let expected = write_day(&exports, 60, 7);
    assert!(
        expected.len() >= 20,
        "the generator covers every category: {expected:?}"
    );
    let mut p = open(dir.path(), "");
    let report = import(&mut p, &exports);
    assert_eq!(
        report.outcome.quarantined, 0,
        "nothing generated is malformed"
    );
    assert!(
        report.outcome.duplicates > 0,
        "the same events arrived in three shapes"
    );
    p.archive().unwrap();
    // Importing the same files again changes nothing.
    let again = import(&mut p, &exports);
    assert_eq!(again.outcome.appended, 0);
    p.archive().unwrap();

    assert_archive_matches(dir.path(), &expected);
}

#[test]
fn a_file_sink_consumes_with_its_own_offset_and_a_failed_batch_is_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    write_day(&exports, 10, 3);
    std::fs::remove_file(exports.join("graph.json")).unwrap();
    std::fs::remove_file(exports.join("la.json")).unwrap();
    let out = dir.path().join("out/records.jsonl");
    let sink = format!(
        "[[sinks]]\ntype = \"file\"\nid = \"jsonl\"\npath = {:?}\n",
        out.display().to_string()
    );
    let mut p = open(dir.path(), &sink);
    let report = import(&mut p, &exports);
    let lines = |path: &Path| {
        std::fs::File::open(path)
            .ok()
            .and_then(|f| model::limits::read_capped(f, 1 << 30).ok())
            .map_or(0, |b| {
                b.split(|c| *c == b'\n').filter(|l| !l.is_empty()).count() as u64
            })
    };

    // The sink's target is unwritable: the drain fails and the offset stays where it was.
    std::fs::create_dir_all(&out).unwrap();
    assert!(p.drain_sinks().is_err());
    assert_eq!(p.log().committed("jsonl"), None);
    std::fs::remove_dir(&out).unwrap();

    let drained = p.drain_sinks().unwrap();
    assert_eq!(drained[0].1.records, report.outcome.appended);
    assert_eq!(lines(&out), report.outcome.appended);
    assert_eq!(p.log().committed("jsonl"), Some(p.log().end_offset()));
    // Nothing new: nothing sent again.
    assert_eq!(p.drain_sinks().unwrap()[0].1.records, 0);
    assert_eq!(lines(&out), report.outcome.appended);

    // Reopening keeps the offset; the archive has its own.
    drop(p);
    let mut p = open(dir.path(), &sink);
    assert_eq!(p.drain_sinks().unwrap()[0].1.records, 0);
    let a = p.archive().unwrap();
    assert_eq!(a.records, report.outcome.appended);
    // Status reads the archive's manifest, so it works while the archive is held (as by a running `run`).
    let held = p.open_archive().unwrap();
    let status = p.status().unwrap();
    drop(held);
    assert!(
        status.consumers.iter().all(|c| c.lag == 0),
        "{:?}",
        status.consumers
    );
    let archived: u64 = status.categories.iter().map(|c| c.archived_rows).sum();
    assert_eq!(archived, report.outcome.appended);
    // Every consumer has passed every segment: trimming is allowed and loses nothing archived.
    p.trim_log().unwrap();
}

#[test]
fn malformed_lines_are_quarantined_and_the_rest_is_archived() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let good = r#"{"id":"Directory_1","activityDateTime":"2024-01-01T00:00:00Z","activityDisplayName":"Add user","loggedByService":"Core Directory","category":"UserManagement","result":"success","initiatedBy":{},"targetResources":[]}"#;
    let text = format!(
        "{good}\n{{broken\n[1,2]\n{}\n",
        good.replace("Directory_1", "Directory_2")
    );
    std::fs::write(exports.join("audit.json"), text).unwrap();
    let mut p = open(dir.path(), "");
    let report = import(&mut p, &exports);
    assert_eq!(
        (report.outcome.appended, report.outcome.quarantined),
        (2, 2)
    );
    let mut hub = p.hub();
    let q = hub.quarantine();
    let at: Vec<_> = q
        .entries()
        .iter()
        .map(|e| e.rejected.position.at.clone())
        .collect();
    assert_eq!(at, ["line 2", "line 3"]);
    assert!(q.entries().iter().all(|e| !e.rejected.reason.is_empty()));
    drop(hub);
    assert_eq!(p.archive().unwrap().records, 2);
}

#[test]
fn small_files_are_compacted_once_a_partition_holds_eight() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let mut p = open(dir.path(), "");
    let files = |p: &Pipeline| p.open_archive().unwrap().manifest().files.len();
    for i in 0..8 {
        let line = format!(
            r#"{{"id":"Directory_{i}","activityDateTime":"2024-01-01T00:00:0{i}Z","activityDisplayName":"Add user","loggedByService":"Core Directory","category":"UserManagement","result":"success","initiatedBy":{{}},"targetResources":[]}}"#
        );
        std::fs::write(exports.join("audit.json"), line).unwrap();
        import(&mut p, &exports);
        p.archive().unwrap();
        // One small file per archive run until the eighth, which merges them: at most six files per merge
        // (store's bounded fan-in), so the eight become two files of six and two.
        assert_eq!(
            files(&p),
            if i < 7 { i + 1 } else { 2 },
            "after run {}",
            i + 1
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let engine = QueryEngine::new(&dir.path().join("data/archive")).unwrap();
    assert_eq!(count(&engine, &rt, "SELECT count(*) FROM AuditLogs"), 8);
}
