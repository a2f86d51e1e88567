//! Elasticsearch / OpenSearch sink against an in-test `_bulk` receiver that enforces the documented request
//! format (see `testkit::receivers::elastic`): partial bulk failures are resent (only the failed items) or quarantined
//! exactly, 401 stops progress until the credentials are fixed, 413 splits requests, hostile values round-trip.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::{hostile_corpus, hostile_records, record};
use model::{Category, Record};
use secrecy::SecretString;
use serde_json::json;
use sinks::elastic::{ElasticConfig, ElasticSink, IndexMode};
use sinks::{ErrorKind, Sink};
use std::collections::VecDeque;
use std::time::Duration;
use testkit::receivers::elastic as receiver;

fn config(r: &receiver::Receiver) -> ElasticConfig {
    let mut c = ElasticConfig::new("es", &r.url);
    c.retry_backoff = Duration::from_millis(5);
    c.max_retry_backoff = Duration::from_millis(20);
    c
}

fn batch(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let cat = [
                Category::SignInLogs,
                Category::AuditLogs,
                Category::AzureActivity,
            ][i % 3];
            let mut r = record(cat, &format!("k{i}"), &[]);
            r.event_time += i as i64 * 86_400_000_000 / 7;
            r
        })
        .collect()
}

#[test]
fn delivers_ndjson_bulk_creates_into_daily_indices() {
    let r = receiver::start(0);
    let mut c = config(&r);
    c.max_batch_bytes = 4096;
    let mut sink = ElasticSink::new(c).unwrap();
    sink.send(&batch(30)).unwrap();
    assert!(sink.take_rejected().is_empty());
    let s = r.state.lock().unwrap();
    assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
    assert!(s.requests > 1, "max_batch_bytes splits the batch");
    assert_eq!(s.docs.len(), 30);
    assert!(s.created.values().all(|n| *n == 1));
    let indices: std::collections::BTreeSet<&str> = s.docs.keys().map(|k| k.0.as_str()).collect();
    assert!(
        indices.contains("entrail-signinlogs-2023.11.14"),
        "{indices:?}"
    );
    assert!(
        indices.contains("entrail-auditlogs-2023.11.15"),
        "{indices:?}"
    );
    assert!(
        indices.iter().all(|i| i.starts_with("entrail-")),
        "{indices:?}"
    );
    let doc = &s.docs[&(
        "entrail-signinlogs-2023.11.14".to_owned(),
        "k0.0".to_owned(),
    )];
    assert_eq!(doc["event"]["category"][0], "authentication");
    assert_eq!(doc["entrail"]["_Key"], "k0");
}

#[test]
fn only_failed_items_are_resent_and_malformed_ones_quarantined() {
    let r = receiver::start(0);
    {
        let mut s = r.state.lock().unwrap();
        s.item_faults.insert("k1.0".into(), VecDeque::from([429]));
        s.item_faults
            .insert("k2.0".into(), VecDeque::from([503, 500]));
        s.malformed.insert("k3.0".into());
    }
    let mut sink = ElasticSink::new(config(&r)).unwrap();
    let records = batch(6);
    sink.send(&records).unwrap();
    let rejected = sink.take_rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].position.at, "key k3 revision 0");
    assert_eq!(rejected[0].position.source, "es");
    assert!(
        rejected[0].reason.contains("mapper_parsing_exception"),
        "{}",
        rejected[0].reason
    );
    assert_eq!(rejected[0].raw, records[3].raw.as_bytes());
    assert!(sink.take_rejected().is_empty(), "taken once");
    let s = r.state.lock().unwrap();
    assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
    assert_eq!(s.docs.len(), 5);
    assert!(s.created.values().all(|n| *n == 1), "{:?}", s.created);
    assert!(!s.created.contains_key("k3.0"));
    assert_eq!(s.attempts["k0.0"], 1, "stored items are not resent");
    assert_eq!(s.attempts["k1.0"], 2);
    assert_eq!(s.attempts["k2.0"], 3);
    assert_eq!(s.attempts["k3.0"], 1, "malformed items are not resent");
    assert_eq!(s.requests, 3);
}

#[test]
fn items_still_throttled_fail_the_batch_and_a_resend_stores_each_once() {
    let r = receiver::start(0);
    r.state
        .lock()
        .unwrap()
        .item_faults
        .insert("k1.0".into(), VecDeque::from([429, 429, 429]));
    let mut c = config(&r);
    c.item_retries = 1;
    let mut sink = ElasticSink::new(c).unwrap();
    let b = batch(4);
    let e = sink.send(&b).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Throttled { .. }), "{e}");
    // The pipeline resends the whole batch: documents already stored answer 409 and count as stored.
    sink.send(&b).unwrap();
    let s = r.state.lock().unwrap();
    assert_eq!(s.docs.len(), 4);
    assert!(s.created.values().all(|n| *n == 1), "{:?}", s.created);
    assert_eq!(s.attempts["k0.0"], 2);
}

#[test]
fn unauthorized_stops_progress_until_the_key_is_fixed() {
    let r = receiver::start(0);
    r.state.lock().unwrap().auth = Some("ApiKey right-key".into());
    let mut c = config(&r);
    c.api_key = Some(SecretString::from("wrong-key"));
    let mut sink = ElasticSink::new(c.clone()).unwrap();
    let b = batch(5);
    let e = sink.send(&b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!format!("{e} {e:?} {sink:?}").contains("wrong-key"));
    assert!(r.state.lock().unwrap().docs.is_empty());
    assert!(sink.take_rejected().is_empty(), "nothing skipped on 401");
    c.api_key = Some(SecretString::from("right-key"));
    let mut sink = ElasticSink::new(c).unwrap();
    sink.send(&b).unwrap();
    assert_eq!(r.state.lock().unwrap().docs.len(), 5);
}

#[test]
fn basic_and_bearer_credentials_use_their_schemes() {
    let r = receiver::start(0);
    // "elastic:changeme" in base64.
    r.state.lock().unwrap().auth = Some("Basic ZWxhc3RpYzpjaGFuZ2VtZQ==".into());
    let mut c = config(&r);
    c.username = Some("elastic".into());
    c.password = Some(SecretString::from("changeme"));
    ElasticSink::new(c).unwrap().send(&batch(1)).unwrap();
    r.state.lock().unwrap().auth = Some("Bearer tok".into());
    let mut c = config(&r);
    c.bearer_token = Some(SecretString::from("tok"));
    c.mode = IndexMode::DataStream;
    ElasticSink::new(c).unwrap().send(&batch(2)).unwrap();
    let s = r.state.lock().unwrap();
    assert!(
        s.docs
            .contains_key(&("logs-entrail.signinlogs-default".into(), "k0.0".into()))
    );
    assert_eq!(s.docs.len(), 3);
}

#[test]
fn too_large_requests_are_split_and_a_lone_oversized_document_quarantined() {
    let r = receiver::start(0);
    r.state.lock().unwrap().max_content_length = 6000;
    let mut records = batch(20);
    records.push(record(
        Category::AuditLogs,
        "big",
        &[("ResultReason", &"x".repeat(10_000))],
    ));
    let mut sink = ElasticSink::new(config(&r)).unwrap();
    sink.send(&records).unwrap();
    let rejected = sink.take_rejected();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].reason.contains("413"), "{}", rejected[0].reason);
    let s = r.state.lock().unwrap();
    assert_eq!(s.docs.len(), 20);
    assert!(s.created.values().all(|n| *n == 1));
}

#[test]
fn busy_answers_are_throttled_and_server_errors_transient() {
    let r = receiver::start(0);
    {
        let mut s = r.state.lock().unwrap();
        s.inject
            .push_back((StatusCode::SERVICE_UNAVAILABLE, json!({"status": 503})));
        s.inject
            .push_back((StatusCode::INTERNAL_SERVER_ERROR, json!({"status": 500})));
    }
    let mut sink = ElasticSink::new(config(&r)).unwrap();
    let b = batch(2);
    assert!(matches!(
        sink.send(&b).unwrap_err().kind(),
        ErrorKind::Throttled { .. }
    ));
    assert_eq!(sink.send(&b).unwrap_err().kind(), ErrorKind::Transient);
    sink.send(&b).unwrap();
    assert_eq!(r.state.lock().unwrap().docs.len(), 2);
}

#[test]
fn hostile_values_round_trip_one_document_per_input() {
    let r = receiver::start(0);
    let mut sink = ElasticSink::new(config(&r)).unwrap();
    sink.send(&hostile_records()).unwrap();
    let s = r.state.lock().unwrap();
    assert!(s.format_errors.is_empty(), "{:?}", s.format_errors);
    let corpus = hostile_corpus();
    assert_eq!(s.docs.len(), corpus.len());
    for (i, v) in corpus.iter().enumerate() {
        let doc = s
            .docs
            .iter()
            .find(|(k, _)| k.1 == format!("k{i}.0"))
            .map(|(_, d)| d)
            .unwrap();
        assert_eq!(
            doc["entrail"]["UserPrincipalName"].as_str(),
            Some(v.as_str())
        );
        assert_eq!(doc["user"]["name"].as_str(), Some(v.as_str()));
        assert_eq!(doc["user_agent"]["original"].as_str(), Some(v.as_str()));
        assert_eq!(doc["event"]["reason"].as_str(), Some(v.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn send_works_when_called_inside_a_runtime() {
    let r = tokio::task::spawn_blocking(|| receiver::start(0))
        .await
        .unwrap();
    let mut sink = ElasticSink::new(config(&r)).unwrap();
    sink.send(&batch(2)).unwrap();
    assert_eq!(r.state.lock().unwrap().docs.len(), 2);
    tokio::task::spawn_blocking(move || drop(r)).await.unwrap();
}
