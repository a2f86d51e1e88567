//! `_IngestTime` of Graph records is the local receive time, as for every other source, even when the
//! server's `Date` header (which still drives the server-date clock: windows and cursors) is two hours off.
#![allow(clippy::unwrap_used)]

mod graph_support;

use chrono::{TimeDelta, Utc};
use graph_support::*;
use sources::graph::{GraphSource, MemoryCursors};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An HTTP `Date` header value.
fn http_date(t: chrono::DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn ingest_time_is_the_local_receive_time_not_a_skewed_server_date() {
    let skew = TimeDelta::hours(2);
    let server = MockServer::start().await;
    let server_now = Utc::now() + skew;
    let date = http_date(server_now);
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("date", date.as_str())
                .set_body_json(serde_json::json!({
                    "token_type": "Bearer", "expires_in": 3599, "access_token": "tok"
                })),
        )
        .mount(&server)
        .await;
    let at = |m: i64| {
        (server_now - TimeDelta::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/directoryAudits"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("date", date.as_str())
                .set_body_json(page(vec![audit("a1", &at(30)), audit("a2", &at(20))], None)),
        )
        .expect(1..)
        .mount(&server)
        .await;

    // The configured default: the server-date clock.
    let src = GraphSource::from_config(config(&server, &["AuditLogs"])).unwrap();
    let deliver = Recorder::default();
    let before = Utc::now().timestamp_micros();
    let report = src
        .poll_once(&deliver, &MemoryCursors::new())
        .await
        .unwrap();
    let after = Utc::now().timestamp_micros();
    assert!(report.is_ok(), "{report:?}");

    // The window still follows the server's clock (two hours ahead of the local one).
    let end = report.categories[0].end.unwrap();
    let ahead = end - Utc::now();
    assert!(
        ahead > TimeDelta::minutes(100),
        "the tail window should end near the server's Date, {ahead} ahead of the local clock"
    );

    let batches = deliver.batches.lock().unwrap();
    let records: Vec<_> = batches.iter().flat_map(|b| b.records.iter()).collect();
    assert_eq!(records.len(), 2, "{:?}", deliver.ids());
    for r in records {
        assert!(
            (before..=after).contains(&r.ingest_time),
            "{}: _IngestTime {} is not the local receive time (between {before} and {after}); \
             the server's Date was {date}",
            r.key,
            r.ingest_time
        );
    }
}
