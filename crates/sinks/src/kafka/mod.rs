//! Kafka / Event Hubs sink: canonical records as JSON messages keyed by their dedupe key, to one topic for
//! all categories or one per category (`topic = "entrail-{table}"`), through an idempotent producer
//! (`enable.idempotence`, `acks=all`). `send` returns `Ok` only after every message of the batch has a
//! successful delivery report, so the sink's log offset never runs ahead of what the brokers have.
//!
//! Errors map to [`crate::ErrorKind`]: SASL and authorization failures are `Auth`; a message too large or a
//! topic that does not exist `Fatal`; timeouts and transport failures `Transient` (the pipeline resends the
//! batch: at-least-once, consumers dedupe by key).
mod config;
mod sink;

pub use config::{KafkaSinkAuth, KafkaSinkConfig};
pub use sink::KafkaSink;

#[cfg(test)]
mod tests;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// The retry class of a Kafka failure.
pub(crate) fn error_kind(e: &KafkaError) -> crate::ErrorKind {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(
            C::SaslAuthenticationFailed
            | C::Authentication
            | C::TopicAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::TransactionalIdAuthorizationFailed,
        ) => crate::ErrorKind::Auth,
        Some(
            C::MessageSizeTooLarge
            | C::InvalidMessageSize
            | C::InvalidMessage
            | C::UnknownTopicOrPartition
            | C::UnknownTopic
            | C::InvalidTopic,
        ) => crate::ErrorKind::Fatal,
        _ if matches!(
            e,
            KafkaError::ClientConfig(..) | KafkaError::ClientCreation(..)
        ) =>
        {
            crate::ErrorKind::Fatal
        }
        _ => crate::ErrorKind::Transient,
    }
}
