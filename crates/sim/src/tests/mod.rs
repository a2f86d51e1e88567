//! Crate tests: determinism, coverage, rhythm, ground truth, shapes, quirks, writers, golden files.

mod coverage;
mod determinism;
mod golden;
mod quirks;
mod rhythm;
mod shapes;
mod truth;
mod write;

use std::io::Read;
use std::sync::OnceLock;

use crate::{Category, Generator, GroundTruth, SimEvent, Tenant, TenantConfig};

/// A small tenant's configuration.
pub(super) fn cfg(users: u32, days: u32, seed: u64) -> TenantConfig {
    TenantConfig {
        seed,
        users,
        days,
        ..TenantConfig::default()
    }
}

/// One generated run.
pub(super) struct Run {
    pub(super) tenant: Tenant,
    pub(super) events: Vec<SimEvent>,
    pub(super) truth: GroundTruth,
}

pub(super) fn run(cfg: &TenantConfig, categories: Option<&[Category]>) -> Run {
    let tenant = Tenant::new(cfg);
    let mut g = Generator::new(&tenant, cfg);
    if let Some(c) = categories {
        g = g.with_categories(c);
    }
    let events: Vec<SimEvent> = g.by_ref().collect();
    let truth = g.into_truth().unwrap();
    Run {
        tenant,
        events,
        truth,
    }
}

/// A shared one-day run of a 60-user tenant with every category (built once).
pub(super) fn small_day() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run(&cfg(60, 1, 7), None))
}

/// The first event of each category in a run.
pub(super) fn first_of_each(run: &Run) -> Vec<&SimEvent> {
    let mut seen = std::collections::BTreeSet::new();
    run.events
        .iter()
        .filter(|e| seen.insert(e.category))
        .collect()
}

/// Reads a test-data file (bounded).
pub(super) fn read_file(path: &std::path::Path) -> String {
    let mut s = String::new();
    std::fs::File::open(path)
        .unwrap()
        .take(64 << 20)
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// The 14 Log Analytics table schemas shipped in shared/testdata: table (lower case) -> [(column, type)].
pub(super) fn la_schemas() -> serde_json::Map<String, serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/la-table-schemas/la_table_schemas.json");
    let v: serde_json::Value = serde_json::from_str(&read_file(&path)).unwrap();
    v.as_object().unwrap().clone()
}
