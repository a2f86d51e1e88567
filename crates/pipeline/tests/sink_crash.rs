//! Crash and restart mid-batch: a child process (this test binary re-executed with
//! `ENTRAIL_SINK_CRASH_CHILD` set) drains the log into a Splunk HEC sink; the in-test HEC receiver holds its
//! answer to a request of the second log batch and the parent SIGKILLs the child while that batch is in
//! flight. After a restart every record has arrived at least once, and the only duplicates are records of the
//! one unacknowledged batch (the batch after the committed offset), at most that batch's size.
#![allow(clippy::unwrap_used)]

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use pipeline::Pipeline;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "ENTRAIL_SINK_CRASH_CHILD";
const SINK: &str = "hec";
/// As `pipeline::consume` reads the log.
const BATCH_ENTRIES: usize = 8192;
const BATCH_BYTES: usize = 16 << 20;

fn open(data: &Path, port: u16) -> Pipeline {
    let text = format!(
        r#"data_dir = {data:?}
[[sinks]]
type = "splunk_hec"
id = "{SINK}"
url = "http://127.0.0.1:{port}"
token = "00000000-0000-0000-0000-000000000001"
compression = false
request_timeout = "300s"
"#,
        data = data.display().to_string(),
    );
    Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap()
}

/// What the receiver saw: every event's (key, revision), in arrival order, and whether to hold.
#[derive(Default)]
struct State {
    received: Vec<(String, u64)>,
    /// Hold (never answer) the first request that takes the count past this.
    hold_after: Option<usize>,
    held: bool,
}

type Shared = Arc<Mutex<State>>;

async fn event(
    axum::extract::State(state): axum::extract::State<Shared>,
    _headers: HeaderMap,
    body: Bytes,
) -> String {
    let hold = {
        let mut s = state.lock().unwrap();
        for ev in serde_json::Deserializer::from_slice(&body).into_iter::<serde_json::Value>() {
            let ev = ev.unwrap();
            let e = &ev["event"];
            s.received.push((
                e["_Key"].as_str().unwrap().to_owned(),
                e["_Revision"].as_u64().unwrap(),
            ));
        }
        // Counted as received (the worst case for duplicates), but never acknowledged.
        let hold = s.hold_after.is_some_and(|n| s.received.len() > n);
        if hold {
            s.hold_after = None;
            s.held = true;
        }
        hold
    };
    if hold {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    serde_json::json!({"text": "Success", "code": 0}).to_string()
}

fn ingest(p: &mut Pipeline, dir: &Path, users: u32) -> u64 {
    let categories = ["SignInLogs", "NonInteractiveUserSignInLogs", "AuditLogs"];
    testkit::pipeline::ingest_day(p, dir, users, &categories)
}

/// (key, revision) of the log entries in `[from, ..)`, in batches as the sink consumer reads them.
fn batches(p: &Pipeline, from: u64) -> Vec<Vec<(String, u64)>> {
    let mut reader = p.log().reader(from);
    let mut out = Vec::new();
    loop {
        let batch = reader.read_batch(BATCH_ENTRIES, BATCH_BYTES).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.push(
            batch
                .iter()
                .map(|(_, bytes)| {
                    let r = model::codec::decode(bytes).unwrap();
                    (r.key, u64::from(r.revision))
                })
                .collect(),
        );
    }
}

fn child(data: &Path, port: u16) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_mid_batch_loses_nothing_and_duplicates_one_batch_at_most",
            "--nocapture",
        ])
        .env(CHILD_ENV, format!("{}|{port}", data.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn crash_mid_batch_loses_nothing_and_duplicates_one_batch_at_most() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        // The child: drain every sink once, then exit (or be killed mid-batch).
        let (data, port) = spec.rsplit_once('|').unwrap();
        let mut p = open(Path::new(data), port.parse().unwrap());
        let reports = p.drain_sinks().unwrap();
        assert_eq!(reports.len(), 1);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = testkit::net::free_tcp_port();
    let (all, first_batch) = {
        let mut p = open(&data, port);
        let appended = ingest(&mut p, dir.path(), 150);
        let batches = batches(&p, 0);
        assert!(
            batches.len() >= 3,
            "{appended} records make {} batches; need 3",
            batches.len()
        );
        let all: BTreeSet<(String, u64)> = batches.iter().flatten().cloned().collect();
        assert_eq!(all.len() as u64, appended);
        (all, batches[0].len())
    };

    let state = Shared::default();
    // Hold a request in the middle of the second batch.
    state.lock().unwrap().hold_after = Some(first_batch + 100);
    let app = axum::Router::new()
        .route("/services/collector/event", post(event))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .with_state(state.clone());
    let _server = testkit::http::HttpServer::start(app, port);

    let mut first = child(&data, port);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !state.lock().unwrap().held {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the child exited before the held request"
        );
        assert!(Instant::now() < deadline, "no request was held");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    // The unacknowledged batch: the one after the committed offset.
    let (committed, in_flight) = {
        let p = open(&data, port);
        let committed = p.log().committed(SINK).unwrap();
        let in_flight: BTreeSet<(String, u64)> = batches(&p, committed)
            .into_iter()
            .next()
            .unwrap()
            .into_iter()
            .collect();
        (committed, in_flight)
    };
    assert_eq!(
        committed, first_batch as u64,
        "the first batch was acknowledged and committed"
    );

    let status = child(&data, port).wait().unwrap();
    assert!(status.success(), "restarted child: {status}");

    let s = state.lock().unwrap();
    let mut counts: BTreeMap<&(String, u64), usize> = BTreeMap::new();
    for k in &s.received {
        *counts.entry(k).or_default() += 1;
    }
    let received: BTreeSet<(String, u64)> = counts.keys().map(|k| (*k).clone()).collect();
    assert_eq!(received, all, "every record arrived at least once");
    let duplicates: Vec<&(String, u64)> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    assert!(
        counts.values().all(|n| *n <= 2),
        "a record arrived more than twice"
    );
    assert!(
        !duplicates.is_empty(),
        "the killed batch was partly delivered, so it repeats"
    );
    assert!(
        duplicates.iter().all(|k| in_flight.contains(*k)),
        "a duplicate outside the unacknowledged batch"
    );
    assert!(duplicates.len() <= in_flight.len());
    assert_eq!(s.received.len(), all.len() + duplicates.len());
}
