//! Errors of the Parquet archive, each with an [`ErrorKind`] that callers match on to retry, stop
//! or alert.
use std::io;
use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::parquet::errors::ParquetError;

/// What a caller should do about an [`ArchiveError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An I/O problem that may go away (disk full, a file briefly unreadable): reopen the archive
    /// and re-consume the log from [`Archive::next_offset`](super::Archive::next_offset).
    Transient,
    /// The archive cannot go on in this process (another process holds it, an earlier commit
    /// failed): stop, fix the cause and reopen.
    Fatal,
    /// Stored data failed verification (a listed file is missing or its hash differs, the
    /// manifest is unreadable): a person must look at the named file.
    Corrupt,
    /// The caller asked for something invalid (bad config): fix the call.
    Invalid,
}

/// Errors from [`Archive`](super::Archive).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The configuration is invalid; every problem is listed.
    #[error("invalid archive config: {}", problems.join("; "))]
    Config {
        /// One message per problem, prefixed with the field name.
        problems: Vec<String>,
    },
    /// Another `Archive` (in this or another process) has the directory open.
    #[error("archive directory {} is locked by another writer", dir.display())]
    Locked {
        /// The archive directory.
        dir: PathBuf,
    },
    /// A file operation failed.
    #[error("i/o on {} failed", path.display())]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Encoding or decoding a Parquet file failed.
    #[error("parquet i/o on {} failed", path.display())]
    Parquet {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: ParquetError,
    },
    /// Building an Arrow batch failed (a bug: the builders follow the schema).
    #[error("building an arrow batch for {table} failed")]
    Arrow {
        /// The table.
        table: String,
        /// The underlying error.
        #[source]
        source: ArrowError,
    },
    /// The manifest cannot be read or parsed.
    #[error("corrupt archive manifest {}: {reason}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file listed in the manifest is missing, has another size or another hash.
    #[error("archive file {} does not match the manifest: {reason}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// A log entry given to [`Archive::write_encoded`](super::Archive::write_encoded) cannot be decoded.
    #[error("log entry {offset} cannot be decoded: {source}")]
    Entry {
        /// Its log offset.
        offset: u64,
        /// What is wrong with it.
        #[source]
        source: model::codec::CodecError,
    },
    /// An earlier write, commit or compaction failed, so what is on disk is unknown; the archive
    /// refuses further work until it is reopened (which removes files the manifest does not list).
    #[error("an earlier archive operation failed; reopen the archive")]
    Failed,
}

impl ArchiveError {
    /// What the caller should do about this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } | Self::Parquet { .. } => ErrorKind::Transient,
            Self::Locked { .. } | Self::Arrow { .. } | Self::Failed => ErrorKind::Fatal,
            Self::Manifest { .. } | Self::Mismatch { .. } | Self::Entry { .. } => {
                ErrorKind::Corrupt
            }
            Self::Config { .. } => ErrorKind::Invalid,
        }
    }

    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a Parquet error with the file it happened on.
    pub(crate) fn parquet(path: impl Into<PathBuf>, source: ParquetError) -> Self {
        Self::Parquet {
            path: path.into(),
            source,
        }
    }
}
