//! Per-partition commit watermarks: which offset may be committed so that a partition's committed offset
//! never passes a message that is not yet durable. Messages are registered when received (in offset order
//! per partition) and marked done once their batch is durable; the committable offset is the lowest
//! received offset not yet done (or one past the highest done when none is pending). A revoked partition
//! forgets its state; tickets issued before the revocation are then ignored.

use std::collections::{BTreeMap, BTreeSet};

/// A topic and partition.
pub type TopicPartition = (String, i32);

/// A received message, to be marked done once durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Topic and partition.
    pub tp: TopicPartition,
    /// The assignment generation it was received under.
    pub generation: u64,
    /// The message offset.
    pub offset: i64,
}

#[derive(Debug, Default)]
struct Part {
    generation: u64,
    first: Option<i64>,
    pending: BTreeSet<i64>,
    done_max: Option<i64>,
    committed: Option<i64>,
}

impl Part {
    fn committable(&self) -> Option<i64> {
        match self.pending.first() {
            None => self.done_max.map(|d| d + 1),
            Some(&m) => self.first.filter(|&f| f < m).map(|_| m),
        }
    }
}

/// Watermarks of every partition this consumer holds.
#[derive(Debug, Default)]
pub struct Watermarks {
    parts: BTreeMap<TopicPartition, Part>,
    generation: u64,
}

impl Watermarks {
    /// No partition.
    pub fn new() -> Watermarks {
        Watermarks::default()
    }

    /// Registers a received message. Offsets arrive in increasing order per partition; an offset at or
    /// below one already received (a rewind) starts the partition over.
    pub fn received(&mut self, tp: &TopicPartition, offset: i64) -> Ticket {
        let known = self.parts.get(tp);
        let rewound = known.is_some_and(|p| {
            p.pending.last().is_some_and(|&l| offset <= l)
                || p.done_max.is_some_and(|d| offset <= d)
        });
        if known.is_none() || rewound {
            self.generation += 1;
            let committed = known.and_then(|p| p.committed);
            self.parts.insert(
                tp.clone(),
                Part {
                    generation: self.generation,
                    first: Some(offset),
                    committed,
                    ..Part::default()
                },
            );
        }
        let part = self.parts.entry(tp.clone()).or_default();
        part.pending.insert(offset);
        Ticket {
            tp: tp.clone(),
            generation: part.generation,
            offset,
        }
    }

    /// Marks a message durable. Tickets of a forgotten partition (revoked since) are ignored.
    pub fn done(&mut self, ticket: &Ticket) {
        if let Some(part) = self.parts.get_mut(&ticket.tp)
            && part.generation == ticket.generation
            && part.pending.remove(&ticket.offset)
        {
            part.done_max = Some(
                part.done_max
                    .map_or(ticket.offset, |d| d.max(ticket.offset)),
            );
        }
    }

    /// The offset that may be committed for a partition (the next one to read), if any is durable.
    pub fn committable(&self, tp: &TopicPartition) -> Option<i64> {
        self.parts.get(tp).and_then(Part::committable)
    }

    /// Committable offsets that moved past what was last committed.
    pub fn to_commit(&self) -> Vec<(TopicPartition, i64)> {
        self.parts
            .iter()
            .filter_map(|(tp, p)| {
                let c = p.committable()?;
                (p.committed.is_none_or(|done| c > done)).then(|| (tp.clone(), c))
            })
            .collect()
    }

    /// Records a successful commit.
    pub fn committed(&mut self, tp: &TopicPartition, offset: i64) {
        if let Some(p) = self.parts.get_mut(tp) {
            p.committed = Some(p.committed.map_or(offset, |c| c.max(offset)));
        }
    }

    /// The last offset committed by this consumer for a partition.
    pub fn last_committed(&self, tp: &TopicPartition) -> Option<i64> {
        self.parts.get(tp).and_then(|p| p.committed)
    }

    /// Forgets a revoked partition: nothing more is committed for it by this consumer.
    pub fn revoke(&mut self, tp: &TopicPartition) {
        self.parts.remove(tp);
    }

    /// Received messages not yet durable, over all partitions.
    pub fn pending(&self) -> usize {
        self.parts.values().map(|p| p.pending.len()).sum()
    }
}
