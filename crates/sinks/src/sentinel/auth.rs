//! A minimal Entra client-credentials flow for the Logs Ingestion token (scope
//! `https://monitor.azure.com/.default`): client secret, or a federated token file as the client assertion
//! (workload identity). The token is cached and fetched again five minutes before it expires (or at half its
//! lifetime when that is shorter), or at once after the endpoint refused it.
//!
//! `sources::graph::auth` has the full set of flows (certificate, managed identity, Azure CLI) for Graph; the
//! sinks crate does not depend on `sources`, so this is the small subset a sink needs.

use super::config::SentinelConfig;
use crate::SinkError;
use crate::http::call;
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};

/// Largest token response read.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// Fetches and caches bearer tokens.
#[derive(Debug)]
pub(crate) struct TokenSource {
    http: reqwest::Client,
    url: reqwest::Url,
    client_id: String,
    scope: String,
    secret: Option<SecretString>,
    assertion_file: Option<std::path::PathBuf>,
    cached: Option<(SecretString, Instant)>,
    /// Tokens fetched so far (for status and tests).
    pub(crate) fetched: u64,
}

#[derive(serde::Deserialize)]
struct TokenReply {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// `application/x-www-form-urlencoded` text of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl TokenSource {
    /// The token source of `config` (no I/O).
    pub(crate) fn new(
        config: &SentinelConfig,
        http: reqwest::Client,
    ) -> Result<TokenSource, SinkError> {
        let url = crate::http::join(
            &config.authority_host,
            &format!("/{}/oauth2/v2.0/token", config.tenant_id),
        )?;
        Ok(TokenSource {
            http,
            url,
            client_id: config.client_id.clone(),
            scope: config.scope.clone(),
            secret: config.client_secret.clone(),
            assertion_file: config.federated_token_file.clone(),
            cached: None,
            fetched: 0,
        })
    }

    /// Drops the cached token (the endpoint refused it).
    pub(crate) fn invalidate(&mut self) {
        self.cached = None;
    }

    /// A valid token, fetched when none is cached or it is about to expire.
    pub(crate) async fn token(&mut self) -> Result<SecretString, SinkError> {
        if let Some((t, refresh_at)) = &self.cached
            && Instant::now() < *refresh_at
        {
            return Ok(t.clone());
        }
        let target = "token endpoint";
        let assertion;
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("scope", self.scope.as_str()),
        ];
        if let Some(s) = &self.secret {
            pairs.push(("client_secret", s.expose_secret()));
        } else if let Some(path) = &self.assertion_file {
            let file = std::fs::File::open(path).map_err(|e| SinkError::Config {
                message: format!("federated_token_file {}: {e}", path.display()),
            })?;
            let bytes =
                model::limits::read_capped(file, 64 * 1024).map_err(|e| SinkError::Config {
                    message: format!("federated_token_file {}: {e}", path.display()),
                })?;
            assertion = String::from_utf8_lossy(&bytes).trim().to_owned();
            pairs.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            pairs.push(("client_assertion", assertion.as_str()));
        }
        let req = self
            .http
            .post(self.url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form(&pairs));
        let reply = call(target, req, MAX_TOKEN_RESPONSE).await?;
        if !(200..300).contains(&reply.status) {
            let mut e = reply.error(target);
            // Entra answers a bad secret or app with 400/401 (invalid_client, unauthorized_client): that is
            // a credentials problem, not bad data.
            if let SinkError::Status { status, .. } = &mut e
                && matches!(*status, 400 | 401 | 403)
            {
                *status = 401;
            }
            return Err(e);
        }
        let parsed: TokenReply =
            serde_json::from_slice(&reply.body).map_err(|e| SinkError::Protocol {
                target: target.into(),
                message: format!("token response: {e}"),
            })?;
        let lifetime = parsed
            .expires_in
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .map_or(Duration::from_secs(3599), Duration::from_secs);
        let margin = Duration::from_secs(300).min(lifetime / 2);
        self.cached = Some((
            parsed.access_token.clone(),
            Instant::now() + lifetime - margin,
        ));
        self.fetched += 1;
        Ok(parsed.access_token)
    }
}
