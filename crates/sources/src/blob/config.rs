//! Blob source configuration: deserialized from TOML (`deny_unknown_fields`, durations as `"2h"`), checked by
//! [`BlobSourceConfig::validate`] with every problem reported at once and no I/O.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The Storage-account (Blob) source's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobSourceConfig {
    /// Source name (goes into `_Source`, cursor keys and quarantine positions).
    pub id: String,
    /// Storage account name; may come from the connection string instead.
    #[serde(default)]
    pub account: Option<String>,
    /// Blob endpoint (`https://<account>.blob.core.windows.net`, or Azurite's
    /// `http://127.0.0.1:10000/devstoreaccount1`); default from the connection string or the account.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Containers to read. Default: every `insights-logs-*` container and `insights-activity-logs` found
    /// (looked up again at each discovery).
    #[serde(default)]
    pub containers: Vec<String>,
    /// How to authenticate.
    pub auth: BlobAuth,
    /// Time between polls.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: String,
    /// Where to start when there is no cursor: an RFC 3339 time or a duration back from now (`"7d"`).
    /// Default: `lookback` back from now.
    #[serde(default)]
    pub since: Option<String>,
    /// How long after its hour ends a blob is still re-read for late appends; older hours are closed and
    /// their offsets pruned.
    #[serde(default = "default_lookback")]
    pub lookback: String,
    /// How often the resource folders of each container are walked again (new resources).
    #[serde(default = "default_discover_every")]
    pub discover_every: String,
    /// Records per delivered batch (at most).
    #[serde(default = "default_batch_records")]
    pub batch_records: usize,
    /// Bytes read per range request (at most).
    #[serde(default = "default_read_bytes")]
    pub read_bytes: usize,
}

/// How the source authenticates (`auth = { type = "account_key", key = "..." }`).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BlobAuth {
    /// A Storage connection string (`AccountName=...;AccountKey=...;BlobEndpoint=...` or with
    /// `SharedAccessSignature=...`).
    ConnectionString {
        /// The connection string (never printed).
        connection_string: SecretString,
    },
    /// The account's access key.
    AccountKey {
        /// The base64 key (never printed).
        key: SecretString,
    },
    /// A SAS token (`sv=...&ss=b&srt=sco&sp=rl&sig=...`); it needs list and read permissions.
    Sas {
        /// The token, with or without the leading `?` (never printed).
        token: SecretString,
    },
    /// Entra app registration with a client secret.
    ClientSecret {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The secret (never printed).
        secret: SecretString,
        /// Login host, default `https://login.microsoftonline.com`.
        #[serde(default)]
        authority_host: Option<String>,
    },
    /// Azure managed identity (IMDS).
    ManagedIdentity {
        /// A user-assigned identity's client id; none for the system-assigned one.
        #[serde(default)]
        client_id: Option<String>,
        /// The identity endpoint, default IMDS.
        #[serde(default)]
        msi_endpoint: Option<String>,
    },
    /// Workload identity federation (a projected service-account token file).
    WorkloadIdentity {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The federated token file.
        token_file: PathBuf,
    },
}

impl std::fmt::Debug for BlobAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BlobAuth::ConnectionString { .. } => "ConnectionString(..)",
            BlobAuth::AccountKey { .. } => "AccountKey(..)",
            BlobAuth::Sas { .. } => "Sas(..)",
            BlobAuth::ClientSecret { .. } => "ClientSecret(..)",
            BlobAuth::ManagedIdentity { .. } => "ManagedIdentity(..)",
            BlobAuth::WorkloadIdentity { .. } => "WorkloadIdentity(..)",
        })
    }
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault (`auth.key`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn default_poll_interval() -> String {
    "1m".to_owned()
}
fn default_lookback() -> String {
    "2h".to_owned()
}
fn default_discover_every() -> String {
    "10m".to_owned()
}
const fn default_batch_records() -> usize {
    5000
}
const fn default_read_bytes() -> usize {
    8 << 20
}

/// Where a source starts without a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// A fixed time.
    At(DateTime<Utc>),
    /// This long before now.
    Ago(Duration),
}

/// The parts of a connection string entrail uses.
#[derive(Debug, Clone, Default)]
pub struct ConnectionString {
    /// `AccountName`.
    pub account: Option<String>,
    /// `AccountKey`.
    pub key: Option<SecretString>,
    /// `SharedAccessSignature`.
    pub sas: Option<SecretString>,
    /// `BlobEndpoint`, or built from `DefaultEndpointsProtocol`, the account and `EndpointSuffix`.
    pub endpoint: Option<String>,
}

impl ConnectionString {
    /// Parses `Key=Value;...` (keys case-insensitive; values may contain `=`).
    pub fn parse(text: &str) -> Result<ConnectionString, String> {
        let mut c = ConnectionString::default();
        let (mut protocol, mut suffix) = ("https".to_owned(), None::<String>);
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err("a part is not Key=Value".to_owned());
            };
            match k.to_ascii_lowercase().as_str() {
                "accountname" => c.account = Some(v.to_owned()),
                "accountkey" => c.key = Some(SecretString::from(v.to_owned())),
                "sharedaccesssignature" => c.sas = Some(SecretString::from(v.to_owned())),
                "blobendpoint" => c.endpoint = Some(v.trim_end_matches('/').to_owned()),
                "defaultendpointsprotocol" => protocol = v.to_owned(),
                "endpointsuffix" => suffix = Some(v.to_owned()),
                _ => {}
            }
        }
        if c.endpoint.is_none()
            && let Some(a) = &c.account
        {
            let suffix = suffix.unwrap_or_else(|| "core.windows.net".to_owned());
            c.endpoint = Some(format!("{protocol}://{a}.blob.{suffix}"));
        }
        if c.key.is_none() && c.sas.is_none() {
            return Err("has neither AccountKey nor SharedAccessSignature".to_owned());
        }
        if c.endpoint.is_none() {
            return Err("has neither BlobEndpoint nor AccountName".to_owned());
        }
        Ok(c)
    }
}

/// The validated settings the runtime uses.
#[derive(Debug, Clone)]
pub struct Validated {
    /// Poll interval.
    pub poll_interval: Duration,
    /// Start without a cursor.
    pub since: Since,
    /// Re-read window after an hour ends.
    pub lookback: Duration,
    /// Resource walk interval.
    pub discover_every: Duration,
}

fn duration(
    field: &str,
    text: &str,
    min: Duration,
    errors: &mut Vec<ConfigError>,
) -> Option<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) if d >= min => Some(d),
        Ok(_) => {
            errors.push(ConfigError {
                field: field.to_owned(),
                message: format!("must be at least {}", humantime::format_duration(min)),
            });
            None
        }
        Err(e) => {
            errors.push(ConfigError {
                field: field.to_owned(),
                message: format!("not a duration ({text:?}): {e}"),
            });
            None
        }
    }
}

/// Whether a container name is valid in Azure Storage (3–63 lowercase letters, digits and single dashes).
pub(super) fn valid_container(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

impl BlobSourceConfig {
    /// A config with defaults for everything but the id, endpoint and auth (tests, demo, benchmarks).
    pub fn new(id: impl Into<String>, endpoint: impl Into<String>, auth: BlobAuth) -> Self {
        BlobSourceConfig {
            id: id.into(),
            account: None,
            endpoint: Some(endpoint.into()),
            containers: Vec::new(),
            auth,
            poll_interval: default_poll_interval(),
            since: None,
            lookback: default_lookback(),
            discover_every: default_discover_every(),
            batch_records: default_batch_records(),
            read_bytes: default_read_bytes(),
        }
    }

    /// Checks every field and returns every problem at once. No I/O.
    pub fn validate(&self) -> Result<Validated, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(ConfigError {
                field: field.to_owned(),
                message,
            })
        };
        if self.id.trim().is_empty() {
            err("id", "must not be empty".to_owned());
        }
        let conn = match &self.auth {
            BlobAuth::ConnectionString { connection_string } => {
                match ConnectionString::parse(connection_string.expose_secret()) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        err("auth.connection_string", e);
                        None
                    }
                }
            }
            BlobAuth::AccountKey { key } => {
                use base64::Engine;
                if base64::engine::general_purpose::STANDARD
                    .decode(key.expose_secret().trim())
                    .is_err()
                {
                    err("auth.key", "is not base64".to_owned());
                }
                None
            }
            BlobAuth::Sas { token } => {
                if !token.expose_secret().contains("sig=") {
                    err("auth.token", "a SAS token has a sig= parameter".to_owned());
                }
                None
            }
            BlobAuth::ClientSecret {
                tenant_id,
                client_id,
                ..
            }
            | BlobAuth::WorkloadIdentity {
                tenant_id,
                client_id,
                ..
            } => {
                if tenant_id.trim().is_empty() {
                    err("auth.tenant_id", "must not be empty".to_owned());
                }
                if client_id.trim().is_empty() {
                    err("auth.client_id", "must not be empty".to_owned());
                }
                None
            }
            BlobAuth::ManagedIdentity { .. } => None,
        };
        let has_account = self.account.is_some()
            || conn.as_ref().is_some_and(|c| c.account.is_some())
            || self.endpoint.is_some();
        if !has_account {
            err(
                "account",
                "give account, endpoint or a connection string with AccountName".to_owned(),
            );
        }
        if let Some(e) = &self.endpoint
            && !(e.starts_with("https://") || e.starts_with("http://"))
        {
            err("endpoint", format!("must be an http(s) URL, got {e:?}"));
        }
        for (i, c) in self.containers.iter().enumerate() {
            if !valid_container(c) {
                err(
                    &format!("containers[{i}]"),
                    format!("{c:?} is not a valid container name"),
                );
            }
        }
        if !(1..=100_000).contains(&self.batch_records) {
            err(
                "batch_records",
                format!("must be 1..=100000, got {}", self.batch_records),
            );
        }
        if !(4096..=(64 << 20)).contains(&self.read_bytes) {
            err(
                "read_bytes",
                format!("must be 4096..=67108864, got {}", self.read_bytes),
            );
        }
        let poll = duration(
            "poll_interval",
            &self.poll_interval,
            Duration::from_millis(100),
            &mut errors,
        );
        let lookback = duration("lookback", &self.lookback, Duration::ZERO, &mut errors);
        let discover = duration(
            "discover_every",
            &self.discover_every,
            Duration::ZERO,
            &mut errors,
        );
        let since = match self.since.as_deref() {
            None => lookback.map(Since::Ago),
            Some(s) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Some(Since::At(t.with_timezone(&Utc))),
                Err(_) => duration("since", s, Duration::ZERO, &mut errors).map(Since::Ago),
            },
        };
        match (poll, since, lookback, discover) {
            (Some(poll_interval), Some(since), Some(lookback), Some(discover_every))
                if errors.is_empty() =>
            {
                Ok(Validated {
                    poll_interval,
                    since,
                    lookback,
                    discover_every,
                })
            }
            _ => Err(errors),
        }
    }
}
