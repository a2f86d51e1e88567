//! Syslog sink configuration (`[[sinks]] type = "syslog"`): deserialized with `deny_unknown_fields`,
//! durations as `"10s"` or seconds, checked by [`SyslogConfig::validate`] with every problem reported at
//! once and no I/O.

use crate::util::{ConfigError, duration, resolve_categories};
use model::Category;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Syslog sink settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// Sink name (its consumer name in the log).
    pub id: String,
    /// The receiver, `host:port` (`[::1]:6514` for IPv6).
    pub address: String,
    /// `udp`, `tcp` or `tls`.
    #[serde(default)]
    pub transport: SyslogTransport,
    /// Stream framing for `tcp`/`tls`: `octet_counting` (RFC 6587 3.4.1) or `newline`. Ignored for UDP.
    #[serde(default)]
    pub framing: SyslogFraming,
    /// Message body: `rfc5424_json` (the canonical record as JSON), `cef` (ArcSight), `leef` (QRadar 2.0),
    /// `raw` (the record as received, JSON), `ocsf` or `ocsf_raw` (an OCSF event as JSON).
    #[serde(default)]
    pub encoding: SyslogEncoding,
    /// Syslog facility 0..=23 (default 13, "log audit").
    #[serde(default = "default_facility")]
    pub facility: u8,
    /// RFC 5424 APP-NAME (printable ASCII, at most 48 characters).
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// RFC 5424 HOSTNAME; default: this machine's host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Largest message (header and body, without framing); longer ones are cut with
    /// [`crate::TRUNCATION_MARKER`]. Default 2048 for UDP (RFC 5426), 65536 for TCP/TLS.
    #[serde(default)]
    pub max_message_bytes: Option<usize>,
    /// LEEF 2.0 attribute delimiter (default `^`).
    #[serde(default = "default_leef_delimiter")]
    pub leef_delimiter: char,
    /// TLS settings (`transport = "tls"`).
    #[serde(default)]
    pub tls: SyslogTlsConfig,
    /// Timeout of one connection attempt (TCP/TLS, including the TLS handshake).
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// Timeout of one socket write.
    #[serde(default = "default_write_timeout", deserialize_with = "duration")]
    pub write_timeout: Duration,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
}

/// How messages travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogTransport {
    /// One datagram per message (RFC 5426); no delivery guarantee at all.
    Udp,
    /// TCP (RFC 6587).
    #[default]
    Tcp,
    /// TLS over TCP (RFC 5425).
    Tls,
}

/// Stream framing for TCP and TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogFraming {
    /// `<length> <message>` (RFC 6587 octet counting; RFC 5425 requires it for TLS).
    #[default]
    OctetCounting,
    /// `<message>\n` (non-transparent framing; safe here because messages never contain LF).
    Newline,
}

/// The message body format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogEncoding {
    /// RFC 5424 with the canonical record as compact JSON in MSG.
    #[default]
    Rfc5424Json,
    /// ArcSight Common Event Format in an RFC 5424 MSG.
    Cef,
    /// QRadar Log Event Extended Format 2.0 in an RFC 5424 MSG.
    Leef,
    /// RFC 5424 with the record as received (JSON) in MSG.
    Raw,
    /// RFC 5424 with the record as an OCSF event (JSON, see [`crate::ocsf`]) in MSG.
    Ocsf,
    /// As `ocsf`, with the record as received in the event's `raw_data`.
    OcsfRaw,
}

/// TLS client settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogTlsConfig {
    /// PEM file of the CA certificate(s) the receiver's certificate must chain to (required when
    /// `verify_server` is on).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Check the receiver's certificate and name (default on; off only for tests).
    #[serde(default = "default_true")]
    pub verify_server: bool,
    /// The name checked against the receiver's certificate; default: the host part of `address`.
    #[serde(default)]
    pub server_name: Option<String>,
    /// PEM client certificate chain, for receivers that require client authentication.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
}

impl Default for SyslogTlsConfig {
    fn default() -> Self {
        SyslogTlsConfig {
            ca_file: None,
            verify_server: true,
            server_name: None,
            client_cert_file: None,
            client_key_file: None,
        }
    }
}

const fn default_true() -> bool {
    true
}
const fn default_facility() -> u8 {
    13
}
fn default_app_name() -> String {
    "entrail".to_owned()
}
const fn default_leef_delimiter() -> char {
    '^'
}
const fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}
const fn default_write_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Smallest accepted `max_message_bytes` (RFC 5426 requires receivers to take 480 bytes).
pub(crate) const MIN_MESSAGE_BYTES: usize = 480;

impl SyslogConfig {
    /// A configuration with every default, for `address`.
    pub fn new(id: impl Into<String>, address: impl Into<String>) -> Self {
        SyslogConfig {
            id: id.into(),
            address: address.into(),
            transport: SyslogTransport::default(),
            framing: SyslogFraming::default(),
            encoding: SyslogEncoding::default(),
            facility: default_facility(),
            app_name: default_app_name(),
            hostname: None,
            max_message_bytes: None,
            leef_delimiter: default_leef_delimiter(),
            tls: SyslogTlsConfig::default(),
            connect_timeout: default_connect_timeout(),
            write_timeout: default_write_timeout(),
            categories: Vec::new(),
        }
    }

    /// The effective message size limit.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes.unwrap_or(match self.transport {
            SyslogTransport::Udp => 2048,
            SyslogTransport::Tcp | SyslogTransport::Tls => 65536,
        })
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        self.resolve().map(|_| ())
    }

    /// Validates and returns the category filter.
    pub(crate) fn resolve(&self) -> Result<Vec<Category>, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, m: String| errors.push(ConfigError::new(field, m));
        if self.id.trim().is_empty() {
            err("id", "must not be empty".into());
        }
        match split_host_port(&self.address) {
            Some((host, _)) if !host.is_empty() => {}
            _ => err(
                "address",
                format!("must be host:port, got {:?}", self.address),
            ),
        }
        if self.facility > 23 {
            err("facility", format!("must be 0..=23, got {}", self.facility));
        }
        if self.app_name.is_empty()
            || self.app_name.len() > 48
            || !self.app_name.bytes().all(|b| (33..=126).contains(&b))
        {
            err(
                "app_name",
                "must be 1-48 printable ASCII characters without spaces".into(),
            );
        }
        if self.hostname.as_ref().is_some_and(|h| {
            h.is_empty() || h.len() > 255 || !h.bytes().all(|b| (33..=126).contains(&b))
        }) {
            err(
                "hostname",
                "must be 1-255 printable ASCII characters without spaces".into(),
            );
        }
        let max = self.max_message_bytes();
        if max < MIN_MESSAGE_BYTES {
            err(
                "max_message_bytes",
                format!("must be at least {MIN_MESSAGE_BYTES}, got {max}"),
            );
        }
        if self.transport == SyslogTransport::Udp && max > 65_000 {
            err(
                "max_message_bytes",
                format!("must be at most 65000 for UDP, got {max}"),
            );
        }
        let d = self.leef_delimiter;
        if d == '=' || d == '\\' || d == '|' || d == '\r' || d == '\n' || !d.is_ascii() {
            err(
                "leef_delimiter",
                format!("must be one ASCII character other than = \\ | CR LF, got {d:?}"),
            );
        }
        let tls = &self.tls;
        if self.transport == SyslogTransport::Tls {
            if tls.verify_server && tls.ca_file.is_none() {
                err(
                    "tls.ca_file",
                    "is required while tls.verify_server is on".into(),
                );
            }
            if tls.client_cert_file.is_some() != tls.client_key_file.is_some() {
                err(
                    "tls.client_key_file",
                    "client_cert_file and client_key_file go together".into(),
                );
            }
            if tls
                .server_name
                .as_ref()
                .is_some_and(|n| n.trim().is_empty())
            {
                err("tls.server_name", "must not be empty when given".into());
            }
        }
        if self.connect_timeout.is_zero() {
            err("connect_timeout", "must be positive".into());
        }
        if self.write_timeout.is_zero() {
            err("write_timeout", "must be positive".into());
        }
        let categories = resolve_categories(&self.categories, &mut errors);
        if errors.is_empty() {
            Ok(categories)
        } else {
            Err(errors)
        }
    }
}

/// Splits `host:port` / `[v6]:port`.
pub(crate) fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let port = port.parse().ok()?;
    Some((host.trim_start_matches('[').trim_end_matches(']'), port))
}
