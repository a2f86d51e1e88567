//! The hostile-values corpus through every sink and every encoding: CR/LF, format metacharacters
//! (`|`, `=`, `\`, `"`, `<`, `{`), NUL and other controls, Unicode line separators, replacement characters
//! from invalid UTF-8 in the raw bytes, and 1 MiB fields. For each (sink, encoding) pair the receiver must
//! see exactly one record per input (found by its key) and every field intact or cut with the marker.
//!
//! Receivers: the file itself; librdkafka's mock cluster; a HEC receiver (below); the `_bulk` receiver of
//! `testkit::receivers::elastic`; one rsyslogd for TCP and UDP (run `scripts/install-test-deps` if it is missing).
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use common::{assert_intact_or_cut, hostile_corpus, parse_cef, parse_leef, record};
use model::{Category, Record};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use sinks::Sink;
use sinks::ocsf::RecordEncoding;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::receivers::elastic as elastic_receiver;
use testkit::rsyslog;

const ENCODINGS: [RecordEncoding; 4] = [
    RecordEncoding::Native,
    RecordEncoding::Raw,
    RecordEncoding::Ocsf,
    RecordEncoding::OcsfRaw,
];

/// The shared corpus plus Unicode line and paragraph separators and NEL.
fn corpus() -> Vec<String> {
    let mut c = hostile_corpus();
    c.push("line\u{2028}sep\u{2029}para\u{85}nel\u{0}nul \"q\" <x> {y} |=\\".into());
    c
}

/// One sign-in per corpus entry (`k0`, `k1`, ...), the value in three columns and in the raw record.
fn records() -> Vec<Record> {
    corpus()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = format!("k{i}");
            let mut r = record(
                Category::SignInLogs,
                &key,
                &[
                    ("UserPrincipalName", v),
                    ("ResultDescription", v),
                    ("UserAgent", v),
                    ("ResultType", "50126"),
                ],
            );
            r.raw = json!({"id": key, "userPrincipalName": v}).to_string();
            r
        })
        .collect()
}

/// The key and the user-name field of a received JSON record in `encoding`.
fn key_and_user(encoding: RecordEncoding, e: &Value) -> (String, Vec<String>) {
    let s = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("not text: {v}"))
            .to_owned()
    };
    match encoding {
        RecordEncoding::Native => (
            s(&e["_Key"]),
            vec![
                s(&e["UserPrincipalName"]),
                s(&e["ResultDescription"]),
                s(&e["UserAgent"]),
            ],
        ),
        RecordEncoding::Raw => (s(&e["id"]), vec![s(&e["userPrincipalName"])]),
        RecordEncoding::Ocsf | RecordEncoding::OcsfRaw => {
            assert_eq!(e["class_uid"], 3002, "{encoding:?}");
            let mut fields = vec![
                s(&e["user"]["name"]),
                s(&e["status_detail"]),
                s(&e["http_request"]["user_agent"]),
            ];
            if encoding == RecordEncoding::OcsfRaw {
                let raw = s(&e["raw_data"]);
                // A cut raw_data is no longer JSON: compare it as text with the raw record.
                fields.push(raw);
            }
            (s(&e["metadata"]["uid"]), fields)
        }
    }
}

/// Checks one received record per input: `events` are (key, fields); `limit` is the size above which a
/// value must have been cut (`usize::MAX`: never cut); `skipped` keys were handed back, not delivered.
fn check(what: &str, events: Vec<(String, Vec<String>)>, limit: usize, skipped: &[usize]) {
    let corpus = corpus();
    let recs = records();
    let mut seen = vec![false; corpus.len()];
    for (key, fields) in events {
        let i: usize = key.strip_prefix('k').unwrap().parse().unwrap();
        assert!(!seen[i], "{what}: {key} received twice");
        seen[i] = true;
        let sent = &corpus[i];
        for (n, got) in fields.iter().enumerate() {
            // The fourth field of ocsf_raw is the raw record itself.
            let sent = if n == 3 { &recs[i].raw } else { sent };
            assert_intact_or_cut(sent, got, sent.len() > limit);
        }
    }
    for (i, s) in seen.iter().enumerate() {
        assert_eq!(
            *s,
            !skipped.contains(&i),
            "{what}: k{i} delivered {s}, expected the opposite"
        );
    }
}

#[test]
fn file_sink_every_encoding() {
    let dir = tempfile::tempdir().unwrap();
    for encoding in ENCODINGS {
        let path = dir.path().join(format!("{}.jsonl", encoding.as_str()));
        let mut sink = sinks::file::FileSink::new(sinks::file::FileSinkConfig {
            id: "f".into(),
            path: path.clone(),
            rotate_bytes: 1 << 40,
            categories: Vec::new(),
        })
        .with_encoding(encoding);
        sink.send(&records()).unwrap();
        let bytes =
            model::limits::read_capped(std::fs::File::open(&path).unwrap(), 1 << 30).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines.len(),
            corpus().len(),
            "{encoding:?}: one line per record"
        );
        let events = lines
            .iter()
            .map(|l| key_and_user(encoding, &serde_json::from_str(l).unwrap()))
            .collect();
        check(&format!("file {encoding:?}"), events, usize::MAX, &[]);
    }
}

/// Every message of `topic` as payloads, once `want` arrived and a quiet second passed.
fn read_topic(bootstrap: &str, topic: &str, want: usize) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "hostile")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let (mut out, start, mut quiet) = (Vec::new(), Instant::now(), None::<Instant>);
    while start.elapsed() < Duration::from_secs(30) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                quiet = None;
                out.push(m.payload().unwrap_or_default().to_vec());
            }
            Some(Err(e)) => panic!("consuming: {e}"),
            None if out.len() >= want
                && quiet.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1) =>
            {
                break;
            }
            None => {}
        }
    }
    out
}

#[test]
fn kafka_sink_every_encoding() {
    let cluster = MockCluster::new(1).unwrap();
    let big = corpus().iter().position(|v| v.len() >= 1 << 20).unwrap();
    for encoding in ENCODINGS {
        let topic = format!("hostile-{}", encoding.as_str());
        cluster.create_topic(&topic, 1, 1).unwrap();
        let mut config = sinks::kafka::KafkaSinkConfig::new(
            "k",
            cluster.bootstrap_servers(),
            topic.clone(),
            sinks::kafka::KafkaSinkAuth::Plaintext,
        );
        config.encoding = encoding;
        let mut sink = sinks::kafka::KafkaSink::new(config).unwrap();
        sink.send(&records()).unwrap();
        // The 1 MiB record exceeds max_message_bytes (1 MB): handed back for the quarantine, never cut.
        let rejected = sink.take_rejected();
        assert_eq!(rejected.len(), 1, "{encoding:?}");
        assert!(rejected[0].position.at.contains(&format!("k{big}")));
        let got = read_topic(&cluster.bootstrap_servers(), &topic, corpus().len() - 1);
        let events = got
            .iter()
            .map(|p| key_and_user(encoding, &serde_json::from_slice(p).unwrap()))
            .collect();
        check(&format!("kafka {encoding:?}"), events, usize::MAX, &[big]);
    }
}

type Events = Arc<Mutex<Vec<Value>>>;

/// A HEC receiver: gunzips, splits the concatenated event objects, checks their envelope.
async fn hec(
    axum::extract::State(events): axum::extract::State<Events>,
    headers: HeaderMap,
    body: Bytes,
) -> String {
    let data = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        model::limits::read_capped(flate2::read::GzDecoder::new(&body[..]), 1 << 30).unwrap()
    } else {
        body.to_vec()
    };
    let mut got = events.lock().unwrap();
    for ev in serde_json::Deserializer::from_slice(&data).into_iter::<Value>() {
        let ev = ev.unwrap();
        assert!(
            ev["time"].is_number() && ev["sourcetype"].is_string(),
            "{ev:.200}"
        );
        got.push(ev["event"].clone());
    }
    json!({"text": "Success", "code": 0}).to_string()
}

#[test]
fn splunk_hec_every_encoding() {
    let events = Events::default();
    let app = axum::Router::new()
        .route("/services/collector/event", post(hec))
        .layer(axum::extract::DefaultBodyLimit::max(256 << 20))
        .with_state(events.clone());
    let server = testkit::http::HttpServer::start(app, 0);
    let url = server.url.clone();
    for encoding in ENCODINGS {
        events.lock().unwrap().clear();
        let mut c = sinks::splunk::SplunkHecConfig::new("hec", &url, "t0ken".to_owned().into());
        c.encoding = encoding;
        sinks::splunk::SplunkHecSink::new(c)
            .unwrap()
            .send(&records())
            .unwrap();
        let got = events.lock().unwrap().clone();
        let events = got.iter().map(|e| key_and_user(encoding, e)).collect();
        check(&format!("hec {encoding:?}"), events, usize::MAX, &[]);
    }
}

#[test]
fn elasticsearch_every_encoding() {
    use sinks::elastic::Encoding;
    let r = elastic_receiver::start(0);
    for (encoding, as_record) in [
        (Encoding::Native, RecordEncoding::Native),
        (Encoding::Raw, RecordEncoding::Raw),
        (Encoding::Ocsf, RecordEncoding::Ocsf),
        (Encoding::OcsfRaw, RecordEncoding::OcsfRaw),
        (Encoding::Ecs, RecordEncoding::Native),
        (Encoding::EcsRaw, RecordEncoding::Native),
    ] {
        r.state.lock().unwrap().docs.clear();
        let mut c = sinks::elastic::ElasticConfig::new("es", &r.url);
        c.encoding = encoding;
        c.index_prefix = format!("{encoding:?}").to_ascii_lowercase();
        let mut sink = sinks::elastic::ElasticSink::new(c).unwrap();
        sink.send(&records()).unwrap();
        assert!(sink.take_rejected().is_empty());
        let s = r.state.lock().unwrap();
        assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
        let events = s
            .docs
            .values()
            .map(|d| match encoding {
                Encoding::Ecs => key_and_user(as_record, &d["entrail"]),
                Encoding::EcsRaw => {
                    let original: Value =
                        serde_json::from_str(d["event"]["original"].as_str().unwrap()).unwrap();
                    let (key, mut fields) = key_and_user(RecordEncoding::Raw, &original);
                    fields.push(d["user"]["name"].as_str().unwrap().to_owned());
                    (key, fields)
                }
                _ => key_and_user(as_record, d),
            })
            .collect();
        check(
            &format!("elasticsearch {encoding:?}"),
            events,
            usize::MAX,
            &[],
        );
    }
}

/// The MSG of an RFC 5424 line (after `<pri>1 ts host app procid msgid sd `).
fn msg(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..6 {
        rest = rest.split_once(' ').unwrap().1;
    }
    assert!(rest.starts_with("- "), "structured data: {line:.200}");
    &rest[2..]
}

#[test]
fn syslog_every_encoding_over_tcp_and_udp() {
    use sinks::syslog::{SyslogConfig, SyslogEncoding, SyslogFraming, SyslogSink, SyslogTransport};
    let rs = rsyslog::Rsyslog::start(None, None);
    let n = corpus().len();
    let mut total = 0;
    for (transport, port, max) in [
        (SyslogTransport::Tcp, rs.tcp, 65_536),
        (SyslogTransport::Udp, rs.udp, 2048),
    ] {
        for encoding in [
            SyslogEncoding::Rfc5424Json,
            SyslogEncoding::Raw,
            SyslogEncoding::Ocsf,
            SyslogEncoding::OcsfRaw,
            SyslogEncoding::Cef,
            SyslogEncoding::Leef,
        ] {
            let mut c = SyslogConfig::new("s", format!("127.0.0.1:{port}"));
            c.transport = transport;
            c.framing = SyslogFraming::OctetCounting;
            c.encoding = encoding;
            c.hostname = Some("entrail-test".into());
            SyslogSink::new(c).unwrap().send(&records()).unwrap();
            total += n;
            let lines = rs.lines(total);
            let what = format!("syslog {transport:?} {encoding:?}");
            let events = lines[total - n..]
                .iter()
                .map(|(msgid, line)| {
                    assert_eq!(msgid, "SigninLogs", "{what}");
                    assert!(line.len() <= max, "{what}: {} bytes", line.len());
                    let body = msg(line);
                    let json = |enc| key_and_user(enc, &serde_json::from_str(body).unwrap());
                    match encoding {
                        SyslogEncoding::Rfc5424Json => json(RecordEncoding::Native),
                        SyslogEncoding::Raw => json(RecordEncoding::Raw),
                        SyslogEncoding::Ocsf => json(RecordEncoding::Ocsf),
                        SyslogEncoding::OcsfRaw => json(RecordEncoding::OcsfRaw),
                        SyslogEncoding::Cef => {
                            let p = parse_cef(body);
                            (
                                p.fields["flexString1"].clone(),
                                vec![p.fields["suser"].clone()],
                            )
                        }
                        SyslogEncoding::Leef => {
                            let p = parse_leef(body);
                            (
                                p.fields["entrailKey"].clone(),
                                vec![p.fields["usrName"].clone()],
                            )
                        }
                    }
                })
                .collect();
            // Any value longer than a tenth of the message limit may have been cut to make room.
            check(&what, events, max / 10, &[]);
        }
    }
}
