//! Kafka / Event Hubs sink configuration (`[[sinks]] type = "kafka"`): deserialized with
//! `deny_unknown_fields`, durations as `"30s"` or seconds, checked by [`KafkaSinkConfig::validate`] with every
//! problem reported at once and no I/O.

use crate::util::{ConfigError, duration, is_loopback_host, resolve_categories};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

/// Kafka (or Event Hubs Kafka endpoint) sink settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkConfig {
    /// Sink name (its consumer name in the log).
    pub id: String,
    /// Brokers, `host:port[,host:port]` (`<namespace>.servicebus.windows.net:9093` for Event Hubs).
    pub bootstrap_servers: String,
    /// The topic: a fixed name for one topic for all, or a template with `{category}` (`SignInLogs`) or
    /// `{table}` (`SigninLogs`) for one topic per category.
    pub topic: String,
    /// How the producer authenticates.
    pub auth: KafkaSinkAuth,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Message compression: `none` or `gzip`.
    #[serde(default = "default_compression")]
    pub compression: String,
    /// Largest message; a bigger record is handed back to the pipeline for the quarantine (Event Hubs: 1 MB).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// How long `send` waits for every delivery report before failing (transient) and resending the batch.
    #[serde(default = "default_delivery_timeout", deserialize_with = "duration")]
    pub delivery_timeout: Duration,
    /// The message value: `native` (canonical record, default), `raw` (as received), `ocsf` or `ocsf_raw`
    /// (see [`crate::ocsf`]).
    #[serde(default)]
    pub encoding: crate::ocsf::RecordEncoding,
}

/// How the sink authenticates (`type = "connection_string"`, ...).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KafkaSinkAuth {
    /// Event Hubs: SASL_SSL with PLAIN, user `$ConnectionString` (`Send` right needed).
    ConnectionString {
        /// The namespace or event hub connection string (never printed).
        connection_string: SecretString,
    },
    /// SASL_SSL with PLAIN and a user name and password.
    SaslPlain {
        /// User name.
        username: String,
        /// Password (never printed).
        password: SecretString,
    },
    /// No TLS, no SASL: only for brokers on this machine.
    Plaintext,
}

impl std::fmt::Debug for KafkaSinkAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KafkaSinkAuth::ConnectionString { .. } => f
                .debug_struct("ConnectionString")
                .field("connection_string", &"**REDACTED**")
                .finish(),
            KafkaSinkAuth::SaslPlain { username, .. } => f
                .debug_struct("SaslPlain")
                .field("username", username)
                .field("password", &"**REDACTED**")
                .finish(),
            KafkaSinkAuth::Plaintext => f.write_str("Plaintext"),
        }
    }
}

fn default_compression() -> String {
    "none".to_owned()
}
const fn default_max_message_bytes() -> usize {
    1_000_000
}
const fn default_delivery_timeout() -> Duration {
    Duration::from_secs(30)
}

impl KafkaSinkConfig {
    /// A configuration with every default.
    pub fn new(
        id: impl Into<String>,
        bootstrap_servers: impl Into<String>,
        topic: impl Into<String>,
        auth: KafkaSinkAuth,
    ) -> KafkaSinkConfig {
        KafkaSinkConfig {
            id: id.into(),
            bootstrap_servers: bootstrap_servers.into(),
            topic: topic.into(),
            auth,
            categories: Vec::new(),
            compression: default_compression(),
            max_message_bytes: default_max_message_bytes(),
            delivery_timeout: default_delivery_timeout(),
            encoding: crate::ocsf::RecordEncoding::Native,
        }
    }

    /// The brokers, trimmed.
    pub fn servers(&self) -> Vec<&str> {
        self.bootstrap_servers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push(ConfigError::new("id", "must not be empty"));
        }
        let servers = self.servers();
        if servers.is_empty() {
            errors.push(ConfigError::new(
                "bootstrap_servers",
                "must name at least one broker (host:port)",
            ));
        }
        let mut all_loopback = !servers.is_empty();
        for s in &servers {
            match s.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    all_loopback &= is_loopback_host(host);
                }
                _ => errors.push(ConfigError::new(
                    "bootstrap_servers",
                    format!("{s:?} is not host:port"),
                )),
            }
        }
        let probe = self
            .topic
            .replace("{category}", "SignInLogs")
            .replace("{table}", "SigninLogs");
        if probe.is_empty()
            || probe.len() > 249
            || !probe
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        {
            errors.push(ConfigError::new(
                "topic",
                format!(
                    "{:?} must be letters, digits, '.', '-', '_' (with {{category}} or {{table}} placeholders)",
                    self.topic
                ),
            ));
        }
        resolve_categories(&self.categories, &mut errors);
        if !["none", "gzip"].contains(&self.compression.as_str()) {
            errors.push(ConfigError::new(
                "compression",
                format!("must be none or gzip, got {:?}", self.compression),
            ));
        }
        if !(1024..=100_000_000).contains(&self.max_message_bytes) {
            errors.push(ConfigError::new(
                "max_message_bytes",
                format!("must be 1024..=100000000, got {}", self.max_message_bytes),
            ));
        }
        if self.delivery_timeout < Duration::from_secs(1) {
            errors.push(ConfigError::new("delivery_timeout", "must be at least 1s"));
        }
        match &self.auth {
            KafkaSinkAuth::ConnectionString { connection_string } => {
                if !connection_string
                    .expose_secret()
                    .to_ascii_lowercase()
                    .contains("endpoint=sb://")
                {
                    errors.push(ConfigError::new(
                        "auth.connection_string",
                        "must contain Endpoint=sb://<namespace>.servicebus.windows.net/",
                    ));
                }
            }
            KafkaSinkAuth::SaslPlain { username, password } => {
                if username.is_empty() {
                    errors.push(ConfigError::new("auth.username", "must not be empty"));
                }
                if password.expose_secret().is_empty() {
                    errors.push(ConfigError::new("auth.password", "must not be empty"));
                }
            }
            KafkaSinkAuth::Plaintext => {
                if !all_loopback {
                    errors.push(ConfigError::new(
                        "auth",
                        "plaintext (no TLS) is only allowed for brokers on 127.0.0.1, ::1 or localhost",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
