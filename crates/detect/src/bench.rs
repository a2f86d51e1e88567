//! The evaluation benchmark: every rule of a set over a batch of decoded records, evaluation alone.

use crate::{Engine, EngineConfig, RuleSet};
use model::Record;
use std::time::{Duration, Instant};

/// What one benchmark run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Records evaluated (per pass × passes).
    pub records: u64,
    /// Rules in the set (detection + correlation).
    pub rules: usize,
    /// Matches produced.
    pub matches: u64,
    /// Wall time of evaluation.
    pub elapsed: Duration,
    /// Nanoseconds per record.
    pub ns_per_record: f64,
    /// Nanoseconds per record × rule (the figure the goal is stated in).
    pub ns_per_record_rule: f64,
}

/// Evaluates every record `passes` times with a fresh engine and reports the cost. Decoding is not
/// timed: the caller decodes once up front.
pub fn bench_eval(set: &RuleSet, records: &[Record], passes: u32) -> BenchReport {
    let mut engine = Engine::new(set, EngineConfig::default());
    let mut matches = 0u64;
    let start = Instant::now();
    for _ in 0..passes.max(1) {
        engine.evaluate_batch(records, |_, _| matches += 1);
    }
    let elapsed = start.elapsed();
    let n = records.len() as u64 * u64::from(passes.max(1));
    let rules = set.len().max(1);
    let ns = elapsed.as_nanos() as f64 / n.max(1) as f64;
    BenchReport {
        records: n,
        rules: set.len(),
        matches,
        elapsed,
        ns_per_record: ns,
        ns_per_record_rule: ns / rules as f64,
    }
}
