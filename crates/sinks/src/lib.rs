//! Sinks: consumers of the durable log that deliver records elsewhere. A sink's `send` returns `Ok` only
//! once the target has the batch durably; only then does the pipeline advance the sink's committed offset,
//! so a crash replays at most the unacknowledged batch and never skips one.
pub mod file;

use model::Record;

/// Sink failures. Retry code matches on [`SinkError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to the target failed.
    #[error("writing {target}")]
    Io {
        /// The target (file path).
        target: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// How retry code should treat a [`SinkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Retry the same batch later.
    Transient,
    /// Stop this sink until an operator acts; never skip the batch.
    Fatal,
}

impl SinkError {
    /// The retry class of this error.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            SinkError::Io { .. } => ErrorKind::Transient,
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
}
