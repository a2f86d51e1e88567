//! Simulated tenant server: every injected fault fires and is counted (429 storm, 5xx, connection reset,
//! truncated body, token expiry mid-paging, nextLink failing once, late arrival).
#![allow(clippy::unwrap_used)]

#[path = "server_util.rs"]
mod util;

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::Value;
use sim::Category;
use sim::server::{Faults, ServerConfig, SimServer, Storm};
use util::*;

fn with_faults(faults: Faults) -> ServerConfig {
    let mut c = cfg(20);
    c.categories = Some(vec![Category::SignInLogs, Category::AuditLogs]);
    c.faults = faults;
    c
}

#[tokio::test]
async fn storm_server_errors_resets_and_truncation() {
    let storm = SimServer::start(with_faults(Faults {
        storm: Some(Storm {
            after: Duration::ZERO,
            duration: Duration::from_secs(60),
        }),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let c = client();
    let t = default_token(&c, &storm).await;
    let r = get(&c, &storm, &t, "/v1.0/auditLogs/signIns").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let r = get(&c, &storm, &t, "/v1.0/identityProtection/riskyUsers").await;
    assert_eq!(r.status(), 429, "every Graph request during a storm");
    let st = storm.stats();
    assert_eq!((st.faults.storm_429s, st.throttled), (2, 2));

    let errors = SimServer::start(with_faults(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let t = default_token(&c, &errors).await;
    let r = get(&c, &errors, &t, "/v1.0/auditLogs/signIns").await;
    assert!(r.status() == 500 || r.status() == 503, "{}", r.status());
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
    assert_eq!(errors.stats().faults.server_errors, 1);

    let resets = SimServer::start(with_faults(Faults {
        connection_reset_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let t = default_token(&c, &resets).await;
    let r = c
        .get(format!("{}/v1.0/auditLogs/signIns", resets.base_url()))
        .bearer_auth(&t)
        .send()
        .await;
    assert!(r.is_err(), "connection closed without a response");
    assert_eq!(resets.stats().faults.connection_resets, 1);
    // The server still answers token requests on new connections.
    default_token(&c, &resets).await;

    let trunc = SimServer::start(with_faults(Faults {
        truncated_body_rate: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let t = default_token(&c, &trunc).await;
    let r = get(&c, &trunc, &t, "/v1.0/auditLogs/signIns").await;
    assert_eq!(r.status(), 200);
    let announced = r.content_length().unwrap();
    assert!(announced > 100);
    assert!(r.bytes().await.is_err(), "body shorter than Content-Length");
    let st = trunc.stats();
    assert_eq!((st.faults.truncated_bodies, st.pages_served), (1, 0));
}

#[tokio::test]
async fn token_expires_in_the_middle_of_paging() {
    let srv = SimServer::start(with_faults(Faults {
        token_expiry_after_pages: Some(2),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let c = client();
    let t = default_token(&c, &srv).await;
    let p1: Value = get(&c, &srv, &t, "/v1.0/auditLogs/signIns?$top=5")
        .await
        .json()
        .await
        .unwrap();
    let p2: Value = get_url(&c, &t, p1["@odata.nextLink"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let next = p2["@odata.nextLink"].as_str().unwrap();
    let r = get_url(&c, &t, next).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
    assert_eq!(srv.stats().faults.tokens_expired_mid_paging, 1);
    // A fresh token resumes from the same nextLink.
    let t2 = default_token(&c, &srv).await;
    assert_eq!(get_url(&c, &t2, next).await.status(), 200);
}

#[tokio::test]
async fn every_second_next_link_fails_once() {
    let srv = SimServer::start(with_faults(Faults {
        next_link_fail_every: Some(2),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let c = client();
    let t = default_token(&c, &srv).await;
    let p1: Value = get(&c, &srv, &t, "/v1.0/auditLogs/signIns?$top=5")
        .await
        .json()
        .await
        .unwrap();
    let link1 = p1["@odata.nextLink"].as_str().unwrap();
    let r = get_url(&c, &t, link1).await;
    assert_eq!(r.status(), 200, "first nextLink fine");
    let p2: Value = r.json().await.unwrap();
    let link2 = p2["@odata.nextLink"].as_str().unwrap();
    let r = get_url(&c, &t, link2).await;
    assert!(
        r.status() == 503 || r.status() == 500,
        "second nextLink fails on first use"
    );
    let r = get_url(&c, &t, link2).await;
    assert_eq!(r.status(), 200, "and works on retry");
    let p3: Value = r.json().await.unwrap();
    assert_eq!(srv.stats().faults.next_link_failures, 1);
    assert!(p3["value"].as_array().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn late_arrival_delays_visibility() {
    let mid_day =
        |c: &mut ServerConfig| c.clock.start = Some(c.tenant.start + TimeDelta::hours(12));
    let mut on = with_faults(Faults {
        late_arrival_rate: 1.0,
        ..Faults::default()
    });
    mid_day(&mut on);
    let mut off = with_faults(Faults::default());
    mid_day(&mut off);
    let late = SimServer::start(on).await.unwrap();
    let normal = SimServer::start(off).await.unwrap();
    assert!(late.stats().faults.late_records > 0);
    let (a, b) = (
        late.truth().category("SignInLogs").ids.len(),
        normal.truth().category("SignInLogs").ids.len(),
    );
    assert!(a < b, "late: {a} visible vs {b}");
    // Served records match the truth: the late ones are not served yet either.
    let c = client();
    let t = default_token(&c, &late).await;
    let (got, _) = get_all(
        &c,
        &t,
        &format!("{}/v1.0/auditLogs/signIns", late.base_url()),
    )
    .await;
    let ids: std::collections::BTreeSet<String> = got
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), a);
    // Within late_max (2 h) plus delivery latency everything has arrived.
    let end = late.clock().now() + TimeDelta::hours(15);
    late.clock().set(end);
    normal.clock().set(end);
    assert_eq!(late.truth().categories, normal.truth().categories);
}
