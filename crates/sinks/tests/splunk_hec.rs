//! Splunk HEC sink against an in-test receiver that enforces the documented HEC request format: the
//! `Splunk <token>` header, gzip bodies, concatenated event objects with `time`/`host`/`source`/
//! `sourcetype`/`event`, ack channels (`ackId` per request, `/ack` answering false then true), and HEC's
//! error answers (403 code 4, 400 code 6, 503 code 9, 429).
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use common::{hostile_corpus, hostile_records, record};
use model::Category;
use secrecy::SecretString;
use serde_json::{Value, json};
use sinks::splunk::{SplunkHecConfig, SplunkHecSink};
use sinks::{ErrorKind, Sink};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::http::HttpServer;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// An HTTP answer: status, headers, JSON body.
type Answer = (StatusCode, HeaderMap, String);
/// A failure to answer instead of accepting: status, extra headers, JSON body.
type Injected = (StatusCode, Vec<(&'static str, &'static str)>, Value);

#[derive(Default)]
struct State {
    /// Events accepted (committed by "Splunk").
    events: Vec<Value>,
    /// Requests seen on /event.
    requests: usize,
    /// Answers to give instead of accepting, in order.
    inject: VecDeque<Injected>,
    /// Per channel: next ack id, and how often each id was queried.
    acks: HashMap<String, (u64, HashMap<u64, u32>)>,
    /// Never acknowledge.
    withhold_acks: bool,
    /// ackIds handed out.
    ack_ids: Vec<u64>,
    /// (id, answer) of every ack query.
    ack_answers: Vec<(u64, bool)>,
}

type Shared = Arc<Mutex<State>>;

fn reply(status: StatusCode, body: Value) -> Answer {
    (status, HeaderMap::new(), body.to_string())
}

fn channel(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get("x-splunk-request-channel")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            uri.query()?
                .split('&')
                .find_map(|kv| kv.strip_prefix("channel=").map(str::to_owned))
        })
}

/// The refusal HEC answers for a missing or wrong token, `None` when the token is right.
fn check_token(headers: &HeaderMap) -> Option<Answer> {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        None => Some(reply(
            StatusCode::UNAUTHORIZED,
            json!({"text":"Token is required","code":2}),
        )),
        Some(a) if a == format!("Splunk {TOKEN}") => None,
        Some(_) => Some(reply(
            StatusCode::FORBIDDEN,
            json!({"text":"Invalid token","code":4}),
        )),
    }
}

fn valid_event(v: &Value) -> bool {
    let o = match v.as_object() {
        Some(o) => o,
        None => return false,
    };
    o.get("time").is_some_and(Value::is_number)
        && ["host", "source", "sourcetype"]
            .iter()
            .all(|k| o.get(*k).is_some_and(Value::is_string))
        && o.get("index").is_none_or(Value::is_string)
        && o.get("event").is_some_and(Value::is_object)
        && o.keys().all(|k| {
            [
                "time",
                "host",
                "source",
                "sourcetype",
                "index",
                "event",
                "fields",
            ]
            .contains(&k.as_str())
        })
}

async fn event(
    axum::extract::State(state): axum::extract::State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Answer {
    if let Some(r) = check_token(&headers) {
        return r;
    }
    let mut s = state.lock().unwrap();
    s.requests += 1;
    if let Some((status, extra, body)) = s.inject.pop_front() {
        let mut h = HeaderMap::new();
        for (k, v) in extra {
            h.insert(k, v.parse().unwrap());
        }
        return (status, h, body.to_string());
    }
    let bad = || {
        reply(
            StatusCode::BAD_REQUEST,
            json!({"text":"Invalid data format","code":6}),
        )
    };
    if headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        != Some("gzip")
    {
        return bad();
    }
    let Ok(plain) = model::limits::read_capped(flate2::read::GzDecoder::new(&body[..]), 64 << 20)
    else {
        return bad();
    };
    let mut events = Vec::new();
    for v in serde_json::Deserializer::from_slice(&plain).into_iter::<Value>() {
        match v {
            Ok(v) if valid_event(&v) => events.push(v),
            _ => return bad(),
        }
    }
    if events.is_empty() {
        return reply(StatusCode::BAD_REQUEST, json!({"text":"No data","code":5}));
    }
    let Some(ch) = channel(&headers, &uri) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"text":"Data channel is missing","code":10}),
        );
    };
    s.events.extend(events);
    let entry = s.acks.entry(ch).or_default();
    let id = entry.0;
    entry.0 += 1;
    entry.1.insert(id, 0);
    s.ack_ids.push(id);
    reply(
        StatusCode::OK,
        json!({"text":"Success","code":0,"ackId":id}),
    )
}

async fn ack(
    axum::extract::State(state): axum::extract::State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Answer {
    if let Some(r) = check_token(&headers) {
        return r;
    }
    let Some(ch) = channel(&headers, &uri) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"text":"Data channel is missing","code":10}),
        );
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"text":"Invalid data format","code":6}),
        );
    };
    let mut s = state.lock().unwrap();
    let withhold = s.withhold_acks;
    let mut answers = serde_json::Map::new();
    let mut log = Vec::new();
    let Some((_, issued)) = s.acks.get_mut(&ch) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"text":"Invalid data channel","code":11}),
        );
    };
    for id in req["acks"].as_array().unwrap_or(&Vec::new()) {
        let id = id.as_u64().unwrap();
        // False on the first query of an id, true afterwards (unknown ids: false).
        let done = issued.get_mut(&id).is_some_and(|n| {
            *n += 1;
            *n > 1 && !withhold
        });
        answers.insert(id.to_string(), Value::Bool(done));
        log.push((id, done));
    }
    s.ack_answers.extend(log);
    reply(StatusCode::OK, json!({ "acks": answers }))
}

struct Receiver {
    url: String,
    state: Shared,
    _server: HttpServer,
}

fn receiver() -> Receiver {
    let state = Shared::default();
    let app = axum::Router::new()
        .route("/services/collector/event", post(event))
        .route("/services/collector/ack", post(ack))
        .with_state(state.clone());
    let server = HttpServer::start(app, 0);
    Receiver {
        url: server.url.clone(),
        state,
        _server: server,
    }
}

fn config(r: &Receiver, token: &str) -> SplunkHecConfig {
    let mut c = SplunkHecConfig::new("splunk", &r.url, SecretString::from(token.to_owned()));
    c.acknowledgements = true;
    c.ack_poll_interval = Duration::from_millis(10);
    c.ack_timeout = Duration::from_secs(5);
    c.host = Some("entrail-test".into());
    c.index = Some("entra".into());
    c
}

fn batch(n: usize) -> Vec<model::Record> {
    (0..n)
        .map(|i| {
            let cat = [
                Category::SignInLogs,
                Category::AuditLogs,
                Category::AzureActivity,
            ][i % 3];
            let mut r = record(cat, &format!("k{i}"), &[]);
            r.event_time += i as i64;
            r
        })
        .collect()
}

#[test]
fn delivers_gzipped_batches_and_waits_for_acks() {
    let r = receiver();
    let mut c = config(&r, TOKEN);
    c.max_batch_bytes = 4096;
    let mut sink = SplunkHecSink::new(c).unwrap();
    sink.send(&batch(40)).unwrap();
    let s = r.state.lock().unwrap();
    assert!(s.requests > 1, "max_batch_bytes splits the batch");
    assert_eq!(s.events.len(), 40);
    // Every ackId was answered false once, then true, before send returned.
    for id in &s.ack_ids {
        let answers: Vec<bool> = s
            .ack_answers
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, a)| *a)
            .collect();
        assert_eq!(answers.first(), Some(&false), "ack {id}: {answers:?}");
        assert_eq!(answers.last(), Some(&true), "ack {id}: {answers:?}");
    }
    for (i, e) in s.events.iter().enumerate() {
        assert_eq!(e["event"]["_Key"], format!("k{i}"));
        let t = e["time"].as_f64().unwrap();
        assert!(
            (t - (1_700_000_000.123_456 + i as f64 * 1e-6)).abs() < 5e-7,
            "{t}"
        );
        assert_eq!(e["host"], "entrail-test");
        assert_eq!(e["source"], "entrail:test");
        assert_eq!(e["index"], "entra");
        let expected = match i % 3 {
            2 => "azure:monitor:activity",
            _ => "azure:monitor:aad",
        };
        assert_eq!(e["sourcetype"], expected);
    }
}

#[test]
fn bad_token_is_auth_and_nothing_is_accepted() {
    let r = receiver();
    let mut sink = SplunkHecSink::new(config(&r, "wrong-token-value")).unwrap();
    let err = sink.send(&batch(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!format!("{err} {err:?} {sink:?}").contains("wrong-token-value"));
    assert!(r.state.lock().unwrap().events.is_empty());
    // The operator fixes the token; the same batch then goes through, once.
    let mut sink = SplunkHecSink::new(config(&r, TOKEN)).unwrap();
    sink.send(&batch(3)).unwrap();
    assert_eq!(r.state.lock().unwrap().events.len(), 3);
}

#[test]
fn busy_and_throttled_answers_are_retryable_and_bad_data_is_fatal() {
    let r = receiver();
    {
        let mut s = r.state.lock().unwrap();
        s.inject.push_back((
            StatusCode::SERVICE_UNAVAILABLE,
            vec![],
            json!({"text":"Server is busy","code":9}),
        ));
        s.inject.push_back((
            StatusCode::TOO_MANY_REQUESTS,
            vec![("retry-after", "7")],
            json!({"text":"Too many requests"}),
        ));
        s.inject.push_back((
            StatusCode::BAD_REQUEST,
            vec![],
            json!({"text":"Invalid data format","code":6}),
        ));
    }
    let mut sink = SplunkHecSink::new(config(&r, TOKEN)).unwrap();
    let b = batch(2);
    let e = sink.send(&b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Throttled { retry_after: None });
    let e = sink.send(&b).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    let e = sink.send(&b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal);
    assert!(r.state.lock().unwrap().events.is_empty());
    sink.send(&b).unwrap();
    assert_eq!(r.state.lock().unwrap().events.len(), 2);
}

#[test]
fn missing_acks_time_out_as_transient() {
    let r = receiver();
    r.state.lock().unwrap().withhold_acks = true;
    let mut c = config(&r, TOKEN);
    c.ack_timeout = Duration::from_millis(200);
    let mut sink = SplunkHecSink::new(c).unwrap();
    let e = sink.send(&batch(1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
}

#[test]
fn hostile_values_round_trip_one_event_per_input() {
    let r = receiver();
    let mut sink = SplunkHecSink::new(config(&r, TOKEN)).unwrap();
    let records = hostile_records();
    sink.send(&records).unwrap();
    let s = r.state.lock().unwrap();
    let corpus = hostile_corpus();
    assert_eq!(s.events.len(), corpus.len());
    for (i, v) in corpus.iter().enumerate() {
        let e = &s.events[i]["event"];
        assert_eq!(e["_Key"], format!("k{i}"));
        assert_eq!(e["UserPrincipalName"].as_str(), Some(v.as_str()));
        assert_eq!(e["UserAgent"].as_str(), Some(v.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn send_works_when_called_inside_a_runtime() {
    let r = tokio::task::spawn_blocking(receiver).await.unwrap();
    let mut sink = SplunkHecSink::new(config(&r, TOKEN)).unwrap();
    sink.send(&batch(2)).unwrap();
    assert_eq!(r.state.lock().unwrap().events.len(), 2);
    tokio::task::spawn_blocking(move || drop(r)).await.unwrap();
}

#[test]
fn categories_filter_what_is_sent() {
    let r = receiver();
    let mut c = config(&r, TOKEN);
    c.categories = vec!["AuditLogs".into()];
    c.compression = true;
    let mut sink = SplunkHecSink::new(c).unwrap();
    assert!(sink.accepts(Category::AuditLogs));
    assert!(!sink.accepts(Category::SignInLogs));
    sink.send(&batch(6)).unwrap();
    assert_eq!(r.state.lock().unwrap().events.len(), 2);
}
