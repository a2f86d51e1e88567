//! All `_bulk` I/O: posting one NDJSON body with the configured auth and reading the per-item results.
//! Credentials only ever go into headers marked sensitive.

use super::config::ElasticConfig;
use crate::SinkError;
use crate::http::{Reply, call};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;

/// Largest `_bulk` response read (with `filter_path` an item answer is ~30 bytes; errors add their reason).
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// The result of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemResult {
    /// Stored (201), or already stored by an earlier attempt (409 on `create`).
    Stored,
    /// Failed with 429 or 5xx: resend it.
    Retry { status: u16, reason: String },
    /// Rejected (400 mapping errors and other 4xx): never stored as is.
    Rejected { status: u16, reason: String },
}

/// What one `_bulk` request achieved.
#[derive(Debug)]
pub(crate) enum BulkResult {
    /// One result per item, in request order.
    Items(Vec<ItemResult>),
    /// 413: the body is larger than the server accepts.
    TooLarge,
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String, SecretString),
    Header(SecretString),
}

/// The `_bulk` endpoint of one sink.
#[derive(Debug)]
pub(crate) struct BulkClient {
    http: reqwest::Client,
    url: reqwest::Url,
    auth: Auth,
}

#[derive(Deserialize)]
struct BulkReply {
    #[serde(default)]
    items: Vec<HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    status: u16,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// `type: reason (caused by: type: reason)` of an item error.
fn reason(error: Option<&serde_json::Value>) -> String {
    let Some(e) = error else {
        return String::new();
    };
    if let Some(s) = e.as_str() {
        return s.to_owned();
    }
    let part = |v: &serde_json::Value| {
        format!(
            "{}: {}",
            v["type"].as_str().unwrap_or("error"),
            v["reason"].as_str().unwrap_or("")
        )
    };
    match e.get("caused_by") {
        Some(c) if c.is_object() => format!("{} (caused by {})", part(e), part(c)),
        _ => part(e),
    }
}

impl BulkClient {
    /// Builds the client (reads `tls_ca_file`).
    pub(crate) fn new(config: &ElasticConfig) -> Result<BulkClient, SinkError> {
        let http = crate::http::client(config.request_timeout, config.tls_ca_file.as_deref())?;
        let mut url = crate::http::join(&config.url, "/_bulk")?;
        // Only what we read: keeps answers to large batches small.
        url.query_pairs_mut()
            .append_pair("filter_path", "errors,items.*.status,items.*.error");
        let auth = match (
            &config.username,
            &config.password,
            &config.api_key,
            &config.bearer_token,
        ) {
            (Some(u), Some(p), _, _) => Auth::Basic(u.clone(), p.clone()),
            (_, _, Some(k), _) => Auth::Header(format!("ApiKey {}", k.expose_secret()).into()),
            (_, _, _, Some(t)) => Auth::Header(format!("Bearer {}", t.expose_secret()).into()),
            _ => Auth::None,
        };
        Ok(BulkClient { http, url, auth })
    }

    /// The endpoint, for error messages (no credentials in it).
    pub(crate) fn target(&self) -> &str {
        self.url.path()
    }

    /// Posts one NDJSON body of `n` items.
    pub(crate) async fn bulk(&self, body: Vec<u8>, n: usize) -> Result<BulkResult, SinkError> {
        let mut req = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body);
        match &self.auth {
            Auth::None => {}
            Auth::Basic(u, p) => req = req.basic_auth(u, Some(p.expose_secret())),
            Auth::Header(h) => {
                let mut v =
                    reqwest::header::HeaderValue::from_str(h.expose_secret()).map_err(|_| {
                        SinkError::Config {
                            message: "credentials: not a valid header value".into(),
                        }
                    })?;
                v.set_sensitive(true);
                req = req.header(reqwest::header::AUTHORIZATION, v);
            }
        }
        let target = self.target().to_owned();
        let reply: Reply = call(&target, req, MAX_RESPONSE_BYTES).await?;
        if reply.status == 413 {
            return Ok(BulkResult::TooLarge);
        }
        if !(200..300).contains(&reply.status) {
            return Err(reply.error(&target));
        }
        let parsed: BulkReply =
            serde_json::from_slice(&reply.body).map_err(|e| SinkError::Protocol {
                target: target.clone(),
                message: format!("bulk response is not JSON: {e}"),
            })?;
        if parsed.items.len() != n {
            return Err(SinkError::Protocol {
                target,
                message: format!("{} item results for {n} items", parsed.items.len()),
            });
        }
        Ok(BulkResult::Items(
            parsed
                .items
                .into_iter()
                .map(|m| match m.into_values().next() {
                    None => ItemResult::Retry {
                        status: 500,
                        reason: "empty item result".into(),
                    },
                    Some(i) => match i.status {
                        200..=299 | 409 => ItemResult::Stored,
                        s @ (429 | 500..) => ItemResult::Retry {
                            status: s,
                            reason: reason(i.error.as_ref()),
                        },
                        s => ItemResult::Rejected {
                            status: s,
                            reason: reason(i.error.as_ref()),
                        },
                    },
                })
                .collect(),
        ))
    }
}
