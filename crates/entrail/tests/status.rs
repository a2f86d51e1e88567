//! `entrail status` per log-consuming sink: the backlog in records, in bytes (the log's average entry size
//! times the records) and the age of the oldest unsent record, in the JSON and in the table; a sink that has
//! sent everything has none, and new records start a new backlog whose age is theirs, not the first import's.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;
use testkit::cli::{Entrail, ok};

const ENTRAIL: Entrail = testkit::entrail!();

/// `n` distinct directory audits (Graph shape) numbered from `first`.
fn write_audits(path: &Path, first: u32, n: u32) {
    let lines: Vec<String> = (first..first + n)
        .map(|i| {
            serde_json::json!({
                "id": format!("Directory_{i:05}"), "activityDateTime": "2024-05-01T10:00:00Z",
                "activityDisplayName": "Add user", "loggedByService": "Core Directory",
                "category": "UserManagement", "result": "success",
                "initiatedBy": {"user": {"userPrincipalName": "admin@contoso.com"}}, "targetResources": []
            })
            .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn status(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&ENTRAIL.run_in(dir, &["status", "--json"]))).unwrap()
}

fn sink<'a>(s: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    s["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["sink"] == id)
        .unwrap_or_else(|| panic!("no sink {id} in {:#}", s["sinks"]))
}

fn time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// The backlog's bytes as documented: records × the retained log's average entry size.
fn expected_bytes(s: &serde_json::Value, records: u64) -> u64 {
    let entries = s["log_end"].as_u64().unwrap() - s["log_start"].as_u64().unwrap();
    records * (s["log_bytes"].as_u64().unwrap() / entries)
}

#[test]
fn sink_backlog_has_records_bytes_and_the_age_of_the_oldest_unsent_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("entrail.toml"),
        "data_dir = \"data\"\n[[sinks]]\ntype = \"file\"\nid = \"out\"\npath = \"out.jsonl\"\n",
    )
    .unwrap();
    write_audits(&d.join("first.json"), 0, 60);
    let before = chrono::Utc::now();
    ok(&ENTRAIL.run_in(d, &["import", "--quiet", "first.json"]));
    let after = chrono::Utc::now();

    // Imported and archived, not sent: the whole import is the sink's backlog.
    let s = status(d);
    let k = sink(&s, "out");
    assert_eq!(k["backlog_records"], 60, "{k:#}");
    assert!(k["backlog_bytes"].as_u64().unwrap() > 60 * 100, "{k:#}");
    assert_eq!(k["backlog_bytes"], expected_bytes(&s, 60), "{k:#}");
    let oldest = time(&k["oldest_unsent"]);
    let trunc = |t: chrono::DateTime<chrono::Utc>| t - chrono::TimeDelta::milliseconds(1);
    assert!(
        oldest >= trunc(before) && oldest <= after,
        "the oldest unsent record was received by the import ({before}..{after}): {k:#}"
    );
    let age = k["oldest_unsent_age_seconds"].as_i64().unwrap();
    assert!((0..60).contains(&age), "{k:#}");

    // The age grows while nothing is sent.
    std::thread::sleep(Duration::from_millis(2100));
    let s = status(d);
    let k = sink(&s, "out");
    assert!(
        k["oldest_unsent_age_seconds"].as_i64().unwrap() >= age + 2,
        "{k:#}"
    );
    assert_eq!(time(&k["oldest_unsent"]), oldest);
    // The table shows the same.
    let table = ok(&ENTRAIL.run_in(d, &["status"]));
    let row = table
        .lines()
        .find(|l| l.contains(" out ") && l.contains("s ago"))
        .unwrap_or_else(|| panic!("no backlog row for out in:\n{table}"));
    assert!(row.contains(" 60 "), "{row}");
    assert!(row.contains("KiB"), "{row}");

    // Sent: no backlog, no age.
    ok(&ENTRAIL.run_in(d, &["run"]));
    let s = status(d);
    let k = sink(&s, "out");
    assert_eq!(
        (
            &k["backlog_records"],
            &k["backlog_bytes"],
            &k["sent_records"]
        ),
        (&0.into(), &0.into(), &60.into()),
        "{k:#}"
    );
    assert!(k["oldest_unsent"].is_null() && k["oldest_unsent_age_seconds"].is_null());

    // New records: the backlog is theirs, and so is the age.
    std::thread::sleep(Duration::from_millis(1100));
    write_audits(&d.join("second.json"), 100, 25);
    let second = chrono::Utc::now();
    ok(&ENTRAIL.run_in(d, &["import", "--quiet", "second.json"]));
    let s = status(d);
    let k = sink(&s, "out");
    assert_eq!(k["backlog_records"], 25, "{k:#}");
    assert_eq!(k["backlog_bytes"], expected_bytes(&s, 25), "{k:#}");
    assert!(time(&k["oldest_unsent"]) >= trunc(second), "{k:#}");
    let first_age = (chrono::Utc::now() - oldest).num_seconds();
    assert!(first_age >= 3, "{first_age}");
    assert!(
        k["oldest_unsent_age_seconds"].as_i64().unwrap() < first_age,
        "the age is the new records', not the first import's ({first_age} s): {k:#}"
    );
}
