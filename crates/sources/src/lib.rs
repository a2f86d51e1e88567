//! Sources: where records come from. Each source yields batches of decoded records (and the input it could
//! not decode, for the quarantine) tagged with the position to acknowledge once the batch is durable; the
//! pipeline appends them to the log and only then acknowledges. Sources never normalize records themselves
//! beyond calling `model::normalize`, and never commit positions.
pub mod arm;
pub mod blob;
pub mod eventhubs;
pub mod file;
pub mod graph;
pub mod syslog;

use model::{Record, Rejected};

/// Source failures. Retry code matches on [`SourceError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A path or glob matched no file.
    #[error("{pattern}: no file matches")]
    NoMatch {
        /// The path or glob as given.
        pattern: String,
    },
    /// A glob pattern is not valid.
    #[error("{pattern}: invalid glob")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// The cause.
        #[source]
        source: glob::PatternError,
    },
    /// Reading an input failed.
    #[error("reading {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// How retry code should treat a [`SourceError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Try again later.
    Transient,
    /// Will fail again the same way until the configuration or input changes.
    Fatal,
}

impl SourceError {
    /// The retry class of this error.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            SourceError::Io { .. } => ErrorKind::Transient,
            SourceError::NoMatch { .. } | SourceError::BadPattern { .. } => ErrorKind::Fatal,
        }
    }
}

/// A batch from a source: decoded records, rejected input, and the position it reaches.
#[derive(Debug, Default)]
pub struct Batch {
    /// Decoded records.
    pub records: Vec<Record>,
    /// Input that could not be decoded, for the quarantine.
    pub rejected: Vec<Rejected>,
    /// Where the source stands after this batch (file and item), to acknowledge once it is durable.
    pub position: String,
}
