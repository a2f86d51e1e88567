//! Microsoft Sentinel / Azure Monitor Logs Ingestion sink configuration (`[[sinks]] type = "sentinel"`):
//! deserialized with `deny_unknown_fields`, durations as `"2s"` or seconds, checked by
//! [`SentinelConfig::validate`] with every problem reported at once and no I/O.

use crate::http::check_url;
use crate::util::{ConfigError, duration, resolve_categories};
use model::Category;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The documented limit of one Logs Ingestion API call (1 MB).
pub const MAX_REQUEST_BYTES: usize = 1_000_000;

/// Logs Ingestion API sink settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelConfig {
    /// Sink name (its consumer name in the log).
    pub id: String,
    /// The data collection endpoint (or the DCR's own logs ingestion endpoint),
    /// `https://<dce>.<region>-1.ingest.monitor.azure.com`.
    pub endpoint: String,
    /// The DCR's immutable id, `dcr-` and 32 hex digits.
    pub dcr_immutable_id: String,
    /// Stream overrides by category name (`SignInLogs = "Custom-EntraSignIns"`); others get
    /// `<stream_prefix><Table>`.
    #[serde(default)]
    pub streams: BTreeMap<String, String>,
    /// Prefix of default stream names.
    #[serde(default = "default_stream_prefix")]
    pub stream_prefix: String,
    /// Entra tenant of the app registration.
    pub tenant_id: String,
    /// The app (client) id.
    pub client_id: String,
    /// Client secret (or `federated_token_file`).
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Workload identity: a file holding a federated token (JWT) used as the client assertion, re-read at
    /// every token request (Kubernetes rotates it).
    #[serde(default)]
    pub federated_token_file: Option<PathBuf>,
    /// Entra authority host.
    #[serde(default = "default_authority_host")]
    pub authority_host: String,
    /// Token scope.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// `api-version` of the ingestion call.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Gzip request bodies (`Content-Encoding: gzip`).
    #[serde(default = "default_true")]
    pub compression: bool,
    /// Largest uncompressed request body (at most the documented 1 MB, [`MAX_REQUEST_BYTES`]).
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: usize,
    /// Longest string value sent; longer ones are cut with the truncation marker (Log Analytics keeps at
    /// most 64 KB per field and would cut silently).
    #[serde(default = "default_max_field_bytes")]
    pub max_field_bytes: usize,
    /// Timeout of one HTTP request.
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// PEM file of extra CA certificates to trust (both the endpoint and the authority).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
}

fn default_stream_prefix() -> String {
    "Custom-".into()
}
fn default_authority_host() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_scope() -> String {
    "https://monitor.azure.com/.default".into()
}
fn default_api_version() -> String {
    "2023-01-01".into()
}
const fn default_true() -> bool {
    true
}
const fn default_max_request_bytes() -> usize {
    MAX_REQUEST_BYTES
}
const fn default_max_field_bytes() -> usize {
    64 * 1024
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}

/// Whether `s` is a stream name: `Custom-` or `Microsoft-` and letters, digits, `_`, `-`.
fn valid_stream(s: &str) -> bool {
    (s.starts_with("Custom-") || s.starts_with("Microsoft-"))
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

impl SentinelConfig {
    /// A configuration with every default and a client secret.
    pub fn new(
        id: impl Into<String>,
        endpoint: impl Into<String>,
        dcr_immutable_id: impl Into<String>,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        SentinelConfig {
            id: id.into(),
            endpoint: endpoint.into(),
            dcr_immutable_id: dcr_immutable_id.into(),
            streams: BTreeMap::new(),
            stream_prefix: default_stream_prefix(),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: Some(client_secret),
            federated_token_file: None,
            authority_host: default_authority_host(),
            scope: default_scope(),
            api_version: default_api_version(),
            categories: Vec::new(),
            compression: true,
            max_request_bytes: default_max_request_bytes(),
            max_field_bytes: default_max_field_bytes(),
            request_timeout: default_request_timeout(),
            tls_ca_file: None,
        }
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        self.resolve().map(|_| ())
    }

    /// Validates and returns the category filter and the stream of every category.
    pub(crate) fn resolve(&self) -> Result<Resolved, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push(ConfigError::new("id", "must not be empty"));
        }
        check_url("endpoint", &self.endpoint, &mut errors);
        check_url("authority_host", &self.authority_host, &mut errors);
        let mut err = |field: &str, m: String| errors.push(ConfigError::new(field, m));
        let dcr = &self.dcr_immutable_id;
        if !(dcr.len() == 36
            && dcr.starts_with("dcr-")
            && dcr[4..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            err(
                "dcr_immutable_id",
                format!("must be dcr- and 32 hex digits, got {dcr:?}"),
            );
        }
        if !is_guid(&self.tenant_id) {
            err("tenant_id", "must be a GUID".into());
        }
        if !is_guid(&self.client_id) {
            err("client_id", "must be a GUID".into());
        }
        if self.scope.trim().is_empty() || self.scope.contains(char::is_whitespace) {
            err("scope", "must be one scope without spaces".into());
        }
        if self.api_version.trim().is_empty() || self.api_version.contains(['&', '#', ' ']) {
            err("api_version", "must be a plain version string".into());
        }
        if !(1024..=MAX_REQUEST_BYTES).contains(&self.max_request_bytes) {
            err(
                "max_request_bytes",
                format!("must be between 1024 and {MAX_REQUEST_BYTES} (the documented 1 MB limit)"),
            );
        }
        if self.max_field_bytes < 1024 || self.max_field_bytes >= self.max_request_bytes {
            err(
                "max_field_bytes",
                "must be at least 1024 and below max_request_bytes".into(),
            );
        }
        if self.request_timeout.is_zero() {
            err("request_timeout", "must be positive".into());
        }
        for (field, path) in [
            ("tls_ca_file", &self.tls_ca_file),
            ("federated_token_file", &self.federated_token_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                err(field, "must not be empty when given".into());
            }
        }
        match (&self.client_secret, &self.federated_token_file) {
            (Some(_), Some(_)) => err(
                "client_secret",
                "give client_secret or federated_token_file, not both".into(),
            ),
            (None, None) => err(
                "client_secret",
                "one of client_secret or federated_token_file is required".into(),
            ),
            _ => {}
        }
        if let Some(s) = &self.client_secret
            && (s.expose_secret().is_empty() || s.expose_secret().chars().any(char::is_control))
        {
            err(
                "client_secret",
                "must not be empty or contain control characters".into(),
            );
        }
        let prefix_ok = valid_stream(&format!("{}X", self.stream_prefix));
        if !prefix_ok {
            errors.push(ConfigError::new(
                "stream_prefix",
                "must start with Custom- or Microsoft- (letters, digits, '_', '-')",
            ));
        }
        let mut streams = BTreeMap::new();
        for (name, stream) in &self.streams {
            let field = format!("streams.{name}");
            match Category::from_name(name) {
                None => errors.push(ConfigError::new(&field, "unknown category")),
                Some(_) if !valid_stream(stream) => errors.push(ConfigError::new(
                    &field,
                    format!("{stream:?}: must be Custom-<name> or Microsoft-<name>"),
                )),
                Some(c) => {
                    streams.insert(c, stream.clone());
                }
            }
        }
        let categories = resolve_categories(&self.categories, &mut errors);
        if errors.is_empty() {
            Ok(Resolved {
                categories,
                streams,
            })
        } else {
            Err(errors)
        }
    }

    /// The stream of `category` (override or `<stream_prefix><Table>`).
    pub(crate) fn stream(
        &self,
        overrides: &BTreeMap<Category, String>,
        category: Category,
    ) -> String {
        overrides
            .get(&category)
            .cloned()
            .unwrap_or_else(|| format!("{}{}", self.stream_prefix, category.table()))
    }
}

/// What validation resolved.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) categories: Vec<Category>,
    pub(crate) streams: BTreeMap<Category, String>,
}
