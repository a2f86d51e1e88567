//! Golden files under `data/testdata/normalize/<Category name>/`: for every category and every shape it
//! exists in, `<shape>.input.jsonl` and the canonical records decoded from it, `<shape>.expected.json` (a
//! pretty JSON array of `Record::to_json()`; rejections appear as `{"_At", "_Rejected"}` objects).
//!
//! Inputs come from `sim` (fixed seed, quirks on): they are rewritten from the simulator only with
//! `UPDATE_GOLDEN=1`, like the expected files, so a change in `sim` does not silently change them. Also
//! decoded: `wire-formats.input.json` (the verbatim examples of wire-formats.md §3.1, §3.2, §3.5, §5.3, §6,
//! §7) and the hand-written `PrivateNetworkConnectorLogs` inputs (no simulator data for that category).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use model::{Category, DecodeContext, decode_stream, detect_format};
use sim::{EventKind, Generator, Shape, Tenant, TenantConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Records per simulator category and shape.
const PER_CATEGORY: usize = 4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/testdata/normalize")
}

fn config() -> TenantConfig {
    TenantConfig {
        seed: 20_240_304,
        users: 30,
        days: 1,
        quirks: true,
        duplicate_rate: 0.0,
        republish_rate: 0.0,
        ..TenantConfig::default()
    }
}

/// The entrail category of a simulator category.
fn category_of(c: sim::Category) -> Category {
    match c {
        sim::Category::KeyVaultAuditEvent => Category::ResourceDiagnostics,
        other => Category::from_name(other.name())
            .unwrap_or_else(|| panic!("no category for {}", other.name())),
    }
}

fn shape_name(s: Shape) -> &'static str {
    match s {
        Shape::Graph => "graph",
        Shape::Diagnostic => "diagnostic",
        Shape::LogAnalytics => "log_analytics",
    }
}

/// Rewrites the simulator inputs (only with `UPDATE_GOLDEN=1`).
fn write_sim_inputs() {
    let cfg = config();
    let tenant = Tenant::new(&cfg);
    let mut files: BTreeMap<(Category, &'static str), String> = BTreeMap::new();
    let mut taken: BTreeMap<&'static str, usize> = BTreeMap::new();
    for ev in Generator::new(&tenant, &cfg) {
        let n = taken.entry(ev.category).or_default();
        if *n >= PER_CATEGORY || ev.kind != EventKind::Original {
            continue;
        }
        *n += 1;
        let Some(sim_cat) = ev.category_enum() else {
            continue;
        };
        for shape in [Shape::Graph, Shape::Diagnostic, Shape::LogAnalytics] {
            if let Some(v) = sim::render(&ev, shape, true, &tenant) {
                let text = files
                    .entry((category_of(sim_cat), shape_name(shape)))
                    .or_default();
                text.push_str(&v.to_string());
                text.push('\n');
            }
        }
    }
    for ((cat, shape), text) in files {
        let dir = root().join(cat.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{shape}.input.jsonl")), text).unwrap();
    }
}

/// Decodes one input file into the golden text.
fn decode_file(path: &Path) -> (String, usize, usize) {
    let mut reader = BufReader::new(File::open(path).unwrap());
    let format = detect_format(reader.fill_buf().unwrap());
    let cx = DecodeContext {
        source: "golden".into(),
        location: path.file_name().unwrap().to_string_lossy().into_owned(),
        ingest_time: 1_709_600_000_000_000,
        category: None,
        shape: None,
    };
    let (mut ok, mut rejected) = (0, 0);
    let out: Vec<serde_json::Value> = decode_stream(reader, format, cx)
        .map(|r| match r {
            Ok(rec) => {
                ok += 1;
                for (c, v) in rec.schema().columns.iter().zip(&rec.values) {
                    assert!(
                        v.fits(c.ty),
                        "{}: {} {v:?} does not fit {:?}",
                        path.display(),
                        c.name,
                        c.ty
                    );
                }
                rec.to_json()
            }
            Err(rej) => {
                rejected += 1;
                serde_json::json!({"_At": rej.position.at, "_Rejected": rej.reason})
            }
        })
        .collect();
    (
        serde_json::to_string_pretty(&out).unwrap() + "\n",
        ok,
        rejected,
    )
}

#[test]
fn golden_every_category_and_shape() {
    if sim::golden::update_requested() {
        write_sim_inputs();
    }
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let cat = dir.file_name().unwrap().to_string_lossy().into_owned();
        let category =
            Category::from_name(&cat).unwrap_or_else(|| panic!("{cat}: not a category name"));
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(".input."))
            })
            .collect();
        inputs.sort();
        for input in inputs {
            let name = input.file_name().unwrap().to_string_lossy().into_owned();
            let stem = name.split(".input.").next().unwrap().to_owned();
            let (text, ok, rejected) = decode_file(&input);
            println!("{cat}/{name}: {ok} records, {rejected} rejected");
            assert!(ok > 0, "{cat}/{name}: no records");
            assert_eq!(rejected, 0, "{cat}/{name}: rejections:\n{text}");
            let records: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
            assert!(
                records.iter().all(|r| r["_Category"] == category.name()),
                "{cat}/{name}: other categories decoded"
            );
            sim::assert_golden(&dir.join(format!("{stem}.expected.json")), &text);
            seen.insert((cat.clone(), stem));
        }
    }
    // Every category, in every shape it exists in (Graph only where a Graph API exists).
    let mut want: BTreeSet<(String, String)> = BTreeSet::new();
    for c in sim::Category::ALL {
        for shape in [Shape::Graph, Shape::Diagnostic, Shape::LogAnalytics] {
            if shape != Shape::Graph || c.has_graph_api() {
                want.insert((
                    category_of(*c).name().to_owned(),
                    shape_name(shape).to_owned(),
                ));
            }
        }
    }
    for shape in ["diagnostic", "log_analytics"] {
        want.insert((
            Category::PrivateNetworkConnectorLogs.name().to_owned(),
            shape.to_owned(),
        ));
    }
    for c in [
        Category::SignInLogs,
        Category::AuditLogs,
        Category::UserRiskEvents,
        Category::AzureActivity,
        Category::NsgFlowLogs,
        Category::VnetFlowLogs,
    ] {
        want.insert((c.name().to_owned(), "wire-formats".to_owned()));
    }
    let missing: Vec<_> = want.difference(&seen).collect();
    assert!(missing.is_empty(), "golden inputs missing: {missing:?}");
    let covered: BTreeSet<&str> = seen.iter().map(|(c, _)| c.as_str()).collect();
    let uncovered: Vec<&str> = Category::ALL
        .iter()
        .map(|c| c.name())
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(
        uncovered.is_empty(),
        "categories without golden files: {uncovered:?}"
    );
}
