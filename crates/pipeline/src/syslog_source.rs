//! Syslog sources in the pipeline: each configured `syslog` source listens on async tasks and delivers its
//! batches into the shared hub through [`HubDeliver`] (dedupe -> durable append -> quarantine); a batch is
//! on disk before the next is taken, and stream connections are not read meanwhile. Listeners run while
//! `entrail run --every` runs (a one-pass `run` has nothing to read to an end). Every source's counters are
//! written to `syslog-status.json`.

use crate::collect::HubDeliver;
use crate::config::SourceConfig;
use crate::runtime::{Pipeline, PipelineError};
use crate::status_file;
use sources::graph::CancellationToken;
use sources::syslog::{Listening, SyslogError, SyslogSource, SyslogStatus};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The file the syslog sources' accounting is written to.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("syslog-status.json")
}

/// Every syslog source of one data directory with what they deliver into.
pub struct SyslogCollector {
    deliver: HubDeliver,
    sources: Vec<Arc<SyslogSource>>,
    status_path: PathBuf,
}

fn source_err(id: &str, e: &SyslogError) -> PipelineError {
    status_file::source_error(id, e)
}

impl Pipeline {
    /// Builds every configured syslog source (reads TLS files; binds nothing).
    pub fn syslog_collector(&self) -> Result<SyslogCollector, PipelineError> {
        let mut sources = Vec::new();
        for s in &self.config().sources {
            if let SourceConfig::Syslog(c) = s {
                sources.push(SyslogSource::new((**c).clone()).map_err(|e| source_err(&c.id, &e))?);
            }
        }
        Ok(SyslogCollector {
            deliver: self.hub_deliver(),
            sources: sources.into_iter().map(Arc::new).collect(),
            status_path: status_path(&self.config().data_dir),
        })
    }
}

impl SyslogCollector {
    /// Whether any syslog source is configured.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The sources.
    pub fn sources(&self) -> &[Arc<SyslogSource>] {
        &self.sources
    }

    /// Binds every listener of every source (a port in use fails here, before anything is served).
    pub async fn bind(&self) -> Result<Vec<Listening>, PipelineError> {
        let mut out = Vec::new();
        for s in &self.sources {
            out.push(s.bind().await.map_err(|e| source_err(&s.config().id, &e))?);
        }
        Ok(out)
    }

    /// Binds, then serves every source until `shutdown` is cancelled (what was received by then is
    /// delivered before this returns), saving the status snapshot every `status_every`. A listener that
    /// cannot bind cancels `shutdown` (every other source stops too) and is returned.
    pub async fn run(
        &self,
        shutdown: CancellationToken,
        status_every: Duration,
    ) -> Result<(), PipelineError> {
        if self.sources.is_empty() {
            return Ok(());
        }
        let bound = match self.bind().await {
            Ok(b) => b,
            Err(e) => {
                // A listener that cannot bind ends the whole run, not just this task.
                tracing::error!(error = %e, "syslog listener");
                shutdown.cancel();
                return Err(e);
            }
        };
        self.serve(bound, shutdown, status_every).await
    }

    /// Serves listeners [`SyslogCollector::bind`] returned, until `shutdown` is cancelled.
    pub async fn serve(
        &self,
        bound: Vec<Listening>,
        shutdown: CancellationToken,
        status_every: Duration,
    ) -> Result<(), PipelineError> {
        self.save_status();
        let runs = self.sources.iter().zip(bound).map(|(s, l)| {
            let shutdown = shutdown.clone();
            async move {
                let id = s.config().id.clone();
                s.serve(l, &self.deliver, shutdown)
                    .await
                    .map_err(|e| source_err(&id, &e))
            }
        });
        status_file::run_with_snapshots(runs, &shutdown, status_every, || self.save_status()).await
    }

    /// Every source's accounting.
    pub fn status(&self) -> Vec<SyslogStatus> {
        self.sources.iter().map(|s| s.status()).collect()
    }

    /// Writes [`SyslogCollector::status`] to `syslog-status.json` (atomically; a failure is logged).
    pub fn save_status(&self) {
        if self.sources.is_empty() {
            return;
        }
        status_file::save(&self.status_path, &self.status(), "syslog");
    }
}

/// The last saved syslog accounting of a data directory (empty when none ran).
pub fn load_status(data_dir: &Path) -> Vec<SyslogStatus> {
    status_file::load(&status_path(data_dir), "syslog")
}

#[cfg(test)]
mod tests {
    use crate::config::{SourceConfig, parse};

    #[test]
    fn syslog_sources_parse_and_report_problems_under_their_path() {
        let ok = parse(
            "[[sources]]\ntype = \"syslog\"\nid = \"sl\"\n\
             [[sources.listeners]]\nprotocol = \"tcp\"\naddress = \"127.0.0.1:5514\"\nframing = \"octet_counting\"\n",
        )
        .unwrap()
        .validate()
        .unwrap();
        assert!(
            matches!(&ok.sources[0], SourceConfig::Syslog(c) if c.listeners.len() == 1 && c.batch_size == 1000)
        );
        assert_eq!(ok.sources[0].id(), "sl");
        let errors = parse(
            "[[sources]]\ntype = \"syslog\"\nid = \"sl\"\nqueue = 0\n\
             [[sources.listeners]]\nprotocol = \"tls\"\naddress = \"10.0.0.1:6514\"\n",
        )
        .unwrap()
        .validate()
        .unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "sources[0].queue",
                "sources[0].listeners[0].address",
                "sources[0].listeners[0].cert_file",
                "sources[0].listeners[0].key_file"
            ]
        );
        let unknown =
            parse("[[sources]]\ntype = \"syslog\"\nid = \"sl\"\nlisteners = []\nport = 1\n");
        assert!(unknown.unwrap_err().message.contains("port"));
    }
}
