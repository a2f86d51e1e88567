//! Sinks: consumers of the durable log that deliver records elsewhere. A sink's `send` returns `Ok` only
//! once the target has the batch durably; only then does the pipeline advance the sink's committed offset,
//! so a crash replays at most the unacknowledged batch and never skips one.
//!
//! Sinks: [`file`] (JSON lines), [`splunk`] (HTTP Event Collector with indexer acknowledgement) and
//! [`syslog`] (RFC 5424 JSON, CEF, LEEF 2.0 over UDP, TCP or TLS).
pub mod alert;
pub mod elastic;
pub mod file;
mod http;
pub mod kafka;
pub mod lake;
pub mod ocsf;
pub mod sentinel;
pub mod splunk;
pub mod syslog;
mod util;

pub use util::{ConfigError, TRUNCATION_MARKER};

use model::Record;
use std::time::Duration;

/// Sink failures. Retry code matches on [`SinkError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to the target failed (file, socket).
    #[error("writing {target}")]
    Io {
        /// The target (file path, `host:port`).
        target: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS peer refused the certificates (ours, or theirs did not verify): an operator must act.
    #[error("tls with {target} refused")]
    TlsRefused {
        /// The target (`host:port`).
        target: String,
        /// The cause (a rustls error inside).
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request failed before a response arrived (connect, timeout, reset).
    #[error("request to {target} failed")]
    Request {
        /// The endpoint (no credentials).
        target: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The receiver answered with an error status (HEC: `code` is its JSON `code`).
    #[error("{target} answered {status} (code {code:?}: {text})")]
    Status {
        /// The endpoint.
        target: String,
        /// HTTP status.
        status: u16,
        /// The receiver's own error code, when it sent one.
        code: Option<i64>,
        /// The receiver's error text (never contains our credentials).
        text: String,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The receiver accepted the data but did not confirm it durable in time (HEC indexer acknowledgement).
    #[error("{target}: {pending} acknowledgement(s) still pending after {waited:?}")]
    AckTimeout {
        /// The endpoint.
        target: String,
        /// Acks not yet confirmed.
        pending: usize,
        /// How long `send` waited.
        waited: Duration,
    },
    /// The receiver answered something this sink does not understand.
    #[error("{target}: unexpected response: {message}")]
    Protocol {
        /// The endpoint.
        target: String,
        /// What was wrong.
        message: String,
    },
    /// An SMTP exchange failed (alert email): `code` is the server's reply code, when it sent one.
    #[error("smtp {target} failed (reply {code:?})")]
    Smtp {
        /// The server (`host:port`).
        target: String,
        /// The SMTP reply code (`535`), when the server answered.
        code: Option<u16>,
        /// The cause.
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// A Kafka producer call or delivery failed (see [`kafka`]).
    #[error("kafka {target}")]
    Kafka {
        /// The brokers.
        target: String,
        /// The cause.
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// An object store request failed (lake sink, see [`lake`]).
    #[error("object store {target}")]
    ObjectStore {
        /// The target and the action (no credentials).
        target: String,
        /// The cause.
        #[source]
        source: Box<object_store::Error>,
    },
    /// A local file is not what its checksum says (lake sink: an archive file differs from its manifest entry).
    #[error("{path}: {message}")]
    Integrity {
        /// The file.
        path: String,
        /// What differs.
        message: String,
    },
    /// The sink cannot work as configured (invalid config, unreadable CA file, receiver-side setting).
    #[error("sink configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// How retry code should treat a [`SinkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The receiver asked us to slow down: retry the same batch after `retry_after` (or a backoff).
    Throttled {
        /// The receiver's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// Retry the same batch later (network, timeouts, 5xx, pending acknowledgements).
    Transient,
    /// The receiver refused our credentials (401/403, TLS certificates): stop this sink's progress, log at alert level,
    /// retry only after an operator fixes the token; never skip the batch.
    Auth,
    /// Stop this sink until an operator acts (bad config, data rejected as malformed); never skip the batch.
    Fatal,
}

impl SinkError {
    /// The retry class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SinkError::Io { .. } | SinkError::Request { .. } | SinkError::AckTimeout { .. } => {
                ErrorKind::Transient
            }
            SinkError::Protocol { .. } => ErrorKind::Transient,
            SinkError::Config { .. } => ErrorKind::Fatal,
            SinkError::Kafka { source, .. } => kafka::error_kind(source),
            SinkError::ObjectStore { source, .. } => lake::error_kind(source),
            SinkError::Integrity { .. } => ErrorKind::Fatal,
            SinkError::Smtp { code, source, .. } => match code {
                Some(530 | 534 | 535 | 454) => ErrorKind::Auth,
                Some(400..=499) => ErrorKind::Transient,
                Some(_) => ErrorKind::Fatal,
                None if alert::tls_refused(source) => ErrorKind::Auth,
                None => ErrorKind::Transient,
            },
            SinkError::TlsRefused { .. } => ErrorKind::Auth,
            SinkError::Status {
                status,
                retry_after,
                ..
            } => match status {
                401 | 403 => ErrorKind::Auth,
                429 | 503 => ErrorKind::Throttled {
                    retry_after: *retry_after,
                },
                408 | 500.. => ErrorKind::Transient,
                _ => ErrorKind::Fatal,
            },
        }
    }
}

/// Delivers batches of records to one target.
///
/// The pipeline calls `send` in log order, one call at a time. `Ok(())` means the target has the batch
/// durably; only then does the pipeline commit this sink's offset. On `Err` the pipeline retries the same
/// batch (it never skips it); `send` does not retry on its own.
pub trait Sink: Send {
    /// The sink's name, also its consumer name in the log.
    fn id(&self) -> &str;
    /// Sends one batch. See the trait docs for the contract.
    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError>;
    /// Whether this sink wants records of this category (route filter). Default: every category.
    fn accepts(&self, _category: model::Category) -> bool {
        true
    }
    /// Records the receiver rejected as malformed during the last successful `send` (they can never be
    /// stored as they are). The pipeline moves them to the quarantine before committing the offset, so
    /// none is lost silently. Default: none.
    fn take_rejected(&mut self) -> Vec<model::Rejected> {
        Vec::new()
    }
}
