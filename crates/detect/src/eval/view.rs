//! Evaluating an encoded log entry in place ([`Engine::evaluate_encoded`]): the columns the rules read are
//! decoded as [`ValueRef`]s borrowing the entry (one contiguous buffer), reached through a per-column slot
//! table, and the engine runs over them as it runs over an owned [`model::Record`]. No owned record, no
//! per-column heap strings: a record's text is read from one buffer instead of dozens of scattered
//! allocations, which is what cold evaluation pays for.

use super::access::{Cols, NO_SLOT};
use super::{CategoryPlan, Engine, Head, Match};
use crate::mapping::Target;
use crate::plan::{ItemKind, Node};
use model::codec::{CodecError, RecordRef, ValueRef};

impl Engine {
    /// Evaluates one entry encoded by [`model::codec::encode`] (viewed with [`model::codec::decode_ref`])
    /// without building an owned record: only the columns the rules read are decoded, their text
    /// borrowed from the entry. Yields the same matches as [`Engine::evaluate`] on
    /// `entry.to_record()`; callers that need the record of a match (alerts) decode it then.
    ///
    /// With the built-in analytics on, the entry is decoded in full (the analytics read whole records).
    /// Fails when a value the rules read is not valid UTF-8 or the entry is malformed (the correlation
    /// state is unchanged then).
    pub fn evaluate_encoded(
        &mut self,
        entry: &RecordRef<'_>,
    ) -> Result<impl Iterator<Item = Match> + '_, CodecError> {
        let head = Head {
            category: entry.category,
            key: entry.key,
            event_time: entry.event_time,
        };
        self.evaluate_values(
            head,
            |reads, f| entry.select_values(reads, f),
            || entry.to_record(),
        )?;
        Ok(self.out.drain(..))
    }

    /// [`Engine::evaluate_encoded`] straight from an entry's bytes, in one pass from its header
    /// ([`model::codec::read_entry`]) without [`model::codec::decode_ref`]'s walk over every value: the
    /// cheapest way to evaluate log entries. Values the rules do not read are skipped unchecked, so a
    /// damage there (or in the raw record) goes unnoticed here; decoding the record of a match checks it.
    pub fn evaluate_entry(
        &mut self,
        bytes: &[u8],
    ) -> Result<impl Iterator<Item = Match> + '_, CodecError> {
        let cursor = model::codec::read_entry(bytes)?;
        let head = Head {
            category: cursor.category,
            key: cursor.key,
            event_time: cursor.event_time,
        };
        self.evaluate_values(
            head,
            |reads, f| cursor.clone().select_values(reads, f),
            || model::codec::decode(bytes),
        )?;
        Ok(self.out.drain(..))
    }

    /// Runs the rules over the values `select` hands out (the columns of `reads`), or over the owned
    /// record `full` decodes when the analytics are on; matches go to `out`.
    fn evaluate_values<'a>(
        &mut self,
        head: Head<'_>,
        select: impl FnOnce(&[bool], &mut dyn FnMut(usize, ValueRef<'a>)) -> Result<(), CodecError>,
        full: impl FnOnce() -> Result<model::Record, CodecError>,
    ) -> Result<(), CodecError> {
        self.out.clear();
        if self.analytics.is_some() {
            let record = full()?;
            if let Some(a) = &mut self.analytics {
                a.observe(&record, &mut self.out);
            }
            self.run_rules(head, Cols::Owned(&record.values));
            return Ok(());
        }
        let plan = &self.plans[head.category as usize];
        if plan.rules.is_empty() {
            return Ok(());
        }
        let mut values = recycle(std::mem::take(&mut self.view));
        let mut slots = std::mem::take(&mut self.slots);
        slots.clear();
        slots.resize(plan.reads.len(), NO_SLOT);
        let filled = select(&plan.reads, &mut |index, value| {
            let Some(slot) = slots.get_mut(index) else {
                return;
            };
            // The last occurrence of a column counts, as in `model::codec::decode`.
            match values.get_mut(usize::from(*slot)) {
                Some(existing) => *existing = value,
                None => {
                    *slot = u16::try_from(values.len()).unwrap_or(NO_SLOT);
                    values.push(value);
                }
            }
        });
        if filled.is_ok() {
            self.run_rules(
                head,
                Cols::Sparse {
                    slot: &slots,
                    values: &values,
                },
            );
        }
        self.view = recycle(values);
        self.slots = slots;
        filled
    }
}

/// An empty vector of values of any lifetime, reusing `v`'s allocation (an in-place `collect` of an
/// emptied vector keeps its buffer: element size and alignment do not depend on the lifetime).
fn recycle<'b>(mut v: Vec<ValueRef<'_>>) -> Vec<ValueRef<'b>> {
    v.clear();
    v.into_iter().map(|_| ValueRef::Null).collect()
}

/// Per column of the plan's category: whether a rule (any target, both sides of a `fieldref`), the index
/// or a correlation hook reads it.
pub(super) fn reads(plan: &CategoryPlan) -> Vec<bool> {
    let mut cols = Vec::new();
    for r in &plan.rules {
        targets_of(&r.root, &mut cols);
        for h in &r.hooks {
            cols.extend(h.group_by.iter().flatten().map(|t| t.column));
            cols.extend(h.field.iter().flatten().map(|t| t.column));
        }
    }
    for ic in &plan.index.columns {
        cols.extend_from_slice(&ic.columns);
    }
    let mut out = vec![false; cols.iter().max().map_or(0, |m| m + 1)];
    for c in cols {
        if let Some(b) = out.get_mut(c) {
            *b = true;
        }
    }
    out
}

fn targets_of(n: &Node, out: &mut Vec<usize>) {
    let add = |ts: &[Target], out: &mut Vec<usize>| out.extend(ts.iter().map(|t| t.column));
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => {
            v.iter().for_each(|c| targets_of(c, out))
        }
        Node::Not(x) => targets_of(x, out),
        Node::Const(_) => {}
        Node::Item(ip) => {
            add(&ip.targets, out);
            if let ItemKind::FieldRef { other, .. } = &ip.kind {
                add(other, out);
            }
        }
    }
}
