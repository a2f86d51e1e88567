//! The filter over keys that live only on disk: a Bloom filter of the (already uniformly hashed) keys
//! the index evicted from memory. "Absent" is certain, so a new key (the common case) costs a few
//! bit probes and no disk read; "maybe" sends the lookup to redb. Sized for ~1% false positives.
use super::{DedupeError, DedupeIndex, FoldBuild, HashMap, KEYS, KeyState};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

/// Bits per key the filter is sized for (about 1% false positives with [`PROBES`] probes).
const BITS_PER_KEY: usize = 10;
/// Bit probes per key.
const PROBES: u64 = 7;
/// Smallest capacity a filter is built with.
const MIN_CAPACITY: usize = 1 << 16;

/// A Bloom filter over 128-bit key hashes; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct KeyFilter {
    bits: Vec<u64>,
    /// Bit count - 1 (the bit count is a power of two).
    mask: u64,
    /// Keys it was sized for; past this the false-positive rate climbs and it should be rebuilt.
    capacity: usize,
    /// Keys inserted (with repeats).
    inserted: usize,
}

impl KeyFilter {
    /// An empty filter sized for `capacity` keys (at least [`MIN_CAPACITY`]).
    pub(crate) fn with_capacity(capacity: usize) -> KeyFilter {
        let capacity = capacity.max(MIN_CAPACITY);
        let bits = (capacity * BITS_PER_KEY).next_power_of_two();
        KeyFilter {
            bits: vec![0; bits / 64],
            mask: bits as u64 - 1,
            capacity,
            inserted: 0,
        }
    }

    fn probes(key: u128) -> impl Iterator<Item = u64> {
        let h1 = key as u64;
        let h2 = ((key >> 64) as u64) | 1;
        (0..PROBES).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)))
    }

    /// Adds `key`.
    pub(crate) fn insert(&mut self, key: u128) {
        for p in Self::probes(key) {
            let bit = p & self.mask;
            if let Some(word) = self.bits.get_mut((bit / 64) as usize) {
                *word |= 1 << (bit % 64);
            }
        }
        self.inserted += 1;
    }

    /// Whether `key` may have been added (false: it certainly was not).
    pub(crate) fn may_contain(&self, key: u128) -> bool {
        if self.inserted == 0 {
            return false;
        }
        Self::probes(key).all(|p| {
            let bit = p & self.mask;
            self.bits
                .get((bit / 64) as usize)
                .is_some_and(|w| w & (1 << (bit % 64)) != 0)
        })
    }

    /// Whether more keys went in than it was sized for.
    pub(crate) fn is_over_capacity(&self) -> bool {
        self.inserted > self.capacity
    }

    /// Keys inserted (with repeats).
    pub(crate) fn inserted(&self) -> usize {
        self.inserted
    }

    /// Heap bytes of the bit array.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8
    }
}

impl DedupeIndex {
    /// The stored state of evicted key `k`, if it is on disk.
    pub(super) fn read_disk(&mut self, k: u128) -> Result<Option<KeyState>, DedupeError> {
        let path = &self.path;
        let table = match &mut self.cold_table {
            Some(table) => table,
            slot => {
                let rtx = self
                    .db
                    .begin_read()
                    .map_err(|e| DedupeError::db(path, "begin read", e))?;
                let table = rtx
                    .open_table(KEYS)
                    .map_err(|e| DedupeError::db(path, "open keys table", e))?;
                slot.insert(table)
            }
        };
        let Some(v) = table
            .get(k)
            .map_err(|e| DedupeError::db(path, "read key", e))?
        else {
            return Ok(None);
        };
        KeyState::decode(v.value())
            .map(Some)
            .ok_or_else(|| DedupeError::Corrupt {
                path: path.clone(),
                reason: format!("bad state for key {k:032x}"),
            })
    }

    /// One pass over the keys on disk that are not in memory: those expired (when `sweep` is set) to
    /// remove, the others into a new filter sized for twice the table.
    pub(super) fn scan_cold(
        &self,
        table: &redb::Table<'_, u128, &'static [u8]>,
        cutoff: i64,
        sweep: bool,
    ) -> Result<(KeyFilter, Vec<u128>), DedupeError> {
        let path = &self.path;
        let len = table
            .len()
            .map_err(|e| DedupeError::db(path, "count keys", e))?;
        let mut filter =
            KeyFilter::with_capacity(usize::try_from(len).unwrap_or(usize::MAX).saturating_mul(2));
        let mut expired = Vec::new();
        for item in table
            .iter()
            .map_err(|e| DedupeError::db(path, "iterate keys", e))?
        {
            let (k, v) = item.map_err(|e| DedupeError::db(path, "read key", e))?;
            let k = k.value();
            if self.keys.contains_key(&k) || self.stale.binary_search(&k).is_ok() {
                continue;
            }
            if sweep && KeyState::decode(v.value()).is_some_and(|s| s.last_seen < cutoff) {
                expired.push(k);
            } else {
                filter.insert(k);
            }
        }
        Ok((filter, expired))
    }

    /// Moves the least recently seen keys out of memory until half the bound is left. Only called right
    /// after a checkpoint: every key is clean, so its state is on disk (or it is expired, i.e. absent).
    pub(super) fn evict(&mut self) {
        let target = self.max_memory_keys / 2;
        let excess = self.keys.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut seen: Vec<i64> = self.keys.values().map(|s| s.last_seen).collect();
        let (_, threshold, _) = seen.select_nth_unstable(excess - 1);
        let threshold = *threshold;
        drop(seen);
        let cold = &mut self.cold;
        let mut evicted = 0;
        self.keys.retain(|k, s| {
            if evicted < excess && s.last_seen <= threshold && !s.dirty {
                cold.insert(*k);
                evicted += 1;
                false
            } else {
                true
            }
        });
        // Rebuild the map rather than keep the evicted keys' tombstones: with them it doubles (to twice
        // the bound, ~42 MB at the default) long before the next eviction, and stays that size.
        let bound = self.max_memory_keys.saturating_add(1);
        let mut keys = HashMap::with_capacity_and_hasher(bound, FoldBuild::default());
        keys.extend(self.keys.drain());
        self.keys = keys;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&i.to_le_bytes())
    }

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut f = KeyFilter::with_capacity(100_000);
        assert!(!f.may_contain(key(1)), "empty filter");
        for i in 0..100_000 {
            f.insert(key(i));
        }
        assert!((0..100_000).all(|i| f.may_contain(key(i))));
        let fp = (100_000..200_000)
            .filter(|&i| f.may_contain(key(i)))
            .count();
        assert!(fp < 2_000, "{fp} false positives in 100000 (want ~1%)");
        assert!(!f.is_over_capacity());
        f.insert(key(0));
        assert!(f.is_over_capacity());
        assert_eq!(
            f.heap_bytes(),
            (100_000 * BITS_PER_KEY).next_power_of_two() / 8
        );
    }
}
