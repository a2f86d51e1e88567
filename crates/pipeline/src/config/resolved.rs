//! The validated configuration the pipeline is built from.

use model::Category;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Log segment size in bytes.
    pub segment_bytes: u64,
    /// Group-commit linger.
    pub commit_delay: Duration,
    /// Dedupe horizon.
    pub dedupe_horizon: Duration,
    /// zstd level.
    pub zstd_level: i32,
    /// zstd level of compaction outputs (`archive.compact_zstd_level`; `None`: `zstd_level` or 3,
    /// whichever is higher).
    pub compact_zstd_level: Option<i32>,
    /// How compaction makes one file of several (`archive.compaction`).
    pub compaction: store::archive::CompactionMode,
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Compaction threshold in bytes.
    pub compact_below_bytes: u64,
    /// Bytes the archive's partition buffers may hold (`archive.max_buffer_mib`).
    pub archive_max_buffer_bytes: u64,
    /// Partition buffers spill their entries to files (`archive.spill`).
    pub archive_spill: bool,
    /// How `_Raw` is stored in new files (`archive.raw`).
    pub archive_raw: store::archive::RawMode,
    /// Default retention in days.
    pub default_retention_days: Option<u32>,
    /// Per-category retention: (days, legal hold).
    pub retention: BTreeMap<Category, (Option<u32>, bool)>,
    /// Legal holds on time ranges.
    pub legal_holds: Vec<store::archive::LegalHold>,
    /// Sources.
    pub sources: Vec<SourceConfig>,
    /// Sinks.
    pub sinks: Vec<SinkConfig>,
    /// `entrail coverage` (`None`: neither a `[coverage]` table nor a Graph source to take credentials from).
    pub coverage: Option<crate::coverage::CoverageConfig>,
    /// Sealing settings; `None` when `[integrity] enabled = false`.
    pub integrity: Option<store::seal::SealConfig>,
    /// Detection and alert destinations (`[detection]`, `[alerts]`).
    pub detection: crate::detection::DetectionConfig,
    /// Health checks of `entrail run`: `[lag]`, `[clock]`, `[silence]` (docs/lag.md).
    pub watch: crate::watch::WatchConfig,
    /// `[[routes]]` and `[sink_priority]` (docs/sinks.md "Routes").
    pub routes: crate::routes::Routes,
    /// `entrail report` (`[report]`).
    pub report: crate::report::ReportConfig,
    /// `log.disk_budget_bytes`: the log's disk budget, if any.
    pub disk_budget_bytes: Option<u64>,
    /// `[metrics]`: where `entrail run` serves `/metrics` and `/healthz` (`None`: off).
    pub metrics: Option<crate::metrics::MetricsConfig>,
}

/// A validated source.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// See [`RawSourceConfig::File`].
    File {
        /// Name.
        id: String,
        /// Paths or globs.
        paths: Vec<String>,
        /// Forced category.
        category: Option<Category>,
        /// Forced shape.
        shape: Option<model::Shape>,
    },
    /// See [`RawSourceConfig::Graph`]; validated.
    Graph(Box<sources::graph::GraphSourceConfig>),
    /// See [`RawSourceConfig::Eventhubs`]; validated.
    Eventhubs(Box<sources::eventhubs::EventHubsSourceConfig>),
    /// See [`RawSourceConfig::Syslog`]; validated.
    Syslog(Box<sources::syslog::SyslogSourceConfig>),
    /// See [`RawSourceConfig::Blob`]; validated.
    Blob(Box<sources::blob::BlobSourceConfig>),
}

impl SourceConfig {
    /// The source's name.
    pub fn id(&self) -> &str {
        match self {
            SourceConfig::File { id, .. } => id,
            SourceConfig::Graph(g) => &g.id,
            SourceConfig::Eventhubs(c) => &c.id,
            SourceConfig::Syslog(c) => &c.id,
            SourceConfig::Blob(c) => &c.id,
        }
    }
}

/// A validated sink.
#[derive(Debug, Clone)]
pub enum SinkConfig {
    /// See [`RawSinkConfig::File`].
    File {
        /// Name.
        id: String,
        /// Output path.
        path: PathBuf,
        /// Rotation size in bytes.
        rotate_bytes: u64,
        /// Category filter (empty: all).
        categories: Vec<Category>,
        /// Line encoding.
        encoding: sinks::ocsf::RecordEncoding,
    },
    /// See [`RawSinkConfig::SplunkHec`]; validated.
    SplunkHec(Box<sinks::splunk::SplunkHecConfig>),
    /// See [`RawSinkConfig::Syslog`]; validated.
    Syslog(Box<sinks::syslog::SyslogConfig>),
    /// See [`RawSinkConfig::Kafka`]; validated.
    Kafka(Box<sinks::kafka::KafkaSinkConfig>),
    /// See [`RawSinkConfig::Elasticsearch`]; validated.
    Elasticsearch(Box<sinks::elastic::ElasticConfig>),
    /// See [`RawSinkConfig::Sentinel`]; validated.
    Sentinel(Box<sinks::sentinel::SentinelConfig>),
    /// See [`RawSinkConfig::Lake`]; validated. Not a log consumer: it replicates the archive (see
    /// `crate::lake`).
    Lake(Box<sinks::lake::LakeConfig>),
}

impl SinkConfig {
    /// The sink's name (its consumer name in the log).
    pub fn id(&self) -> &str {
        match self {
            SinkConfig::File { id, .. } => id,
            SinkConfig::SplunkHec(c) => &c.id,
            SinkConfig::Syslog(c) => &c.id,
            SinkConfig::Kafka(c) => &c.id,
            SinkConfig::Elasticsearch(c) => &c.id,
            SinkConfig::Sentinel(c) => &c.id,
            SinkConfig::Lake(c) => &c.id,
        }
    }

    /// Whether the sink reads the log with its own committed offset (every sink but the lake, which
    /// replicates the archive); only those hold back log trimming.
    pub fn consumes_log(&self) -> bool {
        !matches!(self, SinkConfig::Lake(_))
    }
}
