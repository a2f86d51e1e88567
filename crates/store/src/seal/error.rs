//! Errors of sealing and verification, each with an [`ErrorKind`].
use std::io;
use std::path::PathBuf;

/// What a caller should do about a [`SealError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An I/O problem that may go away (disk full): retry later; the file shows as unsealed meanwhile.
    Transient,
    /// Bad configuration or key material: fix it.
    Fatal,
}

/// Errors from [`Sealer`](super::Sealer), the key helpers and [`verify`](super::verify).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The configuration is invalid; every problem is listed.
    #[error("invalid integrity config: {}", problems.join("; "))]
    Config {
        /// One message per problem, prefixed with the field name.
        problems: Vec<String>,
    },
    /// A file operation failed.
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A key file could not be read or parsed.
    #[error("key file {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A chain entry could not be encoded.
    #[error("chain entry {seq} cannot be encoded")]
    Encode {
        /// Its sequence number.
        seq: u64,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A Parquet footer could not be read, so its row groups cannot be located.
    #[error("parquet footer of {}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: datafusion::parquet::errors::ParquetError,
    },
}

impl SealError {
    /// Whether to retry or fix something.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } | Self::Parquet { .. } => ErrorKind::Transient,
            Self::Config { .. } | Self::Key { .. } | Self::Encode { .. } => ErrorKind::Fatal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
