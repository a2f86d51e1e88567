//! Hunt-path benchmark without the CLI: an NDJSON file of diagnostic-settings records (the simulator's
//! natural mix, quirks on) decoded on worker threads (`detect::scan`) and evaluated in order against the
//! 123 SigmaHQ azure rules with the batch API; then, when the binary exists, the `rsigma` 0.23 command line
//! (`rsigma engine eval -r <rules> -e @<file> --bloom-prefilter --no-detections`) on the same file and
//! rules. Reports records/s, CPU-seconds and the ratio. `entrail bench hunt` measures the full CLI path
//! (alert grouping included); this one needs no `entrail` build.
//!
//! `cargo bench -p detect --bench hunt`. Knobs (environment): `DETECT_BENCH_RECORDS` (default 100,000),
//! `DETECT_BENCH_WORKERS` (default: one per core), `RSIGMA` (default /var/tmp/rsigma/bin/rsigma),
//! `DETECT_BENCH_FILE` (default /var/tmp/detect-bench-hunt-<records>.ndjson, kept and reused).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use detect::{Engine, EngineConfig, RuleSet};
use sim::{Category, Generator, Shape, Tenant, TenantConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

const CATEGORIES: &[Category] = &[
    Category::SignInLogs,
    Category::NonInteractiveUserSignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::ManagedIdentitySignInLogs,
    Category::AuditLogs,
    Category::Administrative,
    Category::Security,
    Category::Policy,
    Category::UserRiskEvents,
    Category::ServicePrincipalRiskEvents,
];

fn generate(path: &Path, n: usize) {
    let cfg = TenantConfig {
        days: 60,
        users: 2_000,
        quirks: true,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for ev in Generator::new(&tenant, &cfg)
        .with_categories(CATEGORIES)
        .with_truth(false)
        .filter_map(|ev| sim::render(&ev, Shape::Diagnostic, true, &tenant))
        .take(n)
    {
        writeln!(w, "{ev}").unwrap();
    }
    w.flush().unwrap();
}

/// CPU seconds of this process and of its reaped children (/proc/self/stat).
fn cpu() -> (f64, f64) {
    let stat = std::fs::File::open("/proc/self/stat")
        .ok()
        .and_then(|f| model::limits::read_capped(f, 1 << 16).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let t = |i: usize| f.get(i).copied().unwrap_or(0.0);
    ((t(11) + t(12)) / 100.0, (t(13) + t(14)) / 100.0)
}

fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: a small file then.
    let measuring = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("DETECT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 100_000 } else { 2_000 });
    let workers: usize = std::env::var("DETECT_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |p| p.get()));
    let file = std::env::var("DETECT_BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(format!("/var/tmp/detect-bench-hunt-{n}.ndjson")));
    if !file.exists() {
        generate(&file, n);
    }
    let bytes = std::fs::metadata(&file).unwrap().len();
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/sigma-azure/rules");
    let (set, diags) = RuleSet::load_dir(&rules);
    assert!(diags.is_empty());

    let mut engine = Engine::new(&set, EngineConfig::default());
    let (c0, _) = cpu();
    let t = Instant::now();
    let (mut records, mut matches) = (0u64, 0u64);
    let projection = engine.projection();
    detect::scan::decode_json_lines_projected(
        std::fs::File::open(&file).unwrap(),
        &model::DecodeContext::default(),
        projection.as_ref(),
        workers,
        detect::scan::BLOCK_BYTES,
        |d| {
            records += d.records.len() as u64;
            engine.evaluate_batch(&d.records, |_, _| matches += 1);
            Ok::<(), ()>(())
        },
    )
    .unwrap()
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let (c1, _) = cpu();
    let mib = bytes as f64 / (1024.0 * 1024.0);
    eprintln!(
        "scan+eval: {records} records ({mib:.1} MiB, {} B/record), {workers} decode workers: {wall:.2}s wall, {:.2} CPU-s, {:.0} records/s ({:.0} per CPU-s, {:.1} MiB/s), {matches} matches",
        bytes / records.max(1),
        c1 - c0,
        records as f64 / wall,
        records as f64 / (c1 - c0).max(1e-9),
        mib / wall
    );

    let bin = std::env::var("RSIGMA").unwrap_or_else(|_| "/var/tmp/rsigma/bin/rsigma".into());
    if !Path::new(&bin).exists() {
        eprintln!("rsigma not found at {bin}: run scripts/bench-deps for the comparison");
        return;
    }
    let (_, k0) = cpu();
    let t = Instant::now();
    let out = std::process::Command::new(&bin)
        .args(["engine", "eval", "-r"])
        .arg(&rules)
        .arg("-e")
        .arg(format!("@{}", file.display()))
        .args(["--bloom-prefilter", "--no-detections"])
        .output()
        .unwrap();
    let rwall = t.elapsed().as_secs_f64();
    let (_, k1) = cpu();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "rsigma: {rwall:.2}s wall, {:.2} CPU-s, {:.0} records/s ({:.0} per CPU-s, {:.1} MiB/s); stderr tail: {}",
        k1 - k0,
        records as f64 / rwall,
        records as f64 / (k1 - k0).max(1e-9),
        mib / rwall,
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    eprintln!(
        "ratio scan+eval / rsigma: {:.2}x records/s, {:.2}x records per CPU-s",
        rwall / wall,
        (k1 - k0) / (c1 - c0).max(1e-9)
    );
}
