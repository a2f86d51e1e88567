//! The query benchmark without the `entrail` binary (no sinks, detect or pipeline to compile):
//! generates sign-ins with the simulator, decodes them with the real decoder on worker threads
//! and writes them through the real archive writer, then times the ten analyst queries in
//! DataFusion and in DuckDB (`scripts/bench/duckdb_query.py --serve`, its runs alternating with
//! ours) over the same Parquet files.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/entrail-rel cargo run --release -p store --example query_bench -- \
//!     --records 10000000 --runs 5 --dir /var/tmp/entrail-query-bench
//! ```
//! Options: `--records N` (default 1,000,000), `--runs R` (5), `--dir D`, `--threads T` (decode
//! workers, default 2), `--republish` (3% republications kept as revisions, so the latest-revision
//! view has work to do; DuckDB then runs each query on the raw files and on a view with the same
//! dedupe), `--explain` (print `EXPLAIN ANALYZE` of each query), `--only 1,4` (query numbers;
//! 11 and 12 are the time-range queries, reported beside the ten but not in the geometric
//! mean), `--no-duckdb`, `--target-partitions N`, `--no-string-views` (read text as plain `Utf8`, as
//! before 2026-11-22), `--compact-at-end` (load without compacting after every commit, as before
//! 2026-11-22: small files pile up), `--delete` (remove the data afterwards). The archive is
//! kept in `--dir` and reused while `--records` and `--republish` match. `DATAFUSION_*`
//! environment variables tune the engine as they do for `entrail query`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use store::archive::Archive;
use store::query::bench::{
    ANALYST_QUERIES, DuckDb, LoadOptions, decode_generated, load_parallel, pipeline_like_config,
    sign_in_time_range, time_interleaved, time_query, time_range_queries,
};
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
    compact_at_end: bool,
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
        compact_at_end: false,
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
            "--compact-at-end" => a.compact_at_end = true,
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
    // The issue's ten, then the time-range queries (11, 12: reported, not in the geometric mean).
    let (first, last) = rt.block_on(sign_in_time_range(&engine))?;
    let mut all: Vec<(&str, String)> = ANALYST_QUERIES
        .iter()
        .map(|(name, sql)| (*name, (*sql).to_owned()))
        .collect();
    all.extend(time_range_queries(first, last));
    let selected: Vec<usize> = (0..all.len())
        .filter(|i| args.only.is_empty() || args.only.contains(&(i + 1)))
        .collect();
    // DuckDB's runs alternate with ours (plain views, and with --republish latest-revision
    // views too), so that both engines see the same machine load.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_query.py");
    let mut duck = if args.duckdb {
        Some(DuckDb::start(&script, &archive_dir)?)
    } else {
        None
    };
    let modes: &[bool] = if args.republish {
        &[false, true]
    } else {
        &[false]
    };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for &i in &selected {
        let (name, sql) = (all[i].0, all[i].1.as_str());
        let timing = match duck.as_mut() {
            Some(duck) => {
                let (m, d) = rt.block_on(time_interleaved(&engine, duck, modes, sql, args.runs))?;
                theirs.push(d);
                m
            }
            None => rt.block_on(time_query(&engine, sql, args.runs))?,
        };
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
    if let Some(duck) = &duck {
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
            let (d, drows) = theirs[n]
                .first()
                .map_or((f64::NAN, 0), |t| (t.median_s, t.rows));
            let m = ours[n].median_s;
            let rows = if drows == ours[n].rows {
                ours[n].rows.to_string()
            } else {
                format!("{} (DuckDB {drows})", ours[n].rows)
            };
            let counted = i < ANALYST_QUERIES.len();
            let name = if counted {
                all[i].0.to_owned()
            } else {
                format!("({})", all[i].0)
            };
            let mut line = format!(
                "| {name} | {rows} | {:.1} | {:.1} | {:.2} |",
                m * 1e3,
                d * 1e3,
                m / d
            );
            if args.republish {
                let (dd, ddrows) = theirs[n]
                    .get(1)
                    .map_or((f64::NAN, 0), |t| (t.median_s, t.rows));
                let note = if ddrows == ours[n].rows {
                    String::new()
                } else {
                    format!(" (rows {ddrows})")
                };
                line.push_str(&format!(" {:.1}{note} | {:.2} |", dd * 1e3, m / dd));
                if counted {
                    ratios.push(m / dd);
                }
            } else if counted {
                ratios.push(m / d);
            }
            println!("{line}");
        }
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!(
            "\n{} sign-ins{}; geometric mean ratio entrail/DuckDB{} of the ten {geo:.2} (goal <= 1.2; \
             time-range queries in parentheses are not counted); DuckDB {}",
            args.records,
            if args.republish {
                " with republications"
            } else {
                ""
            },
            if args.republish { " (deduped)" } else { "" },
            duck.version(),
        );
    }
    // DuckDB reads the files until it ends.
    drop(duck);
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
    let rows = sim::signin_rows::SigninRows::new(args.republish);
    let ingest_time = chrono::Utc::now().timestamp_micros();
    let decode = |event: sim::SimEvent| {
        rows.render(event)
            .map(|json| decode_generated(&json, ingest_time))
            .unwrap_or_default()
    };
    let mut archive = Archive::open(archive_dir, pipeline_like_config())?;
    let options = LoadOptions {
        dedupe: args.republish,
        compact: !args.compact_at_end,
        ..LoadOptions::new(args.threads, args.records)
    };
    let report = load_parallel(&mut archive, rows.events(), &options, decode)?;
    println!(
        "archived {} records ({} duplicates dropped) in {:.1} s; {} files ({:.0} MiB) after {} \
         compactions; peak {} files, {:.0} MiB of Parquet",
        report.records,
        report.duplicates,
        t.elapsed().as_secs_f64(),
        archive.manifest().files.len(),
        archive
            .manifest()
            .files
            .iter()
            .map(|f| f.bytes)
            .sum::<u64>() as f64
            / 1048576.0,
        report.compactions,
        report.peak_files,
        report.peak_bytes as f64 / 1048576.0,
    );
    if report.records < args.records {
        return Err(format!("the generator produced only {} sign-ins", report.records).into());
    }
    Ok(())
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
