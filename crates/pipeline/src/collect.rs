//! Collectors that pull from APIs on async tasks (Microsoft Graph): their batches go into the shared hub on a
//! blocking thread and count as delivered only once `Hub::ingest` returned (the batch is on disk); their
//! positions live in the durable cursor store. A snapshot of every collector's accounting is written to
//! `sources-status.json` for `entrail status`, which cannot open the cursor store while `entrail run` holds it.

use crate::config::SourceConfig;
use crate::runtime::{Pipeline, PipelineError};
use chrono::{DateTime, Utc};
use model::Category;
use sources::Batch;
use sources::graph::{
    Accepted, BackfillProgress, BackfillReport, CancellationToken, CursorError, CursorStore,
    Deliver, DeliverError, GraphError, GraphSource, GraphStatus, PollReport,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use store::cursor::Cursors;
use store::hub::Hub;

/// Delivers source batches into the hub; returns once they are durable.
#[derive(Clone)]
pub struct HubDeliver {
    hub: Arc<Mutex<Hub>>,
    /// Ingest lag of what was delivered (`crate::lag`), when measured.
    lag: Option<Arc<crate::lag::LagTracker>>,
    /// Counts verdicts and lag per source (`crate::metrics`), when set.
    metrics: Option<crate::metrics::Metrics>,
}

impl HubDeliver {
    /// Delivers into this hub (lag not measured).
    pub fn new(hub: Arc<Mutex<Hub>>) -> HubDeliver {
        HubDeliver {
            hub,
            lag: None,
            metrics: None,
        }
    }
}

impl Pipeline {
    /// Delivers into this pipeline's hub, measuring the ingest lag of what becomes durable.
    pub fn hub_deliver(&self) -> HubDeliver {
        HubDeliver {
            hub: self.shared_hub(),
            lag: Some(self.watcher().lag().clone()),
            metrics: Some(self.metrics().clone()),
        }
    }
}

impl Deliver for HubDeliver {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        let hub = self.hub.clone();
        let lag = self.lag.clone();
        let metrics = self.metrics.clone();
        let done = tokio::task::spawn_blocking(move || {
            // A panic while another delivery held the lock may have left the dedupe index ahead of the log:
            // refuse to go on rather than risk forgetting records (reopening rebuilds the index).
            let mut hub = hub.lock().map_err(|_| {
                DeliverError::new("the hub is unusable after a panic in an earlier delivery")
            })?;
            // Ingest lag of what is handed over (a failed batch is retried; its content is counted once).
            if let Some(lag) = &lag {
                lag.observe(&batch.records);
            }
            let ingested = match &metrics {
                Some(m) => {
                    let tolerance = lag.as_ref().and_then(|l| l.config().future_tolerance);
                    let tolerance = tolerance.map(|d| d.as_micros().min(i64::MAX as u128) as i64);
                    m.ingest_delivered(&mut hub, batch.records, batch.rejected, tolerance)
                }
                None => hub.ingest(batch.records, batch.rejected),
            };
            ingested.map_err(|e| DeliverError {
                message: format!("appending to the log: {e}"),
                source: Some(Box::new(e)),
            })
        })
        .await
        .map_err(|e| DeliverError::new(format!("delivery task failed: {e}")))??;
        Ok(Accepted {
            new: done.appended - done.revisions,
            revised: done.revisions,
            duplicates: done.duplicates,
            quarantined: done.quarantined,
        })
    }
}

/// The durable cursor store, as the Graph source sees it.
#[derive(Clone)]
pub struct StoreCursors(Arc<Cursors>);

impl CursorStore for StoreCursors {
    fn load(&self, key: &str) -> Result<Option<serde_json::Value>, CursorError> {
        self.0.load(key).map_err(cursor_err)
    }

    fn save(&self, key: &str, value: &serde_json::Value) -> Result<(), CursorError> {
        self.0.save(key, value).map_err(cursor_err)
    }
}

fn cursor_err(e: store::cursor::CursorError) -> CursorError {
    CursorError {
        message: e.to_string(),
        source: Some(Box::new(e)),
    }
}

/// Every API source of one data directory with what they deliver into.
pub struct Collector {
    deliver: HubDeliver,
    cursors: StoreCursors,
    sources: Vec<Arc<GraphSource>>,
    status_path: PathBuf,
    /// Event Hubs sources (see `crate::eventhubs`).
    eventhubs: crate::eventhubs::EventHubsCollector,
    /// Syslog listeners (see `crate::syslog_source`); they run in `run_tail` only.
    syslog: crate::syslog_source::SyslogCollector,
    /// Storage-account (Blob) sources (see `crate::blob`).
    blob: crate::blob::BlobCollector,
}

/// The file `entrail status` reads collectors' accounting from.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sources-status.json")
}

impl Pipeline {
    /// Builds a collector for every configured Graph source (reads certificate files; sends nothing).
    pub fn collector(&self) -> Result<Collector, PipelineError> {
        let mut sources = Vec::new();
        for s in &self.config().sources {
            if let SourceConfig::Graph(g) = s {
                let source =
                    GraphSource::from_config((**g).clone()).map_err(|e| graph_err(&g.id, e))?;
                sources.push(source);
            }
        }
        self.collector_with(sources)
    }

    /// A collector over sources the caller built (tests and the demo pass a simulated clock).
    pub fn collector_with(&self, sources: Vec<GraphSource>) -> Result<Collector, PipelineError> {
        let dir = &self.config().data_dir;
        let cursors =
            Arc::new(Cursors::open(dir).map_err(|e| PipelineError::Cursor(e.to_string()))?);
        Ok(Collector {
            blob: self.blob_collector(Some(StoreCursors(cursors.clone())))?,
            deliver: self.hub_deliver(),
            cursors: StoreCursors(cursors),
            sources: sources.into_iter().map(Arc::new).collect(),
            status_path: status_path(dir),
            eventhubs: self.eventhubs_collector()?,
            syslog: self.syslog_collector()?,
        })
    }
}

fn graph_err(id: &str, e: GraphError) -> PipelineError {
    PipelineError::SourceStopped {
        id: id.to_owned(),
        message: e.to_string(),
    }
}

impl Collector {
    /// Whether any API source is configured.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
            && self.eventhubs.is_empty()
            && self.syslog.is_empty()
            && self.blob.is_empty()
    }

    /// The Blob sources.
    pub fn blob(&self) -> &crate::blob::BlobCollector {
        &self.blob
    }

    /// The sources.
    pub fn sources(&self) -> &[Arc<GraphSource>] {
        &self.sources
    }

    /// One window per category of every source, up to now. A category that failed keeps its cursor and is
    /// named in its report; the others still complete.
    pub async fn poll_once(&self) -> Result<Vec<(String, PollReport)>, PipelineError> {
        let polls = self.sources.iter().map(|s| async move {
            let r = s.poll_once(&self.deliver, &self.cursors).await;
            (s.config().id.clone(), r)
        });
        let mut out = Vec::new();
        for (id, r) in futures::future::join_all(polls).await {
            out.push((id.clone(), r.map_err(|e| graph_err(&id, e))?));
        }
        // Event Hubs sources: read until caught up with their partitions.
        self.eventhubs
            .run_until_caught_up(crate::eventhubs::CATCH_UP_IDLE)
            .await?;
        // Blob sources: one pass over their containers up to now.
        self.blob.poll_once().await?;
        self.save_status();
        Ok(out)
    }

    /// Tails every source until `shutdown` is cancelled, saving the status snapshot every `status_every`.
    pub async fn run_tail(
        &self,
        shutdown: CancellationToken,
        status_every: std::time::Duration,
    ) -> Result<(), PipelineError> {
        let tails = self.sources.iter().map(|s| {
            let shutdown = shutdown.clone();
            async move {
                let id = s.config().id.clone();
                s.run_tail(&self.deliver, &self.cursors, shutdown)
                    .await
                    .map_err(|e| graph_err(&id, e))
            }
        });
        let snapshots = async {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(status_every) => self.save_status(),
                }
            }
        };
        let streams = self.eventhubs.run(shutdown.clone(), status_every);
        let listeners = self.syslog.run(shutdown.clone(), status_every);
        let blobs = self.blob.run(shutdown.clone(), status_every);
        let (results, (), streamed, listened, polled) = tokio::join!(
            futures::future::join_all(tails),
            snapshots,
            streams,
            listeners,
            blobs
        );
        streamed?;
        listened?;
        polled?;
        self.save_status();
        results
            .into_iter()
            .collect::<Result<Vec<()>, _>>()
            .map(|_| ())
    }

    /// Backfills `categories` (all of a source's when empty) of every source from `since` to where its tail
    /// starts; resumable: finished slices are skipped by the next run.
    pub async fn backfill(
        &self,
        since: DateTime<Utc>,
        categories: &[Category],
        progress: &[Arc<BackfillProgress>],
    ) -> Result<Vec<(String, BackfillReport)>, PipelineError> {
        let mut out = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            let cats: Vec<Category> = if categories.is_empty() {
                s.categories().to_vec()
            } else {
                categories
                    .iter()
                    .copied()
                    .filter(|c| s.categories().contains(c))
                    .collect()
            };
            let p = progress.get(i).cloned().unwrap_or_default();
            let id = s.config().id.clone();
            let r = s
                .backfill(since, &cats, &self.deliver, &self.cursors, p)
                .await
                .map_err(|e| graph_err(&id, e));
            self.save_status();
            out.push((id, r?));
        }
        Ok(out)
    }

    /// Every source's accounting.
    pub fn status(&self) -> Vec<GraphStatus> {
        self.sources.iter().map(|s| s.status()).collect()
    }

    /// Writes [`Collector::status`] to `sources-status.json` (atomically; a failure is logged, not fatal).
    pub fn save_status(&self) {
        let text = serde_json::to_string_pretty(&self.status()).unwrap_or_default();
        let tmp = self.status_path.with_extension("json.tmp");
        let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.status_path));
        if let Err(e) = r {
            tracing::warn!(path = %self.status_path.display(), error = %e, "writing source status");
        }
        if let (Some(lag), Some(dir)) = (&self.deliver.lag, self.status_path.parent()) {
            lag.save(&crate::lag::status_path(dir));
        }
    }
}
