//! Event Hubs source configuration: deserialized from TOML (`deny_unknown_fields`, durations as `"500ms"` or
//! seconds), checked by [`EventHubsSourceConfig::validate`] with every problem reported at once and no I/O.

use crate::graph::GraphAuth;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// The Event Hubs (Kafka endpoint) source's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHubsSourceConfig {
    /// Source name (goes into `_Source` and quarantine positions).
    pub id: String,
    /// The namespace's Kafka endpoint, `<namespace>.servicebus.windows.net:9093` (comma-separated list allowed).
    pub bootstrap_servers: String,
    /// Event hub names (Kafka topics), e.g. `insights-logs-signinlogs`.
    pub event_hubs: Vec<String>,
    /// The consumer group (`$Default` unless you created one for entrail).
    #[serde(default = "default_group")]
    pub consumer_group: String,
    /// How the client authenticates.
    pub auth: EventHubsAuth,
    /// Where a partition without a committed offset starts: `earliest`, `latest` or an RFC 3339 time.
    #[serde(default = "default_start")]
    pub start: String,
    /// Most records in one delivered batch.
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    /// Most message bytes in one delivered batch.
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Longest wait to fill a batch before delivering what there is.
    #[serde(default = "default_max_wait", deserialize_with = "duration")]
    pub max_wait: Duration,
    /// Group session timeout (Event Hubs recommends 30 s).
    #[serde(default = "default_session_timeout", deserialize_with = "duration")]
    pub session_timeout: Duration,
    /// Longest wait between retries after a broker or delivery failure.
    #[serde(default = "default_max_backoff", deserialize_with = "duration")]
    pub max_backoff: Duration,
}

/// How the source authenticates (`type = "connection_string"`, ...).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventHubsAuth {
    /// SASL_SSL with PLAIN: user `$ConnectionString`, password the namespace or event hub connection string.
    ConnectionString {
        /// `Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...` (never printed).
        connection_string: SecretString,
    },
    /// SASL_SSL with OAUTHBEARER: an Entra token for `https://<namespace>/.default` from the same flows as
    /// the Graph source (the identity needs the "Azure Event Hubs Data Receiver" role).
    Oauth {
        /// The Entra tenant (GUID or verified domain).
        tenant_id: String,
        /// The login host.
        #[serde(default = "default_authority_host")]
        authority_host: String,
        /// The credential, as for a Graph source (`client_secret`, `certificate`, `managed_identity`,
        /// `workload_identity`, `azure_cli`).
        credential: GraphAuth,
    },
    /// No TLS, no SASL: only for brokers on this machine (tests against a mock cluster or a local Kafka).
    Plaintext,
}

impl std::fmt::Debug for EventHubsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventHubsAuth::ConnectionString { .. } => f
                .debug_struct("ConnectionString")
                .field("connection_string", &"**REDACTED**")
                .finish(),
            EventHubsAuth::Oauth {
                tenant_id,
                authority_host,
                credential,
            } => f
                .debug_struct("Oauth")
                .field("tenant_id", tenant_id)
                .field("authority_host", authority_host)
                .field("credential", credential)
                .finish(),
            EventHubsAuth::Plaintext => f.write_str("Plaintext"),
        }
    }
}

/// Where a partition without a committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// The oldest retained message.
    Earliest,
    /// Only messages enqueued from now on.
    Latest,
    /// The oldest retained message enqueued at or after this time (earlier ones are skipped).
    Time(DateTime<Utc>),
}

impl StartPosition {
    /// Parses `earliest`, `latest` or an RFC 3339 time.
    pub fn parse(s: &str) -> Option<StartPosition> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("earliest") => Some(StartPosition::Earliest),
            t if t.eq_ignore_ascii_case("latest") => Some(StartPosition::Latest),
            t => DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| StartPosition::Time(t.with_timezone(&Utc))),
        }
    }
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault (`auth.connection_string`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn default_group() -> String {
    "$Default".to_owned()
}
fn default_start() -> String {
    "earliest".to_owned()
}
const fn default_max_batch_records() -> usize {
    10_000
}
const fn default_max_batch_bytes() -> usize {
    16 << 20
}
const fn default_max_wait() -> Duration {
    Duration::from_millis(500)
}
const fn default_session_timeout() -> Duration {
    Duration::from_secs(30)
}
const fn default_max_backoff() -> Duration {
    Duration::from_secs(60)
}
fn default_authority_host() -> String {
    "https://login.microsoftonline.com".to_owned()
}

/// A duration as a humantime string (`"500ms"`) or a number of seconds.
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

/// Whether a broker host is this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Splits `host:port` (IPv6 in brackets); `None` when the port is missing or not a number.
fn host_port(server: &str) -> Option<(&str, u16)> {
    let (host, port) = server.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

/// An event hub name: 1..=256 letters, digits, `.`, `-`, `_`.
fn valid_hub_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

impl EventHubsSourceConfig {
    /// A configuration with every default.
    pub fn new(
        id: impl Into<String>,
        bootstrap_servers: impl Into<String>,
        event_hubs: Vec<String>,
        auth: EventHubsAuth,
    ) -> EventHubsSourceConfig {
        EventHubsSourceConfig {
            id: id.into(),
            bootstrap_servers: bootstrap_servers.into(),
            event_hubs,
            consumer_group: default_group(),
            auth,
            start: default_start(),
            max_batch_records: default_max_batch_records(),
            max_batch_bytes: default_max_batch_bytes(),
            max_wait: default_max_wait(),
            session_timeout: default_session_timeout(),
            max_backoff: default_max_backoff(),
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

    /// The token scope for OAUTHBEARER: `https://<namespace host>/.default` (the first broker's host).
    pub fn token_scope(&self) -> String {
        let host = self
            .servers()
            .first()
            .and_then(|s| host_port(s))
            .map_or("", |(h, _)| h)
            .to_owned();
        format!("https://{host}/.default")
    }

    /// The parsed start position (`Earliest` when it does not parse; `validate` reports that).
    pub fn start_position(&self) -> StartPosition {
        StartPosition::parse(&self.start).unwrap_or(StartPosition::Earliest)
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(ConfigError {
                field: field.to_owned(),
                message,
            })
        };
        if self.id.trim().is_empty() {
            err("id", "must not be empty".into());
        }
        let servers = self.servers();
        if servers.is_empty() {
            err(
                "bootstrap_servers",
                "must name at least one broker (<namespace>.servicebus.windows.net:9093)".into(),
            );
        }
        let mut all_loopback = !servers.is_empty();
        for s in &servers {
            match host_port(s) {
                Some((host, _)) => all_loopback &= is_loopback(host),
                None => err(
                    "bootstrap_servers",
                    format!("{s:?} is not host:port (<namespace>.servicebus.windows.net:9093)"),
                ),
            }
        }
        if self.event_hubs.is_empty() {
            err("event_hubs", "must name at least one event hub".into());
        }
        for (i, name) in self.event_hubs.iter().enumerate() {
            if !valid_hub_name(name) {
                err(
                    &format!("event_hubs[{i}]"),
                    format!("{name:?} must be 1..=256 letters, digits, '.', '-' or '_'"),
                );
            } else if self.event_hubs[..i].contains(name) {
                err(
                    &format!("event_hubs[{i}]"),
                    format!("{name:?} listed twice"),
                );
            }
        }
        if self.consumer_group.trim().is_empty() {
            err("consumer_group", "must not be empty".into());
        }
        if StartPosition::parse(&self.start).is_none() {
            err(
                "start",
                format!(
                    "must be earliest, latest or an RFC 3339 time, got {:?}",
                    self.start
                ),
            );
        }
        if !(1..=1_000_000).contains(&self.max_batch_records) {
            err(
                "max_batch_records",
                format!("must be 1..=1000000, got {}", self.max_batch_records),
            );
        }
        if !(1024..=(1 << 30)).contains(&self.max_batch_bytes) {
            err(
                "max_batch_bytes",
                format!("must be 1024..=1073741824, got {}", self.max_batch_bytes),
            );
        }
        if self.max_wait.is_zero() || self.max_wait > Duration::from_secs(60) {
            err("max_wait", "must be within 1ms..=60s".into());
        }
        if self.session_timeout < Duration::from_secs(1) {
            err("session_timeout", "must be at least 1s".into());
        }
        if self.max_backoff < Duration::from_secs(1) {
            err("max_backoff", "must be at least 1s".into());
        }
        match &self.auth {
            EventHubsAuth::ConnectionString { connection_string } => {
                let cs = connection_string.expose_secret();
                let has = |k: &str| {
                    cs.split(';')
                        .any(|p| p.trim().to_ascii_lowercase().starts_with(k))
                };
                if !has("endpoint=sb://") {
                    err(
                        "auth.connection_string",
                        "must contain Endpoint=sb://<namespace>.servicebus.windows.net/".into(),
                    );
                }
                let keyed = has("sharedaccesskeyname=") && has("sharedaccesskey=");
                if !(keyed || has("sharedaccesssignature=")) {
                    err(
                        "auth.connection_string",
                        "must contain SharedAccessKeyName and SharedAccessKey (or SharedAccessSignature)"
                            .into(),
                    );
                }
            }
            EventHubsAuth::Oauth {
                tenant_id,
                authority_host,
                credential,
            } => {
                // The Graph source's checks cover the tenant, the authority host and the credential.
                let mut g = crate::graph::GraphSourceConfig::new(
                    self.id.clone(),
                    tenant_id.clone(),
                    credential.clone(),
                );
                g.authority_host.clone_from(authority_host);
                g.scope = Some(self.token_scope());
                if let Err(problems) = g.validate() {
                    for p in problems {
                        let field = match p.field.as_str() {
                            "tenant_id" | "authority_host" => format!("auth.{}", p.field),
                            f if f.starts_with("auth.") => {
                                format!("auth.credential.{}", &f["auth.".len()..])
                            }
                            _ => continue,
                        };
                        err(&field, p.message);
                    }
                }
            }
            EventHubsAuth::Plaintext => {
                if !all_loopback {
                    err(
                        "auth",
                        "plaintext (no TLS) is only allowed for brokers on 127.0.0.1, ::1 or localhost"
                            .into(),
                    );
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
