//! Storage-account (Blob) sources in the pipeline: each configured `blob` source polls its containers on an
//! async task and delivers into the shared hub through [`HubDeliver`] (dedupe -> durable append ->
//! quarantine); blob offsets go to the durable cursor store only after that returned. A snapshot of every
//! source's per-container progress is written to `blob-status.json` for `entrail status`.

use crate::collect::{HubDeliver, StoreCursors};
use crate::config::SourceConfig;
use crate::runtime::{Pipeline, PipelineError};
use crate::status_file;
use sources::blob::{BlobSource, BlobSourceError, BlobStatus, PollReport};
use sources::graph::CancellationToken;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The file `entrail status` reads Blob accounting from.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("blob-status.json")
}

/// Every Blob source of one data directory with what they deliver into.
pub struct BlobCollector {
    deliver: HubDeliver,
    cursors: Option<StoreCursors>,
    sources: Vec<Arc<BlobSource>>,
    status_path: PathBuf,
}

fn source_err(id: &str, e: &BlobSourceError) -> PipelineError {
    status_file::source_error(id, e)
}

impl Pipeline {
    /// Builds every configured Blob source (connects nothing). `cursors` is the data directory's cursor
    /// store (the collector's), needed only when a Blob source is configured.
    pub fn blob_collector(
        &self,
        cursors: Option<StoreCursors>,
    ) -> Result<BlobCollector, PipelineError> {
        let mut sources = Vec::new();
        for s in &self.config().sources {
            if let SourceConfig::Blob(c) = s {
                let source =
                    BlobSource::from_config((**c).clone()).map_err(|e| source_err(&c.id, &e))?;
                sources.push(source);
            }
        }
        Ok(self.blob_collector_with(sources, cursors))
    }

    /// A collector over sources the caller built (tests, benchmarks).
    pub fn blob_collector_with(
        &self,
        sources: Vec<BlobSource>,
        cursors: Option<StoreCursors>,
    ) -> BlobCollector {
        BlobCollector {
            deliver: self.hub_deliver(),
            cursors,
            sources: sources.into_iter().map(Arc::new).collect(),
            status_path: status_path(&self.config().data_dir),
        }
    }
}

impl BlobCollector {
    /// Whether any Blob source is configured.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The sources.
    pub fn sources(&self) -> &[Arc<BlobSource>] {
        &self.sources
    }

    /// What the sources deliver into (tests wrap it to simulate failures).
    pub fn deliver(&self) -> &HubDeliver {
        &self.deliver
    }

    /// The durable cursor store the sources save blob offsets in.
    pub fn cursors(&self) -> Result<&StoreCursors, PipelineError> {
        self.cursors
            .as_ref()
            .ok_or_else(|| PipelineError::Cursor("blob collector without a cursor store".into()))
    }

    /// One pass of every source over its containers up to now (a failed container keeps its offsets and
    /// is named in its report).
    pub async fn poll_once(&self) -> Result<Vec<(String, PollReport)>, PipelineError> {
        let mut out = Vec::new();
        if self.sources.is_empty() {
            return Ok(out);
        }
        let cursors = self.cursors()?;
        for s in &self.sources {
            let id = s.config().id.clone();
            let r = s
                .poll_once(&self.deliver, cursors)
                .await
                .map_err(|e| source_err(&id, &e));
            self.save_status();
            out.push((id, r?));
        }
        Ok(out)
    }

    /// Like [`BlobCollector::poll_once`] with `now` as the current time (tests and simulations).
    pub async fn poll_once_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, PollReport)>, PipelineError> {
        let mut out = Vec::new();
        for s in &self.sources {
            let id = s.config().id.clone();
            let r = s
                .poll_once_at(now, &self.deliver, self.cursors()?)
                .await
                .map_err(|e| source_err(&id, &e));
            self.save_status();
            out.push((id, r?));
        }
        Ok(out)
    }

    /// Polls every source at its interval until `shutdown` is cancelled, saving the status snapshot every
    /// `status_every`.
    pub async fn run(
        &self,
        shutdown: CancellationToken,
        status_every: Duration,
    ) -> Result<(), PipelineError> {
        if self.sources.is_empty() {
            return Ok(());
        }
        let cursors = self.cursors()?;
        let tails = self.sources.iter().map(|s| {
            let shutdown = shutdown.clone();
            async move {
                s.run_tail(&self.deliver, cursors, shutdown).await;
                Ok(())
            }
        });
        status_file::run_with_snapshots(tails, &shutdown, status_every, || self.save_status()).await
    }

    /// Every source's accounting.
    pub fn status(&self) -> Vec<BlobStatus> {
        self.sources.iter().map(|s| s.status()).collect()
    }

    /// Writes [`BlobCollector::status`] to `blob-status.json` (atomically; a failure is logged).
    pub fn save_status(&self) {
        if self.sources.is_empty() {
            return;
        }
        status_file::save(&self.status_path, &self.status(), "Blob");
    }
}

/// The last saved Blob accounting of a data directory (empty when none ran).
pub(crate) fn load_status(data_dir: &Path) -> Vec<BlobStatus> {
    status_file::load(&status_path(data_dir), "Blob")
}
