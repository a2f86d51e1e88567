//! Graph tail against a wiremock Graph: paging, delivery order, cursors, filters, retries, 403s, quarantine.
#![allow(clippy::unwrap_used)]

mod graph_support;

use graph_support::*;
use sources::graph::{CursorStore, ErrorKind, GraphSource, MemoryCursors};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const NOW: &str = "2026-10-05T12:00:00Z";
const AUDIT_FILTER: &str =
    "activityDateTime ge 2026-10-05T10:58:00Z and activityDateTime le 2026-10-05T11:58:00Z";

fn source(server: &MockServer, categories: &[&str]) -> GraphSource {
    GraphSource::new(config(server, categories), FixedClock::at(NOW)).unwrap()
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

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

/// Serves `templates` in turn and records when each request arrived.
struct Timed {
    inner: Sequence,
    at: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Respond for Timed {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.at.lock().unwrap().push(Instant::now());
        self.inner.respond(r)
    }
}

async fn timed(
    server: &MockServer,
    p: &str,
    templates: Vec<ResponseTemplate>,
) -> Arc<std::sync::Mutex<Vec<Instant>>> {
    let at = Arc::new(std::sync::Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(Timed {
            inner: Sequence::new(templates),
            at: at.clone(),
        })
        .mount(server)
        .await;
    at
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_next_request() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let at = timed(
        &server,
        "/v1.0/auditLogs/directoryAudits",
        vec![
            ResponseTemplate::new(429).insert_header("retry-after", "2"),
            ok(page(vec![audit("a1", "2026-10-05T11:00:00Z")], None)),
        ],
    )
    .await;
    let src = source(&server, &["AuditLogs"]);
    let d = Recorder::default();
    let report = src.poll_once(&d, &MemoryCursors::new()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(d.records(), 1);
    let at = at.lock().unwrap();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_secs(2),
        "{:?}",
        at[1] - at[0]
    );
    let st = &src.status().categories[0];
    assert!(
        st.last_error.as_deref().unwrap().contains("retry after 2s"),
        "{st:?}"
    );
}

#[tokio::test]
async fn throttling_without_retry_after_backs_off_and_5xx_and_broken_bodies_are_retried() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let at = timed(
        &server,
        "/v1.0/identityProtection/riskyUsers",
        vec![
            ResponseTemplate::new(429),
            ResponseTemplate::new(503).set_body_string("upstream"),
            ResponseTemplate::new(200).set_body_raw(r#"{"value":[{"id":"u1","#, "application/json"),
            ok(page(vec![serde_json::json!({"id": "u1", "riskLastUpdatedDateTime": "2026-10-05T11:00:00Z",
                "riskLevel": "high", "riskState": "atRisk", "userPrincipalName": "a@contoso.com"})], None)),
        ],
    )
    .await;
    let src = source(&server, &["RiskyUsers"]);
    let d = Recorder::default();
    let report = src.poll_once(&d, &MemoryCursors::new()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(d.records(), 1);
    let at = at.lock().unwrap();
    assert_eq!(at.len(), 4);
    // No Retry-After: an exponential backoff (here capped at 1 s, with jitter: at least half).
    assert!(
        at[1] - at[0] >= Duration::from_millis(500),
        "{:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(500),
        "{:?}",
        at[2] - at[1]
    );
    assert_eq!(src.status().categories[0].errors, 3);
}

#[tokio::test]
async fn a_403_stops_one_category_and_names_the_permission_while_others_go_on() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/directoryAudits"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!(
            {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/auditLogs/signIns"))
        .respond_with(ok(page(vec![signin("s1", "2026-10-05T11:00:00Z")], None)))
        .mount(&server)
        .await;
    let mut cfg = config(&server, &["AuditLogs", "SignInLogs"]);
    cfg.poll_interval = Duration::from_millis(50);
    cfg.denied_retry = Duration::from_secs(3600);
    let src = Arc::new(GraphSource::new(cfg, FixedClock::at(NOW)).unwrap());
    let report = src
        .poll_once(&Recorder::default(), &MemoryCursors::new())
        .await
        .unwrap();
    let audit = &report.categories[0];
    assert_eq!(
        audit.error_kind.as_deref(),
        Some(format!("{:?}", ErrorKind::Forbidden).as_str())
    );
    let msg = audit.error.as_deref().unwrap();
    assert!(
        msg.contains("AuditLogs")
            && msg.contains("AuditLog.Read.All")
            && msg.contains("Authorization_RequestDenied"),
        "{msg}"
    );
    assert!(report.categories[1].error.is_none());

    // The tail pauses the refused category and keeps polling the other.
    let deliver = Arc::new(Recorder::default());
    let cursors = Arc::new(MemoryCursors::new());
    let shutdown = sources::graph::CancellationToken::new();
    let task = {
        let (src, deliver, cursors, shutdown) = (
            src.clone(),
            deliver.clone(),
            cursors.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move { src.run_tail(&*deliver, &*cursors, shutdown).await })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliver.calls.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "tail stalled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = src.status();
    assert!(status.categories[0].paused);
    assert!(!status.categories[1].paused);
    assert!(status.categories[1].windows >= 3);
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let audits = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().contains("directoryAudits"))
        .count();
    assert_eq!(audits, 2, "the paused category waits for denied_retry");
}

#[tokio::test]
async fn undecodable_objects_are_quarantined_not_dropped() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let broken = serde_json::json!({"id": "bad", "activityDateTime": "not a time"});
    Mock::given(method("GET"))
        .respond_with(ok(page(
            vec![
                audit("a1", "2026-10-05T11:00:00Z"),
                broken,
                serde_json::json!(42),
            ],
            None,
        )))
        .mount(&server)
        .await;
    let src = source(&server, &["AuditLogs"]);
    let d = Recorder::default();
    let report = src.poll_once(&d, &MemoryCursors::new()).await.unwrap();
    assert!(report.is_ok());
    assert_eq!((d.records(), d.rejected()), (1, 2));
    let batches = d.batches.lock().unwrap();
    let r = &batches[0].rejected[0];
    assert_eq!(r.position.at, "record 2");
    assert_eq!(r.category.as_deref(), Some("AuditLogs"));
    assert!(String::from_utf8_lossy(&r.raw).contains("not a time"));
    assert_eq!(report.categories[0].rejected, 2);
    assert_eq!(report.categories[0].accepted.quarantined, 2);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    Mock::given(method("GET"))
        .respond_with(ok(page(
            vec![],
            Some("https://evil.example/v1.0/x?$skiptoken=1".into()),
        )))
        .mount(&server)
        .await;
    let src = source(&server, &["AuditLogs"]);
    let report = src
        .poll_once(&Recorder::default(), &MemoryCursors::new())
        .await
        .unwrap();
    let e = report.categories[0].error.as_deref().unwrap();
    assert!(e.contains("leaves the configured Graph endpoint"), "{e}");
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

/// A token provider that hands out a fixed token.
struct StaticToken;

impl sources::graph::TokenProvider for StaticToken {
    fn fetch(&self) -> sources::graph::TokenFuture<'_> {
        Box::pin(async {
            Ok(sources::graph::AccessToken {
                token: secrecy::SecretString::from("static"),
                expires_in: Duration::from_secs(3600),
            })
        })
    }
}

#[tokio::test]
async fn a_body_cut_short_by_the_connection_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body =
        serde_json::to_string(&page(vec![audit("a1", "2026-10-05T11:00:00Z")], None)).unwrap();
    let server = tokio::spawn(async move {
        for i in 0..2 {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let mut chunk = [0u8; 1024];
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            // The first answer stops after 10 bytes of the promised body.
            let end = if i == 0 { 10 } else { body.len() };
            sock.write_all(&body.as_bytes()[..end]).await.unwrap();
            sock.shutdown().await.unwrap();
        }
    });
    let mut cfg = graph_support::config(&MockServer::start().await, &["AuditLogs"]);
    cfg.graph_endpoint = format!("http://{addr}");
    let src =
        GraphSource::with_token_provider(cfg, FixedClock::at(NOW), Arc::new(StaticToken)).unwrap();
    let d = Recorder::default();
    let report = src.poll_once(&d, &MemoryCursors::new()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(d.ids(), ["a1"]);
    let err = src.status().categories[0].last_error.clone().unwrap();
    assert!(err.contains("body truncated"), "{err}");
    server.await.unwrap();
}
