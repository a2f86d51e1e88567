//! Alert destination configuration (`[[alerts.destinations]]`, tagged by `type`): deserialized with
//! `deny_unknown_fields`, checked by `validate()` with every problem at once and no I/O.

use crate::syslog::{SyslogConfig, SyslogFraming, SyslogTlsConfig, SyslogTransport};
use crate::util::{ConfigError, duration};
use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// One destination; `type` picks the variant.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AlertDestinationConfig {
    /// `type = "webhook"`: POSTs the OCSF alert JSON.
    Webhook(WebhookConfig),
    /// `type = "teams"`: POSTs a Teams message with an Adaptive Card.
    Teams(WebhookConfig),
    /// `type = "slack"`: POSTs a Slack Block Kit message.
    Slack(WebhookConfig),
    /// `type = "email"`: SMTP with STARTTLS.
    Email(EmailConfig),
    /// `type = "syslog"`: RFC 5424 with the OCSF JSON as MSG.
    Syslog(AlertSyslogConfig),
}

/// Lowest severity a destination receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinSeverity {
    /// Everything.
    #[default]
    Informational,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl MinSeverity {
    /// The OCSF `severity_id` of this level.
    pub const fn id(self) -> u8 {
        match self {
            MinSeverity::Informational => 1,
            MinSeverity::Low => 2,
            MinSeverity::Medium => 3,
            MinSeverity::High => 4,
            MinSeverity::Critical => 5,
        }
    }
}

const fn default_http_timeout() -> Duration {
    Duration::from_secs(15)
}

/// Webhook, Teams and Slack settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Destination name, unique among destinations.
    pub id: String,
    /// The URL to POST to (`https://`, or `http://` to a loopback address).
    pub url: String,
    /// Value of the `Authorization` header, when the receiver wants one.
    #[serde(default)]
    pub authorization: Option<SecretString>,
    /// PEM CA file for the receiver's certificate (default: the public web roots).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Timeout of one request (default `15s`).
    #[serde(default = "default_http_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    /// Lowest severity sent (default `informational`).
    #[serde(default)]
    pub min_severity: MinSeverity,
    /// Also send updates of an alert (more detections grouped into it); default: creations only.
    #[serde(default)]
    pub updates: bool,
}

impl WebhookConfig {
    /// A configuration with every default.
    pub fn new(id: impl Into<String>, url: impl Into<String>) -> WebhookConfig {
        WebhookConfig {
            id: id.into(),
            url: url.into(),
            authorization: None,
            tls_ca_file: None,
            timeout: default_http_timeout(),
            min_severity: MinSeverity::default(),
            updates: false,
        }
    }

    /// Every problem at once; no I/O.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        check_id(&self.id, &mut errors);
        match reqwest::Url::parse(&self.url) {
            Ok(u) if u.scheme() == "https" => {}
            Ok(u)
                if u.scheme() == "http"
                    && u.host_str().is_some_and(crate::util::is_loopback_host) => {}
            Ok(_) => errors.push(ConfigError::new(
                "url",
                "must be https:// (http:// only to a loopback address)",
            )),
            Err(e) => errors.push(ConfigError::new("url", format!("not a URL: {e}"))),
        }
        if self.timeout.is_zero() {
            errors.push(ConfigError::new("timeout", "must be positive"));
        }
        done(errors)
    }
}

const fn default_smtp_port() -> u16 {
    587
}
const fn default_smtp_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Email (SMTP with STARTTLS) settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Destination name, unique among destinations.
    pub id: String,
    /// SMTP server host name (also the name its certificate must carry).
    pub server: String,
    /// Port (default 587, submission with STARTTLS).
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `From:` address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// SMTP user, when the server wants authentication (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP password.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// PEM CA file the server's certificate must chain to (default: the public web roots).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Timeout of one SMTP exchange (default `30s`).
    #[serde(default = "default_smtp_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    /// Lowest severity sent (default `informational`).
    #[serde(default)]
    pub min_severity: MinSeverity,
    /// Also send updates of an alert; default: creations only.
    #[serde(default)]
    pub updates: bool,
}

fn valid_address(a: &str) -> bool {
    a.parse::<lettre::Address>().is_ok()
}

impl EmailConfig {
    /// Every problem at once; no I/O.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        check_id(&self.id, &mut errors);
        if self.server.trim().is_empty() {
            errors.push(ConfigError::new("server", "must not be empty"));
        }
        if self.port == 0 {
            errors.push(ConfigError::new("port", "must be 1..=65535"));
        }
        if !valid_address(&self.from) {
            errors.push(ConfigError::new(
                "from",
                format!("{:?} is not an email address", self.from),
            ));
        }
        if self.to.is_empty() {
            errors.push(ConfigError::new("to", "must list at least one address"));
        }
        for (i, a) in self.to.iter().enumerate() {
            if !valid_address(a) {
                errors.push(ConfigError::new(
                    &format!("to[{i}]"),
                    format!("{a:?} is not an email address"),
                ));
            }
        }
        if self.username.is_some() != self.password.is_some() {
            errors.push(ConfigError::new(
                "password",
                "username and password go together",
            ));
        }
        if self.timeout.is_zero() {
            errors.push(ConfigError::new("timeout", "must be positive"));
        }
        done(errors)
    }
}

const fn default_facility() -> u8 {
    13
}
fn default_app_name() -> String {
    "entrail".to_owned()
}
const fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}
const fn default_write_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Syslog settings for alerts: the syslog sink's transport keys (the body is always the OCSF JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSyslogConfig {
    /// Destination name, unique among destinations.
    pub id: String,
    /// The receiver, `host:port`.
    pub address: String,
    /// `udp`, `tcp` (default) or `tls`.
    #[serde(default)]
    pub transport: SyslogTransport,
    /// `octet_counting` (default) or `newline`.
    #[serde(default)]
    pub framing: SyslogFraming,
    /// Facility 0..=23 (default 13).
    #[serde(default = "default_facility")]
    pub facility: u8,
    /// APP-NAME (default `entrail`).
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// HOSTNAME (default: this machine's).
    #[serde(default)]
    pub hostname: Option<String>,
    /// Largest message; see the syslog sink.
    #[serde(default)]
    pub max_message_bytes: Option<usize>,
    /// TLS settings, as for the syslog sink.
    #[serde(default)]
    pub tls: SyslogTlsConfig,
    /// Connect timeout (default `10s`).
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// Write timeout (default `30s`).
    #[serde(default = "default_write_timeout", deserialize_with = "duration")]
    pub write_timeout: Duration,
    /// Lowest severity sent (default `informational`).
    #[serde(default)]
    pub min_severity: MinSeverity,
    /// Also send updates of an alert; default: creations only.
    #[serde(default)]
    pub updates: bool,
}

impl AlertSyslogConfig {
    /// The syslog sink settings this destination's transport uses.
    pub fn syslog_config(&self) -> SyslogConfig {
        let mut c = SyslogConfig::new(self.id.clone(), self.address.clone());
        c.transport = self.transport;
        c.framing = self.framing;
        c.facility = self.facility;
        c.app_name = self.app_name.clone();
        c.hostname = self.hostname.clone();
        c.max_message_bytes = self.max_message_bytes;
        c.tls = self.tls.clone();
        c.connect_timeout = self.connect_timeout;
        c.write_timeout = self.write_timeout;
        c
    }

    /// Every problem at once; no I/O.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        self.syslog_config().validate()
    }
}

impl AlertDestinationConfig {
    /// The destination's name.
    pub fn id(&self) -> &str {
        match self {
            AlertDestinationConfig::Webhook(c)
            | AlertDestinationConfig::Teams(c)
            | AlertDestinationConfig::Slack(c) => &c.id,
            AlertDestinationConfig::Email(c) => &c.id,
            AlertDestinationConfig::Syslog(c) => &c.id,
        }
    }

    /// Every problem at once; no I/O.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        match self {
            AlertDestinationConfig::Webhook(c)
            | AlertDestinationConfig::Teams(c)
            | AlertDestinationConfig::Slack(c) => c.validate(),
            AlertDestinationConfig::Email(c) => c.validate(),
            AlertDestinationConfig::Syslog(c) => c.validate(),
        }
    }
}

fn check_id(id: &str, errors: &mut Vec<ConfigError>) {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        errors.push(ConfigError::new(
            "id",
            format!("{id:?} must be non-empty letters, digits, '_', '-' or '.'"),
        ));
    }
}

fn done(errors: Vec<ConfigError>) -> Result<(), Vec<ConfigError>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
