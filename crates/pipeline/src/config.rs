//! The top-level configuration: parse (serde, unknown keys rejected) -> validate (every problem at once, each
//! named by its path, no I/O) -> [`Config`], from which the pipeline is built.

use model::Category;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One configuration problem, named by its path (`sources[0].paths`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Where in the config (`archive.retention.SignInLogs.days`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

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
}

/// `[integrity]`: the hash chain sealing log segments and archive files (docs/integrity.md).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIntegrityConfig {
    /// Seal files into the chain (default true).
    pub enabled: Option<bool>,
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
}

/// `[archive]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawArchiveConfig {
    /// zstd level for Parquet pages (default 3, 1..=22).
    pub zstd_level: Option<i32>,
    /// Rows per Parquet row group (default 131072).
    pub row_group_rows: Option<usize>,
    /// Files smaller than this many MiB are merged by compaction (default 64).
    pub compact_below_mib: Option<u64>,
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
}

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
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Compaction threshold in bytes.
    pub compact_below_bytes: u64,
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
        }
    }
}

/// Parses a config file's text. Syntax errors and unknown keys are reported with their line.
pub fn parse(text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text)
        .map_err(|e| ConfigError::new("config", e.to_string().trim_end().to_owned()))
}

fn category(name: &str, path: &str, errors: &mut Vec<ConfigError>) -> Option<Category> {
    let c = Category::from_name(name);
    if c.is_none() {
        let known: Vec<_> = Category::ALL.iter().map(|c| c.name()).collect();
        errors.push(ConfigError::new(
            path,
            format!("unknown category {name:?}; known: {}", known.join(", ")),
        ));
    }
    c
}

fn valid_id(id: &str, path: &str, seen: &mut Vec<String>, errors: &mut Vec<ConfigError>) {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        errors.push(ConfigError::new(
            path,
            format!("{id:?} must be non-empty letters, digits, '_', '-' or '.'"),
        ));
    }
    if seen.iter().any(|s| s == id) {
        errors.push(ConfigError::new(
            path,
            format!("{id:?} is used twice (source and sink ids must be unique)"),
        ));
    }
    if ["archive", "import"].contains(&id) {
        errors.push(ConfigError::new(path, format!("{id:?} is reserved")));
    }
    seen.push(id.to_owned());
}

impl RawConfig {
    /// Checks everything and returns every problem at once. No I/O.
    pub fn validate(self) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.version != 1 {
            errors.push(ConfigError::new(
                "version",
                format!("must be 1, got {}", self.version),
            ));
        }
        let segment_mib = self.log.segment_mib.unwrap_or(128);
        if !(1..=4096).contains(&segment_mib) {
            errors.push(ConfigError::new(
                "log.segment_mib",
                format!("must be 1..=4096, got {segment_mib}"),
            ));
        }
        let commit_delay_ms = self.log.commit_delay_ms.unwrap_or(5);
        if commit_delay_ms > 500 {
            errors.push(ConfigError::new(
                "log.commit_delay_ms",
                format!("must be at most 500, got {commit_delay_ms}"),
            ));
        }
        let dedupe_horizon =
            match humantime::parse_duration(self.log.dedupe_horizon.as_deref().unwrap_or("72h")) {
                Ok(d) if d >= Duration::from_secs(3600) => d,
                Ok(d) => {
                    errors.push(ConfigError::new(
                        "log.dedupe_horizon",
                        format!("must be at least 1h, got {d:?}"),
                    ));
                    d
                }
                Err(e) => {
                    errors.push(ConfigError::new(
                        "log.dedupe_horizon",
                        format!("not a duration: {e}"),
                    ));
                    Duration::ZERO
                }
            };
        let zstd_level = self.archive.zstd_level.unwrap_or(3);
        if !(1..=22).contains(&zstd_level) {
            errors.push(ConfigError::new(
                "archive.zstd_level",
                format!("must be 1..=22, got {zstd_level}"),
            ));
        }
        let row_group_rows = self.archive.row_group_rows.unwrap_or(131_072);
        if !(1024..=4_194_304).contains(&row_group_rows) {
            errors.push(ConfigError::new(
                "archive.row_group_rows",
                format!("must be 1024..=4194304, got {row_group_rows}"),
            ));
        }
        let mut retention = BTreeMap::new();
        for (name, r) in &self.archive.retention {
            let path = format!("archive.retention.{name}");
            if let Some(c) = category(name, &path, &mut errors) {
                if r.days == Some(0) {
                    errors.push(ConfigError::new(
                        format!("{path}.days"),
                        "must be at least 1 (omit it to keep forever)",
                    ));
                }
                retention.insert(c, (r.days, r.legal_hold));
            }
        }
        if self.archive.default_retention_days == Some(0) {
            errors.push(ConfigError::new(
                "archive.default_retention_days",
                "must be at least 1 (omit it to keep forever)",
            ));
        }
        let mut ids = Vec::new();
        let mut sources = Vec::new();
        for (i, s) in self.sources.into_iter().enumerate() {
            match s {
                RawSourceConfig::File {
                    id,
                    paths,
                    category: cat,
                    shape,
                } => {
                    let p = format!("sources[{i}]");
                    valid_id(&id, &format!("{p}.id"), &mut ids, &mut errors);
                    if paths.is_empty() {
                        errors.push(ConfigError::new(
                            format!("{p}.paths"),
                            "must name at least one path or glob",
                        ));
                    }
                    let cat = cat.and_then(|c| category(&c, &format!("{p}.category"), &mut errors));
                    let shape = shape.and_then(|s| {
                        let parsed = model::Shape::parse(&s);
                        if parsed.is_none() {
                            errors.push(ConfigError::new(
                                format!("{p}.shape"),
                                format!(
                                    "unknown shape {s:?}; use graph, diagnostic or log_analytics"
                                ),
                            ));
                        }
                        parsed
                    });
                    sources.push(SourceConfig::File {
                        id,
                        paths,
                        category: cat,
                        shape,
                    });
                }
                RawSourceConfig::Graph(g) => {
                    let p = format!("sources[{i}]");
                    valid_id(&g.id, &format!("{p}.id"), &mut ids, &mut errors);
                    let problems = g.validate().err().unwrap_or_default();
                    nested(
                        &p,
                        problems
                            .into_iter()
                            .map(|e| (e.field.to_string(), e.message)),
                        &mut errors,
                    );
                    sources.push(SourceConfig::Graph(g));
                }
                RawSourceConfig::Eventhubs(c) => {
                    let p = format!("sources[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    let problems = c.validate().err().unwrap_or_default();
                    nested(
                        &p,
                        problems
                            .into_iter()
                            .map(|e| (e.field.to_string(), e.message)),
                        &mut errors,
                    );
                    sources.push(SourceConfig::Eventhubs(c));
                }
                RawSourceConfig::Syslog(c) => {
                    let p = format!("sources[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    let problems = c.validate().err().unwrap_or_default();
                    nested(
                        &p,
                        problems
                            .into_iter()
                            .map(|e| (e.field.to_string(), e.message)),
                        &mut errors,
                    );
                    sources.push(SourceConfig::Syslog(c));
                }
                RawSourceConfig::Blob(c) => {
                    let p = format!("sources[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    let problems = c.validate().err().unwrap_or_default();
                    nested(
                        &p,
                        problems
                            .into_iter()
                            .map(|e| (e.field.to_string(), e.message)),
                        &mut errors,
                    );
                    sources.push(SourceConfig::Blob(c));
                }
            }
        }
        let mut sinks = Vec::new();
        for (i, s) in self.sinks.into_iter().enumerate() {
            match s {
                RawSinkConfig::File {
                    id,
                    path,
                    rotate_mib,
                    categories,
                } => {
                    let p = format!("sinks[{i}]");
                    valid_id(&id, &format!("{p}.id"), &mut ids, &mut errors);
                    if path.as_os_str().is_empty() {
                        errors.push(ConfigError::new(format!("{p}.path"), "must not be empty"));
                    }
                    let rotate_mib = rotate_mib.unwrap_or(256);
                    if rotate_mib == 0 {
                        errors.push(ConfigError::new(
                            format!("{p}.rotate_mib"),
                            "must be at least 1",
                        ));
                    }
                    let categories = categories
                        .iter()
                        .enumerate()
                        .filter_map(|(j, c)| {
                            category(c, &format!("{p}.categories[{j}]"), &mut errors)
                        })
                        .collect();
                    sinks.push(SinkConfig::File {
                        id,
                        path,
                        rotate_bytes: rotate_mib * 1024 * 1024,
                        categories,
                    });
                }
                RawSinkConfig::SplunkHec(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::SplunkHec(c));
                }
                RawSinkConfig::Syslog(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Syslog(c));
                }
                RawSinkConfig::Kafka(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Kafka(c));
                }
                RawSinkConfig::Elasticsearch(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Elasticsearch(c));
                }
                RawSinkConfig::Sentinel(c) => {
                    let p = format!("sinks[{i}]");
                    valid_id(&c.id, &format!("{p}.id"), &mut ids, &mut errors);
                    sink_errors(&p, c.validate(), &mut errors);
                    sinks.push(SinkConfig::Sentinel(c));
                }
            }
        }
        let coverage = crate::coverage::validate_config(self.coverage, &sources, &mut errors);
        let integrity = integrity_config(&self.integrity, &mut errors);
        let legal_holds = legal_holds(&self.archive.legal_hold, &mut errors);
        let detection = crate::detection::validate(self.detection, self.alerts, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from("entrail-data")),
            segment_bytes: segment_mib * 1024 * 1024,
            commit_delay: Duration::from_millis(commit_delay_ms),
            dedupe_horizon,
            zstd_level,
            row_group_rows,
            compact_below_bytes: self.archive.compact_below_mib.unwrap_or(64) * 1024 * 1024,
            default_retention_days: self.archive.default_retention_days,
            retention,
            legal_holds,
            sources,
            sinks,
            coverage,
            integrity,
            detection,
        })
    }
}

/// Validates `[[archive.legal_hold]]`.
fn legal_holds(
    raw: &[RawLegalHold],
    errors: &mut Vec<ConfigError>,
) -> Vec<store::archive::LegalHold> {
    let mut out = Vec::new();
    for (i, h) in raw.iter().enumerate() {
        let path = format!("archive.legal_hold[{i}]");
        let mut day = |field: &str, v: &Option<String>| {
            v.as_deref().and_then(|d| {
                let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
                if parsed.is_none() {
                    errors.push(ConfigError::new(
                        format!("{path}.{field}"),
                        format!("{d:?} is not a day (YYYY-MM-DD)"),
                    ));
                }
                parsed
            })
        };
        let (from, to) = (day("from", &h.from), day("to", &h.to));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push(ConfigError::new(
                format!("{path}.to"),
                format!("{t} is before from {f}"),
            ));
        }
        let categories = h
            .categories
            .iter()
            .enumerate()
            .filter_map(|(j, c)| category(c, &format!("{path}.categories[{j}]"), errors))
            .collect();
        out.push(store::archive::LegalHold {
            categories,
            from,
            to,
            reason: h.reason.clone(),
        });
    }
    out
}

/// Validates `[integrity]`; `None` when disabled.
fn integrity_config(
    raw: &RawIntegrityConfig,
    errors: &mut Vec<ConfigError>,
) -> Option<store::seal::SealConfig> {
    let defaults = store::seal::SealConfig::default();
    let interval = match raw
        .checkpoint_interval
        .as_deref()
        .map(humantime::parse_duration)
    {
        None => defaults.checkpoint_interval,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            errors.push(ConfigError::new(
                "integrity.checkpoint_interval",
                format!("not a duration: {e}"),
            ));
            defaults.checkpoint_interval
        }
    };
    let cfg = store::seal::SealConfig {
        signing_key_file: raw.signing_key_file.clone(),
        verify_key_file: raw.verify_key_file.clone(),
        checkpoint_every: raw.checkpoint_every.unwrap_or(defaults.checkpoint_every),
        checkpoint_interval: interval,
        publish_file: raw.publish_file.clone(),
        publish_log: raw.publish_log,
        ..defaults
    };
    if let Err(store::seal::SealError::Config { problems }) = cfg.validate() {
        for p in problems {
            let (field, message) = p.split_once(": ").unwrap_or(("", p.as_str()));
            errors.push(ConfigError::new(format!("integrity.{field}"), message));
        }
    }
    raw.enabled.unwrap_or(true).then_some(cfg)
}

/// A sink's own validation problems, under its path (its id is checked by `valid_id`).
fn sink_errors(
    path: &str,
    result: Result<(), Vec<sinks::ConfigError>>,
    errors: &mut Vec<ConfigError>,
) {
    if let Err(problems) = result {
        errors.extend(
            problems
                .into_iter()
                .filter(|e| e.field != "id")
                .map(|e| ConfigError::new(format!("{path}.{}", e.field), e.message)),
        );
    }
}

/// The commented config `entrail init` writes: every key, with its default.
pub const EXAMPLE_CONFIG: &str = include_str!("example.toml");

/// Adds a component's own validation problems (`(field, message)`) under `prefix`; its `id` is checked by
/// the caller (unique across sources), so an `id` problem is not reported twice.
fn nested(
    prefix: &str,
    problems: impl Iterator<Item = (String, String)>,
    errors: &mut Vec<ConfigError>,
) {
    errors.extend(
        problems
            .filter(|(field, _)| field != "id")
            .map(|(field, message)| ConfigError::new(format!("{prefix}.{field}"), message)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid() {
        let c = parse(EXAMPLE_CONFIG).unwrap().validate().unwrap();
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sinks.len(), 1);
        assert_eq!(c.dedupe_horizon, Duration::from_secs(72 * 3600));
    }

    #[test]
    fn the_default_config_is_valid() {
        assert!(RawConfig::default().validate().is_ok());
    }

    #[test]
    fn an_empty_config_has_defaults() {
        let c = parse("").unwrap().validate().unwrap();
        assert_eq!(c.data_dir, PathBuf::from("entrail-data"));
        assert_eq!(c.commit_delay, Duration::from_millis(5));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
            version = 2
            [log]
            commit_delay_ms = 900
            dedupe_horizon = "soon"
            [archive]
            zstd_level = 40
            [archive.retention.NoSuchLogs]
            days = 3
            [[sources]]
            type = "file"
            id = "a"
            paths = []
            shape = "weird"
            [[sinks]]
            type = "file"
            id = "a"
            path = "out.jsonl"
            categories = ["SignInLogs", "Bogus"]
        "#;
        let errors = parse(text).unwrap().validate().unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "version",
                "log.commit_delay_ms",
                "log.dedupe_horizon",
                "archive.zstd_level",
                "archive.retention.NoSuchLogs",
                "sources[0].paths",
                "sources[0].shape",
                "sinks[0].id",
                "sinks[0].categories[1]"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_place() {
        let e = parse("[log]\nsegment_mb = 3\n").unwrap_err();
        assert!(e.message.contains("segment_mb"), "{e}");
    }
}
