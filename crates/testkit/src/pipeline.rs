//! Pipeline test setup shared by the integration tests of `pipeline` and `entrail` (feature `pipeline`): open
//! a pipeline on a temporary data directory, write and import generated events, and compare the archive with
//! the generator's ground truth.

use model::Category;
use pipeline::Pipeline;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use store::query::{AsArray, Int64Type, QueryEngine};

/// Opens a pipeline whose `data_dir` is `dir/data`, with `extra` (sources, sinks, ...) appended to the
/// config text.
pub fn open(dir: &Path, extra: &str) -> Pipeline {
    let text = format!(
        "data_dir = {:?}\n{extra}",
        dir.join("data").display().to_string()
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    Pipeline::open(config).unwrap()
}

/// A two-worker multi-thread runtime with I/O and time enabled.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Rows the archive must hold per category, from the generator's ground truth: flow tuples, distinct
/// ids, or distinct records.
pub fn expected_rows(truth: &sim::GroundTruth) -> BTreeMap<Category, u64> {
    let mut out = BTreeMap::new();
    for (name, t) in &truth.categories {
        let c = Category::from_name(name).unwrap_or(Category::ResourceDiagnostics);
        let n = if t.flow_tuples > 0 {
            t.flow_tuples
        } else if t.id_field.is_some() {
            t.distinct_ids
        } else {
            t.originals
        };
        *out.entry(c).or_default() += n;
    }
    out
}

/// Runs `sql` (one `count(...)` column) and sums the first row of every non-empty batch.
pub fn count(engine: &QueryEngine, rt: &tokio::runtime::Runtime, sql: &str) -> u64 {
    let batches = rt.block_on(engine.sql(sql)).unwrap();
    batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| b.column(0).as_primitive::<Int64Type>().value(0) as u64)
        .sum()
}

/// Compares every category of the archive under `dir/data/archive` with `expected`: the row count must
/// equal the ground truth and every row must have its own `_Key`. Returns the engine and runtime for
/// further checks.
pub fn assert_archive_matches(
    dir: &Path,
    expected: &BTreeMap<Category, u64>,
) -> (QueryEngine, tokio::runtime::Runtime) {
    let rt = runtime();
    let engine = QueryEngine::new(&dir.join("data/archive")).unwrap();
    let mut mismatches = Vec::new();
    for c in Category::ALL {
        let want = expected.get(c).copied().unwrap_or(0);
        let got = count(&engine, &rt, &format!("SELECT count(*) FROM {}", c.table()));
        let keys = count(
            &engine,
            &rt,
            &format!("SELECT count(DISTINCT _Key) FROM {}", c.table()),
        );
        if got != want || keys != got {
            mismatches.push(format!(
                "{}: archived {got} ({keys} keys), ground truth {want}",
                c.name()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    (engine, rt)
}

/// Generates one day of `users` users (default seed) limited to `categories`, writes it as diagnostic
/// JSON lines to `dir/day.json`, imports that file and returns how many records were appended.
pub fn ingest_day(p: &mut Pipeline, dir: &Path, users: u32, categories: &[&str]) -> u64 {
    let cfg = sim::TenantConfig {
        users,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let events = sim::Generator::new(&tenant, &cfg).with_category_names(categories);
    let mut lines = String::new();
    for e in events {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            lines.push_str(&serde_json::to_string(&v).unwrap());
            lines.push('\n');
        }
    }
    let file = dir.join("day.json");
    std::fs::write(&file, lines).unwrap();
    let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
        "test",
        vec![file.display().to_string()],
    ))
    .unwrap();
    p.import(&source, sources::file::Progress::default())
        .unwrap()
        .outcome
        .appended
}

/// Writes the days `cfg` generates (only `categories`, every category when empty; no ground truth kept) in
/// the diagnostic-settings shape to `path`, one Event Hubs body `{"records":[record]}` per line, as `entrail
/// import` and file sources read them.
pub fn write_diagnostic_days(path: &Path, cfg: &sim::TenantConfig, categories: &[&str]) {
    let tenant = sim::Tenant::new(cfg);
    let mut events = sim::Generator::new(&tenant, cfg);
    if !categories.is_empty() {
        events = events.with_category_names(categories);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for e in events.with_truth(false) {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            serde_json::to_writer(&mut out, &serde_json::json!({ "records": [v] })).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    out.flush().unwrap();
}

/// The simulated tenant of `users` users served on loopback, its clock frozen three hours after its day
/// and throttled to 40 requests/s (so a collection takes a few seconds).
pub fn frozen_sim_server(rt: &tokio::runtime::Runtime, users: u32) -> sim::server::SimServer {
    let mut cfg = sim::server::ServerConfig::default();
    cfg.tenant.users = users;
    cfg.limits = sim::server::Limits {
        reports_per_window: 40,
        reports_window: std::time::Duration::from_secs(1),
        identity_protection_per_window: 40,
        identity_protection_window: std::time::Duration::from_secs(1),
    };
    cfg.clock.start = Some(cfg.tenant.end() + chrono::TimeDelta::hours(3));
    cfg.clock.frozen = true;
    rt.block_on(sim::server::SimServer::start(cfg))
        .unwrap_or_else(|e| panic!("starting the simulated tenant: {e}"))
}
