//! Column-at-a-time evaluation of a column batch ([`Engine::evaluate_columns`]): each rule's condition is
//! evaluated over all the batch's rows at once, as bit sets of 64 rows a word. An atom (one test of one
//! column, `plan::atoms`) on a text column is computed once per distinct value of the batch (the column's
//! dictionary) and spread to the rows by their dictionary numbers; an atom no distinct value passes is all
//! zeros without reading a row. `and` evaluates each child only on the rows still true, so a rule whose
//! first selection no row passes costs a few word operations, and an atom is computed on a row at most
//! once per batch however many rules read it. Matches are then emitted in row order (plan order within a
//! row) and correlations fed from them, as the row-at-a-time engine does.

use super::access::{Cols, Ctx, Members};
use super::memo::eval_atom;
use super::node::item;
use super::{Engine, Head, Match, emit};
use crate::plan::atoms::{Atom, Atoms};
use crate::plan::{ItemKind, Node};
use model::columns::{Columns, NULL_DICT_ID};
use std::cell::RefCell;

/// No bit sets yet (atoms), no representative rows yet (columns), no row (a dictionary number).
const NONE: u32 = u32::MAX;

/// Scratch of one batch's evaluation, kept between batches for its allocations.
#[derive(Debug, Default)]
pub(crate) struct Vectors {
    /// Per atom of the batch's plan: where its two bit sets (rows computed, rows true) start in `bits`.
    at: Vec<u32>,
    bits: Vec<u64>,
    /// Per column: where its representative rows start in `reps` (one row per dictionary number, then
    /// a row holding null).
    rep_at: Vec<u32>,
    reps: Vec<u32>,
    /// An atom's result per dictionary number (then for null).
    entry: Vec<u8>,
    /// Free bit sets.
    pool: Vec<Vec<u64>>,
    /// The batch's matches, as `row << 32 | rule`.
    hits: Vec<u64>,
    members: RefCell<Members>,
    buf: String,
}

/// The batch being evaluated.
struct Batch<'a> {
    batch: &'a Columns,
    atoms: &'a Atoms,
    words: usize,
    /// Every row of the batch.
    all: Vec<u64>,
}

impl Vectors {
    fn reset(&mut self, atoms: usize, columns: usize) {
        self.at.clear();
        self.at.resize(atoms, NONE);
        self.bits.clear();
        self.rep_at.clear();
        self.rep_at.resize(columns, NONE);
        self.reps.clear();
        self.hits.clear();
    }

    /// A bit set of `words` zeros.
    fn take(&mut self, words: usize) -> Vec<u64> {
        let mut v = self.pool.pop().unwrap_or_default();
        v.clear();
        v.resize(words, 0);
        v
    }

    fn give(&mut self, v: Vec<u64>) {
        self.pool.push(v);
    }

    /// Atom `atom` on row `row` of the batch.
    fn eval_at(&mut self, atom: &Atom, batch: &Columns, row: usize) -> bool {
        self.members.get_mut().clear();
        let cx = Ctx {
            cols: Cols::Columnar { batch, row },
            members: &self.members,
        };
        eval_atom(atom, &cx, &mut self.buf)
    }

    /// Where the representative rows of text column `column` start in `reps` (found on first use).
    fn reps_of(&mut self, column: usize, ids: &[u32], entries: usize) -> usize {
        if self.rep_at[column] != NONE {
            return self.rep_at[column] as usize;
        }
        let at = self.reps.len();
        self.reps.resize(at + entries + 1, NONE);
        let reps = &mut self.reps[at..];
        for (row, &id) in ids.iter().enumerate() {
            let e = if id == NULL_DICT_ID {
                entries
            } else {
                id as usize
            };
            if let Some(r) = reps.get_mut(e)
                && *r == NONE
            {
                *r = row as u32;
            }
        }
        self.rep_at[column] = at as u32;
        at
    }

    /// Computes atom `a` on the rows of `need` it is not known for yet; returns where its bit sets start
    /// in `bits` (rows computed, then rows true).
    fn atom(&mut self, a: u32, need: &[u64], b: &Batch<'_>) -> usize {
        let w = b.words;
        let off = match self.at[a as usize] {
            NONE => {
                let off = self.bits.len();
                self.bits.resize(off + 2 * w, 0);
                self.at[a as usize] = off as u32;
                off
            }
            o => o as usize,
        };
        let mut todo = self.take(w);
        let mut count = 0usize;
        for (i, t) in todo.iter_mut().enumerate() {
            *t = need[i] & !self.bits[off + i];
            count += t.count_ones() as usize;
        }
        if count == 0 {
            self.give(todo);
            return off;
        }
        let atom = &b.atoms.atoms[a as usize];
        let column = atom.target.column;
        if let Some(ids) = b.batch.dict_ids(column) {
            let entries = b.batch.dict_len(column);
            // By distinct value when there are no more values than rows to compute.
            if entries <= count {
                let at = self.reps_of(column, ids, entries);
                self.entry.clear();
                let mut any = false;
                for e in 0..=entries {
                    let row = self.reps[at + e];
                    let v = row != NONE && self.eval_at(atom, b.batch, row as usize);
                    any |= v;
                    self.entry.push(u8::from(v));
                }
                self.bits[off..off + w].copy_from_slice(&b.all);
                let val = &mut self.bits[off + w..off + 2 * w];
                if any {
                    let entry = &self.entry[..];
                    for (wi, chunk) in ids.chunks(64).enumerate() {
                        let mut x = 0u64;
                        for (bit, &id) in chunk.iter().enumerate() {
                            let e = if id == NULL_DICT_ID {
                                entries
                            } else {
                                id as usize
                            };
                            x |= u64::from(entry.get(e).copied().unwrap_or(0)) << bit;
                        }
                        val[wi] = x;
                    }
                } else {
                    val.fill(0);
                }
                self.give(todo);
                return off;
            }
        }
        for (wi, &t) in todo.iter().enumerate() {
            let mut m = t;
            let mut x = 0u64;
            while m != 0 {
                let bit = m.trailing_zeros();
                m &= m - 1;
                if self.eval_at(atom, b.batch, wi * 64 + bit as usize) {
                    x |= 1 << bit;
                }
            }
            self.bits[off + wi] |= t;
            self.bits[off + w + wi] |= x;
        }
        self.give(todo);
        off
    }

    /// Sets `out` to the rows of `care` where `n` holds (zero elsewhere).
    fn node(&mut self, n: &Node, care: &[u64], out: &mut [u64], b: &Batch<'_>) {
        let w = b.words;
        match n {
            Node::And(children) => {
                out.copy_from_slice(care);
                let mut t = self.take(w);
                for c in children {
                    if is_zero(out) {
                        break;
                    }
                    self.node(c, out, &mut t, b);
                    out.copy_from_slice(&t);
                }
                self.give(t);
            }
            Node::Or(children) => {
                out.fill(0);
                let mut rem = self.take(w);
                rem.copy_from_slice(care);
                let mut t = self.take(w);
                for c in children {
                    if is_zero(&rem) {
                        break;
                    }
                    self.node(c, &rem, &mut t, b);
                    for i in 0..w {
                        out[i] |= t[i];
                        rem[i] &= !t[i];
                    }
                }
                self.give(t);
                self.give(rem);
            }
            Node::AtLeast(k, children) => {
                let mut counts = vec![0usize; w * 64];
                let mut t = self.take(w);
                for c in children {
                    self.node(c, care, &mut t, b);
                    for_rows(&t, |row| counts[row] += 1);
                }
                self.give(t);
                out.fill(0);
                for_rows(care, |row| {
                    if counts[row] >= *k {
                        out[row / 64] |= 1 << (row % 64);
                    }
                });
            }
            Node::Not(x) => {
                self.node(x, care, out, b);
                for i in 0..w {
                    out[i] = care[i] & !out[i];
                }
            }
            Node::Const(true) => out.copy_from_slice(care),
            Node::Const(false) => out.fill(0),
            Node::Item(ip) if ip.atoms.is_empty() => {
                out.fill(0);
                for_rows(care, |row| {
                    self.members.get_mut().clear();
                    let cx = Ctx {
                        cols: Cols::Columnar {
                            batch: b.batch,
                            row,
                        },
                        members: &self.members,
                    };
                    if item(ip, &cx, &mut self.buf) {
                        out[row / 64] |= 1 << (row % 64);
                    }
                });
            }
            Node::Item(ip) => {
                // `any`: the rows of `care` where some target's atom holds.
                let mut any = self.take(w);
                let mut rem = self.take(w);
                rem.copy_from_slice(care);
                for &a in &ip.atoms {
                    if is_zero(&rem) {
                        break;
                    }
                    let off = self.atom(a, &rem, b);
                    for i in 0..w {
                        let h = self.bits[off + w + i] & rem[i];
                        any[i] |= h;
                        rem[i] &= !h;
                    }
                }
                let holds_when_any = !matches!(ip.kind, ItemKind::Null | ItemKind::Exists(false));
                for i in 0..w {
                    out[i] = if holds_when_any {
                        any[i]
                    } else {
                        care[i] & !any[i]
                    };
                }
                self.give(any);
                self.give(rem);
            }
        }
    }
}

fn is_zero(bits: &[u64]) -> bool {
    bits.iter().all(|&x| x == 0)
}

/// Calls `f` with each row whose bit is set, in order.
fn for_rows(bits: &[u64], mut f: impl FnMut(usize)) {
    for (wi, &word) in bits.iter().enumerate() {
        let mut m = word;
        while m != 0 {
            f(wi * 64 + m.trailing_zeros() as usize);
            m &= m - 1;
        }
    }
}

impl Engine {
    /// Evaluates every row of `batch`; `sink` gets each match with its row, rows in order. The same
    /// matches as [`Engine::evaluate`] on each row's record (`batch.record(row)`) in order, correlations
    /// included (within a row, rules come in plan order).
    ///
    /// With the built-in analytics on, each row is turned into an owned record and evaluated on its own
    /// (the analytics read whole records).
    pub fn evaluate_columns(&mut self, batch: &Columns, mut sink: impl FnMut(usize, Match)) {
        let category = batch.category();
        if self.analytics.is_some() {
            for row in 0..batch.len() {
                let record = batch.record(row);
                for m in self.evaluate(&record) {
                    sink(row, m);
                }
            }
            return;
        }
        let Engine {
            infos,
            plans,
            correlations,
            out,
            vectors,
            ..
        } = self;
        let plan = &plans[category as usize];
        if plan.rules.is_empty() {
            return;
        }
        let rows = batch.len();
        let words = rows.div_ceil(64);
        let mut all = vec![!0u64; words];
        if !rows.is_multiple_of(64)
            && let Some(last) = all.last_mut()
        {
            *last = (1u64 << (rows % 64)) - 1;
        }
        let b = Batch {
            batch,
            atoms: &plan.atoms,
            words,
            all,
        };
        vectors.reset(plan.atoms.atoms.len(), batch.width());
        let mut r = vectors.take(words);
        for (ri, c) in plan.rules.iter().enumerate() {
            vectors.node(&c.root, &b.all, &mut r, &b);
            let hits = &mut vectors.hits;
            for_rows(&r, |row| hits.push((row as u64) << 32 | ri as u64));
        }
        vectors.give(r);
        vectors.hits.sort_unstable();
        let mut at_row = usize::MAX;
        for &h in &vectors.hits {
            let (row, ri) = ((h >> 32) as usize, h as u32 as usize);
            if row != at_row {
                vectors.members.get_mut().clear();
                at_row = row;
            }
            let cx = Ctx {
                cols: Cols::Columnar { batch, row },
                members: &vectors.members,
            };
            let head = Head {
                category,
                key: batch.key(row),
                event_time: batch.event_time(row),
            };
            out.clear();
            emit(infos, correlations, out, &plan.rules[ri], head, &cx);
            for m in out.drain(..) {
                sink(row, m);
            }
        }
    }
}
