//! Tokens for Graph. The five configured flows are implemented here on `reqwest` rather than with
//! `azure_identity` 1.0, which refuses an authority host that is not `https` ("authority host doesn't use
//! HTTPS scheme"), so it cannot be pointed at a local test server or the simulated tenant; it would also bring
//! `azure_core`'s own HTTP stack beside ours and needs OpenSSL plus PKCS#12 for certificates.
//!
//! [`TokenCache`] keeps one token per source, refreshes it before it expires (single flight), and is told
//! by the client when Graph answers 401 so the next request gets a new one.

use super::assertion::{CertificateSigner, read_file};
use super::client::{read_body, retry_after};
use super::{Clock, GraphAuth, GraphError, GraphSourceConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The largest token-endpoint answer read.
const MAX_TOKEN_BODY: u64 = 256 * 1024;
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An access token and how long it lives.
pub struct AccessToken {
    /// The bearer token (never printed).
    pub token: SecretString,
    /// Lifetime from now.
    pub expires_in: Duration,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"**REDACTED**")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The future [`TokenProvider::fetch`] returns.
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AccessToken, GraphError>> + Send + 'a>>;

/// Gets a new token each time it is called (the cache decides when).
pub trait TokenProvider: Send + Sync {
    /// Requests a fresh token.
    fn fetch(&self) -> TokenFuture<'_>;
}

/// The provider for a configuration (reads certificate files: call outside config validation).
pub(crate) fn provider(
    config: &GraphSourceConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn TokenProvider>, GraphError> {
    let token_url = format!(
        "{}/{}/oauth2/v2.0/token",
        config.authority_host.trim_end_matches('/'),
        config.tenant_id
    );
    let scope = config.token_scope();
    let resource = scope.trim_end_matches("/.default").to_owned();
    Ok(match &config.auth {
        GraphAuth::ClientSecret { client_id, secret } => Arc::new(ClientCredentials {
            http,
            token_url,
            client_id: client_id.clone(),
            scope,
            clock,
            proof: Proof::Secret(secret.clone()),
        }),
        GraphAuth::Certificate {
            client_id,
            certificate_pem_path,
            key_pem_path,
        } => Arc::new(ClientCredentials {
            http,
            token_url,
            client_id: client_id.clone(),
            scope,
            clock,
            proof: Proof::Certificate(Box::new(CertificateSigner::load(
                certificate_pem_path,
                key_pem_path,
            )?)),
        }),
        GraphAuth::WorkloadIdentity {
            client_id,
            token_file,
        } => Arc::new(ClientCredentials {
            http,
            token_url,
            client_id: client_id.clone(),
            scope,
            clock,
            proof: Proof::TokenFile(token_file.clone()),
        }),
        GraphAuth::ManagedIdentity {
            client_id,
            endpoint,
        } => Arc::new(ManagedIdentity {
            http,
            url: imds_url(endpoint, &resource, client_id.as_deref()),
            clock,
        }),
        GraphAuth::AzureCli => Arc::new(AzureCli {
            resource,
            tenant: config.tenant_id.clone(),
        }),
    })
}

enum Proof {
    Secret(SecretString),
    Certificate(Box<CertificateSigner>),
    TokenFile(std::path::PathBuf),
}

/// The client-credentials grant with a secret, a certificate assertion or a federated token.
struct ClientCredentials {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scope: String,
    clock: Arc<dyn Clock>,
    proof: Proof,
}

/// `application/x-www-form-urlencoded`.
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::endpoints::encode(k),
                super::endpoints::encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl ClientCredentials {
    async fn request(&self) -> Result<AccessToken, GraphError> {
        let assertion;
        let mut pairs = vec![
            ("client_id", self.client_id.as_str()),
            ("scope", self.scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        match &self.proof {
            Proof::Secret(s) => pairs.push(("client_secret", s.expose_secret())),
            Proof::Certificate(signer) => {
                assertion = signer.assertion(&self.client_id, &self.token_url, self.clock.now())?;
                pairs.push(("client_assertion_type", JWT_BEARER));
                pairs.push(("client_assertion", &assertion));
            }
            Proof::TokenFile(path) => {
                let raw = read_file(path, MAX_TOKEN_BODY, "federated token file")?;
                assertion = String::from_utf8_lossy(&raw).trim().to_owned();
                if assertion.is_empty() {
                    return Err(GraphError::Auth {
                        message: format!("federated token file {} is empty", path.display()),
                    });
                }
                pairs.push(("client_assertion_type", JWT_BEARER));
                pairs.push(("client_assertion", &assertion));
            }
        }
        let body = form(&pairs);
        let resp = self
            .http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| GraphError::from_reqwest("token request", &e))?;
        token_response(resp, &*self.clock).await
    }
}

impl TokenProvider for ClientCredentials {
    fn fetch(&self) -> TokenFuture<'_> {
        Box::pin(self.request())
    }
}

/// A number or a string holding one (IMDS sends strings).
fn lenient_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: serde_json::Value,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads a token endpoint's (or IMDS's) answer; refusals keep only the error code and first line of text.
async fn token_response(
    resp: reqwest::Response,
    clock: &dyn Clock,
) -> Result<AccessToken, GraphError> {
    let status = resp.status().as_u16();
    if let Some(d) = resp
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(super::clock::parse_http_date)
    {
        clock.observe_server_date(d);
    }
    let after = retry_after(resp.headers());
    let body = read_body(resp, MAX_TOKEN_BODY, "token response").await?;
    let parsed: Option<TokenBody> = serde_json::from_slice(&body).ok();
    if status == 429 {
        return Err(GraphError::Throttled {
            what: "token request".into(),
            status,
            retry_after: after,
        });
    }
    if status >= 500 || status == 408 || status == 410 {
        return Err(GraphError::Transient {
            what: "token request".into(),
            message: format!("status {status}"),
            retry_after: after,
        });
    }
    let Some(parsed) = parsed else {
        return Err(GraphError::transient(
            "token request",
            format!("status {status}, unparsable body"),
        ));
    };
    if (200..300).contains(&status) {
        let token = parsed
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::transient("token request", "answer without access_token"))?;
        let secs = lenient_u64(&parsed.expires_in).unwrap_or(300);
        return Ok(AccessToken {
            token: SecretString::from(token),
            expires_in: Duration::from_secs(secs),
        });
    }
    let description = parsed
        .error_description
        .as_deref()
        .and_then(|d| d.lines().next())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    Err(GraphError::Auth {
        message: format!(
            "token endpoint refused (status {status}, {}){}",
            parsed.error.as_deref().unwrap_or("no error code"),
            if description.is_empty() {
                String::new()
            } else {
                format!(": {description}")
            }
        ),
    })
}

/// Managed identity through IMDS.
struct ManagedIdentity {
    http: reqwest::Client,
    url: String,
    clock: Arc<dyn Clock>,
}

fn imds_url(endpoint: &str, resource: &str, client_id: Option<&str>) -> String {
    let mut url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}",
        endpoint.trim_end_matches('/'),
        super::endpoints::encode(resource)
    );
    if let Some(id) = client_id {
        url.push_str("&client_id=");
        url.push_str(&super::endpoints::encode(id));
    }
    url
}

impl TokenProvider for ManagedIdentity {
    fn fetch(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let resp = self
                .http
                .get(&self.url)
                .header("Metadata", "true")
                .send()
                .await
                .map_err(|e| GraphError::from_reqwest("managed identity token request", &e))?;
            token_response(resp, &*self.clock).await
        })
    }
}

/// `az account get-access-token`.
struct AzureCli {
    resource: String,
    tenant: String,
}

/// Reads `az account get-access-token -o json` output.
pub(crate) fn parse_az_output(stdout: &[u8], now_epoch: i64) -> Result<AccessToken, GraphError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Az {
        access_token: String,
        /// Epoch seconds (newer CLIs).
        #[serde(default, rename = "expires_on")]
        expires_on: serde_json::Value,
        /// Local time `2024-01-01 12:00:00.000000` (older CLIs).
        #[serde(default, rename = "expiresOn")]
        expires_on_local: Option<String>,
    }
    let az: Az = serde_json::from_slice(stdout).map_err(|e| GraphError::Auth {
        message: format!("azure cli printed no token: {e}"),
    })?;
    let epoch = lenient_u64(&az.expires_on).map(|e| e as i64).or_else(|| {
        let text = az.expires_on_local.as_deref()?;
        let naive =
            chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
        Some(
            naive
                .and_local_timezone(chrono::Local)
                .earliest()?
                .timestamp(),
        )
    });
    let expires = epoch.map(|e| (e - now_epoch).max(0) as u64).unwrap_or(300);
    Ok(AccessToken {
        token: SecretString::from(az.access_token),
        expires_in: Duration::from_secs(expires),
    })
}

/// The `az` arguments.
pub(crate) fn az_args<'a>(resource: &'a str, tenant: &'a str) -> [&'a str; 8] {
    [
        "account",
        "get-access-token",
        "--resource",
        resource,
        "--tenant",
        tenant,
        "-o",
        "json",
    ]
}

impl TokenProvider for AzureCli {
    fn fetch(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let run = tokio::process::Command::new("az")
                .args(az_args(&self.resource, &self.tenant))
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output();
            let out = tokio::time::timeout(Duration::from_secs(60), run)
                .await
                .map_err(|_| GraphError::transient("azure cli", "timed out after 60s"))?
                .map_err(|e| GraphError::Auth {
                    message: format!("azure cli could not run: {e}"),
                })?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let line = err
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                return Err(GraphError::Auth {
                    message: format!("azure cli failed ({}): {line}", out.status),
                });
            }
            parse_az_output(&out.stdout, chrono::Utc::now().timestamp())
        })
    }
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
    generation: u64,
}

/// How long a refused credential is not asked again (all categories fail together, with one request).
const REFUSAL_MEMORY: Duration = Duration::from_secs(5);

#[derive(Default)]
struct CacheState {
    cached: Option<Cached>,
    generation: u64,
    refused: Option<(Instant, String)>,
}

/// One token, refreshed before it expires; concurrent callers share one refresh.
pub(crate) struct TokenCache {
    provider: Arc<dyn TokenProvider>,
    state: tokio::sync::Mutex<CacheState>,
}

impl TokenCache {
    pub(crate) fn new(provider: Arc<dyn TokenProvider>) -> TokenCache {
        TokenCache {
            provider,
            state: tokio::sync::Mutex::new(CacheState::default()),
        }
    }

    /// A valid token and its generation (to invalidate exactly that one).
    pub(crate) async fn get(&self) -> Result<(SecretString, u64), GraphError> {
        let mut state = self.state.lock().await;
        if let Some(c) = &state.cached
            && Instant::now() < c.refresh_at
        {
            return Ok((c.token.clone(), c.generation));
        }
        if let Some((at, message)) = &state.refused
            && at.elapsed() < REFUSAL_MEMORY
        {
            return Err(GraphError::Auth {
                message: message.clone(),
            });
        }
        let fresh = match self.provider.fetch().await {
            Ok(t) => t,
            Err(GraphError::Auth { message }) => {
                state.refused = Some((Instant::now(), message.clone()));
                return Err(GraphError::Auth { message });
            }
            Err(e) => return Err(e),
        };
        state.refused = None;
        state.generation += 1;
        let margin = Duration::from_secs(300).min(fresh.expires_in / 2);
        let cached = Cached {
            token: fresh.token,
            refresh_at: Instant::now() + fresh.expires_in.saturating_sub(margin),
            generation: state.generation,
        };
        let out = (cached.token.clone(), cached.generation);
        state.cached = Some(cached);
        Ok(out)
    }

    /// Drops the token of `generation` (Graph refused it); a newer one is kept.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            state.cached = None;
        }
    }
}
