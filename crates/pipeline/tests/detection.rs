//! The detection consumer end to end: sign-ins with a known attack (five failures, then a success) produce
//! the built-in alert, stored in the alert store and delivered to a webhook receiver; with the receiver
//! down the alert waits and arrives once it is back (nothing lost, nothing sent twice).
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use model::{Category, DecodeContext, Record, Shape};
use pipeline::Pipeline;
use std::sync::{Arc, Mutex};
use testkit::http::HttpServer;

#[derive(Default)]
struct Receiver {
    got: Vec<serde_json::Value>,
    down: bool,
}

type Shared = Arc<Mutex<Receiver>>;

async fn hook(State(s): State<Shared>, body: Bytes) -> StatusCode {
    let mut r = s.lock().unwrap();
    if r.down {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    r.got.push(serde_json::from_slice(&body).unwrap());
    StatusCode::OK
}

/// Serves `/hook` on a free loopback port; returns its URL and the server (stopped on drop).
fn receiver(state: Shared) -> (String, HttpServer) {
    let app = Router::new().route("/hook", post(hook)).with_state(state);
    let server = HttpServer::start(app, 0);
    (format!("{}/hook", server.url), server)
}

/// A Log Analytics `SigninLogs` row decoded into a canonical record.
fn signin(id: &str, user: &str, result: &str, minute: u32) -> Record {
    let row = serde_json::json!({
        "TimeGenerated": format!("2024-05-01T10:{minute:02}:00Z"),
        "CreatedDateTime": format!("2024-05-01T10:{minute:02}:00Z"),
        "Id": id,
        "UserPrincipalName": user,
        "ResultType": result,
        "IPAddress": "203.0.113.50",
        "AppDisplayName": "Azure Portal",
        "Type": "SigninLogs",
    });
    let cx = DecodeContext {
        source: "test".into(),
        location: "test".into(),
        ingest_time: 1_714_557_600_000_000,
        category: Some(Category::SignInLogs),
        shape: Some(Shape::LogAnalytics),
    };
    let mut r = model::decode_record(&row.to_string(), &cx).unwrap();
    assert_eq!(r.len(), 1);
    r.remove(0)
}

/// Five failures then a success for `user`, starting at `minute`.
fn attack(user: &str, minute: u32) -> Vec<Record> {
    let mut v: Vec<Record> = (0..5)
        .map(|i| signin(&format!("{user}-f{i}"), user, "50126", minute + i))
        .collect();
    v.push(signin(&format!("{user}-ok"), user, "0", minute + 6));
    v
}

fn pipeline(dir: &std::path::Path, url: &str) -> Pipeline {
    let text = format!(
        r#"
        data_dir = "{}"
        [integrity]
        enabled = false
        [detection]
        group_window = "1h"
        [[alerts.destinations]]
        type = "webhook"
        id = "soc"
        url = "{url}"
        timeout = "5s"
        "#,
        dir.display()
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    assert!(config.detection.enabled);
    Pipeline::open(config).unwrap()
}

#[test]
fn an_attack_raises_a_stored_and_delivered_alert_and_a_down_receiver_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = Shared::default();
    let (url, _rt) = receiver(state.clone());
    let mut p = pipeline(dir.path(), &url);

    // Benign sign-ins alone raise nothing.
    let benign = vec![
        signin("b1", "carol@contoso.com", "0", 1),
        signin("b2", "carol@contoso.com", "0", 2),
    ];
    p.ingest(benign, Vec::new()).unwrap();
    let r = p.detect().unwrap();
    assert_eq!((r.records, r.new_alerts), (2, 0));

    // The attack: one alert, stored, delivered.
    p.ingest(attack("alice@contoso.com", 10), Vec::new())
        .unwrap();
    let r = p.detect().unwrap();
    assert_eq!(r.records, 6);
    assert_eq!(r.new_alerts, 1, "{r:?}");
    assert_eq!(r.deliveries[0].delivered, 1, "{r:?}");
    assert_eq!(r.deliveries[0].error, None);
    let got = state.lock().unwrap().got.clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["class_uid"], 2004);
    assert_eq!(
        got[0]["finding_info"]["analytic"]["uid"],
        "entrail-builtin-success-after-failures"
    );
    let evidence: Vec<&str> = got[0]["evidences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(evidence.len(), 6, "{evidence:?}");
    let stored = pipeline::detection::load_alerts(dir.path()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].uid(),
        got[0]["finding_info"]["uid"].as_str().unwrap()
    );
    assert!(stored[0].entities("user").any(|u| u == "alice@contoso.com"));
    assert_eq!(
        p.log().committed(pipeline::detection::DETECT_CONSUMER),
        Some(p.log().end_offset())
    );

    // A crash after the alerts were stored but before the offset was committed: a fresh process replays the
    // batch; the alert is neither duplicated, nor counted twice, nor delivered again.
    drop(p);
    let mut p = pipeline(dir.path(), &url);
    p.log()
        .commit(pipeline::detection::DETECT_CONSUMER, 0)
        .unwrap();
    let r = p.detect().unwrap();
    assert_eq!(r.records, 8);
    assert_eq!((r.new_alerts, r.updated_alerts), (0, 0), "{r:?}");
    assert_eq!(r.deliveries[0].delivered, 0);
    let stored = pipeline::detection::load_alerts(dir.path()).unwrap();
    assert_eq!((stored.len(), stored[0].count), (1, 1));
    assert_eq!(state.lock().unwrap().got.len(), 1);

    // Receiver down: the next alert is stored but not delivered; the run says why.
    state.lock().unwrap().down = true;
    p.ingest(attack("bob@contoso.com", 20), Vec::new()).unwrap();
    let r = p.detect().unwrap();
    assert_eq!(r.new_alerts, 1);
    assert_eq!(r.deliveries[0].delivered, 0);
    assert!(
        r.deliveries[0].error.as_deref().unwrap().contains("503"),
        "{r:?}"
    );
    assert_eq!(
        pipeline::detection::load_alerts(dir.path()).unwrap().len(),
        2
    );
    assert_eq!(state.lock().unwrap().got.len(), 1);

    // Back up, and a fresh process (the detector is rebuilt from disk): the waiting alert arrives once.
    state.lock().unwrap().down = false;
    drop(p);
    let mut p = pipeline(dir.path(), &url);
    let r = p.detect().unwrap();
    assert_eq!(r.records, 0);
    assert_eq!(r.deliveries[0].delivered, 1, "{r:?}");
    let r = p.detect().unwrap();
    assert_eq!(r.deliveries[0].delivered, 0);
    let got = state.lock().unwrap().got.clone();
    assert_eq!(got.len(), 2);
    assert!(
        got[1]["observables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["value"] == "bob@contoso.com")
    );

    // The same attack again within the window: grouped into Bob's alert (an update, not delivered by default).
    p.ingest(
        vec![
            signin("bob-f9", "bob@contoso.com", "50126", 40),
            signin("bob-f10", "bob@contoso.com", "50126", 41),
            signin("bob-f11", "bob@contoso.com", "50126", 42),
            signin("bob-f12", "bob@contoso.com", "50126", 43),
            signin("bob-f13", "bob@contoso.com", "50126", 44),
            signin("bob-ok2", "bob@contoso.com", "0", 45),
        ],
        Vec::new(),
    )
    .unwrap();
    let r = p.detect().unwrap();
    assert_eq!((r.new_alerts, r.updated_alerts), (0, 1), "{r:?}");
    assert_eq!(r.deliveries[0].filtered, 1);
    let bob: Vec<_> = pipeline::detection::load_alerts(dir.path())
        .unwrap()
        .into_iter()
        .filter(|a| a.entities("user").any(|u| u == "bob@contoso.com"))
        .collect();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].count, 2);
}

#[test]
fn detection_config_reports_every_problem() {
    let text = r#"
        [detection]
        builtin_analytics = false
        group_window = "soon"
        max_open_alerts = 0
        [detection.analytics]
        spray_accounts = 0
        [[alerts.destinations]]
        type = "webhook"
        id = "a"
        url = "ftp://x"
        [[alerts.destinations]]
        type = "email"
        id = "a"
        server = "smtp.example.com"
        from = "x@example.com"
        to = []
    "#;
    let errors = pipeline::config::parse(text)
        .unwrap()
        .validate()
        .unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "detection.group_window",
            "detection.max_open_alerts",
            "detection.analytics.spray_accounts",
            "detection.rules",
            "alerts.destinations[0].url",
            "alerts.destinations[1].id",
            "alerts.destinations[1].to"
        ]
    );
}
