//! SIEM sinks wired through the config: a syslog sink (TCP, newline framing, CEF) feeds a receiver on
//! loopback from its own log offset; while the receiver is down the drain fails and the offset stays, and once
//! it is back every record arrives, none skipped.
#![allow(clippy::unwrap_used)]

use pipeline::Pipeline;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;

fn open(dir: &Path, port: u16) -> Pipeline {
    let sinks = format!(
        r#"[[sinks]]
type = "syslog"
id = "siem"
address = "127.0.0.1:{port}"
transport = "tcp"
framing = "newline"
encoding = "cef"
connect_timeout = "1s"
"#
    );
    testkit::pipeline::open(dir, &sinks)
}

/// Imports a few hundred generated sign-ins and audits; returns how many were appended.
fn ingest(p: &mut Pipeline, dir: &Path) -> u64 {
    testkit::pipeline::ingest_day(p, dir, 20, &["SignInLogs", "AuditLogs"])
}

#[test]
fn a_syslog_sink_delivers_everything_once_the_receiver_is_back() {
    let dir = tempfile::tempdir().unwrap();
    // Reserve a port, then close it: the receiver is down.
    let port = testkit::net::free_tcp_port();
    let mut p = open(dir.path(), port);
    let appended = ingest(&mut p, dir.path());
    assert!(appended > 100, "{appended}");
    let e = p.drain_sinks().unwrap_err();
    assert!(e.to_string().contains("siem"), "{e}");
    assert_eq!(p.log().committed("siem"), None);

    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        for line in BufReader::new(conn).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let reports = p.drain_sinks().unwrap();
    assert_eq!(reports[0].1.records, appended);
    assert_eq!(p.log().committed("siem"), Some(p.log().end_offset()));
    let mut got = Vec::new();
    while got.len() < appended as usize {
        got.push(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
    }
    assert!(
        got.iter().all(|l| l.contains("CEF:0|Microsoft|")),
        "{:?}",
        &got[..2]
    );
    // Nothing new: nothing sent again.
    assert_eq!(p.drain_sinks().unwrap()[0].1.records, 0);
}

#[test]
fn sink_config_problems_are_reported_with_their_path() {
    let text = r#"
[[sinks]]
type = "splunk_hec"
id = "splunk"
url = "http://splunk.example.com:8088"
token = "has space"
[[sinks]]
type = "syslog"
id = "siem"
address = "nowhere"
encoding = "cef"
"#;
    let errors = pipeline::config::parse(text)
        .unwrap()
        .validate()
        .unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"sinks[0].url"), "{errors:?}");
    assert!(paths.contains(&"sinks[0].token"), "{errors:?}");
    assert!(paths.contains(&"sinks[1].address"), "{errors:?}");
    // The token never appears in an error.
    assert!(
        errors.iter().all(|e| !e.message.contains("has space")),
        "{errors:?}"
    );
}
