//! Helpers of `tests/metrics.rs`: a Splunk HEC receiver that enforces its token (401 until fixed), generated
//! input files, and a scrape of `/metrics` parsed into samples (`testkit::prom`).
#![allow(clippy::unwrap_used)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The token the receiver accepts once fixed.
pub(crate) const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// The receiver's state.
#[derive(Default)]
pub(crate) struct Hec {
    /// Accept the token (false: every request gets 401).
    pub(crate) fixed: AtomicBool,
    /// Events accepted.
    pub(crate) events: AtomicU64,
    /// Requests answered 401.
    pub(crate) refused: AtomicU64,
}

async fn hec_event(
    State(s): State<Arc<Hec>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if !s.fixed.load(Ordering::SeqCst) || auth != Some(&format!("Splunk {TOKEN}")) {
        s.refused.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"text":"Invalid token","code":4}"#.into(),
        );
    }
    let n = serde_json::Deserializer::from_slice(&body)
        .into_iter::<serde_json::Value>()
        .map(|v| assert!(v.unwrap()["event"].is_object()))
        .count();
    s.events.fetch_add(n as u64, Ordering::SeqCst);
    (StatusCode::OK, r#"{"text":"Success","code":0}"#.into())
}

/// Starts the HEC receiver on a free loopback port.
pub(crate) fn start_hec(rt: &tokio::runtime::Runtime) -> (Arc<Hec>, u16) {
    let state = Arc::new(Hec::default());
    let app = axum::Router::new()
        .route("/services/collector/event", axum::routing::post(hec_event))
        .with_state(state.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, port)
}

/// Writes one generated day of sign-ins and audits (diagnostic shape) plus `garbage` undecodable lines.
pub(crate) fn write_day(path: &Path, seed: u64, users: u32, garbage: usize) {
    let cfg = sim::TenantConfig {
        seed,
        users,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let events =
        sim::Generator::new(&tenant, &cfg).with_category_names(&["SignInLogs", "AuditLogs"]);
    let mut lines = String::new();
    for e in events {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            lines.push_str(&serde_json::to_string(&v).unwrap());
            lines.push('\n');
        }
    }
    for i in 0..garbage {
        lines.push_str(&format!("this is not json {i}\n"));
    }
    std::fs::write(path, lines).unwrap();
}

pub(crate) use testkit::prom::{Samples, get, sum};

/// Scrapes `/metrics` and parses every sample line (panics on a line that is not the text format).
pub(crate) fn scrape(rt: &tokio::runtime::Runtime, addr: std::net::SocketAddr) -> Samples {
    let resp = rt
        .block_on(reqwest::get(format!("http://{addr}/metrics")))
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = rt.block_on(resp.text()).unwrap();
    testkit::prom::parse(&text)
}

/// The labels of one consumer.
pub(crate) fn c(name: &str) -> [(&'static str, &str); 1] {
    [("consumer", name)]
}
