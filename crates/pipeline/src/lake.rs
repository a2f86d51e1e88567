//! The lake sink in the pipeline: feeds [`sinks::lake::LakeSink`] the archive manifest's committed files and
//! recorded deletions (it replicates the archive, it does not read the log), after each archive commit in
//! [`Pipeline::drain_sinks`], and reports its backlog for `entrail status`. See `docs/lake.md`.

use crate::SinkConfig;
use crate::consume::ConsumeReport;
use crate::runtime::{Pipeline, PipelineError};
use sinks::lake::{LakeBacklog, LakeConfig, LakeFile, LakeReport, LakeSink, Removal};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use store::archive::{DeletionReason, Manifest};

/// Where lake sinks keep their progress: `<data_dir>/lake/<id>.json`.
pub fn state_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("lake")
}

/// The manifest's live files, and why each deleted file left (the latest deletion of a path wins).
pub fn archive_files(manifest: &Manifest) -> (Vec<LakeFile>, HashMap<String, Removal>) {
    let files = manifest
        .files
        .iter()
        .map(|f| LakeFile {
            path: f.path.clone(),
            table: f.table.clone(),
            bytes: f.bytes,
            rows: f.rows,
            xxh3_128: f.xxh3_128.clone(),
            created_us: f.created_us,
        })
        .collect();
    let mut removed = HashMap::new();
    for d in &manifest.deletions {
        let reason = match d.reason {
            DeletionReason::Compaction => Removal::Compaction,
            DeletionReason::Retention => Removal::Retention,
        };
        for f in &d.files {
            removed.insert(f.path.clone(), reason);
        }
    }
    (files, removed)
}

impl Pipeline {
    fn archive_dir(&self) -> PathBuf {
        self.config().data_dir.join("archive")
    }

    /// The committed manifest, read without the archive lock (empty when nothing was archived yet).
    fn committed_manifest(&self) -> Result<Manifest, PipelineError> {
        Ok(Manifest::load(&self.archive_dir())?.unwrap_or_default())
    }

    /// The lake sink configured as `id`.
    pub fn lake_sink(&self, id: &str) -> Result<LakeSink, PipelineError> {
        let config = self
            .config()
            .sinks
            .iter()
            .find_map(|s| match s {
                SinkConfig::Lake(c) if c.id == id => Some(c.as_ref().clone()),
                _ => None,
            })
            .ok_or_else(|| PipelineError::Sink {
                id: id.to_owned(),
                source: sinks::SinkError::Config {
                    message: format!("no lake sink {id:?} in the config"),
                },
            })?;
        LakeSink::new(config, &state_dir(&self.config().data_dir)).map_err(|source| {
            PipelineError::Sink {
                id: id.to_owned(),
                source,
            }
        })
    }

    /// One run of `sink` over the archive as committed now.
    pub fn sync_lake_sink(&self, sink: &mut LakeSink) -> Result<LakeReport, PipelineError> {
        let manifest = self.committed_manifest()?;
        let (files, removed) = archive_files(&manifest);
        sink.sync(&self.archive_dir(), &files, &removed)
            .map_err(|source| PipelineError::Sink {
                id: sink.id().to_owned(),
                source,
            })
    }

    /// Runs the lake sink `config` once, for [`Pipeline::drain_sinks`]: `records` = rows uploaded, `from` ..
    /// `to` = lake files before and after the run.
    pub(crate) fn sync_lake(&self, config: &LakeConfig) -> Result<ConsumeReport, PipelineError> {
        let mut sink = self.lake_sink(&config.id)?;
        let before = self.lake_backlog_of(config)?.lake_files as u64;
        let r = self.sync_lake_sink(&mut sink)?;
        if r.uploaded_files + r.deleted > 0 || r.remaining_files > 0 {
            tracing::info!(
                sink = %config.id,
                uploaded = r.uploaded_files,
                bytes = r.uploaded_bytes,
                rows = r.uploaded_rows,
                deleted = r.deleted,
                remaining = r.remaining_files,
                "lake run"
            );
        }
        let after = (before + r.uploaded_files as u64).saturating_sub(r.deleted as u64);
        Ok(ConsumeReport {
            from: before,
            to: after,
            records: r.uploaded_rows,
        })
    }

    fn lake_backlog_of(&self, config: &LakeConfig) -> Result<LakeBacklog, PipelineError> {
        let manifest = self.committed_manifest()?;
        let (files, removed) = archive_files(&manifest);
        LakeSink::backlog(
            config,
            &state_dir(&self.config().data_dir),
            &files,
            &removed,
        )
        .map_err(|source| PipelineError::Sink {
            id: config.id.clone(),
            source,
        })
    }

    /// The backlog of every lake sink (files and bytes not yet uploaded, pending deletions, last error), from
    /// the manifest and the progress files; no request to the targets. A sink whose backlog cannot be read is
    /// reported with its error.
    pub fn lake_backlog(&self) -> Vec<LakeBacklog> {
        self.config()
            .sinks
            .iter()
            .filter_map(|s| match s {
                SinkConfig::Lake(c) => {
                    Some(self.lake_backlog_of(c).unwrap_or_else(|e| LakeBacklog {
                        id: c.id.clone(),
                        target: c.target.describe(),
                        last_error: Some(format!("backlog unreadable: {e}")),
                        ..LakeBacklog::default()
                    }))
                }
                _ => None,
            })
            .collect()
    }
}
