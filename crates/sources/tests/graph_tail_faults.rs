//! Graph tail against a wiremock Graph when things go wrong: `Retry-After`, throttling without it, 5xx and
//! broken bodies, a 403 on one category, undecodable objects, a next link to another host, a body cut short.
#![allow(clippy::unwrap_used)]

mod graph_support;

use graph_support::tail::{NOW, ok, source};
use graph_support::*;
use sources::graph::{ErrorKind, GraphSource, MemoryCursors};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
