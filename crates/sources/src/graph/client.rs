//! All Graph I/O: one GET per call with the cached bearer token (a 401 drops the token and retries once
//! with a new one), bounded body reads, and status codes turned into [`GraphError`] kinds. Every response's
//! `Date` goes to the [`Clock`]. Retrying and pacing are the scheduler's job, not this module's.

use super::auth::TokenCache;
use super::endpoints::{Endpoint, Version};
use super::{Clock, GraphError};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// The largest page body read (1,000 sign-ins are a few MB).
pub(crate) const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

/// One page of a list response.
#[derive(Debug)]
pub(crate) struct Page {
    /// The objects, as raw JSON.
    pub(crate) items: Vec<Box<RawValue>>,
    /// `@odata.nextLink`, followed verbatim.
    pub(crate) next_link: Option<String>,
}

#[derive(Deserialize)]
struct PageBody {
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(default)]
    value: Option<Vec<Box<RawValue>>>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads a whole body, failing (fatally) past `cap` bytes; a connection cut mid-body is transient.
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    cap: u64,
    what: &str,
) -> Result<Vec<u8>, GraphError> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(GraphError::fatal(format!(
            "{what}: body larger than {cap} bytes"
        )));
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| GraphError::from_reqwest(what, &e))?
    {
        if (buf.len() + chunk.len()) as u64 > cap {
            return Err(GraphError::fatal(format!(
                "{what}: body larger than {cap} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(86_400.0)));
    }
    let at = super::clock::parse_http_date(v)?;
    let now = headers
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(super::clock::parse_http_date)
        .unwrap_or_else(Utc::now);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The Graph HTTP client of one source.
pub(crate) struct GraphClient {
    http: reqwest::Client,
    tokens: TokenCache,
    clock: Arc<dyn Clock>,
    base: reqwest::Url,
}

/// The shared `reqwest` client: rustls with ring, no redirects (a token must not follow one), timeouts.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, GraphError> {
    // Another component may have installed a provider already; either is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(15).min(timeout))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("entrail/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GraphError::fatal(format!("building the HTTP client: {e}")))
}

impl GraphClient {
    pub(crate) fn new(
        http: reqwest::Client,
        tokens: TokenCache,
        clock: Arc<dyn Clock>,
        graph_endpoint: &str,
    ) -> Result<GraphClient, GraphError> {
        let base = reqwest::Url::parse(graph_endpoint)
            .map_err(|e| GraphError::fatal(format!("graph_endpoint: {e}")))?;
        Ok(GraphClient {
            http,
            tokens,
            clock,
            base,
        })
    }

    /// Whether `link` points at the configured Graph host (a nextLink elsewhere would receive our token).
    fn same_origin(&self, link: &str) -> bool {
        reqwest::Url::parse(link).is_ok_and(|u| {
            u.scheme() == self.base.scheme()
                && u.host_str() == self.base.host_str()
                && u.port_or_known_default() == self.base.port_or_known_default()
        })
    }

    /// Makes sure a token is cached (the token endpoint's `Date` also sets a server-date clock).
    pub(crate) async fn ensure_token(&self) -> Result<(), GraphError> {
        self.tokens.get().await.map(|_| ())
    }

    /// GETs one page of `ep` at `url`.
    ///
    /// A 401 is retried with a new token up to [`MAX_REFRESHES`] times.
    pub(crate) async fn get_page(&self, url: &str, ep: &Endpoint) -> Result<Page, GraphError> {
        let what = format!("{} page", ep.category);
        if !self.same_origin(url) {
            return Err(GraphError::fatal(format!(
                "{what}: link leaves the configured Graph endpoint {}",
                self.base
            )));
        }
        // Each 401 drops the token that got it and retries with a newer one. Several categories share the
        // token, so the retry may get one another category fetched that has expired too; only a refusal
        // of the third successive token is an authentication failure.
        let mut refreshed = 0;
        loop {
            let (token, generation) = self.tokens.get().await?;
            let mut req = self
                .http
                .get(url)
                .bearer_auth(token.expose_secret())
                .header("accept", "application/json");
            if ep.version == Version::Beta {
                req = req.header("prefer", "include-unknown-enum-members");
            }
            let resp = req
                .send()
                .await
                .map_err(|e| GraphError::from_reqwest(&what, &e))?;
            if let Some(d) = resp
                .headers()
                .get("date")
                .and_then(|v| v.to_str().ok())
                .and_then(super::clock::parse_http_date)
            {
                self.clock.observe_server_date(d);
            }
            let status = resp.status().as_u16();
            if status == 401 {
                if refreshed < MAX_REFRESHES {
                    refreshed += 1;
                    self.tokens.invalidate(generation).await;
                    tracing::info!(category = %ep.category, "graph answered 401; refreshing the token");
                    continue;
                }
                return Err(GraphError::Auth {
                    message: format!(
                        "{}: Graph refused {} tokens in a row (401), the last ones freshly issued",
                        ep.category,
                        MAX_REFRESHES + 1
                    ),
                });
            }
            let after = retry_after(resp.headers());
            let body = read_body(resp, MAX_PAGE_BYTES, &what).await?;
            return classify(status, after, &body, ep, what);
        }
    }
}

/// New tokens one page request tries after 401s before it reports an authentication failure.
const MAX_REFRESHES: u32 = 2;

/// Turns a status and body into a page or an error.
fn classify(
    status: u16,
    after: Option<Duration>,
    body: &[u8],
    ep: &Endpoint,
    what: String,
) -> Result<Page, GraphError> {
    if (200..300).contains(&status) {
        let page: PageBody = serde_json::from_slice(body)
            .map_err(|e| GraphError::transient(&what, format!("unparsable body: {e}")))?;
        let items = page
            .value
            .ok_or_else(|| GraphError::transient(&what, "answer without a value array"))?;
        return Ok(Page {
            items,
            next_link: page.next_link.filter(|l| !l.is_empty()),
        });
    }
    let err: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = err.error.code;
    let message: String = err
        .error
        .message
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let said = || {
        format!(
            "{}{}",
            code.as_deref().unwrap_or("no error code"),
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        )
    };
    match status {
        429 => Err(GraphError::Throttled {
            what,
            status,
            retry_after: after,
        }),
        403 => Err(GraphError::Forbidden {
            category: ep.category,
            permissions: ep.permissions_text(),
            code: code.clone(),
            message: message.clone(),
        }),
        408 | 500..=599 => Err(GraphError::Transient {
            what,
            message: format!("status {status} ({})", said()),
            retry_after: after,
        }),
        400 => Err(GraphError::fatal(format!(
            "{what}: Graph rejected the request (400 {}); the filter or API version may be unsupported",
            said()
        ))),
        _ => Err(GraphError::fatal(format!(
            "{what}: status {status} ({})",
            said()
        ))),
    }
}
