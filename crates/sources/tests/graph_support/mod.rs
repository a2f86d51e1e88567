//! Shared helpers of the Graph source tests: a fixed clock, a recording pipeline, wiremock set-up.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

/// Helpers of the Graph tail tests.
pub mod tail;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sources::Batch;
use sources::graph::{
    Accepted, Clock, Deliver, DeliverError, GraphAuth, GraphLimits, GraphSourceConfig,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TENANT: &str = "contoso-tenant";
pub const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
pub const SECRET: &str = "s3cr3t-Value~that-must-not-leak";

/// A clock stuck at one instant.
#[derive(Debug)]
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(s: &str) -> Arc<FixedClock> {
        Arc::new(FixedClock(Mutex::new(
            DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc),
        )))
    }
    pub fn set(&self, s: &str) {
        *self.0.lock().unwrap() = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Events in order (requests served, deliveries started and ended).
#[derive(Debug, Default, Clone)]
pub struct Log(pub Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn position(&self, s: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e == s)
            .unwrap_or_else(|| panic!("{s} not in {:?}", self.events()))
    }
}

/// A pipeline that records batches, optionally fails delivery number `fail_at` (1-based), and takes
/// `delay` per batch.
#[derive(Debug, Default)]
pub struct Recorder {
    pub batches: Mutex<Vec<Batch>>,
    pub calls: AtomicUsize,
    pub fail_at: Option<usize>,
    pub delay: Duration,
    pub log: Log,
}

impl Recorder {
    pub fn records(&self) -> usize {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.records.len())
            .sum()
    }
    pub fn rejected(&self) -> usize {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.rejected.len())
            .sum()
    }
    pub fn ids(&self) -> Vec<String> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b.records.iter().map(|r| r.key.clone()))
            .collect()
    }
}

impl Deliver for Recorder {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log.push(format!("deliver {n} start"));
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if self.fail_at == Some(n) {
            self.log.push(format!("deliver {n} failed"));
            return Err(DeliverError::new("disk full"));
        }
        let accepted = Accepted {
            new: batch.records.len() as u64,
            quarantined: batch.rejected.len() as u64,
            ..Accepted::default()
        };
        self.batches.lock().unwrap().push(batch);
        self.log.push(format!("deliver {n} end"));
        Ok(accepted)
    }
}

/// A config for a wiremock server with the secret flow, generous limits and quick backoff.
pub fn config(server: &MockServer, categories: &[&str]) -> GraphSourceConfig {
    let mut c = GraphSourceConfig::new(
        "graph-test",
        TENANT,
        GraphAuth::ClientSecret {
            client_id: CLIENT.into(),
            secret: SecretString::from(SECRET),
        },
    );
    c.authority_host = server.uri();
    c.graph_endpoint = server.uri();
    c.categories = categories.iter().map(|s| s.to_string()).collect();
    c.limits = GraphLimits {
        reports_per_window: 1000,
        reports_window: Duration::from_secs(1),
        identity_protection_per_s: 1000,
    };
    c.max_backoff = Duration::from_secs(1);
    c.request_timeout = Duration::from_secs(5);
    c
}

/// Answers the token endpoint with `token`.
pub async fn mount_token(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token
        })))
        .mount(server)
        .await;
}

/// A directory audit object.
pub fn audit(id: &str, at: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "category": "UserManagement", "correlationId": "c-1", "result": "success",
        "activityDisplayName": "Add user", "activityDateTime": at, "loggedByService": "Core Directory",
        "operationType": "Add", "initiatedBy": {"user": {"id": "u-1", "userPrincipalName": "a@contoso.com"}},
        "targetResources": [], "additionalDetails": []
    })
}

/// A sign-in object.
pub fn signin(id: &str, at: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "createdDateTime": at, "userPrincipalName": "a@contoso.com", "userId": "u-1",
        "appId": "app-1", "appDisplayName": "Graph Explorer", "ipAddress": "10.0.0.1",
        "status": {"errorCode": 0}, "signInEventTypes": ["interactiveUser"]
    })
}

/// A page body.
pub fn page(items: Vec<serde_json::Value>, next: Option<String>) -> serde_json::Value {
    let mut v = serde_json::json!({"@odata.context": "ctx", "value": items});
    if let Some(n) = next {
        v["@odata.nextLink"] = serde_json::Value::String(n);
    }
    v
}

/// Responds with `template` and logs `label` first.
pub struct Logged {
    pub log: Log,
    pub label: String,
    pub template: ResponseTemplate,
}

impl Respond for Logged {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.log.push(self.label.clone());
        self.template.clone()
    }
}

/// Responds with the templates in turn (the last one repeats).
pub struct Sequence {
    pub templates: Vec<ResponseTemplate>,
    pub n: AtomicUsize,
}

impl Sequence {
    pub fn new(templates: Vec<ResponseTemplate>) -> Sequence {
        Sequence {
            templates,
            n: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.n.fetch_add(1, Ordering::SeqCst);
        self.templates[i.min(self.templates.len() - 1)].clone()
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
pub fn form(body: &[u8]) -> std::collections::BTreeMap<String, String> {
    fn dec(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}
