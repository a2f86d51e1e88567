//! The [`Sealer`]: seals files into the chain as the log and the archive report them, and catches up
//! on what a crash left unsealed.
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::chain::{Chain, root};
use super::entry::Body;
use super::{
    HashAlg, SealConfig, SealError, SealHook, SegmentDigest, hash_parquet, hash_segment, rel_path,
};
use crate::archive::{FileEntry, Manifest};

/// Appends seals to the chain of one data directory; share it with an `Arc` (it is the [`SealHook`] of the
/// log and the archive). Dropping it writes a last checkpoint.
pub struct Sealer {
    data_dir: PathBuf,
    chain: Mutex<Chain>,
    failures: AtomicU64,
    hash: HashAlg,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// A sealed file about to be removed, and why.
struct Removal {
    path: String,
    reason: String,
    detail: String,
}

impl Sealer {
    /// Opens the chain of `data_dir` (creating `seal/`), loading the signing key if configured.
    pub fn open(data_dir: &Path, cfg: SealConfig) -> Result<Arc<Sealer>, SealError> {
        let hash = cfg.hash;
        let chain = Chain::open(data_dir, cfg)?;
        Ok(Arc::new(Sealer {
            data_dir: data_dir.to_owned(),
            chain: Mutex::new(chain),
            failures: AtomicU64::new(0),
            hash,
        }))
    }

    fn chain(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sealing failures reported through the hook since open (each was logged).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Entries in the chain and the hash of the last one.
    pub fn head(&self) -> (u64, String) {
        let chain = self.chain();
        (chain.state.next_seq, chain.state.head.clone())
    }

    /// Seals the closed log segment at `path` (a no-op when it is sealed already).
    pub fn seal_segment(&self, path: &Path, base: u64, entries: u64) -> Result<(), SealError> {
        let rel = rel_path(&self.data_dir, path);
        if self.chain().state.live.contains_key(&rel) {
            return Ok(());
        }
        let body = hash_segment(path, rel, base, entries, self.hash)?;
        let mut chain = self.chain();
        chain.append(vec![body])?;
        chain.maybe_checkpoint(false)
    }

    /// Seals the closed log segment at `path` from the digest its writer computed (a no-op when it is sealed
    /// already). The digest must cover the whole file with this sealer's hash function.
    pub fn seal_segment_digested(
        &self,
        path: &Path,
        entries: u64,
        digest: SegmentDigest,
    ) -> Result<(), SealError> {
        let rel = rel_path(&self.data_dir, path);
        if self.chain().state.live.contains_key(&rel) {
            return Ok(());
        }
        let body = digest.finish(rel, entries);
        let mut chain = self.chain();
        chain.append(vec![body])?;
        chain.maybe_checkpoint(false)
    }

    /// Seals the files `after` adds to `before` and records the deletion of the files it drops, with the
    /// reason the manifest gives.
    pub fn seal_manifest_change(
        &self,
        archive_dir: &Path,
        before: &Manifest,
        after: &Manifest,
    ) -> Result<(), SealError> {
        let old: std::collections::BTreeSet<&str> =
            before.files.iter().map(|f| f.path.as_str()).collect();
        let new: std::collections::BTreeSet<&str> =
            after.files.iter().map(|f| f.path.as_str()).collect();
        let added: Vec<&FileEntry> = after
            .files
            .iter()
            .filter(|f| !old.contains(f.path.as_str()))
            .collect();
        let removed: Vec<Removal> = before
            .files
            .iter()
            .filter(|f| !new.contains(f.path.as_str()))
            .map(|f| self.archive_removal(archive_dir, &f.path, after))
            .collect();
        self.seal_archive_files(archive_dir, &added)?;
        self.remove(removed)
    }

    fn archive_removal(&self, archive_dir: &Path, path: &str, after: &Manifest) -> Removal {
        let rel = rel_path(&self.data_dir, &archive_dir.join(path));
        let deletion = after
            .deletions
            .iter()
            .rev()
            .find(|d| d.files.iter().any(|f| f.path == path));
        match deletion {
            Some(d) => Removal {
                path: rel,
                reason: serde_json::to_value(d.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("{:?}", d.reason)),
                detail: format!("{} day={}: {}", d.table, d.day, d.detail),
            },
            None => Removal {
                path: rel,
                reason: "unrecorded".into(),
                detail: "the manifest dropped it without recording a deletion".into(),
            },
        }
    }

    fn seal_archive_files(
        &self,
        archive_dir: &Path,
        files: &[&FileEntry],
    ) -> Result<(), SealError> {
        let mut bodies = Vec::with_capacity(files.len());
        for f in files {
            let path = archive_dir.join(&f.path);
            let rel = rel_path(&self.data_dir, &path);
            if self.chain().state.live.contains_key(&rel) {
                continue;
            }
            bodies.push(hash_parquet(
                &path,
                rel,
                f.min_event_time_us,
                f.max_event_time_us,
                self.hash,
            )?);
        }
        let mut chain = self.chain();
        chain.append(bodies)?;
        chain.maybe_checkpoint(false)
    }

    /// Records deletions of live sealed files, then a checkpoint (a deletion is always signed at once).
    fn remove(&self, removals: Vec<Removal>) -> Result<(), SealError> {
        let mut chain = self.chain();
        let bodies: Vec<Body> = removals
            .into_iter()
            .filter_map(|r| {
                let (seq, body) = chain.state.live.get(&r.path)?;
                Some(Body::Deletion {
                    sealed_seq: *seq,
                    root: root(body).to_owned(),
                    path: r.path,
                    reason: r.reason,
                    detail: r.detail,
                })
            })
            .collect();
        if bodies.is_empty() {
            return Ok(());
        }
        chain.append(bodies)?;
        chain.maybe_checkpoint(true)
    }

    /// Seals the closed segments of the log in `log_dir` (all but the last) that lie past every segment
    /// sealed before: what a crash between a roll and its seal left. Returns how many were sealed.
    pub fn catch_up_log(&self, log_dir: &Path) -> Result<usize, SealError> {
        let mut bases = Vec::new();
        for entry in fs::read_dir(log_dir).map_err(|e| SealError::io(log_dir, e))? {
            let entry = entry.map_err(|e| SealError::io(log_dir, e))?;
            if let Some(base) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".seg"))
                .filter(|d| d.len() == 20)
                .and_then(|d| d.parse::<u64>().ok())
            {
                bases.push(base);
            }
        }
        bases.sort_unstable();
        let sealed_end = self.chain().state.segment_end;
        let mut sealed = 0;
        for pair in bases.windows(2) {
            if pair[0] < sealed_end {
                continue;
            }
            let path = log_dir.join(format!("{:020}.seg", pair[0]));
            self.seal_segment(&path, pair[0], pair[1] - pair[0])?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// Seals the files `manifest` lists that the chain does not hold, and records the deletions the
    /// manifest explains for sealed files it no longer lists. Returns how many files were sealed.
    pub fn catch_up_archive(
        &self,
        archive_dir: &Path,
        manifest: &Manifest,
    ) -> Result<usize, SealError> {
        let prefix = rel_path(&self.data_dir, archive_dir);
        let missing: Vec<&FileEntry> = manifest
            .files
            .iter()
            .filter(|f| {
                let rel = rel_path(&self.data_dir, &archive_dir.join(&f.path));
                !self.chain().state.live.contains_key(&rel)
            })
            .collect();
        self.seal_archive_files(archive_dir, &missing)?;
        let listed: std::collections::BTreeSet<&str> =
            manifest.files.iter().map(|f| f.path.as_str()).collect();
        let gone: Vec<Removal> = self
            .chain()
            .state
            .live
            .iter()
            .filter(|(_, (_, b))| matches!(b, Body::Parquet { .. }))
            .filter_map(|(p, _)| p.strip_prefix(&prefix)?.strip_prefix('/'))
            .filter(|p| !listed.contains(p))
            .filter(|p| {
                manifest
                    .deletions
                    .iter()
                    .any(|d| d.files.iter().any(|f| f.path == *p))
            })
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
            .map(|p| self.archive_removal(archive_dir, &p, manifest))
            .collect();
        self.remove(gone)?;
        Ok(missing.len())
    }

    /// Writes a checkpoint now if entries were added since the last one.
    pub fn checkpoint(&self) -> Result<(), SealError> {
        self.chain().maybe_checkpoint(true)
    }

    fn report(&self, what: &str, result: Result<(), SealError>) {
        if let Err(e) = result {
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "sealing {what} failed; `entrail verify` will report the file as unsealed");
        }
    }
}

impl SealHook for Sealer {
    fn segment_closed(&self, path: &Path, base: u64, entries: u64) {
        self.report("a log segment", self.seal_segment(path, base, entries));
    }

    fn running_hash(&self) -> Option<HashAlg> {
        Some(self.hash)
    }

    fn segment_closed_digested(&self, path: &Path, base: u64, entries: u64, digest: SegmentDigest) {
        let result = if digest.alg() == self.hash {
            self.seal_segment_digested(path, entries, digest)
        } else {
            self.seal_segment(path, base, entries)
        };
        self.report("a log segment", result);
    }

    fn segments_removing(&self, paths: &[PathBuf], below_offset: u64) {
        let removals = paths
            .iter()
            .map(|p| Removal {
                path: rel_path(&self.data_dir, p),
                reason: "log_trim".into(),
                detail: format!("every consumer is past offset {below_offset}"),
            })
            .collect();
        self.report("a log trim", self.remove(removals));
    }

    fn manifest_stored(&self, archive_dir: &Path, before: &Manifest, after: &Manifest) {
        self.report(
            "archive files",
            self.seal_manifest_change(archive_dir, before, after),
        );
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        self.report("the last checkpoint", self.checkpoint());
    }
}
