//! The lake sink runtime: one run compares the archive's committed files with the progress file, uploads
//! what is missing (saving progress as it goes), then deletes what compaction (and, when mirrored, retention)
//! removed. Each run drives its own single-threaded tokio runtime, so it can be called from blocking code.

use super::client::LakeClient;
use super::config::LakeConfig;
use super::state::{self, LakeFile, LakePlan, LakeState, Removal};
use crate::SinkError;
use crate::util::config_failed;
use model::Category;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Progress is saved at least after this many uploads...
const SAVE_EVERY_FILES: usize = 32;
/// ...or this long after the last save; a crash re-uploads at most what was not saved (a harmless overwrite).
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LakeReport {
    /// Files uploaded.
    pub uploaded_files: usize,
    /// Their bytes.
    pub uploaded_bytes: u64,
    /// Their rows.
    pub uploaded_rows: u64,
    /// Objects deleted.
    pub deleted: usize,
    /// Files still to upload (left for the next run by `max_files_per_run`).
    pub remaining_files: usize,
}

/// The lake's backlog as the progress file and the archive manifest tell it (no request to the target).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LakeBacklog {
    /// Sink id.
    pub id: String,
    /// The target, without credentials.
    pub target: String,
    /// Objects in the lake.
    pub lake_files: usize,
    /// Their bytes.
    pub lake_bytes: u64,
    /// Archive files not yet uploaded.
    pub pending_files: usize,
    /// Their bytes.
    pub pending_bytes: u64,
    /// Commit time of the oldest file not yet uploaded (RFC 3339).
    pub oldest_pending: Option<String>,
    /// Lake objects waiting to be deleted.
    pub pending_deletes: usize,
    /// Lake objects kept after retention removed them from the archive (`mirror_deletions = false`).
    pub kept_files: usize,
    /// When the last run completed (RFC 3339).
    pub last_success: Option<String>,
    /// The last run's error, if it failed.
    pub last_error: Option<String>,
}

/// Replicates the archive's committed Parquet files to an object store; see the module docs.
pub struct LakeSink {
    config: LakeConfig,
    categories: Vec<Category>,
    client: LakeClient,
    state_path: PathBuf,
    runtime: tokio::runtime::Runtime,
}

fn micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn state_io(path: &Path, source: std::io::Error) -> SinkError {
    SinkError::Io {
        target: path.display().to_string(),
        source,
    }
}

impl LakeSink {
    /// A sink for a configuration (validated here; no request is made). Its progress lives in
    /// `<state_dir>/<id>.json`.
    pub fn new(config: LakeConfig, state_dir: &Path) -> Result<LakeSink, SinkError> {
        config.validate().map_err(|e| config_failed(&e))?;
        let mut ignored = Vec::new();
        let categories = crate::util::resolve_categories(&config.categories, &mut ignored);
        let client = LakeClient::new(&config)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| SinkError::Io {
                target: "lake runtime".to_owned(),
                source,
            })?;
        Ok(LakeSink {
            state_path: LakeState::path(state_dir, &config.id),
            config,
            categories,
            client,
            runtime,
        })
    }

    /// The sink's name.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Runs `fut` on this sink's runtime, from a plain thread even when the caller is inside another runtime.
    fn block_on<T: Send>(&self, fut: impl std::future::Future<Output = T> + Send) -> T {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.runtime.block_on(fut))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            self.runtime.block_on(fut)
        }
    }

    fn load(&self) -> Result<LakeState, SinkError> {
        LakeState::load(&self.state_path, &self.target_key())
            .map_err(|e| state_io(&self.state_path, e))
    }

    fn target_key(&self) -> String {
        format!(
            "{} prefix {:?}",
            self.client.target(),
            self.config.clean_prefix()
        )
    }

    /// What a run would do now.
    pub fn plan(
        &self,
        files: &[LakeFile],
        removed: &HashMap<String, Removal>,
    ) -> Result<LakePlan, SinkError> {
        let st = self.load()?;
        Ok(state::plan(
            &st.objects,
            files,
            removed,
            self.config.mirror_deletions,
            &self.categories,
        ))
    }

    /// One run: uploads every live archive file (`files`, under `archive_dir`) missing from the lake, then
    /// deletes what `removed` says left the archive (see [`Removal`]). Progress is saved as files go up, so a
    /// failed or interrupted run resumes where it stopped. Deletions run only once nothing is left to upload:
    /// a compacted file's rows stay visible until its merged file is in the lake.
    pub fn sync(
        &mut self,
        archive_dir: &Path,
        files: &[LakeFile],
        removed: &HashMap<String, Removal>,
    ) -> Result<LakeReport, SinkError> {
        let mut st = self.load()?;
        let result = self.run(&mut st, archive_dir, files, removed);
        match &result {
            Ok(_) => {
                st.last_success_us = Some(micros_now());
                st.last_error = None;
            }
            Err(e) => {
                st.last_error = Some(error_chain(e));
                match e.kind() {
                    crate::ErrorKind::Auth | crate::ErrorKind::Fatal => tracing::error!(
                        sink = %self.config.id,
                        error = %error_chain(e),
                        "lake sink stopped: credentials refused or needs an operator; nothing is skipped"
                    ),
                    _ => tracing::warn!(
                        sink = %self.config.id,
                        error = %error_chain(e),
                        "lake sink run failed; retried next run"
                    ),
                }
            }
        }
        st.store(&self.state_path)
            .map_err(|e| state_io(&self.state_path, e))?;
        result
    }

    fn run(
        &self,
        st: &mut LakeState,
        archive_dir: &Path,
        files: &[LakeFile],
        removed: &HashMap<String, Removal>,
    ) -> Result<LakeReport, SinkError> {
        let plan = state::plan(
            &st.objects,
            files,
            removed,
            self.config.mirror_deletions,
            &self.categories,
        );
        let limit = match self.config.max_files_per_run {
            0 => usize::MAX,
            n => n,
        };
        let mut report = LakeReport::default();
        let mut last_save = Instant::now();
        let mut unsaved = 0usize;
        for f in plan.uploads.iter().take(limit) {
            let local = archive_dir.join(&f.path);
            self.block_on(self.client.upload(&local, &f.path, f.bytes, &f.xxh3_128))?;
            st.objects.insert(
                f.path.clone(),
                state::LakeObject {
                    bytes: f.bytes,
                    rows: f.rows,
                    xxh3_128: f.xxh3_128.clone(),
                    uploaded_us: micros_now(),
                },
            );
            report.uploaded_files += 1;
            report.uploaded_bytes += f.bytes;
            report.uploaded_rows += f.rows;
            unsaved += 1;
            if unsaved >= SAVE_EVERY_FILES || last_save.elapsed() >= SAVE_EVERY {
                st.store(&self.state_path)
                    .map_err(|e| state_io(&self.state_path, e))?;
                last_save = Instant::now();
                unsaved = 0;
            }
        }
        report.remaining_files = plan.uploads.len() - report.uploaded_files;
        if report.remaining_files > 0 {
            return Ok(report);
        }
        for path in &plan.deletes {
            self.block_on(self.client.delete(path))?;
            st.objects.remove(path);
            report.deleted += 1;
        }
        Ok(report)
    }

    /// Every object under the prefix (archive-relative path, size), read from the target.
    pub fn list(&self) -> Result<Vec<(String, u64)>, SinkError> {
        self.block_on(self.client.list())
    }

    /// The content of the lake object of archive-relative path `rel`, read from the target (verification).
    pub fn fetch(&self, rel: &str) -> Result<Vec<u8>, SinkError> {
        self.block_on(self.client.fetch(rel))
    }

    /// The backlog from the progress file and the archive's files; makes no request to the target.
    pub fn backlog(
        config: &LakeConfig,
        state_dir: &Path,
        files: &[LakeFile],
        removed: &HashMap<String, Removal>,
    ) -> Result<LakeBacklog, SinkError> {
        let target = config.target.describe();
        let key = format!("{target} prefix {:?}", config.clean_prefix());
        let path = LakeState::path(state_dir, &config.id);
        let st = LakeState::load(&path, &key).map_err(|e| state_io(&path, e))?;
        let mut ignored = Vec::new();
        let categories = crate::util::resolve_categories(&config.categories, &mut ignored);
        let plan = state::plan(
            &st.objects,
            files,
            removed,
            config.mirror_deletions,
            &categories,
        );
        Ok(LakeBacklog {
            id: config.id.clone(),
            target,
            lake_files: st.objects.len(),
            lake_bytes: st.objects.values().map(|o| o.bytes).sum(),
            pending_files: plan.uploads.len(),
            pending_bytes: plan.upload_bytes(),
            oldest_pending: plan
                .uploads
                .iter()
                .map(|f| f.created_us)
                .min()
                .map(model::format_micros),
            pending_deletes: plan.deletes.len(),
            kept_files: plan.kept,
            last_success: st.last_success_us.map(model::format_micros),
            last_error: st.last_error,
        })
    }
}

/// The error and its causes, `: `-joined (no credentials: targets are described without them).
fn error_chain(e: &SinkError) -> String {
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
