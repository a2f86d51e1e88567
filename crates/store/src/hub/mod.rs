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
use crate::log::{Log, LogConfig, LogError};
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
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            log: LogConfig::default(),
            dedupe_horizon: crate::dedupe::DEFAULT_HORIZON,
            checkpoint_records: 200_000,
            checkpoint_interval: Duration::from_secs(10),
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
    /// Items quarantined.
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
        let dedupe = DedupeIndex::open(&dir.join("dedupe.redb"), config.dedupe_horizon)?;
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
            let batch = reader.read_batch(8192, 64 << 20)?;
            if batch.is_empty() {
                break;
            }
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
        let mut keep = Vec::with_capacity(records.len());
        for (i, r) in records.iter_mut().enumerate() {
            match self.dedupe.check_and_insert(
                &dedupe_key(r.category, &r.key),
                r.content_hash,
                r.ingest_time,
            ) {
                Verdict::New => keep.push(i),
                Verdict::Revision(n) => {
                    r.revision = n;
                    outcome.revisions += 1;
                    keep.push(i);
                }
                Verdict::Duplicate => {
                    outcome.duplicates += 1;
                    self.stats.count_duplicate(r.category);
                }
            }
        }
        if !keep.is_empty() {
            let mut buf = Vec::new();
            let mut bounds = Vec::with_capacity(keep.len());
            for &i in &keep {
                let start = buf.len();
                codec::encode(&records[i], &mut buf);
                bounds.push(start..buf.len());
            }
            let entries: Vec<&[u8]> = bounds.iter().map(|b| &buf[b.clone()]).collect();
            if let Err(e) = self.log.append(&entries) {
                // The index now remembers records that are not durable: stop here, see the module docs.
                self.failed = true;
                return Err(e.into());
            }
            for &i in &keep {
                self.stats.count_appended(&records[i]);
            }
            outcome.appended = keep.len() as u64;
        }
        outcome.quarantined = rejected.len() as u64;
        if !rejected.is_empty() {
            self.stats.count_quarantined(&rejected);
            self.quarantine.add(rejected)?;
        }
        // Duplicates and quarantined items change the statistics too.
        self.since_checkpoint += outcome.appended + outcome.duplicates + outcome.quarantined;
        if self.since_checkpoint >= self.config.checkpoint_records
            || self.last_checkpoint.elapsed() >= self.config.checkpoint_interval
        {
            self.checkpoint()?;
        }
        Ok(outcome)
    }

    /// Makes the dedupe index and the statistics durable up to the log's end.
    pub fn checkpoint(&mut self) -> Result<(), HubError> {
        if self.failed {
            return Err(HubError::Failed);
        }
        let end = self.log.end_offset();
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
