//! Cursor store: values survive reopening, prefixes list in order, corrupt values are named.
#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

#[test]
fn saved_values_survive_reopen_and_list_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = Cursors::open(dir.path()).unwrap();
        assert_eq!(c.load("g/SigninLogs/tail").unwrap(), None);
        c.save("g/SigninLogs/tail", &json!({"end": "2024-03-04T01:00:00Z"}))
            .unwrap();
        c.save("g/SigninLogs/backfill/2", &json!(true)).unwrap();
        c.save("g/SigninLogs/backfill/1", &json!(true)).unwrap();
        c.save("g/AuditLogs/tail", &json!(1)).unwrap();
        c.save("g/SigninLogs/tail", &json!({"end": "2024-03-04T02:00:00Z"}))
            .unwrap();
    }
    let c = Cursors::open(dir.path()).unwrap();
    assert_eq!(
        c.load("g/SigninLogs/tail").unwrap(),
        Some(json!({"end": "2024-03-04T02:00:00Z"}))
    );
    let keys: Vec<String> = c
        .list("g/SigninLogs/backfill/")
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["g/SigninLogs/backfill/1", "g/SigninLogs/backfill/2"]);
    assert_eq!(c.list("g/").unwrap().len(), 4);
    assert!(c.list("h/").unwrap().is_empty());
}
