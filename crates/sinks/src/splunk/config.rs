//! Splunk HEC sink configuration (`[[sinks]] type = "splunk_hec"`): deserialized with
//! `deny_unknown_fields`, durations as `"2s"` or seconds, checked by [`SplunkHecConfig::validate`] with every
//! problem reported at once and no I/O.

use crate::util::{ConfigError, duration, is_loopback_host, resolve_categories};
use model::Category;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Splunk HTTP Event Collector sink settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplunkHecConfig {
    /// Sink name (its consumer name in the log).
    pub id: String,
    /// HEC base URL, `https://splunk.example.com:8088` (plain `http` only for loopback).
    pub url: String,
    /// The HEC token (sent as `Authorization: Splunk <token>`; never logged).
    pub token: SecretString,
    /// Target index; none: the token's default index.
    #[serde(default)]
    pub index: Option<String>,
    /// The `host` field of every event; default: this machine's host name.
    #[serde(default)]
    pub host: Option<String>,
    /// The `source` field; default `entrail:<record source name>`.
    #[serde(default)]
    pub source: Option<String>,
    /// Sourcetype overrides by category name (`SignInLogs = "azure:aad:signin"`); others use
    /// [`super::default_sourcetype`].
    #[serde(default)]
    pub sourcetypes: BTreeMap<String, String>,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Gzip request bodies (`Content-Encoding: gzip`).
    #[serde(default = "default_true")]
    pub compression: bool,
    /// Largest uncompressed request body; a batch is split into requests of at most this size (a single
    /// larger event goes alone).
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Use indexer acknowledgement: `send` returns only once every request's `ackId` is acknowledged.
    #[serde(default)]
    pub acknowledgements: bool,
    /// The `X-Splunk-Request-Channel` GUID; default: a random one per start.
    #[serde(default)]
    pub channel: Option<String>,
    /// How long `send` waits for acknowledgements before failing (transient) and resending the batch.
    #[serde(default = "default_ack_timeout", deserialize_with = "duration")]
    pub ack_timeout: Duration,
    /// Time between `/services/collector/ack` polls.
    #[serde(default = "default_ack_poll_interval", deserialize_with = "duration")]
    pub ack_poll_interval: Duration,
    /// Timeout of one HTTP request.
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// PEM file of extra CA certificates to trust (a private Splunk CA).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// The `event` of each HEC event: `native` (canonical record, default), `raw` (as received), `ocsf` or
    /// `ocsf_raw` (see [`crate::ocsf`]).
    #[serde(default)]
    pub encoding: crate::ocsf::RecordEncoding,
}

const fn default_true() -> bool {
    true
}
const fn default_max_batch_bytes() -> usize {
    1024 * 1024
}
const fn default_ack_timeout() -> Duration {
    Duration::from_secs(120)
}
const fn default_ack_poll_interval() -> Duration {
    Duration::from_secs(1)
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}

impl SplunkHecConfig {
    /// A configuration with every default, for `url` and `token`.
    pub fn new(id: impl Into<String>, url: impl Into<String>, token: SecretString) -> Self {
        SplunkHecConfig {
            id: id.into(),
            url: url.into(),
            token,
            index: None,
            host: None,
            source: None,
            sourcetypes: BTreeMap::new(),
            categories: Vec::new(),
            compression: true,
            max_batch_bytes: default_max_batch_bytes(),
            acknowledgements: false,
            channel: None,
            ack_timeout: default_ack_timeout(),
            ack_poll_interval: default_ack_poll_interval(),
            request_timeout: default_request_timeout(),
            tls_ca_file: None,
            encoding: crate::ocsf::RecordEncoding::Native,
        }
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        self.resolve().map(|_| ())
    }

    /// Validates and returns the category filter and the sourcetype overrides.
    pub(crate) fn resolve(&self) -> Result<Resolved, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, m: String| errors.push(ConfigError::new(field, m));
        if self.id.trim().is_empty() {
            err("id", "must not be empty".into());
        }
        match reqwest::Url::parse(&self.url) {
            Err(e) => err("url", format!("not a URL ({e}): {:?}", self.url)),
            Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
                err("url", format!("must be an http(s) URL, got {:?}", self.url));
            }
            Ok(u) if u.query().is_some() || u.fragment().is_some() => {
                err("url", "must be a base URL without query or fragment".into());
            }
            Ok(u) if u.scheme() == "http" && !is_loopback_host(u.host_str().unwrap_or("")) => err(
                "url",
                "must use https (the token would travel in clear); http only for loopback".into(),
            ),
            Ok(_) => {}
        }
        let token = self.token.expose_secret();
        if token.trim().is_empty() {
            err("token", "must not be empty".into());
        } else if token.chars().any(|c| c.is_control() || c == ' ') {
            err(
                "token",
                "must not contain spaces or control characters".into(),
            );
        }
        for (field, value) in [
            ("index", &self.index),
            ("host", &self.host),
            ("source", &self.source),
        ] {
            if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
                err(field, "must not be empty when given".into());
            }
        }
        if let Some(c) = &self.channel
            && uuid::Uuid::parse_str(c).is_err()
        {
            err("channel", format!("must be a GUID, got {c:?}"));
        }
        if self.max_batch_bytes < 1024 {
            err("max_batch_bytes", "must be at least 1024".into());
        }
        if self.ack_timeout.is_zero() {
            err("ack_timeout", "must be positive".into());
        }
        if self.ack_poll_interval.is_zero() || self.ack_poll_interval > self.ack_timeout {
            err(
                "ack_poll_interval",
                "must be positive and at most ack_timeout".into(),
            );
        }
        if self.request_timeout.is_zero() {
            err("request_timeout", "must be positive".into());
        }
        if self
            .tls_ca_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            err("tls_ca_file", "must not be empty when given".into());
        }
        let mut sourcetypes = BTreeMap::new();
        for (name, st) in &self.sourcetypes {
            match Category::from_name(name) {
                Some(c) if !st.trim().is_empty() => {
                    sourcetypes.insert(c, st.clone());
                }
                Some(_) => err(&format!("sourcetypes.{name}"), "must not be empty".into()),
                None => err(&format!("sourcetypes.{name}"), "unknown category".into()),
            }
        }
        let categories = resolve_categories(&self.categories, &mut errors);
        if errors.is_empty() {
            Ok(Resolved {
                categories,
                sourcetypes,
            })
        } else {
            Err(errors)
        }
    }
}

/// What validation resolved.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) categories: Vec<Category>,
    pub(crate) sourcetypes: BTreeMap<Category, String>,
}
