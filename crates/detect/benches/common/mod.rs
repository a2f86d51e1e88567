//! Shared by the detect benchmarks: canonical records from the simulated tenant, decoded once up front.

use model::Record;
use sim::{Category, Generator, Shape, Tenant, TenantConfig};

/// `n` canonical records of `categories` from a 2,000-user, 60-day simulated tenant (with its attack
/// scenarios when `attacks`), rendered in the three wire shapes in turn and decoded. Evaluation never reads
/// the raw text: it is dropped to keep 1M records in memory.
pub(crate) fn records(n: usize, categories: &[Category], attacks: bool) -> Vec<Record> {
    let cfg = TenantConfig {
        days: 60,
        users: 2_000,
        quirks: true,
        attacks,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let cx = model::DecodeContext {
        source: "bench".into(),
        ..model::DecodeContext::default()
    };
    let shapes = [Shape::Diagnostic, Shape::LogAnalytics, Shape::Graph];
    let mut out = Vec::with_capacity(n);
    for (i, ev) in Generator::new(&tenant, &cfg)
        .with_categories(categories)
        .with_truth(false)
        .enumerate()
    {
        let wire = sim::render(&ev, shapes[i % 3], true, &tenant)
            .or_else(|| sim::render(&ev, Shape::Diagnostic, true, &tenant));
        let Some(wire) = wire else { continue };
        if let Ok(recs) = model::decode_record(&wire.to_string(), &cx) {
            out.extend(recs.into_iter().map(|mut r| {
                r.raw = String::new();
                r
            }));
        }
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}
