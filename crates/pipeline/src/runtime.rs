//! The pipeline runtime: opens the hub, runs sources into it, and drives the consumers.

use crate::config::{Config, SinkConfig, SourceConfig};
use crate::consume::{self, ConsumeReport};
use model::Record;
use sinks::Sink;
use sinks::file::{FileSink, FileSinkConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use store::archive::{Archive, ArchiveConfig, ArchiveError, RetentionPolicy};
use store::hub::{Hub, HubConfig, HubError, IngestOutcome};
use store::log::{Log, LogConfig};

/// Pipeline failures, each naming the stage.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The tamper-evidence chain could not be opened or written.
    #[error("integrity chain")]
    Seal(#[from] store::seal::SealError),
    /// The hub (log, dedupe, quarantine) failed.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// A source failed.
    #[error("source {id}")]
    Source {
        /// Source id.
        id: String,
        /// The cause.
        #[source]
        source: sources::SourceError,
    },
    /// The archive failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A sink failed; its offset did not move past the failed batch.
    #[error("sink {id}")]
    Sink {
        /// Sink id.
        id: String,
        /// The cause.
        #[source]
        source: sinks::SinkError,
    },
    /// A log entry could not be decoded.
    #[error("log entry {offset}: {message}")]
    Entry {
        /// Offset.
        offset: u64,
        /// Why.
        message: String,
    },
    /// The log failed while consuming.
    #[error(transparent)]
    Log(#[from] store::log::LogError),
    /// The cursor store failed.
    #[error("{0}")]
    Cursor(String),
    /// A source (Graph, Event Hubs, Blob, syslog) failed to start or stopped.
    #[error("source {id}: {message}")]
    SourceStopped {
        /// Source id.
        id: String,
        /// What failed.
        message: String,
    },
    /// Detection or the alert store failed (docs/alerts.md).
    #[error("detection: {0}")]
    Detection(String),
    /// Per-sink accounting (`sinks/volume.json`, `sinks/losses.json`) or a replay's progress failed.
    #[error("sink accounting: {0}")]
    Accounting(String),
    /// A replay could not run (bad range, unknown sink, archive unreadable).
    #[error("replay: {0}")]
    Replay(String),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Files read.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Records decoded.
    pub records: u64,
    /// Totals of the hub's verdicts.
    pub outcome: IngestOutcome,
}

/// One data directory's pipeline.
pub struct Pipeline {
    config: Config,
    /// Shared with collectors that deliver batches from async tasks (see [`crate::collect`]).
    hub: Arc<Mutex<Hub>>,
    log: Arc<Log>,
    /// Seals closed segments and archive files (`None` when `[integrity] enabled = false`).
    sealer: Option<Arc<store::seal::Sealer>>,
    /// The detection consumer, loaded on the first `detect()` (see [`crate::detection`]).
    pub(crate) detector: Mutex<Option<crate::detection::Detector>>,
    /// Health checks: ingest lag, clock, silence (see [`crate::watch`]).
    pub(crate) watch: crate::watch::Watch,
    /// Prometheus metrics (see [`crate::metrics`]).
    pub(crate) metrics: crate::metrics::Metrics,
}

impl Pipeline {
    /// Opens the data directory (creating it), recovering the log and the dedupe index.
    pub fn open(config: Config) -> Result<Pipeline, PipelineError> {
        let hub_config = HubConfig {
            log: LogConfig {
                segment_bytes: config.segment_bytes,
                max_commit_delay: config.commit_delay,
                ..LogConfig::default()
            },
            dedupe_horizon: config.dedupe_horizon,
            ..HubConfig::default()
        };
        let hub = Hub::open(&config.data_dir, hub_config)?;
        let log = hub.log().clone();
        let sealer = match &config.integrity {
            Some(cfg) => {
                let sealer = store::seal::Sealer::open(&config.data_dir, cfg.clone())?;
                log.set_seal_hook(sealer.clone());
                sealer.catch_up_log(log.dir())?;
                Some(sealer)
            }
            None => None,
        };
        let watch = crate::watch::Watch::new(&config.watch, &config.data_dir);
        let metrics = crate::metrics::Metrics::for_pipeline(&config, &log);
        Ok(Pipeline {
            config,
            watch,
            metrics,
            hub: Arc::new(Mutex::new(hub)),
            log,
            sealer,
            detector: Mutex::new(None),
        })
    }

    /// The validated config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The hub (log, dedupe index, quarantine), locked for the caller. Only collectors share the lock across
    /// threads, and they refuse a poisoned hub themselves (see `collect`); the commands that call this
    /// run on one thread, where the lock cannot be poisoned.
    pub fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The hub, for collectors that deliver from other tasks.
    pub fn shared_hub(&self) -> Arc<Mutex<Hub>> {
        self.hub.clone()
    }

    /// The durable log.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    /// Ingests already-decoded records (and rejected input) as one batch; returns when it is durable.
    pub fn ingest(
        &mut self,
        records: Vec<Record>,
        rejected: Vec<model::Rejected>,
    ) -> Result<IngestOutcome, PipelineError> {
        let metrics = self.metrics.clone();
        Ok(metrics.ingest(&mut self.hub(), records, rejected)?)
    }

    /// Reads a file source to its end, batch by batch; each batch is durable before the next is read.
    pub fn import(
        &mut self,
        source: &FileSource,
        progress: Progress,
    ) -> Result<ImportReport, PipelineError> {
        let now = chrono::Utc::now().timestamp_micros();
        let mut report = ImportReport {
            files: source.files().len(),
            ..ImportReport::default()
        };
        for batch in source.batches(now, progress.clone()) {
            let batch = batch.map_err(|source| PipelineError::Source {
                id: "import".into(),
                source,
            })?;
            report.records += batch.records.len() as u64;
            let metrics = self.metrics.clone();
            let o = metrics.ingest(&mut self.hub(), batch.records, batch.rejected)?;
            report.outcome.appended += o.appended;
            report.outcome.revisions += o.revisions;
            report.outcome.duplicates += o.duplicates;
            report.outcome.quarantined += o.quarantined;
            tracing::debug!(position = %batch.position, appended = o.appended, "batch durable");
        }
        self.hub().checkpoint()?;
        report.bytes = progress.bytes();
        Ok(report)
    }

    /// Runs every configured source once to its end.
    pub fn run_sources(
        &mut self,
        progress: Progress,
    ) -> Result<Vec<(String, ImportReport)>, PipelineError> {
        let mut reports = Vec::new();
        for s in self.config.sources.clone() {
            match s {
                SourceConfig::File {
                    id,
                    paths,
                    category,
                    shape,
                } => {
                    let mut cfg = FileSourceConfig::new(id.clone(), paths);
                    cfg.category = category;
                    cfg.shape = shape;
                    let source = FileSource::new(cfg).map_err(|source| PipelineError::Source {
                        id: id.clone(),
                        source,
                    })?;
                    reports.push((id, self.import(&source, progress.clone())?));
                }
                // Pulled continuously by a `Collector` (see `collect`), not run to an end.
                SourceConfig::Graph(_) => {}
                // Consumed continuously by the collector too (see `eventhubs`).
                SourceConfig::Eventhubs(_) => {}
                // Listens while `entrail run --every` runs (see `syslog_source`); nothing to read to an end.
                SourceConfig::Syslog(_) => {}
                // Polled by the collector (see `blob`).
                SourceConfig::Blob(_) => {}
            }
        }
        Ok(reports)
    }

    /// The archive's settings from the config.
    pub fn archive_config(&self) -> ArchiveConfig {
        let c = &self.config;
        ArchiveConfig {
            row_group_rows: c.row_group_rows,
            zstd_level: c.zstd_level,
            compact_zstd_level: c.compact_zstd_level,
            compaction: c.compaction,
            compact_below_bytes: c.compact_below_bytes,
            default_retention_days: c.default_retention_days,
            legal_holds: c.legal_holds.clone(),
            retention: c
                .retention
                .iter()
                .map(|(cat, (days, legal_hold))| {
                    (
                        *cat,
                        RetentionPolicy {
                            days: *days,
                            legal_hold: *legal_hold,
                        },
                    )
                })
                .collect::<HashMap<_, _>>(),
            // Bounded memory while large inputs stream through: small buffers make more files, which
            // compaction merges. One budget: a partition may fill it alone.
            flush_bytes: c.archive_max_buffer_bytes,
            max_buffered_bytes: c.archive_max_buffer_bytes,
            spill: c.archive_spill,
            raw: c.archive_raw,
            ..ArchiveConfig::default()
        }
    }

    /// The sealer of this data directory, when integrity is enabled.
    pub fn sealer(&self) -> Option<&Arc<store::seal::Sealer>> {
        self.sealer.as_ref()
    }

    /// Opens the archive of this data directory (sealing what it adds and deletes, when integrity is on).
    pub fn open_archive(&self) -> Result<Archive, PipelineError> {
        let mut archive =
            Archive::open(&self.config.data_dir.join("archive"), self.archive_config())?;
        if let Some(sealer) = &self.sealer {
            archive.set_seal_hook(sealer.clone());
            sealer.catch_up_archive(archive.dir(), archive.manifest())?;
        }
        Ok(archive)
    }

    /// Moves everything in the log past the archive's offset into Parquet, then compacts where small files
    /// have gathered and applies retention.
    pub fn archive(&mut self) -> Result<ConsumeReport, PipelineError> {
        let mut archive = self.open_archive()?;
        let report = consume::archive(&self.log, &mut archive)?;
        if needs_compaction(&archive) {
            archive.compact()?;
        }
        archive.apply_retention(chrono::Utc::now())?;
        if let Some(sealer) = &self.sealer {
            sealer.checkpoint()?;
        }
        Ok(report)
    }

    /// Feeds every configured sink from its committed offset to the end of the log. Every sink is tried even
    /// when one fails (its offset stays before the failed batch, so nothing is skipped); the first failure is
    /// returned after all were tried.
    pub fn drain_sinks(&mut self) -> Result<Vec<(String, ConsumeReport)>, PipelineError> {
        let mut reports = Vec::new();
        let mut first_error = None;
        for s in self.config.sinks.clone() {
            let id = s.id().to_owned();
            if let SinkConfig::Lake(c) = &s {
                // Not a log consumer: replicates the archive's committed files (see `crate::lake`).
                let lake = self.sync_lake(c);
                (self.metrics)
                    .sink_drained(&id, lake.as_ref().err().map(crate::metrics::error_kind));
                match lake {
                    Ok(report) => reports.push((id, report)),
                    Err(e) => {
                        tracing::error!(sink = %id, error = %e, "lake sink failed; retried next run, nothing skipped");
                        first_error.get_or_insert(e);
                    }
                }
                continue;
            }
            let hub = &self.hub;
            let metrics = &self.metrics;
            let mut quarantine = |rejected: Vec<model::Rejected>| -> Result<(), PipelineError> {
                metrics.sink_rejected(&rejected);
                hub.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .quarantine()
                    .add(rejected)
                    .map_err(|e| PipelineError::Hub(e.into()))?;
                Ok(())
            };
            let mut router =
                crate::routes::SinkRouter::new(&self.config.routes, &self.config.data_dir, &id);
            router.meter = Some(self.metrics.sink_meter(&id));
            let result = build_sink(s).and_then(|mut sink| {
                consume::sink(&self.log, sink.as_mut(), &mut router, &mut quarantine)
            });
            self.metrics
                .sink_drained(&id, result.as_ref().err().map(crate::metrics::error_kind));
            match result {
                Ok(report) => reports.push((id, report)),
                Err(e) => {
                    tracing::error!(sink = %id, error = %e, "sink failed; its offset stays before the failed batch");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(reports),
        }
    }

    /// Deletes log segments every consumer (archive, sinks) and the dedupe index have passed.
    pub fn trim_log(&mut self) -> Result<u64, PipelineError> {
        self.hub().checkpoint()?;
        let log = &self.log;
        let mut min = log.committed(consume::ARCHIVE_CONSUMER).unwrap_or(0);
        for s in self.config.sinks.iter().filter(|s| s.consumes_log()) {
            min = min.min(log.committed(s.id()).unwrap_or(0));
        }
        if self.config.detection.enabled {
            min = min.min(
                log.committed(crate::detection::DETECT_CONSUMER)
                    .unwrap_or(0),
            );
        }
        if let Some(budget) = self.config.disk_budget_bytes {
            // The archive and detection are never skipped; sinks may be, lowest priority first (counted).
            let mut protected = log.committed(consume::ARCHIVE_CONSUMER).unwrap_or(0);
            if self.config.detection.enabled {
                protected = protected.min(
                    log.committed(crate::detection::DETECT_CONSUMER)
                        .unwrap_or(0),
                );
            }
            let sinks: Vec<String> = self
                .config
                .sinks
                .iter()
                .filter(|s| s.consumes_log())
                .map(|s| s.id().to_owned())
                .collect();
            min = crate::routes::budget::enforce(
                log,
                &self.config.data_dir,
                budget,
                protected,
                &sinks,
                &self.config.routes,
            )?;
        }
        Ok(log.truncate_before(min)?)
    }
}

/// Small files a partition may hold before compaction merges them. Compacting after every archive run would
/// re-read and re-compress every fresh file (measured: ~15% of ingest CPU); waiting for a few amortizes it.
const COMPACT_AFTER_SMALL_FILES: usize = 8;

/// Whether any (table, day) partition holds at least [`COMPACT_AFTER_SMALL_FILES`] files below the
/// compaction threshold.
fn needs_compaction(archive: &Archive) -> bool {
    let below = archive.config().compact_below_bytes;
    let mut small: HashMap<(&str, &str), usize> = HashMap::new();
    for f in archive.manifest().files.iter().filter(|f| f.bytes < below) {
        let n = small.entry((f.table.as_str(), f.day.as_str())).or_default();
        *n += 1;
        if *n >= COMPACT_AFTER_SMALL_FILES {
            return true;
        }
    }
    false
}

/// Why a lake sink cannot be built as a log sink (e.g. for `replay`).
const LAKE_NOT_A_LOG_SINK: &str = "a lake sink replicates the archive's files, not log records \
     (docs/lake.md); to upload again, delete <data_dir>/lake/<id>.json";

/// The one place sink configs become sinks.
pub(crate) fn build_sink(config: SinkConfig) -> Result<Box<dyn Sink>, PipelineError> {
    let id = config.id().to_owned();
    let err = |source| PipelineError::Sink {
        id: id.clone(),
        source,
    };
    Ok(match config {
        SinkConfig::File {
            id,
            path,
            rotate_bytes,
            categories,
            encoding,
        } => Box::new(
            FileSink::new(FileSinkConfig {
                id,
                path,
                rotate_bytes,
                categories,
            })
            .with_encoding(encoding),
        ),
        SinkConfig::SplunkHec(c) => Box::new(sinks::splunk::SplunkHecSink::new(*c).map_err(err)?),
        SinkConfig::Syslog(c) => Box::new(sinks::syslog::SyslogSink::new(*c).map_err(err)?),
        SinkConfig::Kafka(c) => Box::new(sinks::kafka::KafkaSink::new(*c).map_err(err)?),
        SinkConfig::Elasticsearch(c) => {
            Box::new(sinks::elastic::ElasticSink::new(*c).map_err(err)?)
        }
        SinkConfig::Sentinel(c) => Box::new(sinks::sentinel::SentinelSink::new(*c).map_err(err)?),
        SinkConfig::Lake(_) => {
            return Err(err(sinks::SinkError::Config {
                message: LAKE_NOT_A_LOG_SINK.to_owned(),
            }));
        }
    })
}
