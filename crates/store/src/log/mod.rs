//! Durable, segmented, append-only log of opaque byte entries, with consumer offsets.
//!
//! # Contract
//! - Entries get dense offsets from 0. [`Log::append`] returns only once its entries are on disk
//!   (written and fdatasynced; the directory is fsynced whenever a segment is created or
//!   removed). One call's entries are contiguous.
//! - Concurrent appenders share fsyncs (group commit, see `writer.rs`): `Log` is `Send + Sync`,
//!   share it with an `Arc`.
//! - Readers ([`LogReader`]) see only durable entries and can follow the tail.
//! - [`Log::open`] recovers after a crash: sealed segments must be whole ([`LogError::Corrupt`]
//!   otherwise), the last segment's torn tail is cut and reported in [`RecoveryReport`].
//! - One writer per directory: a `LOCK` file held with an OS file lock; a second
//!   [`Log::open`] fails with [`LogError::Locked`].
//!
//! # On disk
//! ```text
//! <dir>/LOCK                          advisory lock, empty
//! <dir>/<20-digit base>.seg           frames: u32 LE len | u32 LE crc32c(payload ‖ u64 LE offset) | payload
//! <dir>/<20-digit base>.idx           sidecar of a sealed segment (cache, rebuilt if bad)
//! <dir>/consumers/<name>.offset       u64 LE next offset | u32 LE crc32c
//! ```
//! Memory: 16 bytes of sparse index per 64 KiB of retained log, plus a 64 KiB buffer per reader.
mod config;
mod error;
mod frames;
mod offsets;
mod reader;
mod recovery;
mod segment;
mod writer;

#[cfg(test)]
mod frames_tests;
#[cfg(test)]
mod tests;

use std::fs::{self, File, OpenOptions, TryLockError};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

pub use config::{LogConfig, MAX_COMMIT_DELAY, MIN_SEGMENT_BYTES};
pub use error::{ErrorKind, LogError};
pub use frames::Frames;
pub use offsets::validate_consumer_name;
pub use reader::LogReader;
pub use recovery::RecoveryReport;

use offsets::ConsumerOffsets;
use writer::{Shared, State, sync_dir};

/// Largest accepted entry (64 MiB).
pub const MAX_ENTRY_BYTES: usize = 64 * 1024 * 1024;

/// A durable append-only log in one directory; see the module docs.
pub struct Log {
    shared: Arc<Shared>,
    offsets: ConsumerOffsets,
    report: RecoveryReport,
    writer: Option<JoinHandle<()>>,
    /// Held (with its OS lock) for the lifetime of the log.
    _lock: File,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.shared.dir)
            .field("end_offset", &self.end_offset())
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Opens (creating if needed) the log in `dir`: validates `cfg`, takes the directory lock,
    /// recovers the segments (see [`RecoveryReport`]), loads consumer offsets and starts the
    /// writer thread.
    pub fn open(dir: &Path, cfg: LogConfig) -> Result<Log, LogError> {
        cfg.validate()?;
        fs::create_dir_all(dir).map_err(|e| LogError::io(dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| LogError::io(&lock_path, e))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LogError::Locked {
                    dir: dir.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(LogError::io(&lock_path, e)),
        }
        let recovered = recovery::recover(dir, &cfg)?;
        let offsets = ConsumerOffsets::load(dir, cfg.fsync)?;
        let end = recovered.report.end_offset;
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            cfg,
            state: Mutex::new(State::new(end)),
            work: Condvar::new(),
            done: Condvar::new(),
            segments: RwLock::new(recovered.segments),
            durable_end: AtomicU64::new(end),
            fsyncs: AtomicU64::new(0),
            seal: std::sync::OnceLock::new(),
        });
        let writer_shared = Arc::clone(&shared);
        let active = recovered.active;
        let writer = std::thread::Builder::new()
            .name("entrail-log-writer".into())
            .spawn(move || writer::run_writer(&writer_shared, active))
            .map_err(|e| LogError::io(dir, e))?;
        Ok(Log {
            shared,
            offsets,
            report: recovered.report,
            writer: Some(writer),
            _lock: lock_file,
        })
    }

    /// What recovery found when this log was opened.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Appends `entries` as one contiguous range and returns it once they are durable. Blocks
    /// for at most about one fsync plus `max_commit_delay` when the disk keeps up. An empty
    /// slice returns an empty range at the end without waiting.
    ///
    /// Errors: [`LogError::EntryTooLarge`] (nothing appended); [`LogError::WriterFailed`] if
    /// this or an earlier commit failed to write or fsync: whether these entries reached disk
    /// is unknown, and every later append fails too until the log is reopened.
    pub fn append(&self, entries: &[&[u8]]) -> Result<Range<u64>, LogError> {
        self.shared.append(entries)
    }

    /// Queues `frames` (built with [`Frames::push_with`]) as one contiguous range without waiting for
    /// the disk, so the caller can build the next batch while the writer writes this one. The entries are
    /// durable, and visible to readers, only once [`wait_durable`](Self::wait_durable) returned `Ok` for
    /// the range's end. Errors as [`append`](Self::append).
    pub fn enqueue(&self, frames: Frames) -> Result<Range<u64>, LogError> {
        self.shared.enqueue(frames)
    }

    /// Blocks until every entry below `end` is durable; [`LogError::WriterFailed`] if a commit failed
    /// (whether the entries reached the disk is unknown, as for [`append`](Self::append)).
    pub fn wait_durable(&self, end: u64) -> Result<(), LogError> {
        self.shared.wait_durable(end)
    }

    /// A reader starting at `from`; if `from` was removed by retention the first read returns
    /// [`LogError::BelowStart`].
    pub fn reader(&self, from: u64) -> LogReader {
        LogReader::new(Arc::clone(&self.shared), from)
    }

    /// One past the last durable entry: the offset the next entry will get once nothing is in
    /// flight.
    pub fn end_offset(&self) -> u64 {
        self.shared.durable_end.load(Ordering::Acquire)
    }

    /// The first retained offset.
    pub fn start_offset(&self) -> u64 {
        self.shared.start_offset()
    }

    /// Deletes every segment whose entries all lie below `offset` (the active segment is never
    /// deleted), so use the smallest committed offset of all consumers. Returns the new
    /// [`start_offset`](Self::start_offset). Readers still inside a deleted segment finish it.
    pub fn truncate_before(&self, offset: u64) -> Result<u64, LogError> {
        let (removed, start) = {
            let mut segs = self
                .shared
                .segments
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let n = segs
                .iter()
                .skip(1)
                .take_while(|next| next.base <= offset)
                .count();
            let removed: Vec<_> = segs.drain(..n).collect();
            (removed, segs.first().map_or(0, |s| s.base))
        };
        if let Some(seal) = self.shared.seal.get()
            && !removed.is_empty()
        {
            let paths: Vec<_> = removed.iter().map(|s| s.path.clone()).collect();
            seal.segments_removing(&paths, offset);
        }
        for seg in &removed {
            fs::remove_file(&seg.path).map_err(|e| LogError::io(&seg.path, e))?;
            let idx = segment::index_path(&self.shared.dir, seg.base);
            if let Err(e) = fs::remove_file(&idx)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(LogError::io(&idx, e));
            }
        }
        if !removed.is_empty() && self.shared.cfg.fsync {
            sync_dir(&self.shared.dir).map_err(|e| LogError::io(&self.shared.dir, e))?;
        }
        Ok(start)
    }

    /// Reports segment closes and trims to `hook` from now on (tamper evidence, see [`crate::seal`]); a
    /// second call is ignored.
    pub fn set_seal_hook(&self, hook: Arc<dyn crate::seal::SealHook>) {
        let _ = self.shared.seal.set(hook);
    }

    /// Bytes in retained segment files (sidecars and offsets excluded).
    pub fn disk_bytes(&self) -> u64 {
        self.shared
            .segments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|s| s.bytes)
            .sum()
    }

    /// Number of segment files retained.
    pub fn segment_count(&self) -> usize {
        self.shared
            .segments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// fsync/fdatasync calls the writer made since open (for tests and metrics).
    pub fn fsyncs(&self) -> u64 {
        self.shared.fsyncs.load(Ordering::Relaxed)
    }

    /// Durably records that `consumer` has processed everything below `next_offset`.
    /// `next_offset` may move backwards (replay) but not past [`end_offset`](Self::end_offset).
    pub fn commit(&self, consumer: &str, next_offset: u64) -> Result<(), LogError> {
        validate_consumer_name(consumer)?;
        let end = self.end_offset();
        if next_offset > end {
            return Err(LogError::BeyondEnd {
                requested: next_offset,
                end,
            });
        }
        self.offsets.commit(consumer, next_offset)
    }

    /// The last committed next offset of `consumer`, if it ever committed.
    pub fn committed(&self, consumer: &str) -> Option<u64> {
        self.offsets.get(consumer)
    }

    /// Every consumer with its committed next offset, sorted by name.
    pub fn consumers(&self) -> Vec<(String, u64)> {
        self.offsets.all()
    }
}

impl Drop for Log {
    /// Lets the writer commit what is queued, then stops it.
    fn drop(&mut self) {
        self.shared.shutdown();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!(dir = %self.shared.dir.display(), "log writer thread panicked");
        }
    }
}
