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
    report(
        set,
        records.len() as u64 * u64::from(passes.max(1)),
        matches,
        start.elapsed(),
    )
}

/// [`bench_eval`] over encoded log entries ([`model::codec::encode`]), evaluated in place: with
/// [`Engine::evaluate_entry`] when `one_pass`, else with [`Engine::evaluate_encoded`] (each entry viewed
/// with [`model::codec::decode_ref`]; both timed). Entries that fail to decode count as evaluated without
/// matches.
pub fn bench_eval_encoded(
    set: &RuleSet,
    entries: &[&[u8]],
    passes: u32,
    one_pass: bool,
) -> BenchReport {
    let mut engine = Engine::new(set, EngineConfig::default());
    let mut matches = 0u64;
    let start = Instant::now();
    for _ in 0..passes.max(1) {
        for bytes in entries {
            if one_pass {
                if let Ok(found) = engine.evaluate_entry(bytes) {
                    matches += found.count() as u64;
                }
            } else if let Ok(entry) = model::codec::decode_ref(bytes)
                && let Ok(found) = engine.evaluate_encoded(&entry)
            {
                matches += found.count() as u64;
            }
        }
    }
    report(
        set,
        entries.len() as u64 * u64::from(passes.max(1)),
        matches,
        start.elapsed(),
    )
}

/// [`bench_eval`] over encoded log entries decoded into owned records first ([`model::codec::decode`],
/// timed), 8,192 at a time, then evaluated with [`Engine::evaluate_batch`]: what the detection consumer
/// did before [`bench_eval_encoded`]'s in-place evaluation.
pub fn bench_eval_decoded(set: &RuleSet, entries: &[&[u8]], passes: u32) -> BenchReport {
    let mut engine = Engine::new(set, EngineConfig::default());
    let mut matches = 0u64;
    let start = Instant::now();
    for _ in 0..passes.max(1) {
        for chunk in entries.chunks(8192) {
            let records: Vec<Record> = chunk
                .iter()
                .filter_map(|b| model::codec::decode(b).ok())
                .collect();
            engine.evaluate_batch(&records, |_, _| matches += 1);
        }
    }
    report(
        set,
        entries.len() as u64 * u64::from(passes.max(1)),
        matches,
        start.elapsed(),
    )
}

/// [`bench_eval`] over the same kind of records held column-wise ([`model::columns::Columns`] batches,
/// built up front by the caller, not timed), evaluated with [`Engine::evaluate_columns`].
pub fn bench_eval_columns(
    set: &RuleSet,
    batches: &[model::columns::Columns],
    passes: u32,
) -> BenchReport {
    let mut engine = Engine::new(set, EngineConfig::default());
    let mut matches = 0u64;
    let start = Instant::now();
    for _ in 0..passes.max(1) {
        for b in batches {
            engine.evaluate_columns(b, |_, _| matches += 1);
        }
    }
    let rows: usize = batches.iter().map(model::columns::Columns::len).sum();
    report(
        set,
        rows as u64 * u64::from(passes.max(1)),
        matches,
        start.elapsed(),
    )
}

/// The report of `n` record evaluations against `set` that took `elapsed`.
fn report(set: &RuleSet, n: u64, matches: u64, elapsed: std::time::Duration) -> BenchReport {
    let ns = elapsed.as_nanos() as f64 / n.max(1) as f64;
    BenchReport {
        records: n,
        rules: set.len(),
        matches,
        elapsed,
        ns_per_record: ns,
        ns_per_record_rule: ns / set.len().max(1) as f64,
    }
}
