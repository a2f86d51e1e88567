//! Syslog source configuration: deserialized from TOML (`deny_unknown_fields`), checked by
//! [`SyslogSourceConfig::validate`] with every problem reported at once and no I/O.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The syslog source's configuration (`[[sources]] type = "syslog"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSourceConfig {
    /// Source name (goes into `_Source` and quarantine positions).
    pub id: String,
    /// Where to listen; at least one.
    pub listeners: Vec<ListenerConfig>,
    /// Longest message kept whole, in bytes (default 65536); a longer one is cut there and marked
    /// (`SyslogMessage` ends with `…[truncated N bytes]`), never dropped silently.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Records per delivered batch (default 1000).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Longest time a received message waits before its batch is delivered, in ms (default 200).
    #[serde(default = "default_flush_interval_ms")]
    pub flush_interval_ms: u64,
    /// Messages buffered between the listeners and delivery (default 10000). When full, TCP and TLS
    /// connections stop being read (backpressure) and UDP datagrams are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Goes into `CollectorHostName`; default: this machine's host name (`HOSTNAME`, `/etc/hostname`).
    #[serde(default)]
    pub collector_host_name: Option<String>,
    /// Allow listening on addresses other than loopback (`0.0.0.0`, a LAN address). Off by default so that
    /// a copied config never opens a port to the network by accident.
    #[serde(default)]
    pub allow_remote: bool,
}

/// One listening socket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// `udp`, `tcp` or `tls`.
    pub protocol: Protocol,
    /// `ip:port` to bind (`127.0.0.1:5514`; port 0 picks a free one).
    pub address: String,
    /// TCP/TLS framing (default `auto`: decided per connection by its first byte).
    #[serde(default)]
    pub framing: Framing,
    /// Server certificate chain (PEM), required for `tls`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// Server private key (PEM), required for `tls`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// CA bundle (PEM) client certificates must chain to (mutual TLS); absent: no client certificate asked.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

/// Transport of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// One message per datagram (RFC 5426).
    Udp,
    /// A stream of framed messages (RFC 6587).
    Tcp,
    /// TCP in TLS (RFC 5425).
    Tls,
}

impl Protocol {
    /// `udp`, `tcp` or `tls`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
        }
    }
}

/// How messages are delimited on a stream (RFC 6587).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// Per connection: a digit first means octet counting, anything else newline.
    #[default]
    Auto,
    /// `MSG-LEN SP SYSLOG-MSG` (RFC 6587 §3.4.1, RFC 5425 §4.3).
    OctetCounting,
    /// Messages end with LF (a CR before it and a NUL terminator are dropped too).
    Newline,
}

const fn default_max_message_bytes() -> usize {
    64 * 1024
}
const fn default_batch_size() -> usize {
    1000
}
const fn default_flush_interval_ms() -> u64 {
    200
}
const fn default_queue() -> usize {
    10_000
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault (`listeners[0].cert_file`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl SyslogSourceConfig {
    /// A config with one listener and every default (tests, examples).
    pub fn new(id: impl Into<String>, listeners: Vec<ListenerConfig>) -> SyslogSourceConfig {
        SyslogSourceConfig {
            id: id.into(),
            listeners,
            max_message_bytes: default_max_message_bytes(),
            batch_size: default_batch_size(),
            flush_interval_ms: default_flush_interval_ms(),
            queue: default_queue(),
            collector_host_name: None,
            allow_remote: false,
        }
    }

    /// The flush interval as a duration.
    pub const fn flush_interval(&self) -> Duration {
        Duration::from_millis(self.flush_interval_ms)
    }

    /// Returns every problem at once. No I/O (certificate files are read when the source starts).
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty() {
            errors.push(ConfigError::new("id", "must not be empty"));
        }
        if self.listeners.is_empty() {
            errors.push(ConfigError::new("listeners", "must name at least one"));
        }
        if !(480..=16 << 20).contains(&self.max_message_bytes) {
            errors.push(ConfigError::new(
                "max_message_bytes",
                format!(
                    "must be 480..=16777216 (RFC 5424 asks for at least 480), got {}",
                    self.max_message_bytes
                ),
            ));
        }
        if !(1..=100_000).contains(&self.batch_size) {
            errors.push(ConfigError::new(
                "batch_size",
                format!("must be 1..=100000, got {}", self.batch_size),
            ));
        }
        if !(1..=60_000).contains(&self.flush_interval_ms) {
            errors.push(ConfigError::new(
                "flush_interval_ms",
                format!("must be 1..=60000, got {}", self.flush_interval_ms),
            ));
        }
        if !(1..=1_000_000).contains(&self.queue) {
            errors.push(ConfigError::new(
                "queue",
                format!("must be 1..=1000000, got {}", self.queue),
            ));
        }
        let mut seen: Vec<(Protocol, SocketAddr)> = Vec::new();
        for (i, l) in self.listeners.iter().enumerate() {
            let p = format!("listeners[{i}]");
            match l.address.parse::<SocketAddr>() {
                Ok(a) => {
                    if !a.ip().is_loopback() && !self.allow_remote {
                        errors.push(ConfigError::new(
                            format!("{p}.address"),
                            format!(
                                "{a} is not a loopback address; set allow_remote = true to listen on the network"
                            ),
                        ));
                    }
                    let udp = l.protocol == Protocol::Udp;
                    if a.port() != 0
                        && seen
                            .iter()
                            .any(|(q, b)| *b == a && ((*q == Protocol::Udp) == udp))
                    {
                        errors.push(ConfigError::new(
                            format!("{p}.address"),
                            format!("{a} is used by another listener"),
                        ));
                    }
                    seen.push((l.protocol, a));
                }
                Err(_) => errors.push(ConfigError::new(
                    format!("{p}.address"),
                    format!("{:?} is not ip:port", l.address),
                )),
            }
            let tls = l.protocol == Protocol::Tls;
            for (name, v) in [
                ("cert_file", &l.cert_file),
                ("key_file", &l.key_file),
                ("client_ca_file", &l.client_ca_file),
            ] {
                match (tls, v) {
                    (false, Some(_)) => errors.push(ConfigError::new(
                        format!("{p}.{name}"),
                        "only for protocol = \"tls\"",
                    )),
                    (true, None) if name != "client_ca_file" => errors.push(ConfigError::new(
                        format!("{p}.{name}"),
                        "required for protocol = \"tls\"",
                    )),
                    (true, Some(path)) if path.as_os_str().is_empty() => {
                        errors.push(ConfigError::new(format!("{p}.{name}"), "must not be empty"));
                    }
                    _ => {}
                }
            }
            if l.protocol == Protocol::Udp && l.framing != Framing::Auto {
                errors.push(ConfigError::new(
                    format!("{p}.framing"),
                    "only for tcp and tls (a UDP datagram is one message)",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl ListenerConfig {
    /// A listener with default framing and no TLS files.
    pub fn new(protocol: Protocol, address: impl Into<String>) -> ListenerConfig {
        ListenerConfig {
            protocol,
            address: address.into(),
            framing: Framing::Auto,
            cert_file: None,
            key_file: None,
            client_ca_file: None,
        }
    }
}
