//! `entrail status`: per consumer its offset and lag, per category its counts and last event time, and the
//! quarantine.

use crate::consume::ARCHIVE_CONSUMER;
use crate::runtime::{Pipeline, PipelineError};
use serde::Serialize;

/// One log consumer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConsumerStatus {
    /// Consumer name (`archive` or a sink id).
    pub name: String,
    /// Next offset it will read.
    pub offset: u64,
    /// Entries behind the end of the log.
    pub lag: u64,
}

/// One category.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CategoryStatus {
    /// Category name.
    pub category: String,
    /// Canonical table.
    pub table: String,
    /// Records appended to the log.
    pub appended: u64,
    /// Revisions among them.
    pub revisions: u64,
    /// Exact duplicates dropped.
    pub duplicates: u64,
    /// Rows in the archive.
    pub archived_rows: u64,
    /// Newest event time (RFC 3339).
    pub last_event_time: Option<String>,
    /// Items quarantined that looked like this category.
    pub quarantined: u64,
}

/// Everything `entrail status` shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    /// Log offsets: first retained and end.
    pub log_start: u64,
    /// End of the log (next offset to append).
    pub log_end: u64,
    /// Bytes of log segments on disk.
    pub log_bytes: u64,
    /// Keys in the dedupe index.
    pub dedupe_keys: usize,
    /// Consumers.
    pub consumers: Vec<ConsumerStatus>,
    /// Categories with any data.
    pub categories: Vec<CategoryStatus>,
    /// Open quarantine entries.
    pub quarantine_open: usize,
    /// Quarantine entries in all.
    pub quarantine_total: usize,
    /// API sources (Graph): per category cursor, lag, counts and last error, as the collector last
    /// saved them (`sources-status.json`); empty when none ran.
    pub sources: Vec<SourceStatus>,
    /// Event Hubs sources: per partition committed offset, high watermark and lag, as the collector last
    /// saved them (`eventhubs-status.json`); empty when none ran.
    pub eventhubs: Vec<sources::eventhubs::EventHubsStatus>,
    /// Blob sources: per container the oldest open hour, open blobs, bytes and records read, as the
    /// collector last saved them (`blob-status.json`); empty when none ran.
    pub blob: Vec<sources::blob::BlobStatus>,
    /// Syslog sources: listeners and message, truncation, quarantine and UDP drop counts, as the collector
    /// last saved them (`syslog-status.json`); empty when none ran.
    pub syslog: Vec<sources::syslog::SyslogStatus>,
    /// Lake sinks: files and bytes of the archive not yet uploaded, pending deletions, last error, from the
    /// manifest and each sink's progress file (docs/lake.md); empty without lake sinks.
    pub lake: Vec<sinks::lake::LakeBacklog>,
    /// Ingest lag per source and category over the sliding window, as last saved (`lag-status.json`,
    /// docs/lag.md); empty when nothing was measured.
    pub lag: Vec<crate::lag::LagStatus>,
    /// The last host clock check against the SNTP servers (`clock-status.json`), if any.
    pub clock: Option<crate::clock::ClockStatus>,
    /// Source/category pairs silent at the last `[silence]` check (`silence-state.json`).
    pub silent: Vec<crate::watch::SilentPair>,
    /// Log-consuming sinks: backlog (records, bytes, age of the oldest unsent record), sent and filtered
    /// counts, records lost to the disk budget (docs/sinks.md "Routes").
    pub sinks: Vec<crate::routes::status::SinkStatus>,
}

/// One API source's last saved accounting.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SourceStatus {
    /// Source id.
    pub source: String,
    /// The source's "now" when saved.
    pub now: Option<String>,
    /// Per category.
    pub categories: Vec<SourceCategoryStatus>,
}

/// One category of an API source.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SourceCategoryStatus {
    /// Category name.
    pub category: String,
    /// The saved tail cursor (end of the last durable window).
    pub cursor: Option<String>,
    /// Seconds the cursor is behind now.
    pub lag_seconds: Option<i64>,
    /// Objects read (tail and backfill).
    pub seen: u64,
    /// The pipeline's counts: new, revised, duplicates, quarantined.
    pub accepted: Accepted,
    /// When the last tail window completed.
    pub last_success: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<String>,
    /// Paused after a 401/403.
    pub paused: bool,
}

/// Counts of one category (mirrors the collector's).
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Accepted {
    /// New records.
    pub new: u64,
    /// New revisions.
    pub revised: u64,
    /// Exact duplicates dropped.
    pub duplicates: u64,
    /// Quarantined items.
    pub quarantined: u64,
}

fn load_sources(data_dir: &std::path::Path) -> Vec<SourceStatus> {
    let path = crate::collect::status_path(data_dir);
    let Ok(file) = std::fs::File::open(&path) else {
        return Vec::new();
    };
    let parsed = model::limits::read_capped(file, 16 << 20)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
    parsed.unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "source status unreadable");
        Vec::new()
    })
}

impl Pipeline {
    /// Collects the status of this data directory.
    pub fn status(&mut self) -> Result<Status, PipelineError> {
        // The manifest alone: no archive lock, so status works while `entrail run` is archiving.
        let mut archive_rows: std::collections::HashMap<String, u64> = Default::default();
        match store::archive::Manifest::load(&self.config().data_dir.join("archive")) {
            Ok(manifest) => {
                for f in manifest.iter().flat_map(|m| &m.files) {
                    *archive_rows.entry(f.table.clone()).or_default() += f.rows;
                }
            }
            Err(e) => tracing::warn!(error = %e, "archive manifest unreadable for status"),
        }
        let sinks: Vec<String> = self
            .config()
            .sinks
            .iter()
            .filter(|s| s.consumes_log())
            .map(|s| s.id().to_owned())
            .collect();
        let lake = self.lake_backlog();
        let log_sinks: Vec<String> = (self.config().sinks.iter())
            .filter(|s| s.consumes_log())
            .map(|s| s.id().to_owned())
            .collect();
        let sink_status = crate::routes::status::sink_statuses(
            self.log(),
            &self.config().data_dir,
            &log_sinks,
            &self.config().routes,
        );
        let mut hub = self.hub();
        let log = hub.log().clone();
        let end = log.end_offset();
        let mut consumers: Vec<ConsumerStatus> = log
            .consumers()
            .into_iter()
            .map(|(name, offset)| ConsumerStatus {
                name,
                offset,
                lag: end.saturating_sub(offset),
            })
            .collect();
        for name in std::iter::once(ARCHIVE_CONSUMER.to_owned()).chain(sinks) {
            if !consumers.iter().any(|c| c.name == name) {
                consumers.push(ConsumerStatus {
                    name,
                    offset: 0,
                    lag: end,
                });
            }
        }
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        let stats = hub.stats().clone();
        let categories = model::Category::ALL
            .iter()
            .filter_map(|c| {
                let s = stats.categories.get(c.name()).cloned().unwrap_or_default();
                let rows = archive_rows.get(c.table()).copied().unwrap_or(0);
                let quarantined = stats.quarantined.get(c.name()).copied().unwrap_or(0);
                (s.appended + s.duplicates + rows + quarantined > 0).then(|| CategoryStatus {
                    category: c.name().to_owned(),
                    table: c.table().to_owned(),
                    appended: s.appended,
                    revisions: s.revisions,
                    duplicates: s.duplicates,
                    archived_rows: rows,
                    last_event_time: s.last_event_time.map(model::format_micros),
                    quarantined,
                })
            })
            .collect();
        let dedupe_keys = hub.dedupe_keys();
        let q = hub.quarantine();
        Ok(Status {
            log_start: log.start_offset(),
            log_end: end,
            log_bytes: log.disk_bytes(),
            dedupe_keys,
            consumers,
            categories,
            quarantine_open: q.open_count(),
            quarantine_total: q.entries().len(),
            sources: load_sources(&self.config().data_dir),
            eventhubs: crate::eventhubs::load_status(&self.config().data_dir),
            blob: crate::blob::load_status(&self.config().data_dir),
            syslog: crate::syslog_source::load_status(&self.config().data_dir),
            lake,
            lag: crate::lag::load_status(&self.config().data_dir),
            clock: crate::clock::load_status(&self.config().data_dir),
            silent: crate::watch::load_silence_state(&self.config().data_dir)
                .into_values()
                .collect(),
            sinks: sink_status,
        })
    }
}
