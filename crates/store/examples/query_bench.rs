//! The query benchmark without the `entrail` binary (no sinks, detect or pipeline to compile):
//! generates sign-ins with the simulator, decodes them with the real decoder on worker threads
//! and writes them through the real archive writer, then times the ten analyst queries in
//! DataFusion and in DuckDB (`scripts/bench/duckdb_query.py`) over the same Parquet files.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/entrail-rel cargo run --release -p store --example query_bench -- \
//!     --records 10000000 --runs 5 --dir /var/tmp/entrail-query-bench
//! ```
//! Options: `--records N` (default 1,000,000), `--runs R` (5), `--dir D`, `--threads T` (decode
//! workers, default 2), `--republish` (3% republications kept as revisions, so the latest-revision
//! view has work to do; DuckDB then runs each query on the raw files and on a view with the same
//! dedupe), `--explain` (print `EXPLAIN ANALYZE` of each query), `--only 1,4` (query numbers),
//! `--no-duckdb`, `--target-partitions N`, `--no-string-views` (read text as plain `Utf8`, as
//! before 2026-11-22), `--delete` (remove the data afterwards). The archive is
//! kept in `--dir` and reused while `--records` and `--republish` match. `DATAFUSION_*`
//! environment variables tune the engine as they do for `entrail query`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use store::archive::Archive;
use store::query::bench::{ANALYST_QUERIES, LoadOptions, load_parallel, pipeline_like_config};
use store::query::{QueryEngine, QueryOptions, format_table};

struct Args {
    records: u64,
    runs: usize,
    dir: PathBuf,
    threads: usize,
    republish: bool,
    explain: bool,
    only: Vec<usize>,
    duckdb: bool,
    target_partitions: Option<usize>,
    string_views: bool,
    delete: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        records: 1_000_000,
        runs: 5,
        dir: PathBuf::from("/var/tmp/entrail-query-bench"),
        threads: 2,
        republish: false,
        explain: false,
        only: Vec::new(),
        duckdb: true,
        target_partitions: None,
        string_views: true,
        delete: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.replace('_', "").parse::<u64>().map_err(|e| e.to_string());
        match flag.as_str() {
            "--records" => a.records = num(value()?)?,
            "--runs" => a.runs = num(value()?)? as usize,
            "--dir" => a.dir = PathBuf::from(value()?),
            "--threads" => a.threads = num(value()?)? as usize,
            "--target-partitions" => a.target_partitions = Some(num(value()?)? as usize),
            "--only" => {
                for n in value()?.split(',') {
                    a.only.push(num(n.to_owned())? as usize);
                }
            }
            "--republish" => a.republish = true,
            "--explain" => a.explain = true,
            "--no-duckdb" => a.duckdb = false,
            "--delete" => a.delete = true,
            "--no-string-views" => a.string_views = false,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let archive_dir = args.dir.join("archive");
    let marker = args.dir.join("records.txt");
    let want = format!("{} republish={}", args.records, args.republish);
    let have = std::fs::File::open(&marker)
        .ok()
        .and_then(|f| model::limits::read_capped(f, 256).ok());
    if have.as_deref() != Some(want.as_bytes()) {
        generate(&args, &archive_dir)?;
        std::fs::write(&marker, &want)?;
    }
    let bytes = dir_bytes(&archive_dir);
    println!(
        "archive: {} ({:.0} MiB)",
        archive_dir.display(),
        bytes as f64 / 1048576.0
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let t = Instant::now();
    let options = QueryOptions {
        target_partitions: args.target_partitions,
        string_views: args.string_views,
        ..QueryOptions::default()
    };
    let engine = QueryEngine::with_options(&archive_dir, options)?;
    println!("engine opened in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    for info in engine.tables().iter().filter(|t| t.rows > 0) {
        println!(
            "  {}: {} files, {} rows, revisions: {}",
            info.name, info.files, info.rows, info.has_revisions
        );
    }
    let selected: Vec<usize> = (0..ANALYST_QUERIES.len())
        .filter(|i| args.only.is_empty() || args.only.contains(&(i + 1)))
        .collect();
    let mut ours = Vec::new();
    for &i in &selected {
        let (name, sql) = ANALYST_QUERIES[i];
        let timing = rt.block_on(store::query::bench::time_query(&engine, sql, args.runs))?;
        println!(
            "{:>2} {name:<28} rows {:>5}  median {:>8.1} ms  runs {:?}",
            i + 1,
            timing.rows,
            timing.median_s * 1e3,
            timing
                .runs_s
                .iter()
                .map(|s| (s * 1e4).round() / 10.0)
                .collect::<Vec<_>>()
        );
        if args.explain {
            let plan = rt.block_on(engine.sql(&format!("EXPLAIN ANALYZE {sql}")))?;
            println!("{}", format_table(&plan)?);
        }
        ours.push(timing);
    }
    if args.duckdb {
        let queries: Vec<&str> = selected.iter().map(|&i| ANALYST_QUERIES[i].1).collect();
        let duck = duckdb(&archive_dir, args.runs, &queries, args.republish)?;
        let mut ratios = Vec::new();
        println!(
            "\n| query | rows | entrail ms | DuckDB ms | ratio |{}",
            if args.republish {
                " DuckDB deduped ms | ratio |"
            } else {
                ""
            }
        );
        println!(
            "|---|---|---|---|---|{}",
            if args.republish { "---|---|" } else { "" }
        );
        for (n, &i) in selected.iter().enumerate() {
            let d = duck["medians"][n].as_f64().unwrap_or(f64::NAN);
            let drows = duck["rows"][n].as_u64().unwrap_or(0) as usize;
            let m = ours[n].median_s;
            let rows = if drows == ours[n].rows {
                ours[n].rows.to_string()
            } else {
                format!("{} (DuckDB {drows})", ours[n].rows)
            };
            let mut line = format!(
                "| {} | {rows} | {:.1} | {:.1} | {:.2} |",
                ANALYST_QUERIES[i].0,
                m * 1e3,
                d * 1e3,
                m / d
            );
            if args.republish {
                let dd = duck["dedup_medians"][n].as_f64().unwrap_or(f64::NAN);
                let ddrows = duck["dedup_rows"][n].as_u64().unwrap_or(0) as usize;
                let note = if ddrows == ours[n].rows {
                    String::new()
                } else {
                    format!(" (rows {ddrows})")
                };
                line.push_str(&format!(" {:.1}{note} | {:.2} |", dd * 1e3, m / dd));
                ratios.push(m / dd);
            } else {
                ratios.push(m / d);
            }
            println!("{line}");
        }
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!(
            "\n{} sign-ins{}; geometric mean ratio entrail/DuckDB{} {geo:.2} (goal <= 1.2); DuckDB {}",
            args.records,
            if args.republish {
                " with republications"
            } else {
                ""
            },
            if args.republish { " (deduped)" } else { "" },
            duck["version"].as_str().unwrap_or("?"),
        );
    }
    if args.delete {
        std::fs::remove_dir_all(&args.dir)?;
    }
    Ok(())
}

/// Generates `args.records` sign-ins into a fresh archive in `archive_dir`.
fn generate(args: &Args, archive_dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)?;
    }
    std::fs::create_dir_all(&args.dir)?;
    println!(
        "generating {} sign-ins into {} ...",
        args.records,
        archive_dir.display()
    );
    let t = Instant::now();
    let mut cfg = sim::TenantConfig {
        seed: 11,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    cfg.duplicate_rate = 0.0;
    if !args.republish {
        cfg.republish_rate = 0.0;
    }
    let tenant = sim::Tenant::new(&cfg);
    let events = sim::Generator::sign_ins_only(&tenant, &cfg).with_truth(false);
    let ingest_time = chrono::Utc::now().timestamp_micros();
    let quirks = cfg.quirks;
    let tenant = &tenant;
    let decode = move |event: sim::SimEvent| {
        let Some(value) = sim::render_owned(event, sim::Shape::Diagnostic, quirks, tenant) else {
            return Vec::new();
        };
        let cx = model::normalize::DecodeContext {
            source: "bench".into(),
            location: "generated".into(),
            ingest_time,
            category: None,
            shape: None,
        };
        model::normalize::decode_record(&value.to_string(), &cx).unwrap_or_default()
    };
    let mut archive = Archive::open(archive_dir, pipeline_like_config())?;
    let options = LoadOptions {
        threads: args.threads,
        max_records: args.records,
        dedupe: args.republish,
    };
    let report = load_parallel(&mut archive, events, &options, decode)?;
    let before = archive.manifest().files.len();
    archive.compact()?;
    println!(
        "archived {} records ({} duplicates dropped) in {:.1} s; {} files, {} after compaction",
        report.records,
        report.duplicates,
        t.elapsed().as_secs_f64(),
        before,
        archive.manifest().files.len()
    );
    if report.records < args.records {
        return Err(format!("the generator produced only {} sign-ins", report.records).into());
    }
    Ok(())
}

fn duckdb(
    archive: &Path,
    runs: usize,
    queries: &[&str],
    dedup: bool,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_query.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(archive)
        .arg(runs.to_string())
        .arg(serde_json::to_string(queries)?);
    if dedup {
        cmd.arg("--dedup");
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!(
            "DuckDB baseline failed (run scripts/bench-deps): {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
