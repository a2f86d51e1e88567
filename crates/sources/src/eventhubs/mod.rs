//! Event Hubs source through the Kafka endpoint (`<namespace>.servicebus.windows.net:9093`): every message is
//! a diagnostic-settings batch `{"records":[...]}` of any category, each record routed by its `category`.
//!
//! Invariants:
//! - offsets are never auto-committed or auto-stored: a partition's offset is committed only after every
//!   message below it was delivered durably ([`crate::graph::Deliver`] returned `Ok`), as a contiguous
//!   watermark ([`Watermarks`]);
//! - a revoked partition is forgotten at once: nothing more is committed for it by this consumer, and its
//!   next owner re-reads from the last commit (the pipeline's dedupe drops what was already stored);
//! - undecodable messages and records go to the quarantine with the position `event hub/partition/offset`
//!   and the reason, and the rest of the message goes on;
//! - a failure drops the consumer and a new one resumes from the committed offsets after a capped backoff;
//! - the connection string and tokens never appear in `Debug`, logs or errors.
//!
//! Layout: `config` (settings, validation), `client` (librdkafka settings, rebalance and token callbacks),
//! `watermark` (what may be committed), `source` (the run loop; `source::lag`: lag from librdkafka's
//! statistics), `status` (per-partition lag), `error`.
mod client;
mod config;
mod error;
mod source;
mod status;
mod watermark;

pub use config::{ConfigError, EventHubsAuth, EventHubsSourceConfig, StartPosition};
pub use error::{ErrorKind, EventHubsError};
pub use source::{EventHubsSource, RunMode, RunReport};
pub use status::{EventHubsStatus, PartitionStatus};
pub use watermark::{Ticket, TopicPartition, Watermarks};

#[cfg(test)]
mod tests;
