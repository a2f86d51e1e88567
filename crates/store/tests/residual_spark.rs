//! An archive written with `archive.raw = "residual"` (and text files beside residual ones, merged) read by
//! Spark 3.5 with the documented decoder (`scripts/residual_raw.py`): every row's `_Raw` is the raw record,
//! byte for byte, as `entrail query` gives it back.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use model::Record;
use store::archive::{Archive, ArchiveConfig, RawMode};

const PYSPARK: &str = "/var/tmp/entrail-pyspark/bin/python";

fn sign_ins(n: usize) -> Vec<Record> {
    sim::signin_rows::diagnostic_sign_ins(9, 40, 2, n)
        .iter()
        .flat_map(|json| store::query::bench::decode_generated(json, 1_700_000_000_000_000))
        .collect()
}

fn write(dir: &Path, raw: RawMode, records: &[Record], from: u64) -> Archive {
    let cfg = ArchiveConfig {
        raw,
        flush_rows: 250,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(dir, cfg).unwrap();
    for (i, r) in records.iter().enumerate() {
        a.write(from + i as u64, r).unwrap();
    }
    a.commit().unwrap();
    a
}

#[test]
fn spark_reads_residual_raw_back_byte_for_byte_with_the_documented_decoder() {
    assert!(
        Path::new(PYSPARK).exists(),
        "{PYSPARK} is missing: run scripts/install-test-deps (pyspark==3.5.3)"
    );
    let records = sign_ins(1200);
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = records.split_at(300);
    drop(write(tmp.path(), RawMode::Text, old, 0));
    let mut a = write(tmp.path(), RawMode::Residual, new, 300);
    // Merge some text files with residual ones; files written as text stay beside them.
    a.compact().unwrap();
    drop(a);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/residual_raw.py");
    let out = std::process::Command::new(PYSPARK)
        .arg(script)
        .arg(tmp.path())
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "residual_raw.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (t, k, r) = (&v["table"], &v["key"], &v["raw"]);
        let key = (
            t.as_str().unwrap().to_owned(),
            k.as_str().unwrap().to_owned(),
        );
        assert!(got.insert(key, r.as_str().unwrap().to_owned()).is_none());
    }
    assert_eq!(got.len(), records.len());
    for r in &records {
        let key = (r.category.table().to_owned(), r.key.clone());
        let raw = got.get(&key).unwrap_or_else(|| panic!("{key:?} missing"));
        assert!(
            *raw == r.raw,
            "{key:?}: Spark read {} bytes, the record has {}",
            raw.len(),
            r.raw.len()
        );
    }
    // What Spark decoded was stored as residuals for the rows written so, as text for the others.
    let (residual, text) = stored_raw_kinds(tmp.path());
    assert!(
        residual >= 800 && text >= 200,
        "{residual} residual, {text} text"
    );
    assert_eq!(residual + text, records.len());
}

/// Rows of the archive whose stored `_Raw` is a residual (starts with NUL), and the others.
fn stored_raw_kinds(dir: &Path) -> (usize, usize) {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let manifest = store::archive::Manifest::load(dir).unwrap().unwrap();
    let (mut residual, mut text) = (0, 0);
    for f in &manifest.files {
        let file = std::fs::File::open(dir.join(&f.path)).unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            let raw = batch.column_by_name("_Raw").unwrap().as_string::<i32>();
            for i in 0..raw.len() {
                if raw.value(i).starts_with('\0') {
                    residual += 1;
                } else {
                    text += 1;
                }
            }
        }
    }
    (residual, text)
}
