//! Unit tests of the syslog source: parsers (RFC 5424, RFC 3164 variants, CEF escapes), stream framing in
//! arbitrary pieces, config validation, rows, and the runtime over UDP and TCP into a recording `Deliver`.
#![allow(clippy::unwrap_used)]

use super::framing::{Deframer, Frame};
use super::parse::parse;
use super::row::{Received, row};
use super::*;
use crate::Batch;
use crate::graph::{Accepted, Deliver, DeliverError};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use std::sync::Mutex;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap()
}

fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp_micros()
}

#[test]
fn rfc5424_with_structured_data_and_bom() {
    let m = parse(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 \
         [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\\"ication\" eventID=\"1011\"][x@1 a=\"b\\]c\"] \u{feff}An application event",
        now(),
    );
    assert_eq!(m.facility, Some(20));
    assert_eq!(m.severity, Some(5));
    assert_eq!(m.version, Some(1));
    assert_eq!(m.timestamp, Some(micros(2003, 10, 11, 22, 14, 15) + 3000));
    assert_eq!(m.hostname, Some("mymachine.example.com"));
    assert_eq!(m.app_name, Some("evntslog"));
    assert_eq!(m.proc_id, Some("8710"));
    assert_eq!(m.msg_id, Some("ID47"));
    assert_eq!(
        m.structured_data,
        Some(
            json!({"exampleSDID@32473": {"iut": "3", "eventSource": "Appl\"ication", "eventID": "1011"},
                    "x@1": {"a": "b]c"}})
        )
    );
    assert_eq!(m.msg, "An application event");
}

#[test]
fn rfc5424_nil_values_and_offsets() {
    let m = parse("<34>1 2003-10-11T22:14:15+02:00 - - - - - hi", now());
    assert_eq!(m.timestamp, Some(micros(2003, 10, 11, 20, 14, 15)));
    assert_eq!(
        (m.hostname, m.app_name, m.proc_id, m.msg_id),
        (None, None, None, None)
    );
    assert_eq!(m.structured_data, None);
    assert_eq!(m.msg, "hi");
    // No MSG at all, and a bad timestamp kept lenient.
    let m = parse("<34>1 yesterday host app - - -", now());
    assert_eq!(m.timestamp, None);
    assert_eq!(m.hostname, Some("host"));
    assert_eq!(m.msg, "");
}

#[test]
fn rfc3164_variants() {
    let m = parse(
        "<38>Jan  5 11:58:01 web-1 sshd[4242]: Accepted publickey for root",
        now(),
    );
    assert_eq!((m.facility, m.severity), (Some(4), Some(6)));
    assert_eq!(m.timestamp, Some(micros(2026, 1, 5, 11, 58, 1)));
    assert_eq!(m.hostname, Some("web-1"));
    assert_eq!(m.app_name, Some("sshd"));
    assert_eq!(m.proc_id, Some("4242"));
    assert_eq!(m.msg, "Accepted publickey for root");
    // December read in January: last year.
    let m = parse("<13>Dec 31 23:59:59 h su: x", now());
    assert_eq!(m.timestamp, Some(micros(2025, 12, 31, 23, 59, 59)));
    assert_eq!((m.app_name, m.proc_id, m.msg), (Some("su"), None, "x"));
    // No host name: the tag follows the time.
    let m = parse("<13>Jan 05 10:00:00 cron[1]: job", now());
    assert_eq!(
        (m.hostname, m.app_name, m.proc_id),
        (None, Some("cron"), Some("1"))
    );
    // A year (Cisco), fractions, and an RFC 3339 time as rsyslog forwards.
    let m = parse("<13>Jan 05 2024 10:00:00.5 rtr %LINK-3-UPDOWN: down", now());
    assert_eq!(m.timestamp, Some(micros(2024, 1, 5, 10, 0, 0) + 500_000));
    assert_eq!(m.hostname, Some("rtr"));
    assert_eq!(m.msg, "%LINK-3-UPDOWN: down");
    let m = parse("<134>Jan 05 10:00:00 fw - CEF:0|a|b|c|d|e|f|", now());
    assert_eq!(
        (m.hostname, m.app_name, m.msg),
        (Some("fw"), None, "CEF:0|a|b|c|d|e|f|")
    );
    let m = parse("<134>Jan 05 10:00:00 fw asa: CEF:0|a|b|c|d|e|f|", now());
    assert_eq!((m.app_name, m.msg), (Some("asa"), "CEF:0|a|b|c|d|e|f|"));
    let m = parse("<13>2026-01-05T10:00:00.123+00:00 h app: m", now());
    assert_eq!(m.timestamp, Some(micros(2026, 1, 5, 10, 0, 0) + 123_000));
    assert_eq!(
        (m.hostname, m.app_name, m.msg),
        (Some("h"), Some("app"), "m")
    );
}

#[test]
fn unparseable_messages_keep_their_text() {
    let m = parse("just some text", now());
    assert_eq!(
        (m.facility, m.timestamp, m.msg),
        (None, None, "just some text")
    );
    let m = parse("<999>x", now());
    assert_eq!((m.facility, m.msg), (None, "<999>x"));
    let m = parse("<13>free text without header\r\n", now());
    assert_eq!((m.facility, m.severity), (Some(1), Some(5)));
    assert_eq!(m.msg, "free text without header");
}

#[test]
fn cef_header_and_extension_escapes() {
    let c = cef::parse(
        r"CEF:0|Sec\|Corp|Fire\\wall|1.0|100|Port scan|7|src=10.0.0.1 msg=a\=b c\\d\nnext cs1Label=Rule Name cs1=r=1 act=blocked",
    )
    .unwrap();
    assert_eq!(c.version, 0);
    assert_eq!(c.device_vendor, "Sec|Corp");
    assert_eq!(c.device_product, "Fire\\wall");
    assert_eq!(
        (c.device_version.as_str(), c.signature_id.as_str()),
        ("1.0", "100")
    );
    assert_eq!((c.name.as_str(), c.severity.as_str()), ("Port scan", "7"));
    assert_eq!(
        serde_json::Value::Object(c.extensions),
        json!({"src": "10.0.0.1", "msg": "a=b c\\d\nnext", "cs1Label": "Rule Name", "cs1": "r=1", "act": "blocked"})
    );
    assert!(cef::parse("CEF:0|only|four|fields").is_none());
    assert!(cef::parse("not cef").is_none());
    let empty = cef::parse("CEF:1|v|p|1|sig|name|High|").unwrap();
    assert!(empty.extensions.is_empty());
}

fn frames(framing: Framing, max: usize, pieces: &[&[u8]]) -> (Vec<Frame>, bool) {
    let mut d = Deframer::new(framing, max);
    let mut out = Vec::new();
    for p in pieces {
        d.push(p, &mut out);
    }
    let broken = d.is_broken();
    d.finish(&mut out);
    (out, broken)
}

fn msg(s: &str, truncated: usize) -> Frame {
    Frame::Message {
        bytes: s.as_bytes().to_vec(),
        truncated,
    }
}

#[test]
fn octet_counting_split_across_reads() {
    let stream = b"11 <13>1 - a b12 <13>1 - c\nde";
    let whole = frames(Framing::Auto, 1000, &[stream]).0;
    assert_eq!(whole, vec![msg("<13>1 - a b", 0), msg("<13>1 - c\nde", 0)]);
    // Every split into single bytes gives the same frames.
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(frames(Framing::OctetCounting, 1000, &bytes).0, whole);
    for cut in 0..stream.len() {
        let (a, b) = stream.split_at(cut);
        assert_eq!(
            frames(Framing::Auto, 1000, &[a, b]).0,
            whole,
            "cut at {cut}"
        );
    }
}

#[test]
fn oversized_frames_are_cut_and_marked_and_stay_in_step() {
    let (out, _) = frames(Framing::OctetCounting, 4, &[b"6 abcdef3 xyz"]);
    assert_eq!(out, vec![msg("abcd", 2), msg("xyz", 0)]);
    let (out, _) = frames(Framing::Newline, 4, &[b"abcdefg\r\n\nxy", b"z\n"]);
    assert_eq!(out, vec![msg("abcd", 4), msg("xyz", 0)]);
}

#[test]
fn invalid_octet_counts_break_the_stream_and_partial_frames_are_invalid() {
    let (out, broken) = frames(Framing::OctetCounting, 100, &[b"12x <13>hello", b"5 more"]);
    assert!(broken);
    assert_eq!(out.len(), 1);
    assert!(
        matches!(&out[0], Frame::Invalid { reason, raw } if reason.contains("invalid octet count") && raw.starts_with(b"12x"))
    );
    let (out, _) = frames(Framing::OctetCounting, 100, &[b"10 abc"]);
    assert!(
        matches!(&out[0], Frame::Invalid { reason, raw } if reason.contains("7 bytes missing") && raw == b"abc")
    );
    // Newline framing: a last line without LF is still a message.
    let (out, _) = frames(Framing::Auto, 100, &[b"<13>a\n<13>b"]);
    assert_eq!(out, vec![msg("<13>a", 0), msg("<13>b", 0)]);
}

#[test]
fn config_problems_are_reported_at_once() {
    let mut c = SyslogSourceConfig::new(
        "",
        vec![
            ListenerConfig::new(Protocol::Tls, "127.0.0.1:6514"),
            ListenerConfig::new(Protocol::Tcp, "0.0.0.0:514"),
            ListenerConfig::new(Protocol::Udp, "nowhere"),
        ],
    );
    c.listeners[1].cert_file = Some("c.pem".into());
    c.listeners[2].framing = Framing::Newline;
    c.batch_size = 0;
    let fields: Vec<String> = c
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "id",
            "batch_size",
            "listeners[0].cert_file",
            "listeners[0].key_file",
            "listeners[1].address",
            "listeners[1].cert_file",
            "listeners[2].address",
            "listeners[2].framing"
        ]
    );
    c.allow_remote = true;
    assert!(
        !c.validate()
            .unwrap_err()
            .iter()
            .any(|e| e.field == "listeners[1].address")
    );
}

fn received() -> Received<'static> {
    Received {
        source: "sl",
        listener: "tcp 127.0.0.1:1",
        peer: "127.0.0.9:4000".parse().unwrap(),
        at: micros(2026, 1, 5, 12, 0, 0),
        collector: "collector-1",
    }
}

#[test]
fn rows_use_log_analytics_names_and_cef_columns() {
    let r = row(
        b"<86>Jan  5 11:00:00 fw1 CEF:0|V|P|1|42|Blocked|5|src=1.2.3.4",
        0,
        &received(),
    );
    assert_eq!(r["Facility"], "authpriv");
    assert_eq!(r["SeverityLevel"], "info");
    assert_eq!(r["Computer"], "fw1");
    assert_eq!(r["HostIP"], "127.0.0.9");
    assert_eq!(r["CollectorHostName"], "collector-1");
    assert_eq!(r["CefDeviceVendor"], "V");
    assert_eq!(r["CefSignatureId"], "42");
    assert_eq!(r["CefExtensions"], json!({"src": "1.2.3.4"}));
    assert_eq!(r["SyslogMessage"], "CEF:0|V|P|1|42|Blocked|5|src=1.2.3.4");
    let r = row(b"no header at all", 3, &received());
    assert_eq!(r["SyslogMessage"], "no header at all…[truncated 3 bytes]");
    assert_eq!(r["Computer"], "127.0.0.9");
    assert!(r.get("Facility").is_none());
    let rec = row::record(
        b"<11>1 2026-01-05T10:00:00Z h app 77 M1 - boom",
        0,
        &received(),
    )
    .unwrap();
    assert_eq!(rec.category, model::Category::Syslog);
    assert_eq!(rec.raw, "<11>1 2026-01-05T10:00:00Z h app 77 M1 - boom");
    assert_eq!(rec.event_time, micros(2026, 1, 5, 10, 0, 0));
    assert_eq!(rec.get("ProcessID"), Some(&model::Value::Int(77)));
    assert_eq!(
        rec.get("SeverityLevel"),
        Some(&model::Value::String("err".into()))
    );
    assert!(rec.key.starts_with("h:"));
    // The receiving side is not hashed: the same message from another relay is the same record.
    let mut other = received();
    other.peer = "10.1.1.1:9".parse().unwrap();
    other.collector = "collector-2";
    let rec2 = row::record(b"<11>1 2026-01-05T10:00:00Z h app 77 M1 - boom", 0, &other).unwrap();
    assert_eq!(rec.key, rec2.key);
}

/// Records every delivered batch.
#[derive(Default)]
struct Recorder(Mutex<Vec<Batch>>);

impl Deliver for Recorder {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        let a = Accepted {
            new: batch.records.len() as u64,
            quarantined: batch.rejected.len() as u64,
            ..Accepted::default()
        };
        self.0.lock().unwrap().push(batch);
        Ok(a)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_over_udp_and_tcp_delivers_everything_once() {
    use tokio::io::AsyncWriteExt;
    let mut config = SyslogSourceConfig::new(
        "sl",
        vec![
            ListenerConfig::new(Protocol::Udp, "127.0.0.1:0"),
            ListenerConfig::new(Protocol::Tcp, "127.0.0.1:0"),
        ],
    );
    config.batch_size = 7;
    config.flush_interval_ms = 20;
    let source = SyslogSource::new(config).unwrap();
    let listening = source.bind().await.unwrap();
    let addrs = listening.addrs();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let recorder = Recorder::default();
    let serve = source.serve(listening, &recorder, shutdown.clone());
    let send = async {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..20 {
            let m = format!("<13>1 2026-01-05T10:00:{i:02}Z h app - udp{i} - m");
            udp.send_to(m.as_bytes(), addrs[0].1).await.unwrap();
        }
        let mut tcp = tokio::net::TcpStream::connect(addrs[1].1).await.unwrap();
        let mut stream = Vec::new();
        for i in 0..30 {
            let m = format!("<13>1 2026-01-05T10:01:{i:02}Z h app - tcp{i} - m");
            stream.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
        }
        stream.extend_from_slice(b"9x bad");
        for piece in stream.chunks(17) {
            tcp.write_all(piece).await.unwrap();
        }
        tcp.flush().await.unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while source.status().messages < 50 || source.status().quarantined < 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{:?}",
                source.status()
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        shutdown.cancel();
    };
    let (served, ()) = tokio::join!(serve, send);
    served.unwrap();
    let batches = recorder.0.lock().unwrap();
    let mut ids: Vec<String> = batches
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| r.get("MsgId").and_then(|v| v.as_str()).unwrap().to_owned())
        .collect();
    ids.sort();
    let mut want: Vec<String> = (0..20)
        .map(|i| format!("udp{i}"))
        .chain((0..30).map(|i| format!("tcp{i}")))
        .collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(
        batches
            .iter()
            .all(|b| b.records.len() + b.rejected.len() <= 7)
    );
    let rejected: Vec<_> = batches.iter().flat_map(|b| &b.rejected).collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].reason.contains("invalid octet count"));
    assert!(
        rejected[0]
            .position
            .location
            .starts_with("syslog tcp 127.0.0.1:")
    );
    let status = source.status();
    assert_eq!(
        (status.messages, status.quarantined, status.udp_dropped),
        (50, 1, 0)
    );
    assert_eq!(status.accepted.new, 50);
}
