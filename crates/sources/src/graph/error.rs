//! Graph source errors. Retry code matches on [`GraphError::kind`] only. Messages name what failed and never
//! carry a secret or a token: token-endpoint answers are reduced to their `error` code and AADSTS description,
//! and request URLs hold no credential.

use model::Category;
use std::time::Duration;

/// How retry code treats a [`GraphError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Graph (or the token endpoint) asked us to slow down; wait at least `retry_after` when given.
    Throttled {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// A 5xx, a reset or timed-out connection, a truncated or unparsable body: retry the same request.
    Transient,
    /// The credential was refused (token endpoint, or Graph 401 after a fresh token).
    Auth,
    /// Graph answered 403: the app lacks a permission (or the tenant a licence) for one category.
    Forbidden,
    /// Will fail again the same way (bad filter, bad configuration, unexpected answer).
    Fatal,
}

/// A failure of the Graph source.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// HTTP 429 (or 503 with `Retry-After`).
    #[error("{what} throttled (status {status}{})", match retry_after { Some(d) => format!(", retry after {}s", d.as_secs_f64()), None => String::new() })]
    Throttled {
        /// The request that was throttled (`AuditLogs page`, `token request`).
        what: String,
        /// The status code.
        status: u16,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A failure worth retrying as is.
    #[error("{what}: {message}")]
    Transient {
        /// The request.
        what: String,
        /// What went wrong.
        message: String,
        /// A `Retry-After` that came with it (503).
        retry_after: Option<Duration>,
    },
    /// The credential was refused.
    #[error("authentication failed: {message}")]
    Auth {
        /// The reason (an `invalid_client` code and AADSTS text, or a Graph 401).
        message: String,
    },
    /// Graph refused one category.
    #[error("{category}: access denied (403{}): the app needs {permissions} (application permission, admin consent){}",
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
        if message.is_empty() { String::new() } else { format!("; Graph said: {message}") })]
    Forbidden {
        /// The category refused.
        category: Category,
        /// The permissions it needs, joined.
        permissions: String,
        /// Graph's error code.
        code: Option<String>,
        /// Graph's message.
        message: String,
    },
    /// Will not succeed by retrying.
    #[error("{message}")]
    Fatal {
        /// What failed.
        message: String,
    },
    /// The configuration is invalid (every problem at once).
    #[error("invalid graph source configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<super::ConfigError>),
    /// The pipeline did not accept a batch.
    #[error("delivery failed: {0}")]
    Deliver(#[source] super::DeliverError),
    /// The cursor store failed.
    #[error("cursor store failed: {0}")]
    Cursor(#[source] super::CursorError),
    /// Shutdown was requested.
    #[error("cancelled")]
    Cancelled,
}

impl GraphError {
    /// The retry class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GraphError::Throttled { retry_after, .. } => ErrorKind::Throttled {
                retry_after: *retry_after,
            },
            GraphError::Transient { .. } | GraphError::Deliver(_) | GraphError::Cursor(_) => {
                ErrorKind::Transient
            }
            GraphError::Auth { .. } => ErrorKind::Auth,
            GraphError::Forbidden { .. } => ErrorKind::Forbidden,
            GraphError::Fatal { .. } | GraphError::Config(_) | GraphError::Cancelled => {
                ErrorKind::Fatal
            }
        }
    }

    pub(crate) fn fatal(message: impl Into<String>) -> GraphError {
        GraphError::Fatal {
            message: message.into(),
        }
    }

    pub(crate) fn transient(what: impl Into<String>, message: impl Into<String>) -> GraphError {
        GraphError::Transient {
            what: what.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// Describes a reqwest failure without its URL's query (which holds no secret, but is long) and never
    /// with headers.
    pub(crate) fn from_reqwest(what: &str, e: &reqwest::Error) -> GraphError {
        let mut message = if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "connection failed".to_owned()
        } else if e.is_body() || e.is_decode() {
            "body truncated or unreadable".to_owned()
        } else {
            "request failed".to_owned()
        };
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        if e.is_builder() {
            return GraphError::fatal(format!("{what}: {message}"));
        }
        GraphError::transient(what, message)
    }
}
