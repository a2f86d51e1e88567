//! Alert webhooks (generic OCSF JSON, Teams, Slack) against a real HTTP receiver on loopback: bodies,
//! headers, and error classification (throttled, auth, receiver down).
#![allow(clippy::unwrap_used)]

mod alerts;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::Value;
use sinks::ErrorKind;
use sinks::alert::{AlertDestinationConfig, WebhookConfig};
use std::sync::{Arc, Mutex};
use testkit::http::HttpServer;

#[derive(Default)]
struct Receiver {
    /// (path, authorization header, body)
    got: Vec<(String, Option<String>, Value)>,
    /// Status to answer with (0: 200).
    answer: u16,
}

type Shared = Arc<Mutex<Receiver>>;

async fn hook(
    State(s): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let mut r = s.lock().unwrap();
    let status = match r.answer {
        0 => 200,
        n => n,
    };
    if status == 200 {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(headers["content-type"], "application/json");
        r.got.push((
            uri.path().to_owned(),
            auth,
            serde_json::from_slice(&body).unwrap(),
        ));
    }
    let mut h = HeaderMap::new();
    h.insert("retry-after", "7".parse().unwrap());
    (StatusCode::from_u16(status).unwrap(), h, "1")
}

/// Starts the receiver on a background runtime; returns its base URL and the server (stopped on drop).
fn receiver(state: Shared) -> (String, HttpServer) {
    let app = Router::new()
        .route("/{*path}", post(hook))
        .with_state(state);
    let server = HttpServer::start(app, 0);
    (server.url.clone(), server)
}

fn destination(kind: &str, url: &str, extra: &str) -> Box<dyn sinks::alert::AlertDestination> {
    let c: AlertDestinationConfig = toml::from_str(&format!(
        "type = \"{kind}\"\nid = \"{kind}\"\nurl = \"{url}\"\n{extra}"
    ))
    .unwrap();
    c.validate().unwrap();
    c.build().unwrap()
}

#[test]
fn generic_teams_and_slack_bodies_reach_the_receiver() {
    let state = Shared::default();
    let (base, _rt) = receiver(state.clone());
    let alert = alerts::alert(4, 1);
    let mut generic = destination(
        "webhook",
        &format!("{base}/generic"),
        "authorization = \"Bearer t0ken\"",
    );
    let mut teams = destination("teams", &format!("{base}/teams"), "");
    let mut slack = destination("slack", &format!("{base}/slack"), "");
    for d in [&mut generic, &mut teams, &mut slack] {
        assert!(d.wants(&alert));
        d.deliver(&alert).unwrap();
    }
    let got = std::mem::take(&mut state.lock().unwrap().got);
    assert_eq!(got.len(), 3);
    // Generic: the OCSF alert itself, with the configured Authorization header.
    assert_eq!(got[0].0, "/generic");
    assert_eq!(got[0].1.as_deref(), Some("Bearer t0ken"));
    assert_eq!(got[0].2, alert);
    // Teams: an Adaptive Card in a message attachment.
    assert_eq!(got[1].0, "/teams");
    assert_eq!(got[1].1, None);
    let card = &got[1].2["attachments"][0];
    assert_eq!(got[1].2["type"], "message");
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["body"][0]["text"], "Password spray (High)");
    let facts = card["content"]["body"][2]["facts"].as_array().unwrap();
    assert!(facts.iter().any(|f| f["value"] == "203.0.113.7"));
    assert!(
        facts
            .iter()
            .any(|f| f["title"] == "ATT&CK" && f["value"] == "T1110.003, TA0006")
    );
    // Slack: fallback text and blocks.
    assert_eq!(got[2].0, "/slack");
    assert_eq!(got[2].2["text"], "entrail alert: Password spray (High)");
    assert_eq!(got[2].2["blocks"][0]["type"], "header");
    assert_eq!(
        got[2].2["blocks"][2]["fields"][0]["text"],
        "*Severity*\nHigh"
    );
}

#[test]
fn refusals_are_classified_and_nothing_counts_as_delivered() {
    let state = Shared::default();
    let (base, server) = receiver(state.clone());
    let alert = alerts::alert(5, 1);
    let mut d = destination("webhook", &format!("{base}/x"), "");
    state.lock().unwrap().answer = 429;
    let e = d.deliver(&alert).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Throttled {
            retry_after: Some(std::time::Duration::from_secs(7))
        }
    );
    state.lock().unwrap().answer = 401;
    assert_eq!(d.deliver(&alert).unwrap_err().kind(), ErrorKind::Auth);
    state.lock().unwrap().answer = 502;
    assert_eq!(d.deliver(&alert).unwrap_err().kind(), ErrorKind::Transient);
    state.lock().unwrap().answer = 400;
    assert_eq!(d.deliver(&alert).unwrap_err().kind(), ErrorKind::Fatal);
    assert!(state.lock().unwrap().got.is_empty());
    // Back to normal: the same alert goes through.
    state.lock().unwrap().answer = 0;
    d.deliver(&alert).unwrap();
    assert_eq!(state.lock().unwrap().got.len(), 1);
    // Receiver gone: transient.
    drop(server);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(d.deliver(&alert).unwrap_err().kind(), ErrorKind::Transient);
}

#[test]
fn min_severity_and_updates_filter() {
    let d = destination(
        "slack",
        "http://127.0.0.1:9/x",
        "min_severity = \"critical\"\nupdates = true",
    );
    assert!(!d.wants(&alerts::alert(4, 1)));
    assert!(d.wants(&alerts::alert(5, 2)));
    let d = sinks::alert::WebhookDestination::new(
        WebhookConfig::new("w", "http://127.0.0.1:9/x"),
        sinks::alert::WebhookFormat::Generic,
    )
    .unwrap();
    use sinks::alert::AlertDestination;
    assert!(d.wants(&alerts::alert(1, 1)));
    assert!(!d.wants(&alerts::alert(1, 2)));
}
