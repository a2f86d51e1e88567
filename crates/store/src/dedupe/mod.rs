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
//! Keys older than the horizon are freed by the next sweep, so memory is bounded by the keys seen
//! within `horizon * 33 / 32`.
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

pub use error::{DedupeError, ErrorKind};
pub use state::MAX_HASHES_PER_KEY;
use state::{FoldBuild, KeyState};

/// Default horizon: 72 hours.
pub const DEFAULT_HORIZON: Duration = Duration::from_secs(72 * 3600);
/// Longest accepted horizon: 366 days.
pub const MAX_HORIZON: Duration = Duration::from_secs(366 * 24 * 3600);

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
        if horizon.is_zero() || horizon > MAX_HORIZON {
            return Err(DedupeError::InvalidHorizon { horizon });
        }
        let horizon = i64::try_from(horizon.as_micros()).unwrap_or(i64::MAX);
        let db = Database::create(path).map_err(|e| DedupeError::db(path, "open", e))?;
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
        self.keys.reserve(usize::try_from(len).unwrap_or(0));
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
            } else {
                self.keys.insert(key, state);
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

    /// Durably stores every change since the last checkpoint, together with
    /// `applied_log_offset`: the offset of the first log entry *not* yet applied to the index
    /// (like a consumer's next offset). Also removes expired keys from memory and disk when a
    /// sweep is due (see the module docs). On error nothing is lost from memory; call again.
    pub fn checkpoint(&mut self, applied_log_offset: u64) -> Result<(), DedupeError> {
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
        {
            let mut table = wtx
                .open_table(KEYS)
                .map_err(|e| DedupeError::db(path, "open keys table", e))?;
            // Stale keys first: one may have been inserted again since and be dirty now.
            for k in self.stale.iter().chain(&expired) {
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
            let expired_total = self.expired_total + expired.len() as u64;
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
