//! The pipeline: the only crate that knows every stage. It turns the config into sources, the store and
//! sinks, moves batches from sources into the durable log (acknowledging a source position only after
//! [`store::hub::Hub::ingest`] returned, i.e. after the batch is on disk), and feeds the log's consumers —
//! the archive and each sink — from their own committed offsets.
pub mod blob;
pub mod clock;
pub mod collect;
pub mod config;
mod consume;
pub mod coverage;
pub mod detection;
pub mod eventhubs;
pub mod lag;
pub mod lake;
pub mod metrics;
pub mod replay;
pub mod report;
pub mod routes;
mod runtime;
pub mod silence;
mod status;
mod status_file;
pub mod syslog_source;
pub mod watch;

pub use config::{Config, ConfigError, RawConfig, SinkConfig, SourceConfig};
pub use consume::ConsumeReport;
pub use runtime::{ImportReport, Pipeline, PipelineError};
pub use status::{CategoryStatus, ConsumerStatus, SourceCategoryStatus, SourceStatus, Status};
