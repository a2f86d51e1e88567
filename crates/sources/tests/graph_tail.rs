//! Graph tail against a wiremock Graph: paging, delivery order, cursors, filters, the server's clock and
//! windows of `max_window`. Failures (retries, 403s, quarantine) are in `graph_tail_faults.rs`.
#![allow(clippy::unwrap_used)]

mod graph_support;

use graph_support::tail::{AUDIT_FILTER, ok, source};
use graph_support::*;
use sources::graph::{CursorStore, GraphSource, MemoryCursors};
use std::time::Duration;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn pages_follow_next_link_one_delivery_at_a_time_then_the_cursor_is_saved() {
    let server = MockServer::start().await;
    mount_token(&server, "tok-1").await;
    let log = Log::default();
    let uri = server.uri();
    let link = |n: u32| format!("{uri}/v1.0/auditLogs/directoryAudits?$skiptoken=p{n}");
    let pages = [
        (
            None,
            page(
                vec![
                    audit("a1", "2026-10-05T11:00:00Z"),
                    audit("a2", "2026-10-05T11:01:00Z"),
                ],
                Some(link(2)),
            ),
        ),
        (
            Some("p2"),
            page(vec![audit("a3", "2026-10-05T11:02:00Z")], Some(link(3))),
        ),
        (
            Some("p3"),
            page(vec![audit("a4", "2026-10-05T11:03:00Z")], None),
        ),
    ];
    for (i, (token, body)) in pages.into_iter().enumerate() {
        let m = Mock::given(method("GET"))
            .and(path("/v1.0/auditLogs/directoryAudits"))
            .and(header("authorization", "Bearer tok-1"));
        let m = match token {
            None => m
                .and(query_param("$filter", AUDIT_FILTER))
                .and(query_param("$top", "999"))
                .and(query_param_is_missing("$skiptoken")),
            Some(t) => m.and(query_param("$skiptoken", t)),
        };
        m.respond_with(Logged {
            log: log.clone(),
            label: format!("fetch {}", i + 1),
            template: ok(body),
        })
        .expect(1)
        .mount(&server)
        .await;
    }
    let src = source(&server, &["AuditLogs"]);
    let deliver = Recorder {
        delay: Duration::from_millis(150),
        log: log.clone(),
        ..Recorder::default()
    };
    let cursors = MemoryCursors::new();
    let report = src.poll_once(&deliver, &cursors).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(deliver.ids(), ["a1", "a2", "a3", "a4"]);
    let sizes: Vec<usize> = deliver
        .batches
        .lock()
        .unwrap()
        .iter()
        .map(|b| b.records.len())
        .collect();
    assert_eq!(sizes, [2, 1, 1]);
    // Each page is handed over before the next is requested; at most one page is fetched ahead.
    assert!(log.position("deliver 1 start") < log.position("fetch 2"));
    assert!(log.position("deliver 1 end") < log.position("fetch 3"));
    assert!(log.position("deliver 2 start") < log.position("fetch 3"));
    let cursor = cursors
        .load("graph/graph-test/AuditLogs/tail")
        .unwrap()
        .unwrap();
    assert_eq!(cursor, serde_json::json!({"end": "2026-10-05T11:58:00Z"}));
    let status = src.status();
    let st = &status.categories[0];
    assert_eq!(
        (st.seen, st.pages, st.accepted.new, st.windows),
        (4, 3, 4, 1)
    );
    assert_eq!(st.lag_seconds, Some(120));
    assert!(
        serde_json::to_string(&status)
            .unwrap()
            .contains("\"AuditLogs\"")
    );
}

#[tokio::test]
async fn a_failed_delivery_leaves_the_cursor_and_the_window_is_read_again() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let uri = server.uri();
    // Cursor at 11:00 -> window starts 2h10m earlier.
    let filter =
        "activityDateTime ge 2026-10-05T08:50:00Z and activityDateTime le 2026-10-05T11:58:00Z";
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/directoryAudits"))
        .and(query_param("$filter", filter))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(page(
            vec![audit("a1", "2026-10-05T09:00:00Z")],
            Some(format!("{uri}/v1.0/auditLogs/directoryAudits?$skiptoken=x")),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$skiptoken", "x"))
        .respond_with(ok(page(vec![audit("a2", "2026-10-05T10:00:00Z")], None)))
        .mount(&server)
        .await;
    let src = source(&server, &["AuditLogs"]);
    let cursors = MemoryCursors::new();
    let before = serde_json::json!({"end": "2026-10-05T11:00:00Z"});
    cursors
        .save("graph/graph-test/AuditLogs/tail", &before)
        .unwrap();
    let failing = Recorder {
        fail_at: Some(2),
        ..Recorder::default()
    };
    let report = src.poll_once(&failing, &cursors).await.unwrap();
    let entry = &report.categories[0];
    assert_eq!(
        entry.error.as_deref(),
        Some("delivery failed: disk full"),
        "{entry:?}"
    );
    assert_eq!(
        cursors.load("graph/graph-test/AuditLogs/tail").unwrap(),
        Some(before)
    );
    assert!(src.status().categories[0].last_error.is_some());
    let good = Recorder::default();
    let report = src.poll_once(&good, &cursors).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(good.ids(), ["a1", "a2"]);
    assert_eq!(
        cursors.load("graph/graph-test/AuditLogs/tail").unwrap(),
        Some(serde_json::json!({"end": "2026-10-05T11:58:00Z"}))
    );
}

#[tokio::test]
async fn every_category_sends_its_own_filter_url_encoded() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let w = |f: &str| format!("{f} ge 2026-10-05T10:58:00Z and {f} le 2026-10-05T11:58:00Z");
    let expected = [
        ("/beta/auditLogs/signIns", format!("{} and signInEventTypes/any(t: t eq 'interactiveUser')", w("createdDateTime"))),
        ("/beta/auditLogs/signIns", format!("{} and signInEventTypes/any(t: t eq 'servicePrincipal')", w("createdDateTime"))),
        ("/v1.0/auditLogs/provisioning", "activityDateTime gt 2026-10-05T10:57:59Z and activityDateTime lt 2026-10-05T11:58:01Z".to_owned()),
        ("/v1.0/identityProtection/riskyUsers", "riskLastUpdatedDateTime gt 2026-10-05T10:57:59Z and riskLastUpdatedDateTime lt 2026-10-05T11:58:01Z".to_owned()),
        ("/v1.0/identityProtection/riskDetections", w("detectedDateTime")),
    ];
    for (p, f) in &expected {
        Mock::given(method("GET"))
            .and(path(*p))
            .and(query_param("$filter", f.as_str()))
            .respond_with(ok(page(vec![], None)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let src = source(
        &server,
        &[
            "SignInLogs",
            "ServicePrincipalSignInLogs",
            "ProvisioningLogs",
            "RiskyUsers",
            "UserRiskEvents",
        ],
    );
    let cursors = MemoryCursors::new();
    let report = src.poll_once(&Recorder::default(), &cursors).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(cursors.snapshot().len(), 5);
    let requests = server.received_requests().await.unwrap();
    let signin = requests
        .iter()
        .find(|r| r.url.query().is_some_and(|q| q.contains("interactiveUser")))
        .unwrap();
    assert_eq!(
        signin.url.query().unwrap(),
        "$filter=createdDateTime%20ge%202026-10-05T10%3A58%3A00Z%20and%20createdDateTime%20le%20\
         2026-10-05T11%3A58%3A00Z%20and%20signInEventTypes%2Fany%28t%3A%20t%20eq%20%27interactiveUser%27%29&$top=1000"
    );
    assert_eq!(
        signin.headers.get("prefer").unwrap(),
        "include-unknown-enum-members"
    );
}

#[tokio::test]
async fn the_server_date_clock_sets_the_window_from_the_first_response() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("date", "Mon, 05 Oct 2026 12:00:00 GMT")
                .set_body_json(serde_json::json!({"access_token": "tok", "expires_in": 3599})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$filter", AUDIT_FILTER))
        .respond_with(ok(page(vec![], None)))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.clock = sources::graph::ClockKind::ServerDate;
    let src = GraphSource::from_config(cfg).unwrap();
    let report = src
        .poll_once(&Recorder::default(), &MemoryCursors::new())
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn a_long_gap_is_read_in_windows_of_max_window() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    Mock::given(method("GET"))
        .respond_with(ok(page(vec![], None)))
        .mount(&server)
        .await;
    let src = source(&server, &["AuditLogs"]);
    let cursors = MemoryCursors::new();
    cursors
        .save(
            "graph/graph-test/AuditLogs/tail",
            &serde_json::json!({"end": "2026-10-02T12:00:00Z"}),
        )
        .unwrap();
    let mut ends = Vec::new();
    loop {
        let report = src.poll_once(&Recorder::default(), &cursors).await.unwrap();
        let c = &report.categories[0];
        ends.push(c.end.unwrap().to_rfc3339());
        if c.caught_up {
            break;
        }
        assert_eq!(
            c.end.unwrap() - c.start.unwrap(),
            chrono::TimeDelta::days(1)
        );
    }
    assert_eq!(
        ends,
        [
            "2026-10-03T09:50:00+00:00",
            "2026-10-04T07:40:00+00:00",
            "2026-10-05T05:30:00+00:00",
            "2026-10-05T11:58:00+00:00"
        ]
    );
}
