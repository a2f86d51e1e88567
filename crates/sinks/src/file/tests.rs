//! File sink tests: lines written, filters, rotation.

use super::*;
use crate::Sink;
use model::{Category, Record, Shape, Value, schema};

fn record(category: Category, key: &str) -> Record {
    Record {
        category,
        event_time: 0,
        ingest_time: 0,
        key: key.into(),
        content_hash: 1,
        revision: 0,
        source: "t".into(),
        shape: Shape::Graph,
        values: vec![Value::Null; schema(category).columns.len()],
        raw: "{}".into(),
    }
}

#[test]
fn writes_one_line_per_accepted_record_and_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/records.jsonl");
    let mut sink = FileSink::new(FileSinkConfig {
        id: "f".into(),
        path: path.clone(),
        rotate_bytes: 1,
        categories: vec![Category::AuditLogs],
    });
    sink.send(&[
        record(Category::AuditLogs, "a"),
        record(Category::SignInLogs, "s"),
    ])
    .unwrap();
    sink.send(&[record(Category::AuditLogs, "b")]).unwrap();
    let read = |p: &std::path::Path| -> Vec<serde_json::Value> {
        let text = String::from_utf8(
            model::limits::read_capped(std::fs::File::open(p).unwrap(), 1 << 20).unwrap(),
        )
        .unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let first = read(&dir.path().join("out/records.jsonl.1"));
    let second = read(&path);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["_Key"], "a");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["_Key"], "b");
}
