//! Column-wise archive batches against the old decode path: the same values for every column, and the same
//! hunt (alerts and matches) over an archive of a simulated tenant with the injected attacks.

use super::{mapped, to_columns};
use crate::hunt::{decode_rows, from_archive_with, table_context};
use detect::alert::GroupConfig;
use model::Category;
use model::codec::ValueRef;
use model::columns::Columns;
use pipeline::detection::Hunt;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Imports a small simulated tenant with the attacks into `dir/data` (archived).
fn archive(dir: &Path) {
    let cfg = sim::TenantConfig {
        users: 50,
        days: 2,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let file = dir.join("export.json");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for ev in sim::Generator::new(&tenant, &cfg) {
        let shape = match ev.category {
            "MicrosoftGraphActivityLogs" | "ADFSSignInLogs" => sim::Shape::LogAnalytics,
            _ => sim::Shape::Diagnostic,
        };
        if let Some(v) = sim::render(&ev, shape, cfg.quirks, &tenant) {
            writeln!(w, "{v}").unwrap();
        }
    }
    w.flush().unwrap();
    drop(w);
    let text = format!("data_dir = {:?}\n", dir.join("data").display().to_string());
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    let mut p = pipeline::Pipeline::open(config).unwrap();
    let report = crate::commands::import(
        &mut p,
        vec![file.display().to_string()],
        None,
        None,
        "test",
        true,
    )
    .unwrap();
    assert!(report.records > 1_000, "{report:?}");
}

/// Every archive batch (as `entrail hunt` reads it) of every table with rows, with its category.
fn batches(data: &Path) -> Vec<(Category, String, Vec<store::query::RecordBatch>)> {
    let engine = store::query::QueryEngine::new(&data.join("archive")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for t in engine.tables().iter().filter(|t| t.rows > 0) {
        let sql = format!("SELECT * FROM \"{}\" ORDER BY \"_EventTime\"", t.name);
        let mut stream = rt.block_on(engine.sql_stream(&sql)).unwrap();
        let mut bs = Vec::new();
        while let Some(b) = rt.block_on(stream.next_batch()) {
            bs.push(b.unwrap());
        }
        out.push((t.category, t.name.clone(), bs));
    }
    out
}

#[test]
fn archive_batches_read_column_wise_equal_the_decoded_rows() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let mut compared: BTreeMap<&'static str, usize> = BTreeMap::new();
    // Column types with values compared.
    let mut seen = std::collections::BTreeSet::new();
    for (category, name, bs) in batches(&dir.path().join("data")) {
        let cx = table_context(category, &name);
        for batch in bs {
            let decoded = decode_rows(&batch, &cx).unwrap();
            let Some(cols) = to_columns(&batch, category) else {
                assert!(!mapped(category), "{name}: a batch was not mapped");
                continue;
            };
            let want = Columns::from_records(category, &decoded).unwrap();
            assert_eq!(cols.len(), batch.num_rows(), "{name}");
            assert_eq!(cols.len(), want.len(), "{name}");
            assert_eq!(cols.width(), want.width(), "{name}");
            let columns = &model::schema(category).columns;
            for (row, record) in decoded.iter().enumerate() {
                assert_eq!(cols.key(row), want.key(row), "{name} row {row} key");
                assert!(!cols.key(row).is_empty(), "{name} row {row}: no key");
                assert_eq!(
                    cols.event_time(row),
                    want.event_time(row),
                    "{name} row {row} event time"
                );
                for (c, column) in columns.iter().enumerate() {
                    if cols.value(row, c) != ValueRef::Null {
                        seen.insert(format!("{:?}", column.ty));
                    }
                    assert_eq!(
                        cols.value(row, c),
                        want.value(row, c),
                        "{name} row {row} column {}",
                        column.name
                    );
                }
                // And as owned records, as alerts see them.
                assert_eq!(cols.record(row).values, record.values, "{name} {row}");
            }
            *compared.entry(category.name()).or_default() += cols.len();
        }
    }
    for c in [Category::SignInLogs, Category::AuditLogs] {
        assert!(
            compared.get(c.name()).copied().unwrap_or(0) > 50,
            "{c:?}: {compared:?}"
        );
    }
    assert!(compared.len() >= 6, "{compared:?}");
    for ty in ["String", "Dynamic", "Int", "Long", "Bool", "DateTime"] {
        assert!(seen.contains(ty), "no {ty} value compared: {seen:?}");
    }
    eprintln!("compared {compared:?}; column types {seen:?}");
}

/// An alert as JSON without the wall-clock time it was stamped with.
fn stable(a: &detect::alert::Alert) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap();
    if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        m.remove("modified_time");
    }
    v
}

#[test]
fn hunt_over_the_archive_column_wise_equals_the_decoded_hunt() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let data = dir.path().join("data");
    let rules = crate::bench_hunt::default_rules();
    let run = |columnar: bool| {
        let mut hunt = Hunt::new(
            std::slice::from_ref(&rules),
            detect::EngineConfig::default(),
            GroupConfig {
                window: Duration::from_secs(3600),
                max_open: 100_000,
            },
        );
        assert!(hunt.rules() > 20, "rules from {}", rules.display());
        from_archive_with(&data, &mut hunt, i64::MIN, i64::MAX, true, columnar).unwrap()
    };
    let new = run(true);
    let old = run(false);
    eprintln!(
        "column-wise: {} records, {} matches, {} alerts in {:?}; decoded: {} records, {} matches in {:?}",
        new.records,
        new.matches,
        new.alerts.len(),
        new.elapsed,
        old.records,
        old.matches,
        old.elapsed
    );
    assert!(new.matches > 0 && !new.alerts.is_empty(), "nothing matched");
    assert_eq!(new.records, old.records);
    assert_eq!(new.matches, old.matches);
    let a: BTreeMap<&String, serde_json::Value> =
        new.alerts.iter().map(|(k, v)| (k, stable(v))).collect();
    let b: BTreeMap<&String, serde_json::Value> =
        old.alerts.iter().map(|(k, v)| (k, stable(v))).collect();
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert_eq!(a, b);
}
