//! An Elasticsearch `_bulk` receiver that enforces the documented request format: `POST /_bulk`,
//! `Content-Type: application/x-ndjson`, a body ending in a newline, action and document lines in pairs
//! (`create` with `_index` and `_id`), the configured credentials, `http.max_content_length` (413). It stores
//! documents by (`_index`, `_id`) and answers `create` on an existing one with 409, like Elasticsearch.
//! Faults: whole-request answers (401, 503, ...), per-item statuses for chosen `_id`s (429, 503, 400
//! `mapper_parsing_exception`).
#![allow(clippy::map_entry)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// What the receiver saw and what it should answer.
#[derive(Default)]
pub struct State {
    /// Stored documents by (`_index`, `_id`).
    pub docs: BTreeMap<(String, String), Value>,
    /// How often each `_id` was successfully created (must end at 1).
    pub created: HashMap<String, u32>,
    /// `_bulk` requests seen (with valid credentials).
    pub requests: usize,
    /// Items seen per `_id` (every attempt).
    pub attempts: HashMap<String, u32>,
    /// Requests refused for their format (the sink must never cause one).
    pub format_errors: Vec<String>,
    /// Whole-request answers to give instead of processing, in order.
    pub inject: VecDeque<(StatusCode, Value)>,
    /// Per `_id`: statuses to answer for its next items (429, 503, ...), in order.
    pub item_faults: HashMap<String, VecDeque<u16>>,
    /// `_id`s always rejected with 400 `mapper_parsing_exception`.
    pub malformed: HashSet<String>,
    /// Documents for which this is true are rejected with 400 `mapper_parsing_exception` too.
    pub malformed_if: Option<fn(&Value) -> bool>,
    /// Largest accepted body (`http.max_content_length`); larger: 413.
    pub max_content_length: usize,
    /// Expected `Authorization` header; `None`: none required.
    pub auth: Option<String>,
    /// Largest request body seen.
    pub largest_body: usize,
}

/// Shared receiver state.
pub type Shared = Arc<Mutex<State>>;

fn error(status: StatusCode, kind: &str, reason: &str) -> (StatusCode, String) {
    let body = json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind,
        "reason": reason}, "status": status.as_u16()});
    (status, body.to_string())
}

/// Checks the body's NDJSON pairs; returns (`_index`, `_id`, document) per item or the format error.
fn parse(body: &[u8]) -> Result<Vec<(String, String, Value)>, String> {
    if !body.ends_with(b"\n") {
        return Err("The bulk request must be terminated by a newline [\\n]".into());
    }
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
    if !lines.len().is_multiple_of(2) {
        return Err(format!(
            "{} lines: action and source lines must pair",
            lines.len()
        ));
    }
    let mut items = Vec::new();
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).map_err(|e| format!("action: {e}"))?;
        let obj = action.as_object().ok_or("action is not an object")?;
        if obj.len() != 1 {
            return Err(format!("action must have one key: {}", pair[0]));
        }
        let meta = obj
            .get("create")
            .ok_or_else(|| format!("expected create: {}", pair[0]))?;
        let index = meta["_index"].as_str().ok_or("create without _index")?;
        let id = meta["_id"].as_str().ok_or("create without _id")?;
        if index.is_empty()
            || index
                .chars()
                .any(|c| c.is_ascii_uppercase() || "\\/*?\"<>| ,#:".contains(c))
        {
            return Err(format!("invalid index name [{index}]"));
        }
        if id.is_empty() || id.len() > 512 {
            return Err(format!("invalid _id [{id}]"));
        }
        let doc: Value = serde_json::from_str(pair[1]).map_err(|e| format!("source: {e}"))?;
        if !doc.is_object() {
            return Err("source is not an object".into());
        }
        if doc.get("@timestamp").and_then(Value::as_str).is_none() {
            return Err("document without @timestamp".into());
        }
        items.push((index.to_owned(), id.to_owned(), doc));
    }
    if items.is_empty() {
        return Err("request body is required".into());
    }
    Ok(items)
}

async fn bulk(
    axum::extract::State(state): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut s = state.lock().unwrap();
    if let Some(expected) = &s.auth {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            Some(a) if a == expected => {}
            _ => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "security_exception",
                    "unable to authenticate user",
                );
            }
        }
    }
    s.requests += 1;
    s.largest_body = s.largest_body.max(body.len());
    if let Some((status, body)) = s.inject.pop_front() {
        return (status, body.to_string());
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
    if ct != Some("application/x-ndjson") {
        s.format_errors.push(format!("content-type {ct:?}"));
        return error(
            StatusCode::NOT_ACCEPTABLE,
            "illegal_argument_exception",
            "Content-Type header is not supported",
        );
    }
    if body.len() > s.max_content_length {
        return (StatusCode::PAYLOAD_TOO_LARGE, String::new());
    }
    let items = match parse(&body) {
        Ok(items) => items,
        Err(e) => {
            s.format_errors.push(e.clone());
            return error(StatusCode::BAD_REQUEST, "illegal_argument_exception", &e);
        }
    };
    let mut results = Vec::new();
    let mut errors = false;
    for (index, id, doc) in items {
        *s.attempts.entry(id.clone()).or_default() += 1;
        let fault = s.item_faults.get_mut(&id).and_then(VecDeque::pop_front);
        let (status, err) = if let Some(status) = fault {
            let kind = if status == 429 {
                "es_rejected_execution_exception"
            } else {
                "unavailable_shards_exception"
            };
            (status, Some(json!({"type": kind, "reason": "try again"})))
        } else if s.malformed.contains(&id) || s.malformed_if.is_some_and(|f| f(&doc)) {
            (
                400,
                Some(json!({"type": "mapper_parsing_exception",
                "reason": "failed to parse field [source.ip] of type [ip]",
                "caused_by": {"type": "illegal_argument_exception", "reason": "'x' is not an IP string literal."}})),
            )
        } else if s.docs.contains_key(&(index.clone(), id.clone())) {
            (
                409,
                Some(json!({"type": "version_conflict_engine_exception",
                "reason": format!("[{id}]: version conflict, document already exists")})),
            )
        } else {
            s.docs.insert((index.clone(), id.clone()), doc);
            *s.created.entry(id.clone()).or_default() += 1;
            (201, None)
        };
        errors |= err.is_some();
        let mut item = json!({"_index": index, "_id": id, "status": status});
        if let Some(e) = err {
            item["error"] = e;
        } else {
            item["result"] = "created".into();
        }
        results.push(json!({ "create": item }));
    }
    (
        StatusCode::OK,
        json!({"took": 1, "errors": errors, "items": results}).to_string(),
    )
}

/// A running receiver.
pub type Receiver = super::Receiver<State>;

/// Starts a receiver on `port` (0: any free port).
pub fn start(port: u16) -> Receiver {
    let state = Shared::default();
    state.lock().unwrap().max_content_length = 100 << 20;
    let app = axum::Router::new()
        .route("/_bulk", post(bulk))
        .layer(axum::extract::DefaultBodyLimit::max(256 << 20))
        .with_state(state.clone());
    Receiver::serve(app, state, port)
}
