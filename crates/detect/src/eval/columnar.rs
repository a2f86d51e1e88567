//! Evaluating canonical records held column-wise ([`Engine::evaluate_columns`]): each row is read in place
//! from a [`Columns`] batch, where each column's values are contiguous. The ~15 columns the rules read are
//! then ~15 sequential streams over the batch (the CPU prefetches them) instead of each record's values
//! array and heap strings spread over 30–40 cache lines.

use super::access::Cols;
use super::{Engine, Head, Match};
use model::columns::Columns;

impl Engine {
    /// Evaluates every row of `batch` in order; `sink` gets each match with its row. The same matches as
    /// [`Engine::evaluate`] on each row's record (`batch.record(row)`) in order, correlations included.
    ///
    /// With the built-in analytics on, each row is turned into an owned record first (the analytics read
    /// whole records).
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
        if self.plans[category as usize].rules.is_empty() {
            return;
        }
        self.dict.next_batch();
        for row in 0..batch.len() {
            self.out.clear();
            self.run_rules(
                Head {
                    category,
                    key: batch.key(row),
                    event_time: batch.event_time(row),
                },
                Cols::Columnar { batch, row },
            );
            for m in self.out.drain(..) {
                sink(row, m);
            }
        }
    }
}
