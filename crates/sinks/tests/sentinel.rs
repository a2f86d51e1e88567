//! Logs Ingestion sink against an in-test receiver that enforces the documented request format (see
//! `testkit::receivers::sentinel`): token required and valid, gzip, JSON arrays within 1 MB, streams per category,
//! 429/503 with `Retry-After` honoured (no request before it passed), 401 then fixed -> nothing skipped.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::{MARKER, hostile_corpus, hostile_records, record};
use model::{Category, Record};
use secrecy::SecretString;
use sinks::sentinel::{SentinelConfig, SentinelSink};
use sinks::{ErrorKind, Sink};
use std::time::Duration;
use testkit::receivers::sentinel as receiver;
use testkit::receivers::sentinel::{CLIENT_ID, DCR, TENANT};

fn config(r: &receiver::Receiver, secret: &str) -> SentinelConfig {
    let mut c = SentinelConfig::new(
        "sentinel",
        &r.url,
        DCR,
        TENANT,
        CLIENT_ID,
        SecretString::from(secret.to_owned()),
    );
    c.authority_host = r.url.clone();
    c
}

fn sink(r: &receiver::Receiver) -> SentinelSink {
    SentinelSink::new(config(r, "s3cr3t~value")).unwrap()
}

fn batch(n: usize, filler: usize) -> Vec<Record> {
    let fill = "f".repeat(filler);
    (0..n)
        .map(|i| {
            let cat = [Category::SignInLogs, Category::AuditLogs][i % 2];
            let col = if i % 2 == 0 {
                "ResultDescription"
            } else {
                "ResultReason"
            };
            record(cat, &format!("k{i}"), &[(col, &fill)])
        })
        .collect()
}

fn keys(r: &receiver::Receiver) -> Vec<String> {
    let s = r.state.lock().unwrap();
    let mut keys: Vec<String> = s
        .rows
        .values()
        .flatten()
        .map(|row| row["EntrailKey"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

fn expected(n: usize) -> Vec<String> {
    let mut k: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    k.sort();
    k
}

#[test]
fn delivers_gzipped_arrays_per_stream_within_one_megabyte() {
    let r = receiver::start(0);
    let mut s = sink(&r);
    // ~3.5 MB of rows: several requests.
    s.send(&batch(1000, 3500)).unwrap();
    s.send(&batch(4, 10)[2..]).unwrap();
    let st = r.state.lock().unwrap();
    assert!(st.format_errors.is_empty(), "{:?}", st.format_errors);
    assert!(st.sizes.len() >= 4, "{:?}", st.sizes);
    assert!(
        st.sizes.iter().all(|n| *n <= receiver::LIMIT),
        "{:?}",
        st.sizes
    );
    assert_eq!(st.gzipped, st.requests);
    assert_eq!(st.token_requests, 1, "the token is cached");
    assert_eq!(st.rows["Custom-SigninLogs"].len(), 501);
    assert_eq!(st.rows["Custom-AuditLogs"].len(), 501);
    let row = &st.rows["Custom-SigninLogs"][0];
    assert_eq!(row["TimeGenerated"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(row["EntrailCategory"], "SignInLogs");
}

#[test]
fn throttling_is_honoured_and_nothing_is_sent_before_retry_after() {
    let r = receiver::start(0);
    r.state
        .lock()
        .unwrap()
        .inject
        .push_back((StatusCode::TOO_MANY_REQUESTS, Some(1)));
    let mut s = sink(&r);
    let b = batch(10, 10);
    let e = s.send(&b).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    // An eager retry is refused by the sink itself: no request reaches the service.
    let e = s.send(&b).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Throttled { retry_after: Some(d) } if d <= Duration::from_secs(1))
    );
    assert_eq!(r.state.lock().unwrap().requests, 1);
    std::thread::sleep(Duration::from_millis(1100));
    r.state
        .lock()
        .unwrap()
        .inject
        .push_back((StatusCode::SERVICE_UNAVAILABLE, Some(1)));
    let e = s.send(&b).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Throttled {
                retry_after: Some(_)
            }
        ),
        "{e}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    s.send(&b).unwrap();
    let st = r.state.lock().unwrap();
    assert_eq!(
        st.early_requests, 0,
        "requests sent before Retry-After expired"
    );
    assert_eq!(st.requests, 4);
    drop(st);
    assert_eq!(keys(&r), expected(10));
}

#[test]
fn a_bad_secret_stops_progress_and_the_fixed_one_delivers_everything() {
    let r = receiver::start(0);
    let mut s = SentinelSink::new(config(&r, "wrong-secret")).unwrap();
    let b = batch(6, 10);
    let e = s.send(&b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!format!("{e} {e:?} {s:?}").contains("wrong-secret"));
    assert!(s.take_rejected().is_empty());
    assert!(r.state.lock().unwrap().rows.is_empty());
    let mut s = sink(&r);
    s.send(&b).unwrap();
    assert_eq!(keys(&r), expected(6));
}

#[test]
fn a_refused_token_is_fetched_again_and_expiring_ones_refreshed() {
    let r = receiver::start(0);
    r.state.lock().unwrap().token_lifetime = Duration::from_secs(2);
    let mut s = sink(&r);
    s.send(&batch(2, 10)).unwrap();
    // Revoked on the service side: the sink gets a new one and carries on.
    r.state.lock().unwrap().tokens.clear();
    s.send(&batch(4, 10)[2..]).unwrap();
    assert_eq!(r.state.lock().unwrap().token_requests, 2);
    // Half the 2 s lifetime later the cached token is renewed before use.
    std::thread::sleep(Duration::from_millis(1100));
    s.send(&batch(6, 10)[4..]).unwrap();
    assert_eq!(r.state.lock().unwrap().token_requests, 3);
    assert_eq!(s.tokens_fetched(), 3);
    assert_eq!(keys(&r), expected(6));
}

#[test]
fn a_resent_batch_skips_the_requests_already_acknowledged() {
    let r = receiver::start(0);
    let mut c = config(&r, "s3cr3t~value");
    c.max_request_bytes = 20_000;
    c.max_field_bytes = 10_000;
    let mut s = SentinelSink::new(c).unwrap();
    let b = batch(40, 2000);
    {
        let mut st = r.state.lock().unwrap();
        // Accept the first request, fail the second one.
        st.inject.push_back((StatusCode::OK, None));
        st.inject
            .push_back((StatusCode::INTERNAL_SERVER_ERROR, None));
    }
    assert_eq!(s.send(&b).unwrap_err().kind(), ErrorKind::Transient);
    let before = r.state.lock().unwrap().requests;
    assert_eq!(before, 2);
    s.send(&b).unwrap();
    let st = r.state.lock().unwrap();
    assert!(st.sizes.iter().all(|n| *n <= 20_000));
    // Only the failed request and those after it were sent again: every row arrived exactly once.
    let requests = st.requests;
    drop(st);
    assert_eq!(keys(&r), expected(40));
    assert!(requests > before + 1, "{requests}");
}

#[test]
fn too_large_answers_split_requests() {
    let r = receiver::start(0);
    r.state.lock().unwrap().limit = 30_000;
    let mut s = sink(&r);
    s.send(&batch(50, 2000)).unwrap();
    let st = r.state.lock().unwrap();
    assert!(st.sizes.iter().all(|n| *n <= 30_000));
    drop(st);
    assert_eq!(keys(&r), expected(50));
    assert!(s.take_rejected().is_empty());
}

#[test]
fn hostile_values_round_trip_one_row_per_input() {
    let r = receiver::start(0);
    let mut s = sink(&r);
    s.send(&hostile_records()).unwrap();
    let st = r.state.lock().unwrap();
    assert!(st.format_errors.is_empty(), "{:?}", st.format_errors);
    let rows = &st.rows["Custom-SigninLogs"];
    let corpus = hostile_corpus();
    assert_eq!(rows.len(), corpus.len());
    for (i, v) in corpus.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r["EntrailKey"] == format!("k{i}"))
            .unwrap();
        let got = row["UserPrincipalName"].as_str().unwrap();
        common::assert_intact_or_cut(v, got, v.len() > 65_536);
        assert!(got.len() <= 65_536);
        if v.len() > 65_536 {
            assert!(got.ends_with(MARKER));
        }
    }
}

#[test]
fn workload_identity_uses_the_federated_token_as_assertion() {
    let r = receiver::start(0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated.jwt.token\n").unwrap();
    let mut c = config(&r, "unused");
    c.client_secret = None;
    c.federated_token_file = Some(file);
    let mut s = SentinelSink::new(c).unwrap();
    s.send(&batch(2, 10)).unwrap();
    assert_eq!(keys(&r), expected(2));
}
