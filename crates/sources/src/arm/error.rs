//! ARM client errors, classified by [`ArmError::kind`]. Messages carry ARM's error code and message (which
//! hold no secret) and never a token.

use crate::graph::GraphError;
use std::time::Duration;

/// How retry code treats an [`ArmError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// ARM asked us to slow down.
    Throttled {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A 5xx, a reset connection or a cut body: retry.
    Transient,
    /// The token was refused (401) or the caller lacks a role (403).
    Auth,
    /// The setting or scope does not exist (404).
    NotFound,
    /// Will fail again (400: the body or the request is wrong; bad configuration).
    Fatal,
}

/// A failure of the ARM client.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// Getting a token failed.
    #[error("ARM token: {0}")]
    Token(#[source] GraphError),
    /// ARM answered with an error status.
    #[error("{what}: ARM answered {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The request (`list Entra diagnostic settings`).
        what: String,
        /// HTTP status.
        status: u16,
        /// ARM's `error.code`.
        code: Option<String>,
        /// ARM's `error.message` (first 500 characters).
        message: String,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// The request did not complete, or the body was unreadable.
    #[error("{what}: {message}")]
    Transport {
        /// The request.
        what: String,
        /// What happened.
        message: String,
    },
    /// The answer was not what ARM documents.
    #[error("{what}: unexpected answer: {message}")]
    Decode {
        /// The request.
        what: String,
        /// The parse error.
        message: String,
    },
    /// The client configuration is unusable.
    #[error("ARM client configuration: {0}")]
    Config(String),
}

impl ArmError {
    /// The retry class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ArmError::Token(e) => match e.kind() {
                crate::graph::ErrorKind::Throttled { retry_after } => {
                    ErrorKind::Throttled { retry_after }
                }
                crate::graph::ErrorKind::Transient => ErrorKind::Transient,
                crate::graph::ErrorKind::Auth | crate::graph::ErrorKind::Forbidden => {
                    ErrorKind::Auth
                }
                crate::graph::ErrorKind::Fatal => ErrorKind::Fatal,
            },
            ArmError::Status {
                status,
                retry_after,
                ..
            } => match status {
                429 => ErrorKind::Throttled {
                    retry_after: *retry_after,
                },
                401 | 403 => ErrorKind::Auth,
                404 => ErrorKind::NotFound,
                408 | 500.. => ErrorKind::Transient,
                _ => ErrorKind::Fatal,
            },
            ArmError::Transport { .. } => ErrorKind::Transient,
            ArmError::Decode { .. } | ArmError::Config(_) => ErrorKind::Fatal,
        }
    }
}
