//! HTTP SIEM sinks wired through the config: an Elasticsearch `_bulk` sink and a Logs Ingestion (Sentinel)
//! sink feed the enforcing test receivers of `testkit::receivers`. While the receivers are down
//! the drain fails and the offsets stay; once they are back every record arrives exactly once and the backlog
//! drains. Documents the receiver rejects as malformed land in the quarantine, and the offset moves on.
#![allow(clippy::unwrap_used)]

use pipeline::Pipeline;
use std::path::Path;
use testkit::net::free_tcp_port as free_port;
use testkit::receivers::{elastic as es, sentinel as la};

fn open(dir: &Path, es_port: u16, la_port: u16) -> Pipeline {
    let sinks = format!(
        r#"[[sinks]]
type = "elasticsearch"
id = "elastic"
url = "http://127.0.0.1:{es_port}"
mode = "data_stream"
retry_backoff = "10ms"
request_timeout = "5s"

[[sinks]]
type = "sentinel"
id = "sentinel"
endpoint = "http://127.0.0.1:{la_port}"
authority_host = "http://127.0.0.1:{la_port}"
dcr_immutable_id = "{dcr}"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret = "s3cr3t~value"
request_timeout = "5s"
"#,
        dcr = la::DCR,
        tenant = la::TENANT,
        client = la::CLIENT_ID,
    );
    testkit::pipeline::open(dir, &sinks)
}

/// Imports generated sign-ins and audits; returns how many were appended.
fn ingest(p: &mut Pipeline, dir: &Path, users: u32) -> u64 {
    testkit::pipeline::ingest_day(p, dir, users, &["SignInLogs", "AuditLogs"])
}

#[test]
fn http_sinks_deliver_everything_once_the_receivers_are_back() {
    let dir = tempfile::tempdir().unwrap();
    let (es_port, la_port) = (free_port(), free_port());
    let mut p = open(dir.path(), es_port, la_port);
    let appended = ingest(&mut p, dir.path(), 30);
    assert!(appended > 100, "{appended}");
    // Both receivers down: both drains fail, no offset moves.
    for _ in 0..2 {
        let e = p.drain_sinks().unwrap_err();
        assert!(e.to_string().contains("elastic"), "{e}");
    }
    assert_eq!(p.log().committed("elastic"), None);
    assert_eq!(p.log().committed("sentinel"), None);

    let es = es::start(es_port);
    let la = la::start(la_port);
    let reports = p.drain_sinks().unwrap();
    for (id, report) in &reports {
        assert_eq!(report.records, appended, "{id}");
        assert_eq!(p.log().committed(id), Some(p.log().end_offset()), "{id}");
    }
    {
        let s = es.state.lock().unwrap();
        assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
        assert_eq!(s.docs.len() as u64, appended);
        assert!(s.created.values().all(|n| *n == 1));
        assert!(
            s.docs
                .keys()
                .all(|(index, _)| index == "logs-entrail.signinlogs-default"
                    || index == "logs-entrail.auditlogs-default"),
            "{:?}",
            s.docs.keys().next()
        );
    }
    {
        let s = la.state.lock().unwrap();
        assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
        let rows: usize = s.rows.values().map(Vec::len).sum();
        assert_eq!(rows as u64, appended);
        assert_eq!(s.early_requests, 0);
        let mut keys: Vec<(&str, u64)> = s
            .rows
            .values()
            .flatten()
            .map(|r| {
                (
                    r["EntrailKey"].as_str().unwrap(),
                    r["EntrailRevision"].as_u64().unwrap(),
                )
            })
            .collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a row arrived twice");
    }
    // Nothing new: nothing sent again.
    for (_, report) in p.drain_sinks().unwrap() {
        assert_eq!(report.records, 0);
    }
    // More data while the receivers are up: only the new backlog goes.
    let before = es.state.lock().unwrap().docs.len();
    let more = ingest(&mut p, &dir.path().join("more").tap_mkdir(), 5);
    assert!(more > 0);
    let reports = p.drain_sinks().unwrap();
    assert!(
        reports.iter().all(|(_, r)| r.records == more),
        "{reports:?}"
    );
    assert_eq!(es.state.lock().unwrap().docs.len(), before + more as usize);
}

#[test]
fn documents_rejected_as_malformed_are_quarantined_and_the_offset_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let es = es::start(0);
    es.state.lock().unwrap().malformed_if = Some(|doc| doc["event"]["category"][0] == "iam");
    let port: u16 = es.url.rsplit(':').next().unwrap().parse().unwrap();
    let mut p = open(dir.path(), port, free_port());
    let appended = ingest(&mut p, dir.path(), 20);
    // The Sentinel receiver is down: that sink fails, the Elasticsearch one still drains.
    assert!(p.drain_sinks().is_err());
    assert_eq!(p.log().committed("elastic"), Some(p.log().end_offset()));
    assert_eq!(p.log().committed("sentinel"), None);
    let stored = es.state.lock().unwrap().docs.len();
    let audits = p.hub().quarantine().open_count();
    assert!(audits > 0 && stored > 0, "{audits} {stored}");
    assert_eq!((stored + audits) as u64, appended);
    let mut hub = p.hub();
    let q = hub.quarantine();
    let e = &q.entries()[0];
    assert_eq!(e.rejected.position.source, "elastic");
    assert_eq!(e.rejected.category.as_deref(), Some("AuditLogs"));
    assert!(
        e.rejected.reason.contains("mapper_parsing_exception"),
        "{}",
        e.rejected.reason
    );
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
