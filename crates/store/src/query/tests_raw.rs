//! `_Raw` stored as residuals (`archive.raw = "residual"`): queries read back every raw record byte for
//! byte, from residual, text and mixed files alike, and filters on `_Raw` see the raw text.
use datafusion::arrow::array::RecordBatch;
use model::Record;

use super::*;
use crate::archive::{Archive, ArchiveConfig, RawMode};

/// `n` simulated sign-ins (interactive and non-interactive), decoded from the diagnostic shape.
fn sign_ins(n: usize) -> Vec<Record> {
    sim::signin_rows::diagnostic_sign_ins(5, 40, 2, n)
        .iter()
        .flat_map(|json| bench::decode_generated(json, 1_700_000_000_000_000))
        .collect()
}

/// Writes `records` from log offset `from` with `raw` and commits.
fn write(dir: &std::path::Path, raw: RawMode, records: &[Record], from: u64) -> Archive {
    let cfg = ArchiveConfig {
        raw,
        // Several files per partition, so that compaction merges residual and text files.
        flush_rows: 300,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(dir, cfg).unwrap();
    for (i, r) in records.iter().enumerate() {
        a.write(from + i as u64, r).unwrap();
    }
    a.commit().unwrap();
    a
}

/// Every (table, key, raw) the archive returns, sorted.
async fn raws(dir: &std::path::Path, tables: &[String]) -> Vec<(String, String, String)> {
    let engine = QueryEngine::new(dir).unwrap();
    let mut out = Vec::new();
    for t in tables {
        let batches: Vec<RecordBatch> = engine
            .sql(&format!("SELECT _Key, _Raw FROM {t}_all"))
            .await
            .unwrap();
        for b in &batches {
            let (k, r) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                out.push((t.to_string(), k.value(i).to_owned(), r.value(i).to_owned()));
            }
        }
    }
    out.sort();
    out
}

/// The tables `records` go to.
fn tables(records: &[Record]) -> Vec<String> {
    let mut t: Vec<String> = records
        .iter()
        .map(|r| r.category.table().to_owned())
        .collect();
    t.sort();
    t.dedup();
    t
}

/// Fails naming the first row that differs (the rows are ~4 KB each, too long to print all).
fn assert_same(got: &[(String, String, String)], want: &[(String, String, String)]) {
    assert_eq!(got.len(), want.len(), "rows");
    if let Some((g, w)) = got.iter().zip(want).find(|(g, w)| g != w) {
        let at =
            g.2.bytes()
                .zip(w.2.bytes())
                .take_while(|(a, b)| a == b)
                .count();
        let around = |s: &str| {
            s.get(at.saturating_sub(40)..(at + 80).min(s.len()))
                .map(str::to_owned)
        };
        panic!(
            "{} {} differs at byte {at}: got {:?}, want {:?}",
            w.0,
            w.1,
            around(&g.2),
            around(&w.2)
        );
    }
}

/// (table, key, raw) of every record, sorted: what [`raws`] must return.
fn expected(records: &[Record]) -> Vec<(String, String, String)> {
    let mut e: Vec<_> = records
        .iter()
        .map(|r| (r.category.table().to_owned(), r.key.clone(), r.raw.clone()))
        .collect();
    e.sort();
    e
}

fn archive_bytes(dir: &std::path::Path) -> u64 {
    let m = crate::archive::Manifest::load(dir).unwrap().unwrap();
    m.files.iter().map(|f| f.bytes).sum()
}

#[tokio::test]
async fn residual_raw_reads_back_byte_for_byte_and_takes_less_space() {
    let records = sign_ins(3000);
    let tables = tables(&records);
    let expected = expected(&records);
    assert!(tables.len() >= 2, "{tables:?}");

    let text = tempfile::tempdir().unwrap();
    write(text.path(), RawMode::Text, &records, 0)
        .compact()
        .unwrap();
    let residual = tempfile::tempdir().unwrap();
    write(residual.path(), RawMode::Residual, &records, 0)
        .compact()
        .unwrap();
    let manifest = crate::archive::Manifest::load(residual.path())
        .unwrap()
        .unwrap();
    assert!(manifest.files.iter().all(|f| f.raw_residual));

    assert_same(&raws(text.path(), &tables).await, &expected);
    assert_same(&raws(residual.path(), &tables).await, &expected);
    let (t, r) = (archive_bytes(text.path()), archive_bytes(residual.path()));
    assert!(
        r * 4 < t * 3,
        "residual archive {r} bytes, text archive {t}"
    );

    // A filter on `_Raw` sees the raw text, in the view and through compaction.
    let upn = records[0]
        .raw
        .split("\"userPrincipalName\":\"")
        .nth(1)
        .unwrap();
    let upn = &upn[..upn.find('"').unwrap()];
    let want = records
        .iter()
        .filter(|r| r.category == records[0].category && r.raw.contains(upn))
        .count() as i64;
    assert!(want > 0);
    let sql = format!(
        "SELECT count(*) FROM {} WHERE _Raw LIKE '%\"userPrincipalName\":\"{upn}\"%' OR _Raw LIKE '%{upn}%'",
        records[0].category.table()
    );
    for dir in [text.path(), residual.path()] {
        let engine = QueryEngine::new(dir).unwrap();
        let b = engine.sql(&sql).await.unwrap();
        assert_eq!(b[0].column(0).as_primitive::<Int64Type>().value(0), want);
    }
}

#[tokio::test]
async fn text_and_residual_files_merge_and_both_read_back() {
    let records = sign_ins(1600);
    let tables = tables(&records);
    let expected = expected(&records);
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = records.split_at(800);
    drop(write(dir.path(), RawMode::Text, old, 0));
    let mut a = write(dir.path(), RawMode::Residual, new, 800);
    let before = crate::archive::Manifest::load(dir.path()).unwrap().unwrap();
    assert!(before.files.iter().any(|f| f.raw_residual));
    assert!(before.files.iter().any(|f| !f.raw_residual));
    assert_same(&raws(dir.path(), &tables).await, &expected);
    a.compact().unwrap();
    let after = crate::archive::Manifest::load(dir.path()).unwrap().unwrap();
    assert!(after.files.len() < before.files.len());
    assert_same(&raws(dir.path(), &tables).await, &expected);
}

/// The one number a `SELECT count(*) ...` returns.
async fn count(engine: &QueryEngine, sql: &str) -> i64 {
    let b = engine.sql(sql).await.unwrap();
    b[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn keys_stored_as_references_still_pick_the_latest_revision() {
    let mut records = sign_ins(600);
    let revised: Vec<Record> = records
        .iter()
        .take(40)
        .map(|r| Record {
            revision: 1,
            raw: r.raw.replacen('{', "{ ", 1),
            ..r.clone()
        })
        .collect();
    records.extend(revised);
    for raw in [RawMode::Text, RawMode::Residual] {
        let tmp = tempfile::tempdir().unwrap();
        drop(write(tmp.path(), raw, &records, 0));
        let engine = QueryEngine::new(tmp.path()).unwrap();
        let (mut latest, mut all, mut revised, mut stale) = (0, 0, 0, 0);
        for t in tables(&records) {
            latest += count(&engine, &format!("SELECT count(*) FROM {t}")).await;
            all += count(&engine, &format!("SELECT count(*) FROM {t}_all")).await;
            // The latest view shows the revised row of those keys, with its raw text.
            revised += count(
                &engine,
                &format!(
                    "SELECT count(*) FROM {t} WHERE _Revision = 1 AND starts_with(_Raw, '{{ ')"
                ),
            )
            .await;
            stale += count(
                &engine,
                &format!(
                    "SELECT count(*) FROM {t} WHERE _Revision = 0 AND _Key IN \
                     (SELECT _Key FROM {t}_all WHERE _Revision = 1)"
                ),
            )
            .await;
        }
        assert_eq!((latest, all, revised, stale), (600, 640, 40, 0), "{raw:?}");
    }
}
