//! Per-record atom results and the per-column-value memo. An atom (`plan::atoms`) depends on one column's
//! value only, so the results of all atoms of a column are cached per distinct value: sign-in logs repeat
//! the same `DeviceDetail`, `Status`, `UserAgent` or `NetworkLocationDetails` text across many records, and
//! a hit costs one hash and one comparison of the text instead of a JSON scan and a text search per rule.
//! The memo compares the whole text on a hit (never the hash alone), is bounded (a fixed number of slots
//! per column, values up to [`MAX_TEXT`] bytes), and turns itself off for a column whose values rarely
//! repeat.

use super::access::Ctx;
use crate::plan::atoms::{Atom, Atoms, Check};
use crate::plan::matcher::{Scalar, Test, TextOp};
use foldhash::fast::RandomState;
use model::codec::ValueRef;
use std::hash::BuildHasher;

/// Longer values are evaluated directly: copying them into the memo would cost more than it saves.
const MAX_TEXT: usize = 2048;
/// Slots per column (direct-mapped by hash).
const SLOTS: usize = 4096;
/// Lookups per sampling window of the hit rate.
pub(crate) const WINDOW: u32 = 4096;
/// Records a column's memo stays off after a window with a low hit rate, before it samples again.
const OFF_FOR: u32 = 1 << 16;

/// Evaluates one atom on the record directly (no memo).
pub(crate) fn eval_atom(atom: &Atom, cx: &Ctx<'_>, buf: &mut String) -> bool {
    let t = &atom.target;
    match &atom.check {
        Check::Has => cx.has_value(t),
        Check::Test { test, prefilter } => {
            // A plain column holding text (most atoms): the test itself, without `any_value`'s dispatch.
            if t.path.is_empty() && !t.outcome {
                match cx.cols.get(t.column) {
                    Some(ValueRef::String(s) | ValueRef::Dynamic(s)) => {
                        return test.matches(Scalar::Str(s), buf);
                    }
                    None | Some(ValueRef::Null) => return false,
                    _ => {}
                }
            }
            if let Some(pre) = prefilter
                && let Some(raw) = cx.cols.text(t.column)
                && !pre.matches(raw)
            {
                return false;
            }
            cx.any_value(t, &mut |s| test.matches(s, buf))
        }
    }
}

/// Whether an atom is worth memoizing its column for: it follows a JSON path, or it searches the text
/// (contains, starts/ends with, regex: a scan per needle) rather than comparing it whole.
fn costly(a: &Atom) -> bool {
    match &a.check {
        _ if !a.target.path.is_empty() => true,
        Check::Test {
            test: Test::Regex(_),
            ..
        } => !a.target.outcome,
        Check::Test {
            test: Test::Text(t),
            ..
        } => t.op != TextOp::Eq && !a.target.outcome,
        _ => false,
    }
}

/// One cached value of a column: its hash and results on one cache line, the text beside.
#[derive(Debug, Default)]
struct Slot {
    hash: u64,
    /// The atom results, as words aligned to the atoms' global bit positions (`first_word..`).
    results: [u64; SPAN],
    used: bool,
    text: String,
}

/// Atom words a memoized group may span.
const SPAN: usize = 2;

/// The memo of one column.
#[derive(Debug)]
struct GroupMemo {
    slots: Vec<Slot>,
    lookups: u32,
    hits: u32,
    /// Lookups left while off.
    off: u32,
}

impl GroupMemo {
    /// Counts one lookup; at the end of a sampling window with fewer than one hit in four, turns the memo
    /// off: the column's values do not repeat enough to pay for the copies.
    fn count(&mut self, hit: bool) {
        self.lookups += 1;
        self.hits += u32::from(hit);
        if self.lookups >= WINDOW {
            if self.hits < WINDOW / 4 {
                self.off = OFF_FOR;
            }
            self.lookups = 0;
            self.hits = 0;
        }
    }
}

/// The memos of one category plan, one per atom group that reads JSON paths.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    groups: Vec<Option<GroupMemo>>,
    /// Per group: whether it is memoized.
    memoized: Vec<bool>,
    /// Random per engine, so that crafted values cannot aim at one slot.
    seed: u64,
    /// Per group: the bits of the atoms' range, per word from the group's first word.
    ranges: Vec<Vec<u64>>,
}

impl Memo {
    /// A memo for the atom groups of a plan (slots are allocated on first use). Only groups with a
    /// [`costly`] atom are memoized: an equality test of a plain column costs about what a memo lookup
    /// does (measured: memoizing every column made cold evaluation slower, the memo's own cache misses
    /// outweighing the work saved), while a JSON column is scanned member by member and a `contains`
    /// test scans the text once per needle (`UserAgent` in sign-ins).
    pub(crate) fn new(atoms: &Atoms) -> Memo {
        let ranges: Vec<Vec<u64>> = atoms
            .groups
            .iter()
            .map(|g| {
                let (fw, lw) = (g.start as usize / 64, (g.end as usize - 1) / 64);
                (fw..=lw)
                    .map(|w| {
                        let mut m = 0u64;
                        for a in g.start..g.end {
                            if a as usize / 64 == w {
                                m |= 1 << (a % 64);
                            }
                        }
                        m
                    })
                    .collect()
            })
            .collect();
        let memoized = atoms
            .groups
            .iter()
            .zip(&ranges)
            .map(|(g, r)| {
                r.len() <= SPAN
                    && atoms.atoms[g.start as usize..g.end as usize]
                        .iter()
                        .any(costly)
            })
            .collect();
        Memo {
            groups: atoms.groups.iter().map(|_| None).collect(),
            memoized,
            seed: RandomState::default().hash_one(0x5eed_u64) | 1,
            ranges,
        }
    }
}

/// One record's evaluation: which atoms are known, and their values.
pub(crate) struct Run<'a, 'r> {
    pub(crate) cx: &'a Ctx<'r>,
    pub(crate) atoms: &'a Atoms,
    pub(crate) memo: &'a mut Memo,
    pub(crate) known: &'a mut [u64],
    pub(crate) val: &'a mut [u64],
    pub(crate) buf: &'a mut String,
}

impl Run<'_, '_> {
    /// The value of atom `a` for this record, computed (with its column's others when memoized) on
    /// first use.
    #[inline]
    pub(crate) fn atom(&mut self, a: u32) -> bool {
        let (w, bit) = (a as usize / 64, 1u64 << (a % 64));
        if self.known[w] & bit == 0 {
            self.fill(a);
        }
        self.val[w] & bit != 0
    }

    fn set(&mut self, a: u32, v: bool) {
        let (w, bit) = (a as usize / 64, 1u64 << (a % 64));
        self.known[w] |= bit;
        if v {
            self.val[w] |= bit;
        } else {
            self.val[w] &= !bit;
        }
    }

    fn fill(&mut self, a: u32) {
        let gi = self.atoms.group_of[a as usize] as usize;
        if !self.memo.memoized[gi] {
            return self.direct(a);
        }
        let g = &self.atoms.groups[gi];
        let text = match self.cx.cols.get(g.column) {
            Some(ValueRef::String(s) | ValueRef::Dynamic(s)) if s.len() <= MAX_TEXT => s,
            _ => return self.direct(a),
        };
        if !self.memo_group(gi, text) {
            self.direct(a);
        }
    }

    /// Sets group `gi`'s atoms from the memo slot of `text` (evaluating them and filling the slot on a
    /// miss); `false` when the group's memo is off.
    fn memo_group(&mut self, gi: usize, text: &str) -> bool {
        let memo = &mut *self.memo;
        let gm = memo.groups[gi].get_or_insert_with(|| GroupMemo {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            lookups: 0,
            hits: 0,
            off: 0,
        });
        if gm.off > 0 {
            gm.off -= 1;
            return false;
        }
        let h = sample_hash(text.as_bytes(), memo.seed);
        let fw = self.atoms.groups[gi].start as usize / 64;
        let slot_at = h as usize & (SLOTS - 1);
        let hit = {
            let slot = &gm.slots[slot_at];
            slot.used && slot.hash == h && slot.text == text
        };
        gm.count(hit);
        let slot = &mut gm.slots[slot_at];
        if hit {
            for (k, m) in memo.ranges[gi].iter().enumerate() {
                self.known[fw + k] |= m;
                self.val[fw + k] = (self.val[fw + k] & !m) | slot.results[k];
            }
            return true;
        }
        // Miss: evaluate every atom of the column, then keep the results under this text.
        self.eval_group(gi);
        let memo = &mut *self.memo;
        let Some(gm) = memo.groups[gi].as_mut() else {
            return true;
        };
        let slot = &mut gm.slots[slot_at];
        slot.used = true;
        slot.hash = h;
        slot.text.clear();
        slot.text.push_str(text);
        for (k, m) in memo.ranges[gi].iter().enumerate() {
            slot.results[k] = self.val[fw + k] & m;
            self.known[fw + k] |= m;
        }
        true
    }

    /// Evaluates every atom of group `gi` (values only; the caller marks them known).
    fn eval_group(&mut self, gi: usize) {
        let g = &self.atoms.groups[gi];
        for id in g.start..g.end {
            let v = eval_atom(&self.atoms.atoms[id as usize], self.cx, self.buf);
            let (w, bit) = (id as usize / 64, 1u64 << (id % 64));
            if v {
                self.val[w] |= bit;
            } else {
                self.val[w] &= !bit;
            }
        }
    }

    fn direct(&mut self, a: u32) {
        let v = eval_atom(&self.atoms.atoms[a as usize], self.cx, self.buf);
        self.set(a, v);
    }
}

/// A slot hash from the length and five 8-byte samples (start, quarters, middle, end) rather than every
/// byte: a hit compares the whole text anyway, so the hash only has to spread values over slots, and
/// hashing every byte of a 200-byte `DeviceDetail` cost more than the comparison.
fn sample_hash(b: &[u8], seed: u64) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = b.len();
    let mut h = seed ^ (n as u64).wrapping_mul(K);
    let mut mix = |x: u64| h = (h ^ x).wrapping_mul(K).rotate_left(31);
    if n <= 16 {
        let mut w = [0u8; 16];
        w[..n].copy_from_slice(b);
        let (lo, hi) = w.split_at(8);
        mix(u64::from_le_bytes(lo.try_into().unwrap_or_default()));
        mix(u64::from_le_bytes(hi.try_into().unwrap_or_default()));
    } else {
        let last = n - 8;
        for at in [0, n / 8, n / 4, n / 2, 3 * n / 4, last] {
            let at = at.min(last);
            mix(u64::from_le_bytes(
                b[at..at + 8].try_into().unwrap_or_default(),
            ));
        }
    }
    h ^ (h >> 29)
}
