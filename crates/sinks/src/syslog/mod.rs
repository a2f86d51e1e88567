//! Syslog sink: one RFC 5424 message per record, with the canonical record as JSON in MSG, or a CEF
//! (ArcSight) or LEEF 2.0 (QRadar) body mapped per category (`mapping.rs`, documented in
//! `crates/sinks/docs/syslog-mapping.md`), over UDP, TCP or TLS with octet-counting or newline framing.
//!
//! Escaping follows each format's rules so that no value can add a message or a field, and messages
//! longer than the limit are cut with [`crate::TRUNCATION_MARKER`] (`encode.rs`). Syslog has no application
//! acknowledgement: for TCP and TLS, `send` returns `Ok` once every byte is written and flushed to the
//! socket, so at-least-once holds up to the socket (a receiver crash can lose what it had buffered); UDP
//! gives no guarantee at all.
mod config;
pub(crate) mod encode;
mod mapping;
mod sink;
mod tls;
pub(crate) mod transport;

pub use config::{SyslogConfig, SyslogEncoding, SyslogFraming, SyslogTlsConfig, SyslogTransport};
pub use sink::SyslogSink;

#[cfg(test)]
mod tests;
