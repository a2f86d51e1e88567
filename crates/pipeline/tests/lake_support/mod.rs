//! Shared setup of the lake sink tests (`tests/lake.rs`: Azurite and a local directory; `tests/lake_s3.rs`:
//! the sim S3 server): a simulated day archived in three commits, the manifest, the check that a lake
//! mirrors the archive byte for byte, and the archive query engine's row counts per table.
#![allow(dead_code)] // each test binary uses its own subset
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests read their own small files whole

use pipeline::Pipeline;
use sinks::lake::LakeSink;
use std::collections::BTreeMap;
use std::path::Path;
use store::query::{AsArray, Int64Type, QueryEngine};

/// Imports a generated day (sign-ins, non-interactive sign-ins, audits) in three parts, archiving after each,
/// so that partitions hold several files; returns the records appended.
pub(crate) fn ingest_day(p: &mut Pipeline, dir: &Path) -> u64 {
    let cfg = sim::TenantConfig {
        users: 25,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let events = sim::Generator::new(&tenant, &cfg).with_category_names(&[
        "SignInLogs",
        "NonInteractiveUserSignInLogs",
        "AuditLogs",
    ]);
    let mut parts = [String::new(), String::new(), String::new()];
    for (i, e) in events.enumerate() {
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            let part = &mut parts[i % 3];
            part.push_str(&serde_json::to_string(&v).unwrap());
            part.push('\n');
        }
    }
    let mut appended = 0;
    for (i, lines) in parts.iter().enumerate() {
        let file = dir.join(format!("part{i}.json"));
        std::fs::write(&file, lines).unwrap();
        let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
            "test",
            vec![file.display().to_string()],
        ))
        .unwrap();
        appended += p
            .import(&source, sources::file::Progress::default())
            .unwrap()
            .outcome
            .appended;
        p.archive().unwrap();
    }
    appended
}

/// The committed archive manifest of the pipeline whose data dir is `<dir>/data`.
pub(crate) fn manifest(dir: &Path) -> store::archive::Manifest {
    store::archive::Manifest::load(&dir.join("data/archive"))
        .unwrap()
        .unwrap()
}

/// Asserts the lake holds exactly the archive's files (paths, sizes, bytes), nothing more.
pub(crate) fn assert_mirrors_archive(sink: &LakeSink, dir: &Path) {
    let m = manifest(dir);
    let want: Vec<(String, u64)> = m.files.iter().map(|f| (f.path.clone(), f.bytes)).collect();
    assert_eq!(sink.list().unwrap(), want, "lake {} listing", sink.id());
    for f in &m.files {
        let local = std::fs::read(dir.join("data/archive").join(&f.path)).unwrap();
        assert!(
            sink.fetch(&f.path).unwrap() == local,
            "{} differs in lake {}",
            f.path,
            sink.id()
        );
    }
}

/// The tables with files, sorted (manifest files are sorted by path, which starts with the table).
pub(crate) fn tables_of(m: &store::archive::Manifest) -> Vec<String> {
    let mut t: Vec<String> = m.files.iter().map(|f| f.table.clone()).collect();
    t.dedup();
    t
}

/// `SELECT count(*)` per table through the archive's query engine (what `entrail query` runs): the table
/// (latest revision per key) and `<Table>_all` (every revision).
pub(crate) fn query_counts(dir: &Path, tables: &[String]) -> BTreeMap<String, (u64, u64)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let engine = QueryEngine::new(&dir.join("data/archive")).unwrap();
    let count = |sql: String| -> u64 {
        let batches = rt.block_on(engine.sql(&sql)).unwrap();
        let n: i64 = batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
            .sum();
        u64::try_from(n).unwrap()
    };
    tables
        .iter()
        .map(|t| {
            let latest = count(format!("SELECT count(*) FROM {t}"));
            let all = count(format!("SELECT count(*) FROM {t}_all"));
            (t.clone(), (latest, all))
        })
        .collect()
}
