//! Event Hubs source errors. Retry code matches on [`EventHubsError::kind`] only; messages never carry the
//! connection string or a token.

use super::config::ConfigError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// How retry code treats an [`EventHubsError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The broker or the pipeline failed for now: reconnect (from the committed offsets) after a backoff.
    Transient,
    /// The credential or an authorization was refused: retrying helps only once it is fixed.
    Auth,
    /// Will fail again the same way (bad configuration).
    Fatal,
}

/// A failure of the Event Hubs source.
#[derive(Debug, thiserror::Error)]
pub enum EventHubsError {
    /// The configuration is invalid.
    #[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigError>),
    /// A Kafka client call failed.
    #[error("{what}")]
    Kafka {
        /// What was being done (`creating the consumer`, `subscribing`, `committing offsets`).
        what: String,
        /// The cause.
        #[source]
        source: KafkaError,
    },
    /// The pipeline could not make a batch durable; nothing of it was committed.
    #[error("delivering a batch")]
    Deliver(#[source] crate::graph::DeliverError),
}

/// Broker error codes that mean the credential or an ACL was refused.
fn is_auth(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
    )
}

impl EventHubsError {
    /// The retry class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EventHubsError::Config(_) => ErrorKind::Fatal,
            EventHubsError::Kafka { source, .. } => match source.rdkafka_error_code() {
                Some(code) if is_auth(code) => ErrorKind::Auth,
                _ if matches!(source, KafkaError::ClientConfig(..)) => ErrorKind::Fatal,
                _ => ErrorKind::Transient,
            },
            EventHubsError::Deliver(_) => ErrorKind::Transient,
        }
    }

    pub(crate) fn kafka(what: impl Into<String>, source: KafkaError) -> EventHubsError {
        EventHubsError::Kafka {
            what: what.into(),
            source,
        }
    }
}
