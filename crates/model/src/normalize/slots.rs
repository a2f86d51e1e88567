//! Slots: per record, one pass over an object's keys files the values a compiled plan needs, so no column
//! scans the object. Keys are matched ignoring ASCII case through a hash of the lower-cased key; the key
//! spelled exactly as the table writes it wins over other spellings, else the first one seen.

use super::tree::{Entries, Node};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash: fast hashing of short keys.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Key names (lower case) → slot, with the name as written for the exact-case preference.
#[derive(Default)]
pub(crate) struct Slots {
    index: HashMap<Vec<u8>, u16, BuildHasherDefault<Fx>>,
    exact: Vec<&'static str>,
}

impl Slots {
    /// Files `other` into the slot of `name`.
    pub(crate) fn alias(&mut self, name: &'static str, other: &'static str) {
        let s = self.slot(name);
        self.index
            .entry(other.to_ascii_lowercase().into_bytes())
            .or_insert(s);
    }

    pub(crate) fn slot(&mut self, name: &'static str) -> u16 {
        let lower = name.to_ascii_lowercase().into_bytes();
        if let Some(s) = self.index.get(&lower) {
            return *s;
        }
        let s = u16::try_from(self.exact.len()).unwrap_or(u16::MAX);
        self.index.insert(lower, s);
        self.exact.push(name);
        s
    }

    /// Files each entry of `obj` into its slot: the first exact-case key wins, else the first ignoring case.
    pub(crate) fn fill<'a>(&self, obj: &'a Entries<'a>) -> Vec<Option<&'a Node<'a>>> {
        let mut out: Vec<Option<&'a Node<'a>>> = vec![None; self.exact.len()];
        let mut exact = vec![false; self.exact.len()];
        let mut buf = [0u8; 64];
        for (k, v) in obj {
            let kb = k.as_bytes();
            let Some(dst) = buf.get_mut(..kb.len()) else {
                continue;
            };
            for (d, s) in dst.iter_mut().zip(kb) {
                *d = s.to_ascii_lowercase();
            }
            let Some(&s) = self.index.get(&dst[..]) else {
                continue;
            };
            let s = usize::from(s);
            let is_exact = self.exact[s] == k.as_ref();
            if out[s].is_none() || (is_exact && !exact[s]) {
                out[s] = Some(v);
                exact[s] = is_exact;
            }
        }
        out
    }
}
