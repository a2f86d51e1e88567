//! Graph backfill against wiremock: slices, resume after a stop, narrowing under failures, progress.
#![allow(clippy::unwrap_used)]

mod graph_support;

use chrono::{DateTime, Utc};
use graph_support::*;
use model::Category;
use sources::graph::{BackfillProgress, CursorStore, GraphError, GraphSource, MemoryCursors};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const NOW: &str = "2026-10-05T12:00:00Z";
const KEY: &str = "graph/graph-test/AuditLogs/backfill";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Answers each window with one audit at its start; 503 for windows longer than `max_span_h` hours.
struct Windows {
    filters: Arc<Mutex<Vec<String>>>,
    max_span_h: i64,
}

impl Respond for Windows {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let filter = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "$filter")
            .unwrap()
            .1
            .to_string();
        self.filters.lock().unwrap().push(filter.clone());
        let words: Vec<&str> = filter.split_whitespace().collect();
        let (start, end) = (t(words[2]), t(words[6]));
        if (end - start).num_hours() > self.max_span_h {
            return ResponseTemplate::new(503);
        }
        ResponseTemplate::new(200).set_body_json(page(
            vec![audit(&format!("a-{}", words[2]), words[2])],
            None,
        ))
    }
}

async fn server(max_span_h: i64) -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let server = MockServer::start().await;
    mount_token(&server, "tok").await;
    let filters = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/directoryAudits"))
        .respond_with(Windows {
            filters: filters.clone(),
            max_span_h,
        })
        .mount(&server)
        .await;
    (server, filters)
}

fn window(s: &str, e: &str) -> String {
    format!("activityDateTime ge {s} and activityDateTime le {e}")
}

#[tokio::test]
async fn backfill_resumes_skipping_finished_slices() {
    let (server, filters) = server(48).await;
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.backfill_parallel = 1;
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    let cursors = MemoryCursors::new();
    let since = t("2026-10-02T10:58:00Z");

    // A first run stops when the pipeline fails on the second slice: the first stays recorded.
    let failing = Recorder {
        fail_at: Some(2),
        ..Recorder::default()
    };
    let progress = Arc::new(BackfillProgress::new());
    let err = src
        .backfill(
            since,
            &[Category::AuditLogs],
            &failing,
            &cursors,
            progress.clone(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Deliver(_)), "{err}");
    assert_eq!(
        cursors.load(KEY).unwrap().unwrap(),
        serde_json::json!({"until": "2026-10-05T10:58:00Z",
            "done": [["2026-10-02T10:58:00Z", "2026-10-03T10:58:00Z"]]})
    );
    // Another process finished the last day meanwhile.
    cursors
        .save(KEY, &serde_json::json!({"until": "2026-10-05T10:58:00Z", "done": [
            ["2026-10-02T10:58:00Z", "2026-10-03T10:58:00Z"], ["2026-10-04T10:58:00Z", "2026-10-05T10:58:00Z"]]}))
        .unwrap();
    filters.lock().unwrap().clear();

    let d = Recorder::default();
    let progress = Arc::new(BackfillProgress::new());
    let report = src
        .backfill(
            since,
            &[Category::AuditLogs],
            &d,
            &cursors,
            progress.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        *filters.lock().unwrap(),
        [window("2026-10-03T10:58:00Z", "2026-10-04T10:58:00Z")]
    );
    assert_eq!(d.ids().len(), 1);
    let p = &report.categories[0];
    assert!(p.finished && p.error.is_none(), "{p:?}");
    assert_eq!(
        (p.total_seconds, p.done_seconds, p.resumed_seconds),
        (3 * 86_400, 3 * 86_400, 2 * 86_400)
    );
    assert_eq!(
        (p.slices_done, p.pages, p.records, p.accepted.new),
        (1, 1, 1, 1)
    );
    assert_eq!(p.eta_seconds, Some(0.0));
    assert_eq!(
        cursors.load(KEY).unwrap().unwrap()["done"],
        serde_json::json!([["2026-10-02T10:58:00Z", "2026-10-05T10:58:00Z"]])
    );

    // Nothing is left: a third run sends no request.
    filters.lock().unwrap().clear();
    src.backfill(
        since,
        &[Category::AuditLogs],
        &d,
        &cursors,
        Arc::new(BackfillProgress::new()),
    )
    .await
    .unwrap();
    assert!(filters.lock().unwrap().is_empty());
}

#[tokio::test]
async fn backfill_ends_where_the_tail_starts_and_runs_slices_in_parallel() {
    let (server, filters) = server(48).await;
    let mut cfg = config(&server, &["AuditLogs", "SignInLogs"]);
    cfg.backfill_slice = Duration::from_secs(3600);
    cfg.min_slice = Duration::from_secs(600);
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    let cursors = MemoryCursors::new();
    cursors
        .save(
            "graph/graph-test/AuditLogs/tail",
            &serde_json::json!({"end": "2026-10-05T11:00:00Z"}),
        )
        .unwrap();
    let d = Recorder {
        delay: Duration::from_millis(50),
        ..Recorder::default()
    };
    let progress = Arc::new(BackfillProgress::new());
    let report = src
        .backfill(
            t("2026-10-05T04:50:00Z"),
            &[Category::AuditLogs],
            &d,
            &cursors,
            progress.clone(),
        )
        .await
        .unwrap();
    // Tail cursor 11:00 minus the 2h10m overlap: the tail starts at 08:50.
    let mut got = filters.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            window("2026-10-05T04:50:00Z", "2026-10-05T05:50:00Z"),
            window("2026-10-05T05:50:00Z", "2026-10-05T06:50:00Z"),
            window("2026-10-05T06:50:00Z", "2026-10-05T07:50:00Z"),
            window("2026-10-05T07:50:00Z", "2026-10-05T08:50:00Z"),
        ]
    );
    assert_eq!(report.categories.len(), 1);
    assert_eq!(report.categories[0].slices_done, 4);
    assert_eq!(progress.snapshot()[0].records, 4);
}

#[tokio::test]
async fn a_slice_that_keeps_failing_is_narrowed() {
    let (server, filters) = server(12).await;
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.min_slice = Duration::from_secs(3600);
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    let d = Recorder::default();
    let progress = Arc::new(BackfillProgress::new());
    let report = src
        .backfill(
            t("2026-10-04T10:58:00Z"),
            &[Category::AuditLogs],
            &d,
            &MemoryCursors::new(),
            progress,
        )
        .await
        .unwrap();
    let p = &report.categories[0];
    assert!(p.finished, "{p:?}");
    assert_eq!((p.narrowed, p.slices_done), (1, 2));
    let f = filters.lock().unwrap();
    assert_eq!(f.len(), 5, "{f:?}");
    assert!(f.contains(&window("2026-10-04T10:58:00Z", "2026-10-04T22:58:00Z")));
    assert!(f.contains(&window("2026-10-04T22:58:00Z", "2026-10-05T10:58:00Z")));
    assert_eq!(src.status().categories[0].errors, 3);
}
