//! Graph source configuration: deserialized from TOML (`deny_unknown_fields`, durations as `"2h10m"` or
//! seconds), checked by [`GraphSourceConfig::validate`] with every problem reported at once and no I/O.

use super::endpoints;
use model::Category;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;
use std::time::Duration;

/// The Graph source's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSourceConfig {
    /// Source name (goes into `_Source`, cursor keys and quarantine positions).
    pub id: String,
    /// The Entra tenant (GUID or verified domain).
    pub tenant_id: String,
    /// How to get tokens.
    pub auth: GraphAuth,
    /// The login host (`https://login.microsoftonline.us` for US Government, `https://login.chinacloudapi.cn`).
    #[serde(default = "default_authority_host")]
    pub authority_host: String,
    /// The Graph host (`https://graph.microsoft.us`, `https://microsoftgraph.chinacloudapi.cn`).
    #[serde(default = "default_graph_endpoint")]
    pub graph_endpoint: String,
    /// The token scope; default `{graph_endpoint}/.default` for an `https` endpoint, else the public cloud's.
    #[serde(default)]
    pub scope: Option<String>,
    /// Categories to pull, by diagnostic-settings or table name. Default: every v1.0/beta category Graph
    /// serves except the opt-in beta ones ([`endpoints::DEFAULT_CATEGORIES`]).
    #[serde(default = "default_categories")]
    pub categories: Vec<String>,
    /// How far back each tail window re-reads before the cursor (late events, MFA and risk updates).
    #[serde(default = "default_overlap", deserialize_with = "duration")]
    pub overlap: Duration,
    /// How far behind now the tail window ends.
    #[serde(default = "default_delay", deserialize_with = "duration")]
    pub delay: Duration,
    /// Time between tail polls once caught up.
    #[serde(default = "default_poll_interval", deserialize_with = "duration")]
    pub poll_interval: Duration,
    /// How far back the first tail window starts when there is no cursor.
    #[serde(default = "default_start", deserialize_with = "duration")]
    pub start: Duration,
    /// The longest tail window; a longer gap (after downtime) is read in windows of this size, back to back.
    #[serde(default = "default_max_window", deserialize_with = "duration")]
    pub max_window: Duration,
    /// Rate limits (Microsoft's documented ones by default).
    #[serde(default)]
    pub limits: GraphLimits,
    /// Fraction of capacity backfill may use while the tail has work (it gets everything otherwise).
    #[serde(default = "default_backfill_share")]
    pub backfill_share: f64,
    /// Backfill slices in flight at once (still within the rate limits).
    #[serde(default = "default_backfill_parallel")]
    pub backfill_parallel: usize,
    /// The first backfill slice length (narrowed when a slice keeps getting throttled or timing out).
    #[serde(default = "default_backfill_slice", deserialize_with = "duration")]
    pub backfill_slice: Duration,
    /// The narrowest backfill slice.
    #[serde(default = "default_min_slice", deserialize_with = "duration")]
    pub min_slice: Duration,
    /// The longest wait between retries (throttling without `Retry-After`, 5xx, resets).
    #[serde(default = "default_max_backoff", deserialize_with = "duration")]
    pub max_backoff: Duration,
    /// How long a category refused with 401/403 waits before trying again (the others go on meanwhile).
    #[serde(default = "default_denied_retry", deserialize_with = "duration")]
    pub denied_retry: Duration,
    /// Timeout of one HTTP request.
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Where "now" comes from.
    #[serde(default)]
    pub clock: ClockKind,
}

/// How the source authenticates (`type = "client_secret"`, ...).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphAuth {
    /// App registration with a client secret.
    ClientSecret {
        /// Application (client) id.
        client_id: String,
        /// The secret (never printed).
        secret: SecretString,
    },
    /// App registration with a certificate: a PS256 client assertion signed with the RSA key.
    Certificate {
        /// Application (client) id.
        client_id: String,
        /// PEM file of the certificate registered on the app.
        certificate_pem_path: PathBuf,
        /// PEM file of its RSA private key (PKCS#8 or PKCS#1).
        key_pem_path: PathBuf,
    },
    /// Azure managed identity through IMDS.
    ManagedIdentity {
        /// A user-assigned identity's client id; none for the system-assigned one.
        #[serde(default)]
        client_id: Option<String>,
        /// The IMDS base URL.
        #[serde(default = "default_imds")]
        endpoint: String,
    },
    /// Workload identity federation: a projected token file sent as the client assertion.
    WorkloadIdentity {
        /// Application (client) id.
        client_id: String,
        /// The federated token file (read again for every token: it rotates).
        token_file: PathBuf,
    },
    /// The signed-in Azure CLI (`az account get-access-token`).
    AzureCli,
}

impl std::fmt::Debug for GraphAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphAuth::ClientSecret { client_id, .. } => f
                .debug_struct("ClientSecret")
                .field("client_id", client_id)
                .field("secret", &"**REDACTED**")
                .finish(),
            GraphAuth::Certificate {
                client_id,
                certificate_pem_path,
                key_pem_path,
            } => f
                .debug_struct("Certificate")
                .field("client_id", client_id)
                .field("certificate_pem_path", certificate_pem_path)
                .field("key_pem_path", key_pem_path)
                .finish(),
            GraphAuth::ManagedIdentity {
                client_id,
                endpoint,
            } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .field("endpoint", endpoint)
                .finish(),
            GraphAuth::WorkloadIdentity {
                client_id,
                token_file,
            } => f
                .debug_struct("WorkloadIdentity")
                .field("client_id", client_id)
                .field("token_file", token_file)
                .finish(),
            GraphAuth::AzureCli => f.write_str("AzureCli"),
        }
    }
}

impl GraphAuth {
    /// The client id that keys the shared scheduler (`managed_identity`/`azure_cli` have stand-ins).
    pub fn client_key(&self) -> String {
        match self {
            GraphAuth::ClientSecret { client_id, .. }
            | GraphAuth::Certificate { client_id, .. }
            | GraphAuth::WorkloadIdentity { client_id, .. } => client_id.clone(),
            GraphAuth::ManagedIdentity { client_id, .. } => {
                format!("msi:{}", client_id.as_deref().unwrap_or("system"))
            }
            GraphAuth::AzureCli => "azure_cli".to_owned(),
        }
    }
}

/// Rate limits per (app, tenant), shared by every category, tail and backfill.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphLimits {
    /// Identity and access reports requests per `reports_window` (Microsoft: 5 per 10 s per app per tenant).
    pub reports_per_window: u32,
    /// The reports window.
    #[serde(deserialize_with = "duration")]
    pub reports_window: Duration,
    /// Identity Protection requests per second (Microsoft: 1 per tenant, all apps).
    pub identity_protection_per_s: u32,
}

impl Default for GraphLimits {
    fn default() -> GraphLimits {
        GraphLimits {
            reports_per_window: 5,
            reports_window: Duration::from_secs(10),
            identity_protection_per_s: 1,
        }
    }
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// The local clock.
    System,
    /// The latest Graph `Date` header plus local elapsed time (immune to local skew).
    #[default]
    ServerDate,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault (`auth.client_id`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

fn default_authority_host() -> String {
    "https://login.microsoftonline.com".to_owned()
}
fn default_graph_endpoint() -> String {
    "https://graph.microsoft.com".to_owned()
}
fn default_imds() -> String {
    "http://169.254.169.254".to_owned()
}
fn default_categories() -> Vec<String> {
    endpoints::DEFAULT_CATEGORIES
        .iter()
        .map(|c| c.name().to_owned())
        .collect()
}
const fn default_overlap() -> Duration {
    Duration::from_secs(2 * 3600 + 10 * 60)
}
const fn default_delay() -> Duration {
    Duration::from_secs(120)
}
const fn default_poll_interval() -> Duration {
    Duration::from_secs(300)
}
const fn default_start() -> Duration {
    Duration::from_secs(3600)
}
const fn default_max_window() -> Duration {
    Duration::from_secs(86_400)
}
const fn default_backfill_share() -> f64 {
    0.5
}
const fn default_backfill_parallel() -> usize {
    4
}
const fn default_backfill_slice() -> Duration {
    Duration::from_secs(86_400)
}
const fn default_min_slice() -> Duration {
    Duration::from_secs(900)
}
const fn default_max_backoff() -> Duration {
    Duration::from_secs(120)
}
const fn default_denied_retry() -> Duration {
    Duration::from_secs(600)
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(100)
}

/// A duration as a humantime string (`"2h10m"`) or a number of seconds.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => humantime::parse_duration(t.trim()).map_err(serde::de::Error::custom),
    }
}

impl GraphSourceConfig {
    /// A configuration with every default, for `tenant_id` and `auth`.
    pub fn new(id: impl Into<String>, tenant_id: impl Into<String>, auth: GraphAuth) -> Self {
        GraphSourceConfig {
            id: id.into(),
            tenant_id: tenant_id.into(),
            auth,
            authority_host: default_authority_host(),
            graph_endpoint: default_graph_endpoint(),
            scope: None,
            categories: default_categories(),
            overlap: default_overlap(),
            delay: default_delay(),
            poll_interval: default_poll_interval(),
            start: default_start(),
            max_window: default_max_window(),
            limits: GraphLimits::default(),
            backfill_share: default_backfill_share(),
            backfill_parallel: default_backfill_parallel(),
            backfill_slice: default_backfill_slice(),
            min_slice: default_min_slice(),
            max_backoff: default_max_backoff(),
            denied_retry: default_denied_retry(),
            request_timeout: default_request_timeout(),
            clock: ClockKind::default(),
        }
    }

    /// The token scope.
    pub fn token_scope(&self) -> String {
        match &self.scope {
            Some(s) => s.clone(),
            None if self.graph_endpoint.starts_with("https://") => {
                format!("{}/.default", self.graph_endpoint.trim_end_matches('/'))
            }
            None => "https://graph.microsoft.com/.default".to_owned(),
        }
    }

    /// Checks everything that can be checked without I/O and resolves the categories; every problem at once.
    pub fn validate(&self) -> Result<Vec<Category>, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| errors.push(ConfigError::new(field, message));
        if self.id.trim().is_empty() {
            err("id", "must not be empty".into());
        }
        if self.tenant_id.trim().is_empty()
            || !self
                .tenant_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            err(
                "tenant_id",
                format!("must be a tenant GUID or domain, got {:?}", self.tenant_id),
            );
        }
        for (field, value) in [
            ("authority_host", &self.authority_host),
            ("graph_endpoint", &self.graph_endpoint),
        ] {
            if let Err(m) = check_base_url(value) {
                err(field, m);
            }
        }
        match &self.auth {
            GraphAuth::ClientSecret { client_id, secret } => {
                if client_id.trim().is_empty() {
                    err("auth.client_id", "must not be empty".into());
                }
                if secrecy::ExposeSecret::expose_secret(secret).is_empty() {
                    err("auth.secret", "must not be empty".into());
                }
            }
            GraphAuth::Certificate {
                client_id,
                certificate_pem_path,
                key_pem_path,
            } => {
                if client_id.trim().is_empty() {
                    err("auth.client_id", "must not be empty".into());
                }
                if certificate_pem_path.as_os_str().is_empty() {
                    err("auth.certificate_pem_path", "must not be empty".into());
                }
                if key_pem_path.as_os_str().is_empty() {
                    err("auth.key_pem_path", "must not be empty".into());
                }
            }
            GraphAuth::ManagedIdentity {
                client_id,
                endpoint,
            } => {
                if client_id.as_ref().is_some_and(|c| c.trim().is_empty()) {
                    err("auth.client_id", "must not be empty when given".into());
                }
                if let Err(m) = check_base_url(endpoint) {
                    err("auth.endpoint", m);
                }
            }
            GraphAuth::WorkloadIdentity {
                client_id,
                token_file,
            } => {
                if client_id.trim().is_empty() {
                    err("auth.client_id", "must not be empty".into());
                }
                if token_file.as_os_str().is_empty() {
                    err("auth.token_file", "must not be empty".into());
                }
            }
            GraphAuth::AzureCli => {}
        }
        let mut categories = Vec::new();
        if self.categories.is_empty() {
            err("categories", "must name at least one category".into());
        }
        for name in &self.categories {
            match Category::from_name(name) {
                Some(c) if endpoints::endpoint(c).is_none() => err(
                    "categories",
                    format!("{name}: Graph serves no API for this category (use an export source)"),
                ),
                Some(c) if categories.contains(&c) => {
                    err("categories", format!("{name}: listed twice"))
                }
                Some(c) => categories.push(c),
                None => err("categories", format!("{name}: unknown category")),
            }
        }
        if self.poll_interval.is_zero() {
            err("poll_interval", "must be positive".into());
        }
        if self.start.is_zero() {
            err("start", "must be positive".into());
        }
        if self.max_window <= self.overlap {
            err(
                "max_window",
                format!(
                    "must be longer than overlap ({})",
                    humantime::format_duration(self.overlap)
                ),
            );
        }
        if self.limits.reports_per_window == 0 {
            err("limits.reports_per_window", "must be positive".into());
        }
        if self.limits.reports_window.is_zero() {
            err("limits.reports_window", "must be positive".into());
        }
        if self.limits.identity_protection_per_s == 0 {
            err(
                "limits.identity_protection_per_s",
                "must be positive".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.backfill_share) {
            err(
                "backfill_share",
                format!("must be within 0..=1, got {}", self.backfill_share),
            );
        }
        if self.backfill_parallel == 0 {
            err("backfill_parallel", "must be positive".into());
        }
        if self.min_slice.is_zero() || self.backfill_slice < self.min_slice {
            err(
                "backfill_slice",
                "must be at least min_slice, which must be positive".into(),
            );
        }
        if self.max_backoff < Duration::from_secs(1) {
            err("max_backoff", "must be at least 1s".into());
        }
        if self.request_timeout.is_zero() {
            err("request_timeout", "must be positive".into());
        }
        if errors.is_empty() {
            Ok(categories)
        } else {
            Err(errors)
        }
    }
}

/// An `http(s)://host[:port][/path]` base URL without query or fragment.
fn check_base_url(value: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("not a URL ({e}): {value:?}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("must be http or https, got {value:?}"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(format!("must be a base URL without query, got {value:?}"));
    }
    // Secrets and tokens travel to these hosts: plain http only to this machine (a local simulator or proxy).
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(format!(
            "must use https (plain http is only accepted for 127.0.0.1, ::1 or localhost), got {value:?}"
        ));
    }
    Ok(())
}
