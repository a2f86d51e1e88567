//! Durable dedupe index bounded by a time horizon, backed by redb.
//!
//! [`DedupeIndex::check_and_insert`] classifies a record by its key (e.g. a record id) and the
//! hash of its content: first sight is [`Verdict::New`], a content hash already seen under the
//! key is [`Verdict::Duplicate`], a content hash never seen under it is [`Verdict::Revision`]`(n)`.
//! Up to [`MAX_HASHES_PER_KEY`] hashes are remembered per key, so a re-delivered older revision
//! is still a duplicate.
//!
//! # Time and expiry
//! The index keeps its own clock: the largest `now` passed so far. A key whose `last_seen` is
//! below `clock - horizon` is expired and behaves exactly as if absent (the next check is `New`),
//! whether or not it was removed yet. Removal happens in [`DedupeIndex::checkpoint`], from memory
//! and disk, in a sweep over all keys at most every `horizon / 32` of clock time. Verdicts thus
//! depend only on the sequence of calls, never on when checkpoints ran: replaying the same log
//! entries after a crash gives the same verdicts.
//!
//! # Durability
//! Checks only touch memory. [`DedupeIndex::checkpoint`] writes every changed key, the expiry
//! removals and the log offset they are applied up to in one redb transaction. After a crash,
//! reopen and replay the log from [`DedupeIndex::applied_offset`]: nothing is lost and nothing is
//! counted twice.
//!
//! # Memory
//! Keys are stored as a seeded 128-bit xxh3 of the key bytes (the seed is random per database,
//! so crafted keys cannot collide or flood the map). A key with one content hash takes 80 bytes
//! of map slot plus hashbrown's control byte and spare capacity: about 90 to 180 bytes, ~120 on
//! average. Each further remembered hash adds 16 bytes on the heap (plus allocator overhead).
//! Keys older than the horizon are freed by the next sweep.
//!
//! Memory is bounded besides: at most `max_memory_keys` keys ([`DEFAULT_MAX_MEMORY_KEYS`]) stay in
//! memory. Past that, a checkpoint (which the hub runs as soon as [`DedupeIndex::over_memory`]) evicts
//! the least recently seen half; they are on disk already (only clean keys are evicted). A Bloom filter
//! over the evicted keys (~1.3 bytes each, see `cold.rs`) answers "certainly not seen" for new keys
//! without a disk read; a "maybe" reads the key's state from redb and brings it back into memory.
//! Verdicts are the same as with every key in memory. A sweep also removes expired keys from disk
//! and rebuilds the filter from what stays.
mod cold;
mod error;
mod state;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use cold::KeyFilter;
pub use error::{DedupeError, ErrorKind};
pub use state::MAX_HASHES_PER_KEY;
use state::{FoldBuild, KeyState};

/// Default horizon: 72 hours.
pub const DEFAULT_HORIZON: Duration = Duration::from_secs(72 * 3600);
/// Longest accepted horizon: 366 days.
pub const MAX_HORIZON: Duration = Duration::from_secs(366 * 24 * 3600);

/// Keys kept in memory by default (~21 MiB of map); more live on disk behind a filter (module docs).
pub const DEFAULT_MAX_MEMORY_KEYS: usize = 200_000;

/// redb's page cache (its default is 1 GiB, which a large index would fill with pages that are only
/// ever written: lookups are served from memory). Checkpoints write through it.
const DB_CACHE_BYTES: usize = 16 << 20;

const KEYS: TableDefinition<u128, &[u8]> = TableDefinition::new("keys");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const META_SEED: &str = "seed";
const META_APPLIED: &str = "applied_offset";
const META_CLOCK: &str = "clock";
const META_EXPIRED: &str = "expired_total";

/// How a record relates to what the index has seen under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The key was not seen within the horizon.
    New,
    /// This content hash was already seen under the key.
    Duplicate,
    /// New content for a known key: revision `n` (1 for the second distinct content, ...).
    Revision(u32),
}

/// The dedupe index; see the module docs. Single-threaded: wrap it in a `Mutex` to share.
pub struct DedupeIndex {
    db: Database,
    path: PathBuf,
    seed: u64,
    horizon: i64,
    keys: HashMap<u128, KeyState, FoldBuild>,
    /// Keys whose `dirty` flag is set, each once.
    dirty: Vec<u128>,
    /// Keys found expired on open, to delete at the next checkpoint.
    stale: Vec<u128>,
    clock: i64,
    last_sweep: i64,
    applied: u64,
    expired_total: u64,
    /// Most keys kept in memory before a checkpoint evicts.
    max_memory_keys: usize,
    /// Keys that may be on disk but not in memory.
    cold: KeyFilter,
    /// The keys table as of the last checkpoint, for reading evicted keys (dropped at checkpoints).
    cold_table: Option<redb::ReadOnlyTable<u128, &'static [u8]>>,
    /// A failed read of an evicted key, returned by the next [`DedupeIndex::take_error`] or checkpoint.
    read_error: Option<DedupeError>,
}

impl std::fmt::Debug for DedupeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupeIndex")
            .field("path", &self.path)
            .field("keys", &self.keys.len())
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

impl DedupeIndex {
    /// Opens (creating if needed) the index at `path` and loads the unexpired keys into memory.
    /// `horizon` must be between 1 µs and [`MAX_HORIZON`]; [`DEFAULT_HORIZON`] is the usual one.
    pub fn open(path: &Path, horizon: Duration) -> Result<DedupeIndex, DedupeError> {
        Self::open_bounded(path, horizon, DEFAULT_MAX_MEMORY_KEYS)
    }

    /// [`open`](Self::open) keeping at most about `max_memory_keys` keys in memory (at least 1; see the
    /// module docs).
    pub fn open_bounded(
        path: &Path,
        horizon: Duration,
        max_memory_keys: usize,
    ) -> Result<DedupeIndex, DedupeError> {
        if horizon.is_zero() || horizon > MAX_HORIZON {
            return Err(DedupeError::InvalidHorizon { horizon });
        }
        let horizon = i64::try_from(horizon.as_micros()).unwrap_or(i64::MAX);
        let db = Database::builder()
            .set_cache_size(DB_CACHE_BYTES)
            .create(path)
            .map_err(|e| DedupeError::db(path, "open", e))?;
        let wtx = db
            .begin_write()
            .map_err(|e| DedupeError::db(path, "begin write", e))?;
        let seed = {
            wtx.open_table(KEYS)
                .map_err(|e| DedupeError::db(path, "open keys table", e))?;
            let mut meta = wtx
                .open_table(META)
                .map_err(|e| DedupeError::db(path, "open meta table", e))?;
            let stored = meta
                .get(META_SEED)
                .map_err(|e| DedupeError::db(path, "read seed", e))?
                .map(|v| v.value());
            match stored {
                Some(seed) => seed,
                None => {
                    let seed = RandomState::new().build_hasher().finish();
                    meta.insert(META_SEED, seed)
                        .map_err(|e| DedupeError::db(path, "write seed", e))?;
                    seed
                }
            }
        };
        wtx.commit()
            .map_err(|e| DedupeError::db(path, "commit", e))?;
        let mut index = DedupeIndex {
            db,
            path: path.to_owned(),
            seed,
            horizon,
            keys: HashMap::default(),
            dirty: Vec::new(),
            stale: Vec::new(),
            clock: i64::MIN,
            last_sweep: i64::MIN,
            applied: 0,
            expired_total: 0,
            max_memory_keys: max_memory_keys.max(1),
            cold: KeyFilter::with_capacity(0),
            cold_table: None,
            read_error: None,
        };
        index.load()?;
        Ok(index)
    }

    fn load(&mut self) -> Result<(), DedupeError> {
        let path = &self.path;
        let rtx = self
            .db
            .begin_read()
            .map_err(|e| DedupeError::db(path, "begin read", e))?;
        let meta = rtx
            .open_table(META)
            .map_err(|e| DedupeError::db(path, "open meta table", e))?;
        let get = |name: &str| -> Result<Option<u64>, DedupeError> {
            Ok(meta
                .get(name)
                .map_err(|e| DedupeError::db(path, "read meta", e))?
                .map(|v| v.value()))
        };
        self.applied = get(META_APPLIED)?.unwrap_or(0);
        self.expired_total = get(META_EXPIRED)?.unwrap_or(0);
        self.clock = get(META_CLOCK)?.map_or(i64::MIN, u64::cast_signed);
        self.last_sweep = self.clock;
        let cutoff = self.cutoff();
        let table = rtx
            .open_table(KEYS)
            .map_err(|e| DedupeError::db(path, "open keys table", e))?;
        let len = table
            .len()
            .map_err(|e| DedupeError::db(path, "count keys", e))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.keys.reserve(len.min(self.max_memory_keys));
        if len > self.max_memory_keys {
            self.cold = KeyFilter::with_capacity(len.saturating_mul(2));
        }
        for item in table
            .iter()
            .map_err(|e| DedupeError::db(path, "iterate keys", e))?
        {
            let (k, v) = item.map_err(|e| DedupeError::db(path, "read key", e))?;
            let key = k.value();
            let state = KeyState::decode(v.value()).ok_or_else(|| DedupeError::Corrupt {
                path: path.clone(),
                reason: format!("bad state for key {key:032x}"),
            })?;
            if state.last_seen < cutoff {
                self.stale.push(key);
                self.expired_total += 1;
            } else if self.keys.len() < self.max_memory_keys {
                self.keys.insert(key, state);
            } else {
                self.cold.insert(key);
            }
        }
        Ok(())
    }

    fn cutoff(&self) -> i64 {
        self.clock.saturating_sub(self.horizon)
    }

    /// Classifies a record with key `key` and content hash `content_hash` seen at `now` (unix
    /// micros) and remembers it; see [`Verdict`]. Memory only: call
    /// [`checkpoint`](Self::checkpoint) to persist. A record older than the horizon (relative to
    /// the largest `now` so far) is always `New`.
    pub fn check_and_insert(&mut self, key: &[u8], content_hash: u128, now: i64) -> Verdict {
        self.clock = self.clock.max(now);
        let cutoff = self.cutoff();
        let k = xxhash_rust::xxh3::xxh3_128_with_seed(key, self.seed);
        if self.cold.may_contain(k) && !self.keys.contains_key(&k) {
            match self.read_disk(k) {
                Ok(Some(state)) => {
                    self.keys.insert(k, state);
                }
                Ok(None) => {}
                Err(e) => {
                    self.read_error.get_or_insert(e);
                }
            }
        }
        let (state, verdict) = match self.keys.entry(k) {
            Entry::Vacant(slot) => (slot.insert(KeyState::new(content_hash, now)), Verdict::New),
            Entry::Occupied(slot) => {
                let state = slot.into_mut();
                if state.last_seen < cutoff {
                    self.expired_total += 1;
                    let dirty = state.dirty;
                    *state = KeyState::new(content_hash, now);
                    state.dirty = dirty;
                    (state, Verdict::New)
                } else if state.contains(content_hash) {
                    if now <= state.last_seen {
                        return Verdict::Duplicate;
                    }
                    state.last_seen = now;
                    (state, Verdict::Duplicate)
                } else {
                    state.last_seen = state.last_seen.max(now);
                    let n = state.push_revision(content_hash);
                    (state, Verdict::Revision(n))
                }
            }
        };
        if !state.dirty {
            state.dirty = true;
            self.dirty.push(k);
        }
        verdict
    }

    /// A failed disk read since the last call (the verdict given was `New`, which may be wrong): the
    /// caller must not make that verdict durable. Checkpoints return it too.
    pub fn take_error(&mut self) -> Option<DedupeError> {
        self.read_error.take()
    }

    /// Whether more keys are in memory than the bound: checkpoint soon (it evicts).
    pub fn over_memory(&self) -> bool {
        self.keys.len() > self.max_memory_keys
    }

    /// Durably stores every change since the last checkpoint, together with
    /// `applied_log_offset`: the offset of the first log entry *not* yet applied to the index
    /// (like a consumer's next offset). Also removes expired keys from memory and disk when a
    /// sweep is due (see the module docs). On error nothing is lost from memory; call again.
    pub fn checkpoint(&mut self, applied_log_offset: u64) -> Result<(), DedupeError> {
        if let Some(e) = self.read_error.take() {
            return Err(e);
        }
        // A live read transaction would keep the pages this commit replaces.
        self.cold_table = None;
        let path = &self.path;
        let cutoff = self.cutoff();
        let sweep_due = self.clock.saturating_sub(self.last_sweep) >= (self.horizon / 32).max(1);
        let mut expired: Vec<u128> = if sweep_due {
            self.keys
                .iter()
                .filter(|(_, s)| s.last_seen < cutoff)
                .map(|(k, _)| *k)
                .collect()
        } else {
            Vec::new()
        };
        expired.sort_unstable();
        let wtx = self
            .db
            .begin_write()
            .map_err(|e| DedupeError::db(path, "begin write", e))?;
        let (filter, disk_expired);
        {
            let mut table = wtx
                .open_table(KEYS)
                .map_err(|e| DedupeError::db(path, "open keys table", e))?;
            self.stale.sort_unstable();
            let rebuild = self.cold.inserted() > 0 && (sweep_due || self.cold.is_over_capacity());
            (filter, disk_expired) = if rebuild {
                let (f, e) = self.scan_cold(&table, cutoff, sweep_due)?;
                (Some(f), e)
            } else {
                (None, Vec::new())
            };
            // Stale keys first: one may have been inserted again since and be dirty now.
            for k in self.stale.iter().chain(&expired).chain(&disk_expired) {
                table
                    .remove(*k)
                    .map_err(|e| DedupeError::db(path, "remove key", e))?;
            }
            // Ascending keys make the B-tree inserts mostly sequential.
            self.dirty.sort_unstable();
            let mut buf = Vec::with_capacity(64);
            for k in &self.dirty {
                match self.keys.get(k).filter(|s| s.last_seen >= cutoff) {
                    Some(state) => {
                        state.encode(&mut buf);
                        table
                            .insert(*k, buf.as_slice())
                            .map_err(|e| DedupeError::db(path, "write key", e))?;
                    }
                    // Expired (it behaves as absent): keep it off disk.
                    None => {
                        table
                            .remove(*k)
                            .map_err(|e| DedupeError::db(path, "remove key", e))?;
                    }
                }
            }
            let mut meta = wtx
                .open_table(META)
                .map_err(|e| DedupeError::db(path, "open meta table", e))?;
            let expired_total =
                self.expired_total + expired.len() as u64 + disk_expired.len() as u64;
            for (name, value) in [
                (META_APPLIED, applied_log_offset),
                (META_CLOCK, self.clock.cast_unsigned()),
                (META_EXPIRED, expired_total),
            ] {
                meta.insert(name, value)
                    .map_err(|e| DedupeError::db(path, "write meta", e))?;
            }
        }
        wtx.commit()
            .map_err(|e| DedupeError::db(path, "commit", e))?;
        if let Some(filter) = filter {
            self.cold = filter;
        }
        self.expired_total += disk_expired.len() as u64;
        for k in self.dirty.drain(..) {
            if let Some(state) = self.keys.get_mut(&k) {
                state.dirty = false;
            }
        }
        for k in &expired {
            self.keys.remove(k);
        }
        self.expired_total += expired.len() as u64;
        expired.clear();
        self.stale.clear();
        if sweep_due {
            self.last_sweep = self.clock;
        }
        self.applied = applied_log_offset;
        if self.over_memory() {
            self.evict();
        }
        Ok(())
    }

    /// The `applied_log_offset` of the last successful checkpoint (0 if none): replay the log
    /// from here after opening.
    pub fn applied_offset(&self) -> u64 {
        self.applied
    }

    /// Keys held in memory (including expired ones not yet swept).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Estimated heap bytes of the in-memory part: the key map's slots (with spare capacity and control
    /// bytes), extra remembered hashes and the dirty list. Walks every key: for reports, not hot paths.
    pub fn memory_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(u128, KeyState)>() + 1;
        let extra: usize = self.keys.values().map(KeyState::heap_bytes).sum();
        self.keys.capacity() * slot
            + extra
            + self.cold.heap_bytes()
            + (self.dirty.capacity() + self.stale.capacity()) * std::mem::size_of::<u128>()
    }

    /// Keys evicted to disk and remembered by the filter only (an upper estimate: a key evicted twice
    /// counts twice until the filter is rebuilt).
    pub fn disk_only_keys(&self) -> usize {
        self.cold.inserted()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys expired since the database was created (swept, or found expired on reuse or load).
    pub fn expired_total(&self) -> u64 {
        self.expired_total
    }

    /// Keys changed since the last checkpoint.
    pub fn pending_changes(&self) -> usize {
        self.dirty.len()
    }

    /// The configured horizon.
    pub fn horizon(&self) -> Duration {
        Duration::from_micros(self.horizon.unsigned_abs())
    }
}
