//! Slots: per record, one pass over an object's keys files the values a compiled plan needs, so no column
//! scans the object. Keys are matched ignoring ASCII case through a case-blind hash of the key (no lower-cased
//! copy) in a small open-addressing table; the key spelled exactly as the table writes it wins over other
//! spellings, else the first one seen.

use super::tree::{Entries, Node};

/// Multiplier of the key hash (FxHash's).
const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
/// Setting bit 5 of every byte folds ASCII upper case onto lower case (and a few other pairs, which only
/// cost a comparison).
const FOLD: u64 = 0x2020_2020_2020_2020;

/// A hash of `key` that ignores ASCII case: keys equal ignoring ASCII case hash alike.
#[inline]
fn ci_hash(key: &[u8]) -> u64 {
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ (u64::from_le_bytes(w) | FOLD)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ (u64::from_le_bytes(w) | FOLD)).wrapping_mul(K);
    }
    h
}

/// One table entry: a name (or alias) and its slot.
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    name: &'static str,
    slot: u16,
    /// Whether `name` is the slot's own spelling (not an alias).
    own: bool,
}

/// Key names → slot, matched ignoring ASCII case, with the name as written for the exact-case preference.
#[derive(Default)]
pub(crate) struct Slots {
    /// Open addressing, linear probing; the length is a power of two at least twice the entries.
    table: Vec<Option<Entry>>,
    entries: usize,
    exact: Vec<&'static str>,
}

impl Slots {
    /// Files `other` into the slot of `name`.
    pub(crate) fn alias(&mut self, name: &'static str, other: &'static str) {
        let s = self.slot(name);
        if self.find(other.as_bytes()).is_none() {
            self.insert(other, s, false);
        }
    }

    /// The slot of `name` (ASCII case ignored), added if new.
    pub(crate) fn slot(&mut self, name: &'static str) -> u16 {
        if let Some((s, _)) = self.find(name.as_bytes()) {
            return s;
        }
        let s = u16::try_from(self.exact.len()).unwrap_or(u16::MAX);
        self.insert(name, s, true);
        self.exact.push(name);
        s
    }

    fn insert(&mut self, name: &'static str, slot: u16, own: bool) {
        if (self.entries + 1) * 2 > self.table.len() {
            let old = std::mem::take(&mut self.table);
            self.table = vec![None; (old.len() * 2).max(16)];
            for e in old.into_iter().flatten() {
                self.place(e);
            }
        }
        self.place(Entry {
            hash: ci_hash(name.as_bytes()),
            name,
            slot,
            own,
        });
        self.entries += 1;
    }

    fn place(&mut self, e: Entry) {
        let mask = self.table.len() - 1;
        let mut i = e.hash as usize & mask;
        while self.table[i].is_some() {
            i = (i + 1) & mask;
        }
        self.table[i] = Some(e);
    }

    /// The slot of `key`, ignoring ASCII case, and whether `key` is spelled exactly as the slot's name.
    #[inline]
    fn find(&self, key: &[u8]) -> Option<(u16, bool)> {
        if self.table.is_empty() {
            return None;
        }
        let h = ci_hash(key);
        let mask = self.table.len() - 1;
        let mut i = h as usize & mask;
        while let Some(e) = &self.table[i] {
            if e.hash == h && e.name.len() == key.len() {
                let name = e.name.as_bytes();
                if name == key {
                    return Some((e.slot, e.own));
                }
                if name.eq_ignore_ascii_case(key) {
                    return Some((e.slot, false));
                }
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Files each entry of `obj` into its slot: the first exact-case key wins, else the first ignoring case.
    pub(crate) fn fill<'a>(&self, obj: &'a Entries<'a>) -> Vec<Option<&'a Node<'a>>> {
        let mut out: Vec<Option<&'a Node<'a>>> = vec![None; self.exact.len()];
        let mut exact = vec![false; self.exact.len()];
        for (k, v) in obj {
            let Some((s, is_exact)) = self.find(k.as_bytes()) else {
                continue;
            };
            let s = usize::from(s);
            if out[s].is_none() || (is_exact && !exact[s]) {
                out[s] = Some(v);
                exact[s] = is_exact;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn files_keys_ignoring_case_exact_spelling_first() {
        let mut s = Slots::default();
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("someLongKeyName{i}").into_boxed_str()))
            .collect();
        for n in &names {
            s.slot(n);
        }
        assert_eq!(s.slot("SOMELONGKEYNAME3"), 3);
        s.alias("someLongKeyName1", "otherName");
        let obj: Vec<(Cow<'static, str>, Node<'static>)> = vec![
            ("SOMELONGKEYNAME0".into(), Node::Bool(false)),
            ("someLongKeyName0".into(), Node::Bool(true)),
            ("somelongkeyname2".into(), Node::Null),
            ("OTHERNAME".into(), Node::Bool(true)),
            ("unknown".into(), Node::Null),
            ("someLongKeyName2@".into(), Node::Null),
        ];
        let got = s.fill(&obj);
        assert_eq!(got.len(), 40);
        assert_eq!(got[0], Some(&Node::Bool(true)));
        assert_eq!(got[1], Some(&Node::Bool(true)));
        assert_eq!(got[2], Some(&Node::Null));
        assert!(got[3..].iter().all(Option::is_none));
    }
}
