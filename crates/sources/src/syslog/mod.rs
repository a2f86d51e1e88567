//! Syslog source: listens on UDP, TCP and TLS (RFC 5426, RFC 6587 octet counting and newline framing,
//! RFC 5425), parses RFC 5424, RFC 3164 and CEF messages into `Syslog` records and hands them to the
//! pipeline in batches ([`crate::graph::Deliver`]). A batch is delivered (durable) before the next; while a
//! delivery is in progress the queue fills and stream connections are no longer read (TCP backpressure),
//! UDP datagrams that find the queue full are dropped and counted. See `docs/syslog-source.md`.

pub mod cef;
mod config;
pub mod framing;
pub mod parse;
pub mod row;
mod source;
mod status;
mod tls;

pub use config::{ConfigError, Framing, ListenerConfig, Protocol, SyslogSourceConfig};
pub use source::{Listening, SyslogSource};
pub use status::SyslogStatus;

/// Syslog source failures.
#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    /// The configuration is invalid (every problem).
    #[error("invalid syslog source configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigError>),
    /// A TLS certificate or key could not be loaded.
    #[error("tls: {message}")]
    Tls {
        /// What failed.
        message: String,
    },
    /// A listener could not bind its address.
    #[error("binding {protocol} {address}")]
    Bind {
        /// `udp`, `tcp` or `tls`.
        protocol: &'static str,
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Batches could not be made durable before shutdown; their messages are lost.
    #[error("{lost} messages could not be delivered before shutdown: {message}")]
    Deliver {
        /// Messages (records and quarantined input) lost.
        lost: u64,
        /// The last delivery error.
        message: String,
    },
}

impl SyslogError {
    /// The retry class of this error.
    pub const fn kind(&self) -> crate::ErrorKind {
        match self {
            SyslogError::Bind { .. } | SyslogError::Deliver { .. } => crate::ErrorKind::Transient,
            SyslogError::Config(_) | SyslogError::Tls { .. } => crate::ErrorKind::Fatal,
        }
    }
}

#[cfg(test)]
mod tests;
