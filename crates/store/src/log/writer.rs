//! Group commit: appenders queue encoded batches, one writer thread writes everything queued,
//! fsyncs once and wakes them all.
//!
//! Offsets are assigned under the state lock in queue order, and the writer takes the queue
//! front to back, so file order is offset order and one call's entries are contiguous. The
//! writer lingers up to `max_commit_delay` after the oldest queued batch arrived to gather more
//! callers into one fsync, but stops as soon as as many batches are queued as the previous group
//! had, or [`LINGER_FLUSH_BYTES`] are queued. So a lone caller appending in a loop never waits
//! (the previous group had one batch), and N callers in a loop commit as soon as all N are
//! queued; batches that arrive during an fsync join the next group anyway. If a write or
//! fsync fails, what reached the disk is unknown, so the log is poisoned: every waiting and later
//! `append` fails with [`LogError::WriterFailed`] until the log is reopened and recovered.
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use super::frames::{Frames, write_pieces};
use super::segment::{self, SparseIndex};
use super::{LogConfig, LogError};
use crate::seal::SegmentDigest;

/// The writer stops lingering once this many bytes are queued.
pub(crate) const LINGER_FLUSH_BYTES: usize = 1 << 20;

/// Locks a mutex, ignoring poisoning: no code panics while holding these locks, and the data
/// stays consistent if it did.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// fsyncs a directory so file creations, renames and removals in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// What readers need to know about one segment.
#[derive(Debug)]
pub(crate) struct SegmentMeta {
    /// Offset of its first entry.
    pub(crate) base: u64,
    /// The `.seg` file.
    pub(crate) path: PathBuf,
    /// Bytes written (durable or about to be).
    pub(crate) bytes: u64,
    /// Sparse offset index.
    pub(crate) index: SparseIndex,
}

/// One `append` call waiting for its commit.
struct Pending {
    frames: Frames,
    first: u64,
    end: u64,
    enqueued: Instant,
}

/// Queue and progress, guarded by [`Shared::state`].
#[derive(Default)]
pub(crate) struct State {
    queue: Vec<Pending>,
    queued_bytes: usize,
    /// Next offset to hand out.
    next_offset: u64,
    /// Everything below is on disk (and fsynced when configured).
    durable_end: u64,
    /// Batches in the previous group: the writer stops lingering once as many are queued.
    last_group: usize,
    failed: Option<(PathBuf, Arc<io::Error>)>,
    shutdown: bool,
    stopped: bool,
}

impl State {
    /// Whether the writer is still accepting work.
    pub(crate) fn running(&self) -> bool {
        self.failed.is_none() && !self.stopped && !self.shutdown
    }

    /// A state whose next and durable offsets are `end`.
    pub(crate) fn new(end: u64) -> Self {
        Self {
            next_offset: end,
            durable_end: end,
            ..Self::default()
        }
    }
}

/// Everything the log, its readers and its writer thread share.
pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) cfg: LogConfig,
    pub(crate) state: Mutex<State>,
    /// Signals the writer: work queued or shutdown.
    pub(crate) work: Condvar,
    /// Signals appenders and tailing readers: the durable end moved or the writer stopped.
    pub(crate) done: Condvar,
    /// All retained segments, ascending; the last is the active one.
    pub(crate) segments: RwLock<Vec<SegmentMeta>>,
    /// Mirror of `State::durable_end` for lock-free reads.
    pub(crate) durable_end: AtomicU64,
    /// fdatasync/fsync calls made by the writer.
    pub(crate) fsyncs: AtomicU64,
    /// Told when a segment is closed or trimmed (tamper evidence, see [`crate::seal`]).
    pub(crate) seal: std::sync::OnceLock<Arc<dyn crate::seal::SealHook>>,
}

impl Shared {
    /// First retained offset.
    pub(crate) fn start_offset(&self) -> u64 {
        self.segments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .map_or(0, |s| s.base)
    }

    fn failure(st: &State) -> Option<LogError> {
        if let Some((path, source)) = &st.failed {
            return Some(LogError::WriterFailed {
                path: path.clone(),
                source: Arc::clone(source),
            });
        }
        (st.stopped || st.shutdown).then_some(LogError::Closed)
    }

    /// Queues `entries` and blocks until they are durable; see the module docs.
    pub(crate) fn append(&self, entries: &[&[u8]]) -> Result<Range<u64>, LogError> {
        let mut frames = Frames::default();
        let total: usize = entries
            .iter()
            .map(|e| e.len() + segment::FRAME_HEADER)
            .sum();
        frames.buf.reserve_exact(total);
        frames.crcs.reserve_exact(entries.len());
        frames.starts.reserve_exact(entries.len());
        for entry in entries {
            frames.push(entry)?;
        }
        let range = self.enqueue(frames)?;
        if !range.is_empty() {
            self.wait_durable(range.end)?;
        }
        Ok(range)
    }

    /// Assigns offsets to `frames` and queues them for the writer without waiting.
    pub(crate) fn enqueue(&self, frames: Frames) -> Result<Range<u64>, LogError> {
        let mut frames = frames;
        let mut st = lock(&self.state);
        if let Some(err) = Self::failure(&st) {
            return Err(err);
        }
        let first = st.next_offset;
        if frames.is_empty() {
            return Ok(first..first);
        }
        let end = first + frames.len() as u64;
        segment::seal_frames(&mut frames.buf, &frames.starts, &frames.crcs, first);
        st.next_offset = end;
        st.queued_bytes += frames.bytes();
        st.queue.push(Pending {
            frames,
            first,
            end,
            enqueued: Instant::now(),
        });
        self.work.notify_one();
        Ok(first..end)
    }

    /// Blocks until every entry below `end` is durable (or the writer failed or stopped).
    pub(crate) fn wait_durable(&self, end: u64) -> Result<(), LogError> {
        let mut st = lock(&self.state);
        while st.durable_end < end {
            if let Some(err) = Self::failure(&st) {
                return Err(err);
            }
            st = self.done.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        Ok(())
    }

    /// Asks the writer to finish the queue and exit.
    pub(crate) fn shutdown(&self) {
        lock(&self.state).shutdown = true;
        self.work.notify_all();
    }

    /// Waits for the next group to commit; `None` once shut down with an empty queue.
    fn next_group(&self) -> Option<Vec<Pending>> {
        let mut st = lock(&self.state);
        while st.queue.is_empty() {
            if st.shutdown {
                return None;
            }
            st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        let delay = self.cfg.max_commit_delay;
        if !delay.is_zero() {
            let deadline = st.queue[0].enqueued + delay;
            while !st.shutdown
                && st.queued_bytes < LINGER_FLUSH_BYTES
                && st.queue.len() < st.last_group
            {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                st = self
                    .work
                    .wait_timeout(st, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        st.queued_bytes = 0;
        st.last_group = st.queue.len();
        Some(std::mem::take(&mut st.queue))
    }
}

/// The segment the writer appends to.
pub(crate) struct ActiveSegment {
    pub(crate) base: u64,
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    pub(crate) bytes: u64,
    pub(crate) count: u64,
    pub(crate) index: SparseIndex,
    /// Index entries already copied to the shared [`SegmentMeta`].
    pub(crate) published: usize,
    pub(crate) unsynced: bool,
    /// The seal's digest of every byte written so far, when a seal hook takes one and the writer wrote
    /// the segment from its first byte (see [`crate::seal::SegmentDigest`]).
    pub(crate) digest: Option<SegmentDigest>,
}

impl ActiveSegment {
    /// Opens `path` for appending; `bytes`, `count` and `index` describe its verified content.
    pub(crate) fn open(
        path: PathBuf,
        base: u64,
        bytes: u64,
        count: u64,
        index: SparseIndex,
    ) -> io::Result<Self> {
        let file = OpenOptions::new().append(true).open(&path)?;
        let published = index.len();
        Ok(Self {
            base,
            path,
            file,
            bytes,
            count,
            index,
            published,
            unsynced: false,
            digest: None,
        })
    }
}

/// Marks the writer stopped and wakes everyone when the thread exits, even by panic.
struct StopGuard<'a>(&'a Shared);

impl Drop for StopGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).stopped = true;
        self.0.done.notify_all();
    }
}

/// The writer thread's body.
pub(crate) fn run_writer(shared: &Shared, mut active: ActiveSegment) {
    let _guard = StopGuard(shared);
    while let Some(group) = shared.next_group() {
        let result = write_group(shared, &mut active, &group);
        let mut st = lock(&shared.state);
        let failed = match result {
            Ok(()) => {
                let end = group.last().map_or(st.durable_end, |p| p.end);
                st.durable_end = end;
                shared.durable_end.store(end, Ordering::Release);
                false
            }
            Err((path, err)) => {
                tracing::error!(path = %path.display(), error = %err, "log write failed; log poisoned");
                st.failed = Some((path, Arc::new(err)));
                true
            }
        };
        drop(st);
        shared.done.notify_all();
        if failed {
            return;
        }
    }
}

type WriteResult = Result<(), (PathBuf, io::Error)>;

fn write_group(shared: &Shared, active: &mut ActiveSegment, group: &[Pending]) -> WriteResult {
    for p in group {
        let len = p.frames.bytes() as u64;
        if active.bytes > 0 && active.bytes + len > shared.cfg.segment_bytes {
            roll(shared, active, p.first)?;
        }
        if active.bytes == 0 && active.digest.is_none() {
            active.digest = shared
                .seal
                .get()
                .and_then(|s| s.running_hash())
                .map(|alg| SegmentDigest::new(alg, active.base));
        }
        let pieces = p.frames.pieces();
        write_pieces(&mut active.file, &pieces).map_err(|e| (active.path.clone(), e))?;
        if let Some(d) = &mut active.digest {
            for piece in &pieces {
                d.update(piece);
            }
        }
        for (offset, pos) in (p.first..p.end).zip(p.frames.positions()) {
            active.index.observe(offset, active.bytes + pos);
        }
        active.bytes += len;
        active.count += p.end - p.first;
        active.unsynced = true;
    }
    publish(shared, active);
    sync_active(shared, active)
}

fn sync_active(shared: &Shared, active: &mut ActiveSegment) -> WriteResult {
    if shared.cfg.fsync && active.unsynced {
        active
            .file
            .sync_data()
            .map_err(|e| (active.path.clone(), e))?;
        shared.fsyncs.fetch_add(1, Ordering::Relaxed);
    }
    active.unsynced = false;
    Ok(())
}

/// Copies the active segment's size and new index entries to its shared metadata.
fn publish(shared: &Shared, active: &mut ActiveSegment) {
    let mut segs = shared
        .segments
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(meta) = segs.last_mut().filter(|m| m.base == active.base) {
        meta.bytes = active.bytes;
        meta.index.extend_from(&active.index, active.published);
    }
    active.published = active.index.len();
}

/// Seals the active segment (fsynced first, so only the last segment can ever have a torn tail)
/// and starts a new one at `base`.
fn roll(shared: &Shared, active: &mut ActiveSegment, base: u64) -> WriteResult {
    sync_active(shared, active)?;
    publish(shared, active);
    if let Err(err) = segment::write_index_file(
        &shared.dir,
        active.base,
        active.count,
        active.bytes,
        &active.index,
    ) {
        tracing::warn!(error = %err, "writing segment index failed; it will be rebuilt on open");
    }
    if let Some(seal) = shared.seal.get() {
        match active.digest.take() {
            // Digested from the first byte: no need to read the file back.
            Some(d) if d.bytes() == active.bytes => {
                seal.segment_closed_digested(&active.path, active.base, active.count, d)
            }
            _ => seal.segment_closed(&active.path, active.base, active.count),
        }
    }
    let path = segment::segment_path(&shared.dir, base);
    let file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| (path.clone(), e))?;
    if shared.cfg.fsync {
        sync_dir(&shared.dir).map_err(|e| (shared.dir.clone(), e))?;
        shared.fsyncs.fetch_add(1, Ordering::Relaxed);
    }
    shared
        .segments
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push(SegmentMeta {
            base,
            path: path.clone(),
            bytes: 0,
            index: SparseIndex::default(),
        });
    *active = ActiveSegment {
        base,
        path,
        file,
        bytes: 0,
        count: 0,
        index: SparseIndex::default(),
        published: 0,
        unsynced: false,
        digest: None,
    };
    Ok(())
}
