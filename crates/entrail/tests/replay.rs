//! `entrail replay` as a user runs it: a simulated day is collected by `entrail run` through a file source
//! into a file sink; replaying twelve hours of it sends exactly the archive's latest revision of each record in
//! the range again (count, keys and content), an unknown sink id is a clear error (exit 2) and an empty range
//! says so; neither touches the sink.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // the test reads its own small outputs whole

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use testkit::cli::{Entrail, describe, ok};
use testkit::pipeline::write_diagnostic_days;

const ENTRAIL: Entrail = testkit::entrail!();

/// `(table, key)` of a record.
type Id = (String, String);

/// A day of sign-ins and audits of a 40-user tenant (with republications), as Event Hubs bodies.
fn write_day(path: &Path) -> sim::TenantConfig {
    let cfg = sim::TenantConfig {
        users: 40,
        days: 1,
        ..sim::TenantConfig::default()
    };
    write_diagnostic_days(path, &cfg, &["SignInLogs", "AuditLogs"]);
    cfg
}

/// The sink file's records, in order.
fn sink_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn id(v: &serde_json::Value) -> Id {
    let table = model::Category::from_name(v["_Category"].as_str().unwrap())
        .unwrap()
        .table();
    (table.to_owned(), v["_Key"].as_str().unwrap().to_owned())
}

/// The archive's records (latest revision per key) with event time in `[from, to)`: `(table, key)` → revision.
fn archived(dir: &Path, from: i64, to: i64) -> BTreeMap<Id, i64> {
    let mut out = BTreeMap::new();
    for table in ["SigninLogs", "AuditLogs"] {
        let t = "CAST(\"_EventTime\" AS BIGINT)";
        let sql = format!(
            "SELECT \"_Key\" AS k, CAST(\"_Revision\" AS BIGINT) AS r FROM {table} WHERE {t} >= {from} AND {t} < {to}"
        );
        let rows = ok(&ENTRAIL.run_in(dir, &["query", &sql, "--format", "json"]));
        for l in rows.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = v["k"].as_str().unwrap().to_owned();
            assert!(
                out.insert((table.to_owned(), key), v["r"].as_i64().unwrap())
                    .is_none(),
                "the archive view has one row per key"
            );
        }
    }
    out
}

struct Fixture {
    dir: tempfile::TempDir,
    out: PathBuf,
    start: chrono::DateTime<chrono::Utc>,
}

/// Collects the day with `entrail run`: archived and sent to the file sink `out`.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_day(&dir.path().join("day.json"));
    std::fs::write(
        dir.path().join("entrail.toml"),
        "data_dir = \"data\"\n[[sources]]\ntype = \"file\"\nid = \"exports\"\npaths = [\"day.json\"]\n\
         [[sinks]]\ntype = \"file\"\nid = \"out\"\npath = \"out.jsonl\"\n",
    )
    .unwrap();
    ok(&ENTRAIL.run_in(dir.path(), &["run"]));
    let out = dir.path().join("out.jsonl");
    Fixture {
        dir,
        out,
        start: cfg.start,
    }
}

fn rfc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn replay_sends_exactly_the_archived_range_again() {
    let f = fixture();
    let d = f.dir.path();
    let live = sink_lines(&f.out);
    assert!(live.len() > 100, "the day reached the sink: {}", live.len());

    // 06:00..18:00 of the simulated day.
    let (from, to) = (
        f.start + chrono::TimeDelta::hours(6),
        f.start + chrono::TimeDelta::hours(18),
    );
    let expected = archived(d, from.timestamp_micros(), to.timestamp_micros());
    assert!(expected.len() > 50, "{}", expected.len());
    assert!(
        expected.keys().any(|(t, _)| t == "AuditLogs")
            && expected.keys().any(|(t, _)| t == "SigninLogs")
    );
    // What the live sink got for the range: every revision; the latest per key is what replay must send.
    let mut latest: BTreeMap<Id, &serde_json::Value> = BTreeMap::new();
    for v in &live {
        let e = latest.entry(id(v)).or_insert(v);
        if e["_Revision"].as_i64() < v["_Revision"].as_i64() {
            *e = v;
        }
    }

    let o = ENTRAIL.run_in(
        d,
        &[
            "replay",
            "--from",
            &rfc(from),
            "--to",
            &rfc(to),
            "--sink",
            "out",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(report["sent"], expected.len() as u64, "{report:#}");
    assert_eq!(report["resumed"], false);

    let all = sink_lines(&f.out);
    let replayed = &all[live.len()..];
    assert_eq!(replayed.len(), expected.len(), "each archived record once");
    let keys: BTreeSet<Id> = replayed.iter().map(id).collect();
    assert_eq!(keys.len(), replayed.len(), "no record sent twice");
    assert_eq!(
        keys,
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "exactly the range's keys"
    );
    for v in replayed {
        let k = id(v);
        assert_eq!(v["_Revision"].as_i64(), Some(expected[&k]), "{k:?}");
        // The same canonical record the live sink got as that revision.
        assert_eq!(v, latest[&k], "{k:?}");
    }
    // Per category in (_EventTime, _Key) order.
    let order: Vec<(String, String, String)> = replayed
        .iter()
        .map(|v| {
            let (t, k) = id(v);
            (t, v["_EventTime"].as_str().unwrap().to_owned(), k)
        })
        .collect();
    for w in order.windows(2) {
        if w[0].0 == w[1].0 {
            assert!((&w[0].1, &w[0].2) < (&w[1].1, &w[1].2), "{w:?}");
        }
    }
    // The replay's progress file is gone and the sink's live offset did not move: a run sends nothing.
    assert!(!d.join("data/sinks/replay/replay.out.json").exists());
    ok(&ENTRAIL.run_in(d, &["run"]));
    assert_eq!(sink_lines(&f.out).len(), all.len());
}

#[test]
fn an_unknown_sink_and_an_empty_range_say_so() {
    let f = fixture();
    let d = f.dir.path();
    let before = std::fs::read(&f.out).unwrap();
    let (from, to) = (rfc(f.start), rfc(f.start + chrono::TimeDelta::days(1)));

    let o = ENTRAIL.run_in(
        d,
        &["replay", "--from", &from, "--to", &to, "--sink", "nope"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let all = describe(&o);
    assert!(all.contains("no sink \"nope\""), "{all}");
    assert!(all.contains("out"), "the known sinks are named: {all}");

    // A valid range with nothing archived in it: exit 0, nothing sent, and it says so.
    let (a, b) = (
        rfc(f.start - chrono::TimeDelta::days(30)),
        rfc(f.start - chrono::TimeDelta::days(29)),
    );
    let o = ENTRAIL.run_in(d, &["replay", "--from", &a, "--to", &b, "--sink", "out"]);
    let out = ok(&o);
    assert!(
        out.contains("no archived records with event time in"),
        "{out}"
    );
    assert!(out.contains("0 sent"), "{out}");

    // An empty interval (from = to) is a bad range.
    let o = ENTRAIL.run_in(
        d,
        &["replay", "--from", &from, "--to", &from, "--sink", "out"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("--from must be before --to"),
        "{}",
        describe(&o)
    );

    assert_eq!(
        std::fs::read(&f.out).unwrap(),
        before,
        "the sink got nothing"
    );
}
