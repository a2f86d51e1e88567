//! Batch evaluation: the columns the rules read are loaded a chunk of records ahead, so cache misses on
//! records that are not in the CPU cache overlap instead of queueing; and index statistics.

use super::{Engine, Match};
use crate::plan::Node;
use model::{Category, Record};

/// Every column a node reads, keyword searches aside.
pub(super) fn columns_of(n: &Node, out: &mut Vec<usize>) {
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => {
            v.iter().for_each(|c| columns_of(c, out))
        }
        Node::Not(x) => columns_of(x, out),
        Node::Const(_) => {}
        Node::Item(ip) if ip.targets.len() <= 4 => {
            out.extend(ip.targets.iter().map(|t| t.column));
            if let crate::plan::ItemKind::FieldRef { other, .. } = &ip.kind {
                out.extend(other.iter().map(|t| t.column));
            }
        }
        Node::Item(_) => {}
    }
}

impl Engine {
    /// Evaluates a batch of records; `sink` gets each match with the position of its record. Same
    /// results as [`Engine::evaluate`] on each record in order, but faster on records that are not in the
    /// CPU cache (the usual case when reading a log or an archive): the columns the rules read are loaded
    /// for a few records ahead in one tight loop, so their cache misses overlap instead of queueing.
    pub fn evaluate_batch(&mut self, records: &[Record], mut sink: impl FnMut(usize, Match)) {
        const AHEAD: usize = 16;
        let mut acc = 0u64;
        let chunks: Vec<&[Record]> = records.chunks(AHEAD).collect();
        if let Some(first) = chunks.first() {
            for r in *first {
                acc = acc.wrapping_add(self.touch(r));
            }
        }
        for (ci, chunk) in chunks.iter().enumerate() {
            // Load the next chunk's columns while this one is evaluated.
            if let Some(next) = chunks.get(ci + 1) {
                for r in *next {
                    acc = acc.wrapping_add(self.touch(r));
                }
            }
            for (i, r) in chunk.iter().enumerate() {
                for m in self.evaluate(r) {
                    sink(ci * AHEAD + i, m);
                }
            }
        }
        std::hint::black_box(acc);
    }

    /// Reads one byte per cache line of every column the record's plan uses.
    fn touch(&self, r: &Record) -> u64 {
        let plan = &self.plans[r.category as usize];
        let mut acc =
            r.key.len() as u64 + u64::from(r.key.as_bytes().first().copied().unwrap_or(0));
        for &c in &plan.hot {
            if let Some(model::Value::String(s) | model::Value::Dynamic(s)) = r.values.get(c) {
                let b = s.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    acc = acc.wrapping_add(u64::from(b[i]));
                    i += 64;
                }
            }
        }
        acc
    }
}

impl Engine {
    /// Per category with rules: (table, compiled rules, rules evaluated for every record, indexed columns).
    pub fn index_stats(&self) -> Vec<(&'static str, usize, usize, Vec<String>)> {
        Category::ALL
            .iter()
            .zip(&self.plans)
            .filter(|(_, p)| !p.rules.is_empty())
            .map(|(c, p)| {
                let s = model::schema(*c);
                let cols = p
                    .index
                    .columns
                    .iter()
                    .map(|ic| {
                        let names: Vec<&str> = ic
                            .columns
                            .iter()
                            .filter_map(|i| s.column(*i).map(|c| c.name.as_str()))
                            .collect();
                        format!(
                            "{}({} values)",
                            names.join("|"),
                            ic.map.values().filter(|e| !e.rules.is_empty()).count()
                        )
                    })
                    .collect();
                (c.table(), p.rules.len(), p.index.always.len(), cols)
            })
            .collect()
    }
}
