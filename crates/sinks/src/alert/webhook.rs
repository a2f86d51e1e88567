//! Webhook destinations: one POST per alert, as the OCSF JSON (generic), a Teams message or a Slack message.
//! A 2xx answer means delivered; other answers are classified by [`crate::SinkError::kind`].

use super::config::WebhookConfig;
use super::format::{slack_message, teams_message};
use super::{AlertDestination, block_on, runtime, wanted};
use crate::SinkError;
use secrecy::ExposeSecret;
use std::time::Duration;

/// Largest response body read (receivers answer with a few bytes).
const MAX_RESPONSE_BYTES: usize = 16 * 1024;

/// The body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The OCSF alert JSON.
    Generic,
    /// A Teams Adaptive Card message.
    Teams,
    /// A Slack Block Kit message.
    Slack,
}

impl WebhookFormat {
    /// The body for `alert`.
    pub fn body(self, alert: &serde_json::Value) -> serde_json::Value {
        match self {
            WebhookFormat::Generic => alert.clone(),
            WebhookFormat::Teams => teams_message(alert),
            WebhookFormat::Slack => slack_message(alert),
        }
    }
}

/// Posts alerts to a URL.
#[derive(Debug)]
pub struct WebhookDestination {
    config: WebhookConfig,
    format: WebhookFormat,
    url: reqwest::Url,
    http: reqwest::Client,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for WebhookDestination {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl WebhookDestination {
    /// Validates the configuration and builds the client (reads `tls_ca_file`).
    pub fn new(
        config: WebhookConfig,
        format: WebhookFormat,
    ) -> Result<WebhookDestination, SinkError> {
        config
            .validate()
            .map_err(|e| crate::util::config_failed(&e))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10).min(config.timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("entrail/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.tls_ca_file {
            let bad = |e: String| SinkError::Config {
                message: format!("tls_ca_file {}: {e}", path.display()),
            };
            let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
            let pem = model::limits::read_capped(file, 1 << 20).map_err(|e| bad(e.to_string()))?;
            for cert in
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| SinkError::Config {
            message: format!("building the HTTP client: {e}"),
        })?;
        let url = reqwest::Url::parse(&config.url).map_err(|e| SinkError::Config {
            message: format!("url: {e}"),
        })?;
        Ok(WebhookDestination {
            config,
            format,
            url,
            http,
            runtime: Some(runtime()?),
        })
    }

    async fn post(
        http: &reqwest::Client,
        url: &reqwest::Url,
        auth: Option<reqwest::header::HeaderValue>,
        body: Vec<u8>,
    ) -> Result<(), SinkError> {
        // The target names host and path only: a webhook URL's query may carry a signature.
        let target = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
        let mut req = http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(auth) = auth {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let mut resp = req.send().await.map_err(|source| SinkError::Request {
            target: target.clone(),
            source: source.without_url(),
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut text = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|source| SinkError::Request {
            target: target.clone(),
            source: source.without_url(),
        })? {
            if text.len() + chunk.len() > MAX_RESPONSE_BYTES {
                break;
            }
            text.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(SinkError::Status {
            target,
            status,
            code: None,
            text: String::from_utf8_lossy(&text).chars().take(200).collect(),
            retry_after,
        })
    }
}

impl AlertDestination for WebhookDestination {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn wants(&self, alert: &serde_json::Value) -> bool {
        wanted(alert, self.config.min_severity, self.config.updates)
    }

    fn deliver(&mut self, alert: &serde_json::Value) -> Result<(), SinkError> {
        let body = serde_json::to_vec(&self.format.body(alert)).map_err(|e| SinkError::Io {
            target: "encoding".into(),
            source: e.into(),
        })?;
        let auth = match &self.config.authorization {
            Some(secret) => {
                let mut v = reqwest::header::HeaderValue::from_str(secret.expose_secret())
                    .map_err(|_| SinkError::Config {
                        message: "authorization: not a valid header value".into(),
                    })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let Some(rt) = &self.runtime else {
            return Err(SinkError::Config {
                message: "destination already shut down".into(),
            });
        };
        let result = block_on(rt, Self::post(&self.http, &self.url, auth, body));
        if let Err(e) = &result {
            tracing::warn!(component = %self.config.id, error = %e, kind = ?e.kind(),
                "alert webhook delivery failed; it will be retried");
        }
        result
    }
}
