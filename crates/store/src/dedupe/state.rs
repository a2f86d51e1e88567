//! Per-key state of the dedupe index, its in-memory layout and its stored encoding.
use std::hash::{BuildHasherDefault, Hasher};

/// Most content hashes remembered per key; the oldest is dropped beyond this.
pub const MAX_HASHES_PER_KEY: usize = 16;

/// What the index knows about one key. The first remembered hash is stored inline, so a key
/// with one content version needs no heap allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyState {
    /// Oldest remembered content hash.
    oldest: u128,
    /// Newer remembered hashes, oldest first (at most `MAX_HASHES_PER_KEY - 1`).
    newer: Vec<u128>,
    /// Latest `now` at which the key was seen (unix micros).
    pub(crate) last_seen: i64,
    /// Revision number of the newest content: 0 for the first, +1 per new hash.
    pub(crate) revision: u32,
    /// Changed since the last checkpoint (and listed in the dirty list).
    pub(crate) dirty: bool,
}

impl KeyState {
    /// A key seen for the first time with `hash` at `now`.
    pub(crate) fn new(hash: u128, now: i64) -> Self {
        Self {
            oldest: hash,
            newer: Vec::new(),
            last_seen: now,
            revision: 0,
            dirty: false,
        }
    }

    /// Whether `hash` is among the remembered hashes.
    pub(crate) fn contains(&self, hash: u128) -> bool {
        self.oldest == hash || self.newer.contains(&hash)
    }

    /// Heap bytes held besides the map slot (the newer hashes).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.newer.capacity() * std::mem::size_of::<u128>()
    }

    /// Remembers a new hash as the next revision, dropping the oldest beyond the cap.
    pub(crate) fn push_revision(&mut self, hash: u128) -> u32 {
        if self.newer.len() + 1 >= MAX_HASHES_PER_KEY {
            self.oldest = self.newer.remove(0);
        }
        self.newer.push(hash);
        self.revision = self.revision.saturating_add(1);
        self.revision
    }

    /// Encodes as `last_seen i64 LE | revision u32 LE | n u8 | n × u128 LE` (oldest first).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.last_seen.to_le_bytes());
        out.extend_from_slice(&self.revision.to_le_bytes());
        out.push(1 + self.newer.len() as u8);
        out.extend_from_slice(&self.oldest.to_le_bytes());
        for h in &self.newer {
            out.extend_from_slice(&h.to_le_bytes());
        }
    }

    /// Decodes what [`encode`](Self::encode) wrote.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (head, hashes) = bytes.split_at_checked(13)?;
        let last_seen = i64::from_le_bytes(head[..8].try_into().ok()?);
        let revision = u32::from_le_bytes(head[8..12].try_into().ok()?);
        let n = usize::from(head[12]);
        if n == 0 || n > MAX_HASHES_PER_KEY || hashes.len() != n * 16 {
            return None;
        }
        let mut it = hashes
            .chunks_exact(16)
            .filter_map(|c| c.try_into().ok().map(u128::from_le_bytes));
        let oldest = it.next()?;
        Some(Self {
            oldest,
            newer: it.collect(),
            last_seen,
            revision,
            dirty: false,
        })
    }
}

/// Hasher for keys that are already uniformly distributed 128-bit hashes (seeded xxh3): folds
/// the halves instead of hashing again.
#[derive(Default)]
pub(crate) struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// Build hasher for the key map.
pub(crate) type FoldBuild = BuildHasherDefault<FoldHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_roundtrip_and_cap() {
        let mut s = KeyState::new(1, 10);
        for h in 2..=20u128 {
            assert_eq!(s.push_revision(h), (h - 1) as u32);
        }
        assert!(!s.contains(4));
        assert!(s.contains(5) && s.contains(20));
        assert_eq!(1 + s.newer.len(), MAX_HASHES_PER_KEY);
        let mut buf = Vec::new();
        s.encode(&mut buf);
        assert_eq!(KeyState::decode(&buf), Some(s));
        assert_eq!(KeyState::decode(&buf[..buf.len() - 1]), None);
        assert_eq!(KeyState::decode(&[]), None);
    }
}
