//! Elasticsearch / OpenSearch sink configuration (`[[sinks]] type = "elasticsearch"`): deserialized with
//! `deny_unknown_fields`, durations as `"2s"` or seconds, checked by [`ElasticConfig::validate`] with every
//! problem reported at once and no I/O.

use crate::http::{check_secret, check_url};
use crate::util::{ConfigError, duration, resolve_categories};
use model::Category;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Which server speaks `_bulk` (they differ in the auth schemes they accept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Elasticsearch 7.x / 8.x / 9.x.
    #[default]
    Elasticsearch,
    /// OpenSearch 1.x / 2.x (no API keys).
    Opensearch,
}

/// Where documents go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMode {
    /// One index per category and day: `<index_prefix>-<category>-YYYY.MM.DD` (event time, UTC).
    #[default]
    Daily,
    /// One data stream per category: `logs-<dataset_prefix>.<category>-<namespace>`.
    DataStream,
}

/// What each document holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// ECS fields plus the canonical record under `entrail` (its Log Analytics column names).
    #[default]
    Ecs,
    /// ECS fields plus the record as received in `event.original`.
    EcsRaw,
    /// The canonical record only (Log Analytics column names) plus `@timestamp`.
    Native,
    /// The record as received (a JSON object; other text under `message`) plus `@timestamp`.
    Raw,
    /// The record as an OCSF event (see [`crate::ocsf`]) plus `@timestamp`.
    Ocsf,
    /// As `ocsf`, with the record as received in `raw_data`.
    OcsfRaw,
}

/// Elasticsearch / OpenSearch `_bulk` sink settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticConfig {
    /// Sink name (its consumer name in the log).
    pub id: String,
    /// Server flavor (`elasticsearch` or `opensearch`).
    #[serde(default)]
    pub flavor: Flavor,
    /// Base URL, `https://es.example.com:9200` (plain `http` only for loopback); a path prefix is kept.
    pub url: String,
    /// `daily` indices or `data_stream`s.
    #[serde(default)]
    pub mode: IndexMode,
    /// Prefix of daily index names.
    #[serde(default = "default_prefix")]
    pub index_prefix: String,
    /// Dataset prefix of data stream names (`logs-<dataset_prefix>.<category>-<namespace>`).
    #[serde(default = "default_prefix")]
    pub dataset_prefix: String,
    /// Namespace of data stream names.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Document encoding (`ecs`, `ecs_raw`, `native`, `raw`, `ocsf`, `ocsf_raw`).
    #[serde(default)]
    pub encoding: Encoding,
    /// Basic auth user (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// Basic auth password.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Elasticsearch API key, the base64 `id:api_key` (sent as `Authorization: ApiKey <key>`).
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Bearer token (`Authorization: Bearer <token>`; OpenSearch JWT, Elasticsearch service tokens).
    #[serde(default)]
    pub bearer_token: Option<SecretString>,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Largest `_bulk` body; a batch is split into requests of at most this size.
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// How often items that failed with 429/5xx are resent within one `send` before it fails.
    #[serde(default = "default_item_retries")]
    pub item_retries: u32,
    /// First backoff before resending failed items (doubles each time, with jitter).
    #[serde(default = "default_retry_backoff", deserialize_with = "duration")]
    pub retry_backoff: Duration,
    /// Largest backoff between item resends.
    #[serde(default = "default_max_retry_backoff", deserialize_with = "duration")]
    pub max_retry_backoff: Duration,
    /// Timeout of one HTTP request.
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// PEM file of extra CA certificates to trust (server verification is always on).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
}

fn default_prefix() -> String {
    "entrail".into()
}
fn default_namespace() -> String {
    "default".into()
}
const fn default_max_batch_bytes() -> usize {
    5 * 1024 * 1024
}
const fn default_item_retries() -> u32 {
    5
}
const fn default_retry_backoff() -> Duration {
    Duration::from_millis(500)
}
const fn default_max_retry_backoff() -> Duration {
    Duration::from_secs(30)
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}

/// Whether `s` may be part of an index or data stream name: lower-case ASCII letters, digits, `_`, `.`
/// (and `-` unless `dash` is false), not starting with `-`, `_`, `+` or `.`.
fn index_part(s: &str, dash: bool) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with(['-', '_', '+', '.'])
        && s.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '_'
                || c == '.'
                || (dash && c == '-')
        })
}

impl ElasticConfig {
    /// A configuration with every default, for `url` (no auth).
    pub fn new(id: impl Into<String>, url: impl Into<String>) -> Self {
        ElasticConfig {
            id: id.into(),
            flavor: Flavor::default(),
            url: url.into(),
            mode: IndexMode::default(),
            index_prefix: default_prefix(),
            dataset_prefix: default_prefix(),
            namespace: default_namespace(),
            encoding: Encoding::default(),
            username: None,
            password: None,
            api_key: None,
            bearer_token: None,
            categories: Vec::new(),
            max_batch_bytes: default_max_batch_bytes(),
            item_retries: default_item_retries(),
            retry_backoff: default_retry_backoff(),
            max_retry_backoff: default_max_retry_backoff(),
            request_timeout: default_request_timeout(),
            tls_ca_file: None,
        }
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        self.resolve().map(|_| ())
    }

    /// Validates and returns the category filter.
    pub(crate) fn resolve(&self) -> Result<Vec<Category>, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push(ConfigError::new("id", "must not be empty"));
        }
        check_url("url", &self.url, &mut errors);
        let mut err = |field: &str, m: &str| errors.push(ConfigError::new(field, m));
        if !index_part(&self.index_prefix, true) {
            err(
                "index_prefix",
                "must be lower-case letters, digits, '-', '_' or '.', not starting with '-', '_' or '.'",
            );
        }
        if !index_part(&self.dataset_prefix, false) {
            err(
                "dataset_prefix",
                "must be lower-case letters, digits, '_' or '.' (no '-'), not starting with '_' or '.'",
            );
        }
        if !index_part(&self.namespace, false) {
            err(
                "namespace",
                "must be lower-case letters, digits, '_' or '.' (no '-')",
            );
        }
        let schemes = [
            self.username.is_some() || self.password.is_some(),
            self.api_key.is_some(),
            self.bearer_token.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            err(
                "api_key",
                "give one of username/password, api_key or bearer_token",
            );
        }
        if let Some(u) = &self.username
            && (u.is_empty() || u.contains(':') || u.chars().any(char::is_control))
        {
            err(
                "username",
                "must not be empty or contain ':' or control characters",
            );
        }
        match (&self.username, &self.password) {
            (Some(_), None) => err("password", "is required with username"),
            (None, Some(_)) => err("username", "is required with password"),
            _ => {}
        }
        if let Some(p) = &self.password
            && (p.expose_secret().is_empty() || p.expose_secret().chars().any(char::is_control))
        {
            err(
                "password",
                "must not be empty or contain control characters",
            );
        }
        if let Some(k) = &self.api_key {
            check_secret("api_key", k.expose_secret(), &mut errors);
            if self.flavor == Flavor::Opensearch {
                errors.push(ConfigError::new(
                    "api_key",
                    "OpenSearch has no API keys: use username/password or bearer_token",
                ));
            }
        }
        if let Some(t) = &self.bearer_token {
            check_secret("bearer_token", t.expose_secret(), &mut errors);
        }
        let mut err = |field: &str, m: &str| errors.push(ConfigError::new(field, m));
        if self.max_batch_bytes < 1024 {
            err("max_batch_bytes", "must be at least 1024");
        }
        if self.item_retries > 100 {
            err("item_retries", "must be at most 100");
        }
        if self.retry_backoff.is_zero() || self.retry_backoff > self.max_retry_backoff {
            err(
                "retry_backoff",
                "must be positive and at most max_retry_backoff",
            );
        }
        if self.request_timeout.is_zero() {
            err("request_timeout", "must be positive");
        }
        if self
            .tls_ca_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            err("tls_ca_file", "must not be empty when given");
        }
        let categories = resolve_categories(&self.categories, &mut errors);
        if errors.is_empty() {
            Ok(categories)
        } else {
            Err(errors)
        }
    }
}
