//! Event Hubs sources in the pipeline: each configured `eventhubs` source consumes on an async task and
//! delivers into the shared hub through [`HubDeliver`] (dedupe -> durable append -> quarantine); the source
//! commits a partition's offsets only after that returned. A snapshot of every source's per-partition lag is
//! written to `eventhubs-status.json` for `entrail status`.

use crate::collect::HubDeliver;
use crate::config::SourceConfig;
use crate::runtime::{Pipeline, PipelineError};
use crate::status_file;
use sources::eventhubs::{EventHubsError, EventHubsSource, EventHubsStatus, RunMode, RunReport};
use sources::graph::CancellationToken;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The file `entrail status` reads Event Hubs accounting from.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("eventhubs-status.json")
}

/// How long a one-pass run waits with nothing arriving before it counts a source as caught up.
pub const CATCH_UP_IDLE: Duration = Duration::from_secs(2);

/// Every Event Hubs source of one data directory with what they deliver into.
pub struct EventHubsCollector {
    deliver: HubDeliver,
    sources: Vec<Arc<EventHubsSource>>,
    status_path: PathBuf,
}

fn source_err(id: &str, e: &EventHubsError) -> PipelineError {
    status_file::source_error(id, e)
}

impl Pipeline {
    /// Builds every configured Event Hubs source (connects nothing).
    pub fn eventhubs_collector(&self) -> Result<EventHubsCollector, PipelineError> {
        let mut sources = Vec::new();
        for s in &self.config().sources {
            if let SourceConfig::Eventhubs(c) = s {
                let source =
                    EventHubsSource::new((**c).clone()).map_err(|e| source_err(&c.id, &e))?;
                sources.push(source);
            }
        }
        Ok(self.eventhubs_collector_with(sources))
    }

    /// A collector over sources the caller built (tests, benchmarks).
    pub fn eventhubs_collector_with(&self, sources: Vec<EventHubsSource>) -> EventHubsCollector {
        EventHubsCollector {
            deliver: self.hub_deliver(),
            sources: sources.into_iter().map(Arc::new).collect(),
            status_path: status_path(&self.config().data_dir),
        }
    }
}

impl EventHubsCollector {
    /// Whether any Event Hubs source is configured.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The sources.
    pub fn sources(&self) -> &[Arc<EventHubsSource>] {
        &self.sources
    }

    /// Consumes every source until each has committed up to its partitions' high watermarks and nothing
    /// arrived for `idle` (one pass of `entrail run`). The first failure is returned after all ran.
    pub async fn run_until_caught_up(
        &self,
        idle: Duration,
    ) -> Result<Vec<(String, RunReport)>, PipelineError> {
        let runs = self.sources.iter().map(|s| async move {
            let r = s
                .run(
                    &self.deliver,
                    RunMode::UntilCaughtUp { idle },
                    CancellationToken::new(),
                )
                .await;
            (s.config().id.clone(), r)
        });
        let results = futures::future::join_all(runs).await;
        self.save_status();
        let mut out = Vec::new();
        for (id, r) in results {
            out.push((id.clone(), r.map_err(|e| source_err(&id, &e))?));
        }
        Ok(out)
    }

    /// Consumes every source until `shutdown` is cancelled (failures are retried inside), saving the status
    /// snapshot every `status_every`.
    pub async fn run(
        &self,
        shutdown: CancellationToken,
        status_every: Duration,
    ) -> Result<(), PipelineError> {
        let runs = self.sources.iter().map(|s| {
            let shutdown = shutdown.clone();
            async move {
                let id = s.config().id.clone();
                s.run(&self.deliver, RunMode::Continuous, shutdown)
                    .await
                    .map(|_| ())
                    .map_err(|e| source_err(&id, &e))
            }
        });
        status_file::run_with_snapshots(runs, &shutdown, status_every, || self.save_status()).await
    }

    /// Every source's accounting.
    pub fn status(&self) -> Vec<EventHubsStatus> {
        self.sources.iter().map(|s| s.status()).collect()
    }

    /// Writes [`EventHubsCollector::status`] to `eventhubs-status.json` (atomically; a failure is logged).
    pub fn save_status(&self) {
        if self.sources.is_empty() {
            return;
        }
        status_file::save(&self.status_path, &self.status(), "Event Hubs");
    }
}

/// The last saved Event Hubs accounting of a data directory (empty when none ran).
pub(crate) fn load_status(data_dir: &Path) -> Vec<EventHubsStatus> {
    status_file::load(&status_path(data_dir), "Event Hubs")
}
