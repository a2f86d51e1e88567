//! Errors of SQL over the archive: a bad query says what is wrong in DataFusion's words, without a
//! backtrace; other failures keep their cause.
use std::path::PathBuf;

use datafusion::error::DataFusionError;

use crate::archive::ArchiveError;

/// What a caller should do about a [`QueryError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The query is wrong (syntax, unknown table or column, type error, forbidden statement):
    /// show the message to the user.
    Invalid,
    /// Reading the archive failed (a file vanished, I/O error): retry, or rebuild the engine if
    /// the archive changed.
    Transient,
    /// The archive is damaged (unreadable manifest, a listed file that is not Parquet).
    Corrupt,
    /// A resource limit was hit (memory): narrow the query.
    Exhausted,
    /// A bug or an unexpected state.
    Internal,
}

/// Errors from [`QueryEngine`](super::QueryEngine) and the output functions.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The SQL cannot be planned or is not allowed; `message` is DataFusion's explanation.
    #[error("invalid query: {message}")]
    Invalid {
        /// What is wrong, e.g. `table 'datafusion.public.Nope' not found`.
        message: String,
    },
    /// Running the query failed.
    #[error("query failed: {message}")]
    Execution {
        /// DataFusion's message, without backtrace.
        message: String,
        /// Which kind of failure.
        kind: ErrorKind,
    },
    /// The archive manifest could not be read.
    #[error("cannot read the archive in {}", dir.display())]
    Archive {
        /// The archive directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: ArchiveError,
    },
    /// Writing the output failed.
    #[error("writing query output failed")]
    Output {
        /// The cause.
        #[source]
        source: datafusion::arrow::error::ArrowError,
    },
}

impl QueryError {
    /// What the caller should do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Execution { kind, .. } => *kind,
            Self::Archive { source, .. } => match source.kind() {
                crate::archive::ErrorKind::Corrupt => ErrorKind::Corrupt,
                crate::archive::ErrorKind::Invalid => ErrorKind::Invalid,
                crate::archive::ErrorKind::Transient | crate::archive::ErrorKind::Fatal => {
                    ErrorKind::Transient
                }
            },
            Self::Output { .. } => ErrorKind::Transient,
        }
    }

    /// Sorts a DataFusion error into planning problems (the user's) and execution failures.
    pub(crate) fn from_datafusion(e: DataFusionError) -> Self {
        let message = clean_message(&e);
        let kind = match e.find_root() {
            DataFusionError::SQL(..)
            | DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_)
            | DataFusionError::Configuration(_)
            | DataFusionError::Diagnostic(..) => return Self::Invalid { message },
            DataFusionError::ResourcesExhausted(_) => ErrorKind::Exhausted,
            DataFusionError::IoError(_) | DataFusionError::ObjectStore(_) => ErrorKind::Transient,
            DataFusionError::ParquetError(_) => ErrorKind::Corrupt,
            // Arrow errors at run time are mostly bad casts of user data ('abc'::int).
            DataFusionError::ArrowError(..) | DataFusionError::Execution(_) => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        };
        Self::Execution { message, kind }
    }
}

/// DataFusion's message on one line, without backtrace and without the long lists it appends
/// (every valid field of an 80-column table).
fn clean_message(e: &DataFusionError) -> String {
    let text = e.find_root().strip_backtrace();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut message = lines.next().unwrap_or("unknown error").to_owned();
    for line in lines.filter(|l| l.len() <= MAX_EXTRA_LINE) {
        message.push(' ');
        message.push_str(line);
    }
    message
}

/// Longest follow-up line of a DataFusion message that is kept.
const MAX_EXTRA_LINE: usize = 200;

impl From<DataFusionError> for QueryError {
    fn from(e: DataFusionError) -> Self {
        Self::from_datafusion(e)
    }
}
