//! Routes, volume accounting, `replay` and the disk budget, end to end through the pipeline with file sinks
//! (and a syslog sink whose receiver is down).
#![allow(clippy::unwrap_used)]

use model::{Category, Record};
use pipeline::Pipeline;
use pipeline::replay::ReplayRequest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn open(dir: &Path, extra: &str) -> Pipeline {
    let text = format!(
        "data_dir = {:?}\n{extra}",
        dir.join("data").display().to_string()
    );
    Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap()
}

/// Imports generated sign-ins and audits, `chunk` input lines per import (one log append each); returns how
/// many were appended.
fn ingest(p: &mut Pipeline, dir: &Path, users: u32, days: u32, chunk: usize) -> u64 {
    let cfg = sim::TenantConfig {
        users,
        days,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let events =
        sim::Generator::new(&tenant, &cfg).with_category_names(&["SignInLogs", "AuditLogs"]);
    let mut lines = Vec::new();
    for e in events {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            lines.push(serde_json::to_string(&v).unwrap());
        }
    }
    let mut appended = 0;
    for (i, part) in lines.chunks(chunk).enumerate() {
        let file = dir.join(format!("input-{i}.json"));
        std::fs::write(&file, part.join("\n")).unwrap();
        let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
            "test",
            vec![file.display().to_string()],
        ))
        .unwrap();
        appended += p
            .import(&source, sources::file::Progress::default())
            .unwrap()
            .outcome
            .appended;
    }
    appended
}

/// Every record in the log, in order.
fn log_records(p: &Pipeline) -> Vec<Record> {
    let mut reader = p.log().reader(p.log().start_offset());
    let mut out = Vec::new();
    loop {
        let batch = reader.read_batch(10_000, 64 << 20).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch.iter().map(|(_, b)| model::codec::decode(b).unwrap()));
    }
}

/// `(category, key, revision)` of every line a file sink wrote.
fn file_lines(path: &Path) -> Vec<(String, String, u64)> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let text = String::from_utf8(model::limits::read_capped(file, 1 << 30).unwrap()).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["_Category"].as_str().unwrap().to_owned(),
                v["_Key"].as_str().unwrap().to_owned(),
                v["_Revision"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn id(r: &Record) -> (String, String, u64) {
    (
        r.category.name().to_owned(),
        r.key.clone(),
        u64::from(r.revision),
    )
}

fn routes_config(out: &Path) -> String {
    format!(
        r#"
[[sinks]]
type = "file"
id = "siem"
path = {:?}
[[sinks]]
type = "file"
id = "all"
path = {:?}
[[routes]]
sink = "siem"
categories = ["SignInLogs"]
where = [{{ field = "ResultType", op = "ne", value = "0" }}]
[[routes]]
sink = "siem"
categories = ["AuditLogs"]
sample = 0.5
"#,
        out.join("siem.jsonl").display().to_string(),
        out.join("all.jsonl").display().to_string()
    )
}

#[test]
fn routes_send_exactly_the_matching_records_and_count_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &routes_config(dir.path()));
    let appended = ingest(&mut p, dir.path(), 30, 1, usize::MAX);
    assert!(appended > 200, "{appended}");
    p.drain_sinks().unwrap();

    let all = log_records(&p);
    let expected: Vec<_> = all
        .iter()
        .filter(|r| match r.category {
            Category::SignInLogs => r.get("ResultType").and_then(|v| v.as_str()) != Some("0"),
            Category::AuditLogs => pipeline::routes::sample_position(&r.key) < 0.5,
            _ => false,
        })
        .map(id)
        .collect();
    let got = file_lines(&dir.path().join("siem.jsonl"));
    assert_eq!(got, expected);
    // Non-trivial: some of each category sent, some left out.
    let audits = all
        .iter()
        .filter(|r| r.category == Category::AuditLogs)
        .count();
    let sent_audits = got.iter().filter(|g| g.0 == "AuditLogs").count();
    assert!(
        sent_audits > 0 && sent_audits < audits,
        "{sent_audits} of {audits}"
    );
    assert!(got.iter().any(|g| g.0 == "SignInLogs"));
    assert!(got.len() < all.len());
    // The sink without routes gets everything.
    assert_eq!(
        file_lines(&dir.path().join("all.jsonl")),
        all.iter().map(id).collect::<Vec<_>>()
    );
    // Left-out records still advance the offset.
    assert_eq!(p.log().committed("siem"), Some(p.log().end_offset()));

    // Volume: every record counted once, sent or filtered, with its encoded size.
    let data = dir.path().join("data");
    let v = pipeline::routes::volume::load(&data).unwrap();
    let t = v.total("siem");
    assert_eq!(t.sent_records, got.len() as u64);
    assert_eq!(t.sent_records + t.filtered_records, all.len() as u64);
    let total_bytes: u64 = all
        .iter()
        .map(|r| model::codec::encode_to_vec(r).len() as u64)
        .sum();
    assert_eq!(t.sent_bytes + t.filtered_bytes, total_bytes);
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for r in &all {
        *per_day
            .entry(pipeline::routes::volume::day_of(r.event_time))
            .or_default() += 1;
    }
    let days: BTreeMap<String, u64> = v.sinks["siem"]
        .iter()
        .map(|(d, c)| (d.clone(), c.sent_records + c.filtered_records))
        .collect();
    assert_eq!(days, per_day);
    assert_eq!(v.total("all").filtered_records, 0);

    // Status shows the counts.
    let s = p.status().unwrap();
    let siem = s.sinks.iter().find(|k| k.sink == "siem").unwrap();
    assert!(siem.routed);
    assert_eq!(siem.backlog_records, 0);
    assert_eq!(siem.sent_records, got.len() as u64);
    assert_eq!(siem.filtered_records, t.filtered_records);

    // A restart that sends everything again (offset moved back) samples exactly the same records.
    p.log().commit("siem", 0).unwrap();
    drop(p);
    std::fs::remove_file(dir.path().join("siem.jsonl")).unwrap();
    let mut p = open(dir.path(), &routes_config(dir.path()));
    p.drain_sinks().unwrap();
    assert_eq!(file_lines(&dir.path().join("siem.jsonl")), expected);
}

#[test]
fn replaying_a_day_sends_exactly_its_archived_records_once_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let config = format!(
        "[[sinks]]\ntype = \"file\"\nid = \"out\"\npath = {:?}\n",
        out.display().to_string()
    );
    let mut p = open(dir.path(), &config);
    ingest(&mut p, dir.path(), 20, 2, usize::MAX);
    p.archive().unwrap();
    let all = log_records(&p);
    // The busiest day.
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for r in &all {
        *per_day
            .entry(pipeline::routes::volume::day_of(r.event_time))
            .or_default() += 1;
    }
    let (day, _) = per_day.iter().max_by_key(|(_, n)| **n).unwrap();
    let from: chrono::DateTime<chrono::Utc> = format!("{day}T00:00:00Z").parse().unwrap();
    let to = from + chrono::Duration::days(1);
    // Expected: the latest revision of each key whose event time is in the day.
    let mut latest: BTreeMap<(String, String), &Record> = BTreeMap::new();
    for r in &all {
        let k = (r.category.name().to_owned(), r.key.clone());
        if latest.get(&k).is_none_or(|o| o.revision < r.revision) {
            latest.insert(k, r);
        }
    }
    let expected: BTreeSet<_> = latest
        .values()
        .filter(|r| r.event_time >= from.timestamp_micros() && r.event_time < to.timestamp_micros())
        .map(|r| id(r))
        .collect();
    assert!(expected.len() > 50, "{}", expected.len());

    let request = ReplayRequest {
        sink: "out".into(),
        from,
        to,
        categories: Vec::new(),
    };
    let report = p.replay(&request).unwrap();
    let got = file_lines(&out);
    assert_eq!(got.len(), expected.len(), "each record exactly once");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(report.sent, expected.len() as u64);
    assert!(!report.resumed);
    // The live offset is untouched; the replay's progress is gone once complete.
    assert_eq!(p.log().committed("out"), None);
    let progress = dir.path().join("data/sinks/replay/replay.out.json");
    assert!(!progress.exists());

    // An interrupted replay (progress saved after the 5th audit record of the range) resumes after it.
    std::fs::remove_file(&out).unwrap();
    let mut audits: Vec<&Record> = latest
        .values()
        .copied()
        .filter(|r| {
            r.category == Category::AuditLogs
                && r.event_time >= from.timestamp_micros()
                && r.event_time < to.timestamp_micros()
        })
        .collect();
    audits.sort_by(|a, b| (a.event_time, &a.key).cmp(&(b.event_time, &b.key)));
    assert!(audits.len() > 6, "{}", audits.len());
    let tenth = audits[4];
    std::fs::create_dir_all(progress.parent().unwrap()).unwrap();
    std::fs::write(
        &progress,
        serde_json::json!({
            "from_us": from.timestamp_micros(), "to_us": to.timestamp_micros(),
            "categories": ["AuditLogs"], "done": [],
            "at": ["AuditLogs", tenth.event_time, tenth.key],
        })
        .to_string(),
    )
    .unwrap();
    let report = p
        .replay(&ReplayRequest {
            categories: vec![Category::AuditLogs],
            ..request
        })
        .unwrap();
    assert!(report.resumed);
    let got = file_lines(&out);
    let rest: Vec<_> = audits[5..].iter().map(|r| id(r)).collect();
    assert_eq!(got, rest);
}

#[test]
fn a_down_sink_loses_exactly_the_counted_records_under_the_disk_budget() {
    let dir = tempfile::tempdir().unwrap();
    // A closed port: the syslog receiver is down.
    let port = testkit::net::free_tcp_port();
    let budget = 2 * 1024 * 1024;
    let config = format!(
        r#"
[log]
segment_mib = 1
disk_budget_bytes = {budget}
[sink_priority]
down = 0
up = 10
[[sinks]]
type = "syslog"
id = "down"
address = "127.0.0.1:{port}"
transport = "tcp"
framing = "newline"
encoding = "cef"
connect_timeout = "1s"
[[sinks]]
type = "file"
id = "up"
path = {:?}
"#,
        dir.path().join("up.jsonl").display().to_string()
    );
    let mut p = open(dir.path(), &config);
    ingest(&mut p, dir.path(), 300, 1, 100);
    let bytes = p.log().disk_bytes();
    assert!(bytes > 3 * budget, "{bytes}");
    assert!(p.drain_sinks().is_err());

    // The archive has not consumed anything: it is never skipped, so nothing is deleted.
    p.trim_log().unwrap();
    assert_eq!(p.log().start_offset(), 0);
    assert!(
        pipeline::routes::budget::load(&dir.path().join("data"))
            .unwrap()
            .sinks
            .is_empty()
    );

    p.archive().unwrap();
    assert!(p.log().segment_count() > 10, "{}", p.log().segment_count());
    let start = p.trim_log().unwrap();
    assert!(start > 0);
    assert_eq!(p.log().start_offset(), start);
    assert!(p.log().disk_bytes() <= budget, "{}", p.log().disk_bytes());
    let losses = pipeline::routes::budget::load(&dir.path().join("data")).unwrap();
    let down = &losses.sinks["down"];
    assert_eq!(down.lost_records, start, "every deleted entry was unsent");
    assert!(down.lost_bytes > 0);
    assert!(!losses.sinks.contains_key("up"));
    assert_eq!(p.log().committed("down"), Some(start));

    let s = p.status().unwrap();
    let d = s.sinks.iter().find(|k| k.sink == "down").unwrap();
    assert_eq!(d.lost_records, start);
    assert_eq!(d.backlog_records, p.log().end_offset() - start);
    assert!(d.oldest_unsent.is_some());
    let u = s.sinks.iter().find(|k| k.sink == "up").unwrap();
    assert_eq!((u.lost_records, u.backlog_records, u.priority), (0, 0, 10));

    // Trimming again counts nothing twice.
    p.trim_log().unwrap();
    let again = pipeline::routes::budget::load(&dir.path().join("data")).unwrap();
    assert_eq!(again.sinks["down"].lost_records, start);
}
