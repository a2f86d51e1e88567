//! The config file as written: serde structs, unknown keys rejected.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The config file as written (`entrail.toml`). `Default` is an empty file: version 1, every default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Config format version; must be 1.
    #[serde(default = "one")]
    pub version: u32,
    /// Where the log, the archive and the quarantine live.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// The durable log.
    #[serde(default)]
    pub log: RawLogConfig,
    /// The Parquet archive.
    #[serde(default)]
    pub archive: RawArchiveConfig,
    /// Where records come from.
    #[serde(default)]
    pub sources: Vec<RawSourceConfig>,
    /// Where records go besides the archive.
    #[serde(default)]
    pub sinks: Vec<RawSinkConfig>,
    /// `entrail coverage`: ARM, subscriptions, resources, silence thresholds (docs/coverage.md).
    #[serde(default)]
    pub coverage: Option<crate::coverage::RawCoverageConfig>,
    /// Tamper evidence (`[integrity]`, docs/integrity.md).
    #[serde(default)]
    pub integrity: RawIntegrityConfig,
    /// Detection (`[detection]`, docs/alerts.md); its presence turns detection on.
    #[serde(default)]
    pub detection: Option<crate::detection::RawDetectionConfig>,
    /// Alert destinations (`[[alerts.destinations]]`, docs/alerts.md).
    #[serde(default)]
    pub alerts: crate::detection::RawAlertsConfig,
    /// Ingest lag and future timestamps (`[lag]`, docs/lag.md).
    #[serde(default)]
    pub lag: crate::lag::RawLagConfig,
    /// Host clock checked against SNTP servers (`[clock]`, docs/lag.md).
    #[serde(default)]
    pub clock: crate::clock::RawClockConfig,
    /// Silence detection inside `entrail run` (`[silence]`, docs/coverage.md); its presence turns it on.
    #[serde(default)]
    pub silence: Option<crate::watch::RawSilenceConfig>,
    /// `[[routes]]`: which records go to which sink (docs/sinks.md "Routes").
    #[serde(default)]
    pub routes: Vec<crate::routes::RawRoute>,
    /// `[sink_priority]`: sink id -> priority under `log.disk_budget_bytes` (default 0; lowest loses first).
    #[serde(default)]
    pub sink_priority: BTreeMap<String, i64>,
    /// `entrail report` (`[report]`, docs/report.md): price per GB per sink.
    #[serde(default)]
    pub report: crate::report::RawReportConfig,
    /// `[metrics]`: the Prometheus endpoint of `entrail run` (docs/metrics.md); absent: off.
    #[serde(default)]
    pub metrics: crate::metrics::RawMetricsConfig,
}

/// `[integrity]`: the hash chain sealing log segments and archive files (docs/integrity.md).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIntegrityConfig {
    /// Seal files into the chain (default true).
    pub enabled: Option<bool>,
    /// Hash over file contents: `blake3` (default) or `sha256`.
    pub hash: Option<String>,
    /// Ed25519 private key, PKCS#8 PEM, signing checkpoints (`entrail integrity keygen` writes one).
    pub signing_key_file: Option<PathBuf>,
    /// Ed25519 public key, SPKI PEM, that `entrail verify` checks checkpoints against.
    pub verify_key_file: Option<PathBuf>,
    /// Entries between checkpoints (default 64).
    pub checkpoint_every: Option<u64>,
    /// Longest time between checkpoints while entries are added (default `10m`).
    pub checkpoint_interval: Option<String>,
    /// Append every checkpoint (the chain head) to this file, outside the data directory.
    pub publish_file: Option<PathBuf>,
    /// Log every checkpoint as an info line (target `entrail::seal::head`).
    #[serde(default)]
    pub publish_log: bool,
    /// Send every checkpoint to the alert destinations as an `entrail.chain_head` finding (docs/integrity.md).
    #[serde(default)]
    pub publish_alerts: bool,
}

const fn one() -> u32 {
    1
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            version: 1,
            data_dir: None,
            log: RawLogConfig::default(),
            archive: RawArchiveConfig::default(),
            sources: Vec::new(),
            sinks: Vec::new(),
            coverage: None,
            integrity: RawIntegrityConfig::default(),
            detection: None,
            alerts: crate::detection::RawAlertsConfig::default(),
            lag: crate::lag::RawLagConfig::default(),
            clock: crate::clock::RawClockConfig::default(),
            silence: None,
            routes: Vec::new(),
            sink_priority: BTreeMap::new(),
            report: crate::report::RawReportConfig::default(),
            metrics: crate::metrics::RawMetricsConfig::default(),
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLogConfig {
    /// Segment size in MiB (default 128).
    pub segment_mib: Option<u64>,
    /// Longest wait to gather appends into one fsync, in ms (default 5, at most 500).
    pub commit_delay_ms: Option<u64>,
    /// How long the dedupe index remembers a key (default `72h`).
    pub dedupe_horizon: Option<String>,
    /// Disk budget of the log segments in bytes; absent = keep until every consumer has them (docs/sinks.md).
    pub disk_budget_bytes: Option<u64>,
}

/// `[archive]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawArchiveConfig {
    /// zstd level of the files partition buffers are written to (default 1, 1..=22).
    pub zstd_level: Option<i32>,
    /// zstd level of the files compaction merges write (default: `zstd_level` or 3, whichever is higher,
    /// 1..=22; docs/archive.md).
    pub compact_zstd_level: Option<i32>,
    /// How compaction makes one file of several: `merge` (default) or `stitch` (docs/archive.md).
    pub compaction: Option<store::archive::CompactionMode>,
    /// Rows per Parquet row group (default 131072).
    pub row_group_rows: Option<usize>,
    /// Files smaller than this many MiB are merged by compaction (default 64).
    pub compact_below_mib: Option<u64>,
    /// MiB the archive's partition buffers may hold before the largest is written out (default 256 with
    /// `spill`, 64 without; 1..=4096; docs/configuration.md).
    pub max_buffer_mib: Option<u64>,
    /// Keep the partition buffers' entries in unlinked files under the archive's `.spill/` instead of
    /// memory (default true; docs/configuration.md).
    pub spill: Option<bool>,
    /// How `_Raw` is stored in new files: `text` (default) or `residual` (docs/archive.md).
    pub raw: Option<store::archive::RawMode>,
    /// Retention in days for categories without their own entry; absent = keep forever.
    pub default_retention_days: Option<u32>,
    /// Per-category retention, keyed by category name (`SignInLogs`) or table name (`SigninLogs`).
    #[serde(default)]
    pub retention: BTreeMap<String, RawRetention>,
    /// `[[archive.legal_hold]]`: time ranges retention never deletes (docs/integrity.md).
    #[serde(default)]
    pub legal_hold: Vec<RawLegalHold>,
}

/// `[[archive.legal_hold]]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLegalHold {
    /// Categories held (category or table names); empty or absent holds every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// First day held, `YYYY-MM-DD` (UTC); absent: from the beginning.
    pub from: Option<String>,
    /// Last day held, `YYYY-MM-DD`; absent: until the hold is removed.
    pub to: Option<String>,
    /// Why (a case number).
    #[serde(default)]
    pub reason: String,
}

/// `[archive.retention.<category>]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// Days to keep; absent = keep forever.
    pub days: Option<u32>,
    /// When true, nothing of this category is deleted, whatever `days` says.
    #[serde(default)]
    pub legal_hold: bool,
}

/// `[[sources]]`: a tagged union (`type = "file"`); one variant per source kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawSourceConfig {
    /// Exported files (JSON lines, JSON arrays, `{"records":[...]}`, Graph pages, CSV).
    File {
        /// Source name, unique; shows in `_Source`.
        id: String,
        /// Paths or glob patterns.
        paths: Vec<String>,
        /// Category of every record, when detection should not decide.
        category: Option<String>,
        /// Wire shape (`graph`, `diagnostic`, `log_analytics`), when detection should not decide.
        shape: Option<String>,
    },
    /// Microsoft Graph pulls (audit, all four sign-in types, provisioning, Identity Protection, Global Secure
    /// Access); every key is documented on [`sources::graph::GraphSourceConfig`].
    Graph(Box<sources::graph::GraphSourceConfig>),
    /// Event Hubs through its Kafka endpoint (diagnostic settings streamed to an event hub); every key is
    /// documented on [`sources::eventhubs::EventHubsSourceConfig`] and in `docs/eventhubs.md`.
    #[serde(alias = "event_hubs")]
    Eventhubs(Box<sources::eventhubs::EventHubsSourceConfig>),
    /// Syslog listeners (RFC 5424, RFC 3164, CEF over UDP, TCP, TLS); every key is documented on
    /// [`sources::syslog::SyslogSourceConfig`] and in `docs/syslog-source.md`.
    Syslog(Box<sources::syslog::SyslogSourceConfig>),
    /// Storage-account archives of diagnostic settings (`insights-logs-*` containers); every key is
    /// documented on [`sources::blob::BlobSourceConfig`] and in `docs/blob.md`.
    Blob(Box<sources::blob::BlobSourceConfig>),
}

/// `[[sinks]]`: a tagged union (`type = "file"`); one variant per sink kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawSinkConfig {
    /// JSON lines (canonical records), rotated by size.
    File {
        /// Sink name, unique; also its consumer name in the log.
        id: String,
        /// Output file; rotated files get `.1`, `.2`, ...
        path: PathBuf,
        /// Rotate when the file passes this many MiB (default 256).
        rotate_mib: Option<u64>,
        /// Only these categories (default: all).
        #[serde(default)]
        categories: Vec<String>,
        /// Line encoding: `native` (canonical record, default), `raw`, `ocsf`, `ocsf_raw`.
        #[serde(default)]
        encoding: sinks::ocsf::RecordEncoding,
    },
    /// Splunk HTTP Event Collector; every key is documented on [`sinks::splunk::SplunkHecConfig`].
    SplunkHec(Box<sinks::splunk::SplunkHecConfig>),
    /// Syslog (RFC 5424 JSON, CEF, LEEF 2.0 over UDP, TCP or TLS); see [`sinks::syslog::SyslogConfig`].
    Syslog(Box<sinks::syslog::SyslogConfig>),
    /// Kafka or Event Hubs (Kafka endpoint), idempotent producer; see [`sinks::kafka::KafkaSinkConfig`].
    Kafka(Box<sinks::kafka::KafkaSinkConfig>),
    /// Elasticsearch or OpenSearch (`flavor`) through `_bulk`; see [`sinks::elastic::ElasticConfig`].
    Elasticsearch(Box<sinks::elastic::ElasticConfig>),
    /// Microsoft Sentinel / Azure Monitor Logs Ingestion API; see [`sinks::sentinel::SentinelConfig`].
    Sentinel(Box<sinks::sentinel::SentinelConfig>),
    /// Blob / S3 / local lake: the archive's Parquet files replicated to an object store; see
    /// [`sinks::lake::LakeConfig`] and `docs/lake.md`.
    Lake(Box<sinks::lake::LakeConfig>),
}
