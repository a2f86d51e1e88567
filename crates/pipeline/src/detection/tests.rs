//! Alert store tests: durability, a torn last line, delivered offsets, the flat table.
#![allow(clippy::unwrap_used)]

use super::store::{AlertStore, table_row};
use detect::alert::{Alert, new_alert};
use detect::{Level, Match};
use std::io::Write;

fn alert(key: &str, user_time: i64) -> Alert {
    let m = Match {
        rule_id: "rule-1".into(),
        title: "Test rule".into(),
        level: Level::High,
        tags: vec![
            "attack.t1110".to_owned(),
            "attack.credential_access".to_owned(),
        ]
        .into(),
        category: model::Category::SignInLogs,
        key: key.into(),
        event_time: user_time,
        correlation: None,
    };
    new_alert(&m, None, 0)
}

#[test]
fn alerts_survive_reopen_and_a_torn_line_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(dir.path()).unwrap();
    let a = alert("k1", 1_700_000_000_000_000);
    let b = alert("k2", 1_700_000_100_000_000);
    s.append(&[a.clone(), b.clone()]).unwrap();
    let end = s.end();
    drop(s);
    // A crash mid-append leaves half a line.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("alerts.jsonl"))
        .unwrap();
    f.write_all(b"{\"activity_id\":1,\"cla").unwrap();
    drop(f);
    let mut s = AlertStore::open(dir.path()).unwrap();
    assert_eq!(s.end(), end);
    assert_eq!(s.alerts().len(), 2);
    assert_eq!(s.alerts()[a.uid()], a);
    // Later appends start on a clean line.
    let mut a2 = a.clone();
    a2.count = 7;
    s.append(&[a2]).unwrap();
    let s = AlertStore::open(dir.path()).unwrap();
    assert_eq!(s.alerts()[a.uid()].count, 7);
    assert_eq!(s.versions_from(0).unwrap().len(), 3);
}

#[test]
fn delivered_offsets_are_per_destination_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(dir.path()).unwrap();
    s.append(&[alert("k1", 1), alert("k2", 2)]).unwrap();
    let versions = s.versions_from(0).unwrap();
    assert_eq!(versions.len(), 2);
    s.mark_delivered("hook", versions[0].0).unwrap();
    drop(s);
    let s = AlertStore::open(dir.path()).unwrap();
    assert_eq!(s.delivered("hook"), versions[0].0);
    assert_eq!(s.delivered("mail"), 0);
    let rest = s.versions_from(s.delivered("hook")).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1["evidences"][0]["data"]["key"], "k2");
}

#[test]
fn table_rows_are_flat() {
    let r = table_row(&alert("k1", 1_700_000_000_000_000));
    assert_eq!(r["Title"], "Test rule");
    assert_eq!(r["SeverityId"], 4);
    assert_eq!(r["Techniques"], "T1110");
    assert_eq!(r["Tactics"], "Credential Access");
    assert_eq!(r["EvidenceKeys"], "k1");
    assert_eq!(r["Time"], "2023-11-14T22:13:20.000000Z");
    let finding: Alert = serde_json::from_str(r["Finding"].as_str().unwrap()).unwrap();
    assert_eq!(finding.count, 1);
    for (name, _) in super::TABLE_COLUMNS {
        assert!(r.get(*name).is_some(), "{name} missing");
    }
}
