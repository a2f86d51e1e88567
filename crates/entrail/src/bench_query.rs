//! `entrail bench query`: ten analyst queries over generated sign-ins in the archive, median latency next to
//! DuckDB over the same Parquet files in the same run, DuckDB's runs alternating with entrail's.

use crate::bench::{peak_rss_mib, reset_peak_rss};
use crate::output;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use store::archive::Archive;
use store::query::bench::{
    ANALYST_QUERIES, DuckDb, LoadOptions, LoadReport, decode_generated, load_parallel,
    pipeline_like_config, sign_in_time_range, time_interleaved, time_range_queries,
};
use store::query::{QueryEngine, QueryOptions};

pub(crate) fn run(records: u64, dir: &Path, runs: usize) -> anyhow::Result<ExitCode> {
    let marker = dir.join("records.txt");
    let have = std::fs::File::open(&marker)
        .ok()
        .and_then(|f| model::limits::read_capped(f, 64).ok())
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<u64>().ok());
    let archive = dir.join("archive");
    if have != Some(records) {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        output::line(&format!(
            "generating and archiving {records} sign-ins in {} ...",
            dir.display()
        ));
        let t = Instant::now();
        let report = generate(&archive, records)?;
        if report.records < records {
            bail!("the generator produced only {} sign-ins", report.records);
        }
        std::fs::write(&marker, records.to_string())?;
        output::line(&format!(
            "archived in {:.1} s ({} compactions; peak {} files, {:.0} MiB of Parquet)",
            t.elapsed().as_secs_f64(),
            report.compactions,
            report.peak_files,
            report.peak_bytes as f64 / 1048576.0
        ));
    }
    reset_peak_rss();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = QueryEngine::with_options(&archive, QueryOptions::default())?;
    // The ten, then the time-range queries (reported, not in the geometric mean).
    let (first, last) = rt.block_on(sign_in_time_range(&engine))?;
    let mut all: Vec<(&str, String)> = ANALYST_QUERIES
        .iter()
        .map(|(name, sql)| (*name, (*sql).to_owned()))
        .collect();
    all.extend(time_range_queries(first, last));
    // DuckDB's runs alternate with entrail's, so that both see the same machine load.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_query.py");
    let mut duck = DuckDb::start(&script, &archive)?;
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for (name, sql) in &all {
        let (m, d) = rt
            .block_on(time_interleaved(&engine, &mut duck, &[false], sql, runs))
            .with_context(|| format!("query {name}"))?;
        ours.push((m.median_s, m.rows));
        theirs.push(
            d.into_iter()
                .next()
                .map_or((f64::NAN, 0), |d| (d.median_s, d.rows)),
        );
    }
    let mut t = output::table(&[
        "query",
        "rows",
        "entrail median ms",
        "duckdb median ms",
        "ratio",
    ]);
    let mut ratios = Vec::new();
    for (i, (name, _)) in all.iter().enumerate() {
        let (d, drows) = theirs[i];
        let (m, rows) = ours[i];
        let name = if i < ANALYST_QUERIES.len() {
            ratios.push(m / d);
            (*name).to_owned()
        } else {
            format!("({name})")
        };
        let rows_note = if drows == rows {
            rows.to_string()
        } else {
            format!("{rows} (duckdb {drows})")
        };
        t.add_row(vec![
            name,
            rows_note,
            format!("{:.1}", m * 1e3),
            format!("{:.1}", d * 1e3),
            format!("{:.2}", m / d),
        ]);
    }
    output::line(&t.to_string());
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    output::line(&format!(
        "{records} sign-ins; geometric mean ratio entrail/duckdb of the ten {geo:.2} (goal <= 1.2; time-range queries in parentheses are not counted); duckdb {}; peak RSS {:.0} MiB",
        duck.version(),
        peak_rss_mib()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Generates `records` sign-ins (interactive and non-interactive, no republications, so both
/// engines read the same rows; `sim::signin_rows`) into a fresh archive: the simulator's
/// diagnostic-shape JSON, decoded by the real decoder on two worker threads and written through
/// the real archive writer with the pipeline's settings, compacting after every commit (1M rows)
/// so that small files never pile up. The JSON file and the durable log of `bench ingest` are
/// skipped, which is what makes 10M records fit on a small machine. Returns the load report.
fn generate(archive_dir: &Path, records: u64) -> anyhow::Result<LoadReport> {
    let rows = sim::signin_rows::SigninRows::new(false);
    let ingest_time = chrono::Utc::now().timestamp_micros();
    let decode = |event: sim::SimEvent| {
        rows.render(event)
            .map(|json| decode_generated(&json, ingest_time))
            .unwrap_or_default()
    };
    let mut archive = Archive::open(archive_dir, pipeline_like_config())?;
    let options = LoadOptions::new(2, records);
    Ok(load_parallel(
        &mut archive,
        rows.events(),
        &options,
        decode,
    )?)
}
