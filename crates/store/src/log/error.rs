//! Errors of the durable log, each with a [`ErrorKind`] that callers match on to retry, stop or
//! alert.
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// What a caller should do about a [`LogError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An I/O problem that may go away (disk full, a file briefly unreadable): retry later.
    Transient,
    /// The log cannot go on in this process (the writer failed, another process holds the lock):
    /// stop, fix the cause and reopen.
    Fatal,
    /// Stored data failed verification: a person must look at the named file.
    Corrupt,
    /// The caller asked for something invalid (bad config, name or offset): fix the call.
    Invalid,
}

/// Errors from [`Log`](super::Log), [`LogReader`](super::LogReader) and the consumer offsets.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The configuration is invalid; every problem is listed.
    #[error("invalid log config: {}", problems.join("; "))]
    Config {
        /// One message per problem, prefixed with the field name.
        problems: Vec<String>,
    },
    /// Another `Log` (in this or another process) has the directory open for writing.
    #[error("log directory {} is locked by another writer", dir.display())]
    Locked {
        /// The log directory.
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
    /// A frame failed verification (length or checksum) where data must be intact: inside a
    /// sealed segment, or below the durable end of the active one.
    #[error("corrupt frame in {} at offset {offset}", segment.display())]
    Corrupt {
        /// The segment file.
        segment: PathBuf,
        /// The offset of the first entry that failed verification.
        offset: u64,
    },
    /// A small metadata file (consumer offset, segment set) failed verification.
    #[error("corrupt log metadata in {}: {reason}", path.display())]
    CorruptMeta {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An earlier write or fsync failed, so what is on disk is unknown; the log refuses further
    /// appends until it is reopened (which recovers from the files).
    #[error("log writer failed on {}; reopen the log", path.display())]
    WriterFailed {
        /// The file the failed operation was on.
        path: PathBuf,
        /// The error that stopped the writer.
        #[source]
        source: Arc<io::Error>,
    },
    /// The writer thread has stopped (the log is shutting down).
    #[error("log writer has stopped")]
    Closed,
    /// One entry exceeds [`MAX_ENTRY_BYTES`](super::MAX_ENTRY_BYTES).
    #[error("entry of {len} bytes exceeds the limit of {max} bytes")]
    EntryTooLarge {
        /// Size of the entry.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The requested offset was already removed by retention.
    #[error("offset {requested} is below the first retained offset {start}")]
    BelowStart {
        /// The offset asked for.
        requested: u64,
        /// The first offset still retained.
        start: u64,
    },
    /// The offset lies past the durable end of the log.
    #[error("offset {requested} is beyond the end of the log ({end})")]
    BeyondEnd {
        /// The offset asked for.
        requested: u64,
        /// The current durable end.
        end: u64,
    },
    /// A consumer name does not match `[A-Za-z0-9_.-]{1,200}`.
    #[error("invalid consumer name {name:?}: use 1 to 200 of A-Z a-z 0-9 _ . -")]
    InvalidConsumer {
        /// The rejected name.
        name: String,
    },
}

impl LogError {
    /// How the caller should react; see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Transient,
            Self::Locked { .. } | Self::WriterFailed { .. } | Self::Closed => ErrorKind::Fatal,
            Self::Corrupt { .. } | Self::CorruptMeta { .. } => ErrorKind::Corrupt,
            Self::Config { .. }
            | Self::EntryTooLarge { .. }
            | Self::BelowStart { .. }
            | Self::BeyondEnd { .. }
            | Self::InvalidConsumer { .. } => ErrorKind::Invalid,
        }
    }

    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
