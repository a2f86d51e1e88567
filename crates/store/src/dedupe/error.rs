//! Errors of the dedupe index.
use std::path::PathBuf;
use std::time::Duration;

pub use crate::log::ErrorKind;

/// Errors from [`DedupeIndex`](super::DedupeIndex).
#[derive(Debug, thiserror::Error)]
pub enum DedupeError {
    /// The horizon is zero or absurdly long.
    #[error("invalid dedupe horizon {horizon:?}: must be between 1 µs and {max:?}", max = super::MAX_HORIZON)]
    InvalidHorizon {
        /// The rejected horizon.
        horizon: Duration,
    },
    /// Another handle (in this or another process) has the database open.
    #[error("dedupe index {} is already open", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// A database operation failed.
    #[error("dedupe index {}: {op} failed", path.display())]
    Db {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: Box<redb::Error>,
    },
    /// A stored record failed to decode.
    #[error("corrupt dedupe record in {}: {reason}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl DedupeError {
    /// How the caller should react; see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidHorizon { .. } => ErrorKind::Invalid,
            Self::Locked { .. } => ErrorKind::Fatal,
            Self::Corrupt { .. } => ErrorKind::Corrupt,
            Self::Db { source, .. } => match **source {
                redb::Error::Io(_) => ErrorKind::Transient,
                redb::Error::Corrupted(_) => ErrorKind::Corrupt,
                _ => ErrorKind::Fatal,
            },
        }
    }

    /// Wraps a redb error with the file and operation.
    pub(crate) fn db(
        path: &std::path::Path,
        op: &'static str,
        err: impl Into<redb::Error>,
    ) -> Self {
        match err.into() {
            redb::Error::DatabaseAlreadyOpen => Self::Locked {
                path: path.to_owned(),
            },
            source => Self::Db {
                path: path.to_owned(),
                op,
                source: Box::new(source),
            },
        }
    }
}
