//! `entrail bench hunt`: `entrail hunt` over an NDJSON file of diagnostic-settings records against the
//! `rsigma` command line (`rsigma engine eval -r <rules> -e @<file> --bloom-prefilter --no-detections`) on
//! the same file and rules, in the same run: records/s and CPU-seconds of each, and the ratio.
//!
//! The file holds the simulator's natural mix (non-interactive and interactive sign-ins, service-principal
//! and managed-identity sign-ins, audits, Activity Log, risk) in the diagnostic-settings shape with its
//! quirks, one record per line. Hunt runs in this process (its CPU is this process's CPU while it runs);
//! rsigma runs as a child (its CPU is the children's CPU this process reaped).

use crate::output;
use anyhow::{Context, bail};
use detect::alert::GroupConfig;
use pipeline::detection::Hunt;
use sim::{Category, Generator, Shape, Tenant, TenantConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What `bench hunt` runs.
#[derive(Debug, Clone)]
pub(crate) struct HuntBench {
    pub records: u64,
    pub rules: PathBuf,
    pub rsigma: PathBuf,
    pub dir: PathBuf,
    pub runs: usize,
}

/// The categories of the natural mix (as `cargo bench -p detect`).
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

/// The rules shipped with the test data (`../shared/testdata/sigma-azure/rules` beside the workspace).
pub(crate) fn default_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigma-azure/rules")
}

/// Writes `n` diagnostic-shape records of the natural mix, one per line; returns (records, bytes).
fn generate(path: &Path, n: u64) -> anyhow::Result<(u64, u64)> {
    let cfg = TenantConfig {
        days: 60,
        users: 2_000,
        quirks: true,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let (mut written, mut bytes) = (0u64, 0u64);
    for ev in Generator::new(&tenant, &cfg)
        .with_categories(CATEGORIES)
        .with_truth(false)
    {
        if written >= n {
            break;
        }
        let Some(wire) = sim::render(&ev, Shape::Diagnostic, true, &tenant) else {
            continue;
        };
        let line = wire.to_string();
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        written += 1;
        bytes += line.len() as u64 + 1;
    }
    w.flush()?;
    Ok((written, bytes))
}

/// CPU seconds of this process (`self`) and of its reaped children, from /proc/self/stat.
fn cpu_self_children() -> (f64, f64) {
    let stat = crate::bench::read_proc("/proc/self/stat");
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime, stime, cutime, cstime: fields 14-17 of the line, 12-15 after the state field.
    (
        (ticks(11) + ticks(12)) / 100.0,
        (ticks(13) + ticks(14)) / 100.0,
    )
}

/// One timed run: wall time, CPU-seconds, records, matches.
struct Run {
    wall: Duration,
    cpu: f64,
    records: u64,
    matches: u64,
}

fn hunt_once(file: &Path, rules: &Path) -> anyhow::Result<Run> {
    let mut hunt = Hunt::new(
        &[rules],
        detect::EngineConfig::default(),
        GroupConfig {
            window: Duration::from_secs(3600),
            max_open: 100_000,
        },
    );
    if hunt.rules() == 0 {
        bail!("no rule loaded from {}", rules.display());
    }
    let (cpu0, _) = cpu_self_children();
    let start = Instant::now();
    let out = crate::hunt::hunt_files(
        &[file.display().to_string()],
        &mut hunt,
        i64::MIN,
        i64::MAX,
        true,
    )?;
    let wall = start.elapsed();
    let (cpu1, _) = cpu_self_children();
    Ok(Run {
        wall,
        cpu: cpu1 - cpu0,
        records: out.records,
        matches: out.matches,
    })
}

fn rsigma_once(bin: &Path, file: &Path, rules: &Path, records: u64) -> anyhow::Result<Run> {
    let (_, c0) = cpu_self_children();
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["engine", "eval", "-r"])
        .arg(rules)
        .arg("-e")
        .arg(format!("@{}", file.display()))
        .args(["--bloom-prefilter", "--no-detections"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "running {} (install it with scripts/bench-deps)",
                bin.display()
            )
        })?;
    let wall = start.elapsed();
    let (_, c1) = cpu_self_children();
    if !out.status.success() {
        bail!(
            "rsigma failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    Ok(Run {
        wall,
        cpu: c1 - c0,
        records,
        matches: 0,
    })
}

/// Runs the benchmark and prints the comparison.
pub(crate) fn run(b: &HuntBench) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&b.dir).with_context(|| format!("creating {}", b.dir.display()))?;
    let file = b.dir.join(format!("hunt-{}.ndjson", b.records));
    let (n, bytes) = if file.exists() {
        let bytes = std::fs::metadata(&file)?.len();
        let text = std::fs::File::open(&file)?;
        let lines = std::io::BufRead::lines(std::io::BufReader::new(text)).count() as u64;
        (lines, bytes)
    } else {
        let t = Instant::now();
        let r = generate(&file, b.records)?;
        output::line(&format!("generated in {:.1}s", t.elapsed().as_secs_f64()));
        r
    };
    let mib = bytes as f64 / (1024.0 * 1024.0);
    output::line(&format!(
        "input: {} ({n} records, {mib:.1} MiB, {:.0} bytes per record); rules: {}; {} decode workers",
        file.display(),
        bytes / n.max(1),
        b.rules.display(),
        crate::hunt::decode_workers()
    ));
    let best = |runs: Vec<Run>| {
        runs.into_iter()
            .min_by(|a, b| a.wall.cmp(&b.wall))
            .ok_or_else(|| anyhow::anyhow!("no run"))
    };
    let mut hunts = Vec::new();
    let mut rsigmas = Vec::new();
    for i in 0..b.runs.max(1) {
        let h = hunt_once(&file, &b.rules)?;
        print_run(&format!("entrail hunt   run {}", i + 1), &h, mib);
        hunts.push(h);
        let r = rsigma_once(&b.rsigma, &file, &b.rules, n)?;
        print_run(&format!("rsigma 0.23    run {}", i + 1), &r, mib);
        rsigmas.push(r);
    }
    let (h, r) = (best(hunts)?, best(rsigmas)?);
    if h.records != n {
        bail!("hunt read {} records of {n}", h.records);
    }
    let rate = |x: &Run| x.records as f64 / x.wall.as_secs_f64().max(1e-9);
    let per_cpu = |x: &Run| x.records as f64 / x.cpu.max(1e-9);
    output::line(&format!(
        "best of {}: entrail hunt {:.0} records/s ({:.0} per CPU-s, {} matches), rsigma {:.0} records/s ({:.0} per CPU-s)",
        b.runs.max(1),
        rate(&h),
        per_cpu(&h),
        h.matches,
        rate(&r),
        per_cpu(&r)
    ));
    output::line(&format!(
        "ratio entrail/rsigma: {:.2}x records/s (goal >= 3x), {:.2}x records per CPU-second",
        rate(&h) / rate(&r).max(1e-9),
        per_cpu(&h) / per_cpu(&r).max(1e-9)
    ));
    Ok(ExitCode::SUCCESS)
}

fn print_run(what: &str, r: &Run, mib: f64) {
    let secs = r.wall.as_secs_f64().max(1e-9);
    output::line(&format!(
        "{what}: {:.2}s wall, {:.2} CPU-s, {:.0} records/s, {:.1} MiB/s",
        secs,
        r.cpu,
        r.records as f64 / secs,
        mib / secs
    ));
}
