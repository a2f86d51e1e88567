//! An Azure Monitor Logs Ingestion receiver with its Entra token endpoint, enforcing the documented request
//! format: `POST /{tenant}/oauth2/v2.0/token` (client credentials, scope `https://monitor.azure.com/.default`)
//! issues expiring tokens; `POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01` requires a
//! valid, unexpired bearer token, the right DCR, a known stream, `Content-Type: application/json`, gzip when
//! `Content-Encoding` says so, a JSON array of objects, and at most 1 MB uncompressed (413). Faults: 429/503
//! with `Retry-After`; every data request that arrives before a `Retry-After` has passed is counted.

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The documented limit of one call (uncompressed).
pub const LIMIT: usize = 1_000_000;
/// The tenant, app and DCR the receiver knows.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The app (client) id.
pub const CLIENT_ID: &str = "535fb089-9ff3-47b6-9bfb-4f1264799865";
/// The DCR immutable id.
pub const DCR: &str = "dcr-00000000000000000000000000000001";

/// What the receiver saw and what it should answer.
pub struct State {
    /// The app's secret.
    pub secret: String,
    /// Issued tokens and when they expire.
    pub tokens: HashMap<String, Instant>,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// Token requests (granted or not).
    pub token_requests: usize,
    /// Rows stored per stream.
    pub rows: BTreeMap<String, Vec<Value>>,
    /// Known streams (`None`: any `Custom-`/`Microsoft-` stream).
    pub streams: Option<HashSet<String>>,
    /// Data requests with a valid token.
    pub requests: usize,
    /// Uncompressed size of every accepted request.
    pub sizes: Vec<usize>,
    /// Requests that came gzipped.
    pub gzipped: usize,
    /// Requests refused for their format (the sink must never cause one).
    pub format_errors: Vec<String>,
    /// Answers to give instead of storing: status and `Retry-After` seconds (a 2xx: process normally).
    pub inject: VecDeque<(StatusCode, Option<u64>)>,
    /// The last `Retry-After` given ends here.
    pub blocked_until: Option<Instant>,
    /// Data requests that arrived before `blocked_until` (must stay 0).
    pub early_requests: usize,
    /// Largest uncompressed body accepted.
    pub limit: usize,
}

impl Default for State {
    fn default() -> Self {
        State {
            secret: "s3cr3t~value".into(),
            tokens: HashMap::new(),
            token_lifetime: Duration::from_secs(3599),
            token_requests: 0,
            rows: BTreeMap::new(),
            streams: None,
            requests: 0,
            sizes: Vec::new(),
            gzipped: 0,
            format_errors: Vec::new(),
            inject: VecDeque::new(),
            blocked_until: None,
            early_requests: 0,
            limit: LIMIT,
        }
    }
}

/// Shared receiver state.
pub type Shared = Arc<Mutex<State>>;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

async fn token(
    AxState(state): AxState<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap();
    s.token_requests += 1;
    let f = form(&body);
    let get = |k: &str| f.get(k).map(String::as_str);
    if tenant != TENANT || get("grant_type") != Some("client_credentials") {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "AADSTS900144");
    }
    if get("scope") != Some("https://monitor.azure.com/.default") {
        return error(StatusCode::BAD_REQUEST, "invalid_scope", "AADSTS70011");
    }
    let secret_ok = get("client_secret") == Some(s.secret.as_str());
    let assertion_ok = get("client_assertion_type")
        == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        && get("client_assertion") == Some("federated.jwt.token");
    if get("client_id") != Some(CLIENT_ID) || !(secret_ok || assertion_ok) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let t = format!("tok-{}", s.token_requests);
    let lifetime = s.token_lifetime;
    s.tokens.insert(t.clone(), Instant::now() + lifetime);
    (
        StatusCode::OK,
        json!({"token_type": "Bearer", "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(), "access_token": t})
        .to_string(),
    )
        .into_response()
}

async fn ingest(
    AxState(state): AxState<Shared>,
    Path((dcr, stream)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap();
    let now = Instant::now();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    let valid = auth
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|exp| now < *exp);
    if !valid {
        return error(
            StatusCode::UNAUTHORIZED,
            "InvalidToken",
            "The token is missing, invalid or expired.",
        );
    }
    if s.blocked_until.is_some_and(|b| now < b) {
        s.early_requests += 1;
    }
    s.requests += 1;
    // An injected 2xx means: process this request normally.
    if let Some((status, retry)) = s.inject.pop_front().filter(|(st, _)| !st.is_success()) {
        if let Some(secs) = retry {
            s.blocked_until = Some(now + Duration::from_secs(secs));
            return (status, [("retry-after", secs.to_string())], String::new()).into_response();
        }
        return (status, String::new()).into_response();
    }
    let bad = |s: &mut State, m: String| {
        s.format_errors.push(m.clone());
        error(StatusCode::BAD_REQUEST, "InvalidRequest", &m)
    };
    if uri.query() != Some("api-version=2023-01-01") {
        return bad(&mut s, format!("query {:?}", uri.query()));
    }
    if dcr != DCR {
        return error(
            StatusCode::NOT_FOUND,
            "DcrNotFound",
            "unknown data collection rule",
        );
    }
    let known = match &s.streams {
        Some(set) => set.contains(&stream),
        None => stream.starts_with("Custom-") || stream.starts_with("Microsoft-"),
    };
    if !known {
        return bad(&mut s, format!("InvalidStream {stream}"));
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return bad(&mut s, "content-type".into());
    }
    let plain = match headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
    {
        None => body.to_vec(),
        Some("gzip") => {
            s.gzipped += 1;
            match model::limits::read_capped(flate2::read::GzDecoder::new(&body[..]), 64 << 20) {
                Ok(p) => p,
                Err(e) => return bad(&mut s, format!("gzip: {e}")),
            }
        }
        Some(other) => return bad(&mut s, format!("content-encoding {other}")),
    };
    if plain.len() > s.limit {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ContentLengthLimitExceeded",
            "over 1 MB",
        );
    }
    let rows: Vec<Value> = match serde_json::from_slice::<Value>(&plain) {
        Ok(Value::Array(rows)) if !rows.is_empty() && rows.iter().all(Value::is_object) => rows,
        _ => return bad(&mut s, "body is not a JSON array of objects".into()),
    };
    s.sizes.push(plain.len());
    s.rows.entry(stream).or_default().extend(rows);
    StatusCode::NO_CONTENT.into_response()
}

/// A running receiver.
pub type Receiver = super::Receiver<State>;

/// Starts a receiver on `port` (0: any free port).
pub fn start(port: u16) -> Receiver {
    let state = Shared::default();
    let app = axum::Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/dataCollectionRules/{dcr}/streams/{stream}", post(ingest))
        .layer(axum::extract::DefaultBodyLimit::max(16 << 20))
        .with_state(state.clone());
    Receiver::serve(app, state, port)
}
