//! All HEC I/O: posting event batches and polling indexer acknowledgements. Async `reqwest` (rustls
//! with ring), driven by the sink's own runtime. Bodies read back are capped; the token only ever goes
//! into a header marked sensitive.

use super::config::SplunkHecConfig;
use crate::SinkError;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::time::Duration;

/// Largest HEC response body read (responses are tiny JSON objects).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The HEC endpoints of one sink.
#[derive(Debug)]
pub(crate) struct HecClient {
    http: reqwest::Client,
    event_url: reqwest::Url,
    ack_url: reqwest::Url,
    token: SecretString,
    channel: String,
    compression: bool,
}

/// The JSON body HEC answers with.
#[derive(Debug, Default, serde::Deserialize)]
struct HecReply {
    #[serde(default)]
    text: String,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default, rename = "ackId")]
    ack_id: Option<u64>,
    #[serde(default)]
    acks: HashMap<String, bool>,
}

impl HecClient {
    /// Builds the client (reads `tls_ca_file`).
    pub(crate) fn new(config: &SplunkHecConfig, channel: String) -> Result<HecClient, SinkError> {
        // Another component may have installed a provider already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(15).min(config.request_timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("entrail/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.tls_ca_file {
            let file = std::fs::File::open(path).map_err(|e| SinkError::Config {
                message: format!("tls_ca_file {}: {e}", path.display()),
            })?;
            let pem = model::limits::read_capped(file, 1 << 20).map_err(|e| SinkError::Config {
                message: format!("tls_ca_file {}: {e}", path.display()),
            })?;
            for cert in
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SinkError::Config {
                    message: format!("tls_ca_file {}: {e}", path.display()),
                })?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| SinkError::Config {
            message: format!("building the HTTP client: {e}"),
        })?;
        let base = reqwest::Url::parse(config.url.trim_end_matches('/')).map_err(|e| {
            SinkError::Config {
                message: format!("url: {e}"),
            }
        })?;
        let join = |path: &str| {
            let mut u = base.clone();
            let joined = format!("{}{path}", u.path().trim_end_matches('/'));
            u.set_path(&joined);
            u
        };
        let mut ack_url = join("/services/collector/ack");
        ack_url.query_pairs_mut().append_pair("channel", &channel);
        Ok(HecClient {
            http,
            event_url: join("/services/collector/event"),
            ack_url,
            token: config.token.clone(),
            channel,
            compression: config.compression,
        })
    }

    fn request(&self, url: &reqwest::Url) -> Result<reqwest::RequestBuilder, SinkError> {
        let mut auth = reqwest::header::HeaderValue::from_str(&format!(
            "Splunk {}",
            self.token.expose_secret()
        ))
        .map_err(|_| SinkError::Config {
            message: "token: not a valid header value".into(),
        })?;
        auth.set_sensitive(true);
        Ok(self
            .http
            .post(url.clone())
            .header(reqwest::header::AUTHORIZATION, auth)
            .header("X-Splunk-Request-Channel", &self.channel))
    }

    /// Posts one body of newline-separated event objects; returns its `ackId` when HEC gave one.
    pub(crate) async fn post_events(&self, body: Vec<u8>) -> Result<Option<u64>, SinkError> {
        let mut req = self
            .request(&self.event_url)?
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        let body = if self.compression {
            req = req.header(reqwest::header::CONTENT_ENCODING, "gzip");
            gzip(&body).map_err(|source| SinkError::Io {
                target: "gzip".into(),
                source,
            })?
        } else {
            body
        };
        let reply = self.call(&self.event_url, req.body(body)).await?;
        Ok(reply.ack_id)
    }

    /// Asks which of `ids` are acknowledged (indexed and replicated).
    pub(crate) async fn query_acks(&self, ids: &[u64]) -> Result<Vec<u64>, SinkError> {
        let body = serde_json::json!({ "acks": ids }).to_string();
        let req = self
            .request(&self.ack_url)?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let reply = self.call(&self.ack_url, req).await?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| reply.acks.get(&id.to_string()).copied().unwrap_or(false))
            .collect())
    }

    async fn call(
        &self,
        url: &reqwest::Url,
        req: reqwest::RequestBuilder,
    ) -> Result<HecReply, SinkError> {
        let target = url.path().to_owned();
        let mut resp = req.send().await.map_err(|source| SinkError::Request {
            target: target.clone(),
            source,
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|source| SinkError::Request {
            target: target.clone(),
            source,
        })? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let reply: Option<HecReply> = serde_json::from_slice(&body).ok();
        if !(200..300).contains(&status) {
            let reply = reply.unwrap_or_default();
            let text = if reply.text.is_empty() {
                String::from_utf8_lossy(&body).chars().take(200).collect()
            } else {
                reply.text
            };
            return Err(SinkError::Status {
                target,
                status,
                code: reply.code,
                text,
                retry_after,
            });
        }
        let reply = reply.ok_or_else(|| SinkError::Protocol {
            target: target.clone(),
            message: "response is not HEC JSON".into(),
        })?;
        match reply.code {
            Some(0) | None => Ok(reply),
            Some(code) => Err(SinkError::Protocol {
                target,
                message: format!("code {code}: {}", reply.text),
            }),
        }
    }
}

/// Gzips `data` (default level: HEC bodies are JSON and compress ~10x).
fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    enc.write_all(data)?;
    enc.finish()
}
