//! The hub: the durable log with dedupe in front of it and the quarantine beside it. A source batch goes
//! through [`Hub::ingest`]: exact duplicates are dropped and counted, new content under a known key becomes a
//! new revision, everything else is appended; rejected input is quarantined. `ingest` returns only when all of
//! it is on disk, so the caller may then acknowledge the source position.
//!
//! Crash safety: the dedupe index is checkpointed with the log offset it covers; on open, log entries past
//! that offset are replayed into it. If an append fails, the in-memory index may remember records that never
//! became durable, so the hub refuses further work and never checkpoints again: reopening it rebuilds the
//! index from disk, and the records are accepted as new.
mod stats;

pub use stats::{CategoryStats, IngestStats};

use crate::dedupe::{DedupeError, DedupeIndex, Verdict};
use crate::log::{Frames, Log, LogConfig, LogError};
use crate::quarantine::{Quarantine, QuarantineError};
use model::{Record, Rejected, codec};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hub failures.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The log failed.
    #[error("durable log")]
    Log(#[from] LogError),
    /// The dedupe index failed.
    #[error("dedupe index")]
    Dedupe(#[from] DedupeError),
    /// The quarantine failed.
    #[error("quarantine")]
    Quarantine(#[from] QuarantineError),
    /// An earlier append failed; the hub must be reopened (which rebuilds the dedupe index from disk).
    #[error("an earlier append failed; reopen the data directory")]
    Failed,
    /// A log entry could not be decoded during replay.
    #[error("log entry {offset} is not a record: {message}")]
    Entry {
        /// Log offset.
        offset: u64,
        /// Codec message.
        message: String,
    },
    /// Statistics could not be written.
    #[error("statistics file {path}")]
    Stats {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// [`Hub::ingest`] queues encoded records to the log in chunks of about this many bytes (a record is
/// ~6 KiB encoded), so a batch's encoded copy never exists whole: at most the chunks the writer has not
/// written yet.
const APPEND_CHUNK_BYTES: usize = 4 << 20;
/// Room past [`APPEND_CHUNK_BYTES`] for the record that crosses it, so a chunk's buffer rarely grows.
const APPEND_CHUNK_SLACK: usize = 256 << 10;

/// Settings of the hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The log's settings.
    pub log: LogConfig,
    /// How long a key is remembered for dedupe.
    pub dedupe_horizon: Duration,
    /// Checkpoint the dedupe index after this many appended records (default 200k) ...
    pub checkpoint_records: u64,
    /// ... or this much time (default 10 s), whichever comes first.
    pub checkpoint_interval: Duration,
    /// Dedupe keys kept in memory; more live on disk behind a filter (default
    /// [`crate::dedupe::DEFAULT_MAX_MEMORY_KEYS`]; see [`crate::dedupe`]).
    pub dedupe_max_memory_keys: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            log: LogConfig::default(),
            dedupe_horizon: crate::dedupe::DEFAULT_HORIZON,
            checkpoint_records: 200_000,
            checkpoint_interval: Duration::from_secs(10),
            dedupe_max_memory_keys: crate::dedupe::DEFAULT_MAX_MEMORY_KEYS,
        }
    }
}

/// What one [`Hub::ingest`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Records appended (new keys and revisions).
    pub appended: u64,
    /// Of those, new revisions of a known key.
    pub revisions: u64,
    /// Exact duplicates dropped (counted, not appended).
    pub duplicates: u64,
    /// Items quarantined (not those an open quarantine entry already held).
    pub quarantined: u64,
}

/// The log, the dedupe index and the quarantine of one data directory.
#[derive(Debug)]
pub struct Hub {
    dir: PathBuf,
    log: Arc<Log>,
    dedupe: DedupeIndex,
    quarantine: Quarantine,
    stats: IngestStats,
    since_checkpoint: u64,
    last_checkpoint: Instant,
    config: HubConfig,
    failed: bool,
}

impl Hub {
    /// Opens (or creates) the hub in `dir`: `log/`, `dedupe.redb`, `quarantine/`, `stats.json`.
    pub fn open(dir: &Path, config: HubConfig) -> Result<Hub, HubError> {
        let log = Arc::new(Log::open(&dir.join("log"), config.log.clone())?);
        let dedupe = DedupeIndex::open_bounded(
            &dir.join("dedupe.redb"),
            config.dedupe_horizon,
            config.dedupe_max_memory_keys,
        )?;
        let quarantine = Quarantine::open(&dir.join("quarantine"))?;
        let stats = IngestStats::load(&dir.join("stats.json"));
        let mut hub = Hub {
            dir: dir.to_owned(),
            log,
            dedupe,
            quarantine,
            stats,
            since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            config,
            failed: false,
        };
        hub.replay()?;
        Ok(hub)
    }

    /// Feeds log entries the dedupe index has not seen (appended after its last checkpoint) into it.
    fn replay(&mut self) -> Result<(), HubError> {
        let from = self.dedupe.applied_offset();
        let end = self.log.end_offset();
        if from >= end {
            return Ok(());
        }
        let count_stats = self.stats.applied_offset < end;
        let mut reader = self.log.reader(from.max(self.log.start_offset()));
        loop {
            let batch = reader.read_batch(8192, 16 << 20)?;
            let Some(next) = batch.last().map(|(o, _)| o + 1) else {
                break;
            };
            for (offset, bytes) in batch {
                let (category, key, hash, ingest_time) =
                    codec::decode_key(&bytes).map_err(|e| HubError::Entry {
                        offset,
                        message: e.to_string(),
                    })?;
                self.dedupe
                    .check_and_insert(&dedupe_key(category, &key), hash, ingest_time);
                if count_stats && offset >= self.stats.applied_offset {
                    self.stats.count_replayed(category);
                }
            }
            if self.dedupe.over_memory() {
                // A long replay stays within the index's memory bound: checkpoint (and evict) here.
                self.checkpoint_at(next)?;
            }
        }
        self.checkpoint()
    }

    /// Dedupes, appends durably and quarantines one source batch. See the module docs.
    pub fn ingest(
        &mut self,
        mut records: Vec<Record>,
        rejected: Vec<Rejected>,
    ) -> Result<IngestOutcome, HubError> {
        if self.failed {
            return Err(HubError::Failed);
        }
        let mut outcome = IngestOutcome::default();
        let mut keep = vec![false; records.len()];
        for (r, keep) in records.iter_mut().zip(keep.iter_mut()) {
            match self.dedupe.check_and_insert(
                &dedupe_key(r.category, &r.key),
                r.content_hash,
                r.ingest_time,
            ) {
                Verdict::New => *keep = true,
                Verdict::Revision(n) => {
                    r.revision = n;
                    outcome.revisions += 1;
                    *keep = true;
                }
                Verdict::Duplicate => {
                    outcome.duplicates += 1;
                    self.stats.count_duplicate(r.category);
                }
            }
        }
        if let Some(e) = self.dedupe.take_error() {
            // A verdict may be wrong (an evicted key could not be read): nothing of this batch is kept.
            self.failed = true;
            return Err(e.into());
        }
        if let Err(e) = self.append(records, &keep, &mut outcome) {
            // The index now remembers records that are not durable: stop here, see the module docs.
            self.failed = true;
            return Err(e.into());
        }
        let mut rejected = rejected;
        // Input an open quarantine entry already holds (a repeating run re-reading a file) is kept there once
        // and not counted again.
        self.quarantine.retain_new(&mut rejected);
        outcome.quarantined = rejected.len() as u64;
        if !rejected.is_empty() {
            self.stats.count_quarantined(&rejected);
            self.quarantine.add(rejected)?;
        }
        // Duplicates and quarantined items change the statistics too.
        self.since_checkpoint += outcome.appended + outcome.duplicates + outcome.quarantined;
        if self.since_checkpoint >= self.config.checkpoint_records
            || self.last_checkpoint.elapsed() >= self.config.checkpoint_interval
            || self.dedupe.over_memory()
        {
            self.checkpoint()?;
        }
        Ok(outcome)
    }

    /// Encodes the kept records straight into frames, [`APPEND_CHUNK_BYTES`] at a time, and queues each
    /// chunk as soon as it is full, so the writer writes one chunk while the next is encoded and a batch
    /// never sits in memory twice (records and encoded copy); each record is dropped once encoded.
    /// Returns once everything queued is durable.
    fn append(
        &mut self,
        records: Vec<Record>,
        keep: &[bool],
        outcome: &mut IngestOutcome,
    ) -> Result<(), LogError> {
        let mut end = None;
        let mut frames = Frames::with_capacity(APPEND_CHUNK_BYTES + APPEND_CHUNK_SLACK);
        for (mut r, _) in records.into_iter().zip(keep).filter(|(_, k)| **k) {
            // The raw text, most of a record, goes to the log from where it is (see `Frames`).
            let raw = std::mem::take(&mut r.raw);
            let raw_len = raw.len();
            frames.push_with_tail(|out| codec::encode_head(&r, raw_len, out), raw.into_bytes())?;
            self.stats.count_appended(&r);
            outcome.appended += 1;
            drop(r);
            if frames.bytes() >= APPEND_CHUNK_BYTES {
                let full = std::mem::replace(
                    &mut frames,
                    Frames::with_capacity(APPEND_CHUNK_BYTES + APPEND_CHUNK_SLACK),
                );
                end = Some(self.log.enqueue(full)?.end);
            }
        }
        if !frames.is_empty() {
            end = Some(self.log.enqueue(frames)?.end);
        }
        match end {
            Some(end) => self.log.wait_durable(end),
            None => Ok(()),
        }
    }

    /// Makes the dedupe index and the statistics durable up to the log's end.
    pub fn checkpoint(&mut self) -> Result<(), HubError> {
        if self.failed {
            return Err(HubError::Failed);
        }
        self.checkpoint_at(self.log.end_offset())
    }

    /// Checkpoints the dedupe index and the statistics as covering the log below `end`.
    fn checkpoint_at(&mut self, end: u64) -> Result<(), HubError> {
        self.dedupe.checkpoint(end)?;
        self.stats.applied_offset = end;
        let path = self.dir.join("stats.json");
        self.stats
            .save(&path)
            .map_err(|source| HubError::Stats { path, source })?;
        self.since_checkpoint = 0;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// The durable log (shared with consumers).
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    /// The quarantine.
    pub fn quarantine(&mut self) -> &mut Quarantine {
        &mut self.quarantine
    }

    /// Ingest statistics per category.
    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    /// Estimated heap bytes of the dedupe index's in-memory part (see [`DedupeIndex::memory_bytes`]).
    pub fn dedupe_memory_bytes(&self) -> usize {
        self.dedupe.memory_bytes()
    }

    /// Keys currently remembered by the dedupe index.
    pub fn dedupe_keys(&self) -> usize {
        self.dedupe.len()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if self.since_checkpoint > 0 && !self.failed {
            // Best effort: a failure here only means more replay at the next open.
            let _ = self.checkpoint();
        }
    }
}

fn dedupe_key(category: model::Category, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(category.name().len() + 1 + key.len());
    k.extend_from_slice(category.name().as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

#[cfg(test)]
mod tests;
