//! `entrail bench query`: ten analyst queries over generated sign-ins in the archive, median latency next to
//! DuckDB over the same Parquet files in the same run.

use crate::bench::{peak_rss_mib, reset_peak_rss};
use crate::output;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;
use store::archive::Archive;
use store::query::bench::{
    ANALYST_QUERIES, LoadOptions, load_parallel, pipeline_like_config, time_query,
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
        let written = generate(&archive, records)?;
        if written < records {
            bail!("the generator produced only {written} sign-ins");
        }
        std::fs::write(&marker, records.to_string())?;
        output::line(&format!("archived in {:.1} s", t.elapsed().as_secs_f64()));
    }
    reset_peak_rss();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = QueryEngine::with_options(&archive, QueryOptions::default())?;
    let mut ours = Vec::new();
    for (name, sql) in ANALYST_QUERIES {
        let timing = rt
            .block_on(time_query(&engine, sql, runs))
            .with_context(|| format!("query {name}"))?;
        ours.push((timing.median_s, timing.rows));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_query.py");
    let queries =
        serde_json::to_string(&ANALYST_QUERIES.iter().map(|(_, q)| *q).collect::<Vec<_>>())?;
    let out = Command::new("python3")
        .arg(&script)
        .arg(&archive)
        .arg(runs.to_string())
        .arg(&queries)
        .output()?;
    if !out.status.success() {
        bail!(
            "DuckDB baseline failed (pip install duckdb): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let duck: serde_json::Value = serde_json::from_slice(&out.stdout).context("DuckDB output")?;
    let mut t = output::table(&[
        "query",
        "rows",
        "entrail median ms",
        "duckdb median ms",
        "ratio",
    ]);
    let mut ratios = Vec::new();
    for (i, (name, _)) in ANALYST_QUERIES.iter().enumerate() {
        let d = duck["medians"][i].as_f64().unwrap_or(f64::NAN);
        let drows = duck["rows"][i].as_u64().unwrap_or(0);
        let (m, rows) = ours[i];
        ratios.push(m / d);
        let rows_note = if drows as usize == rows {
            rows.to_string()
        } else {
            format!("{rows} (duckdb {drows})")
        };
        t.add_row(vec![
            (*name).into(),
            rows_note,
            format!("{:.1}", m * 1e3),
            format!("{:.1}", d * 1e3),
            format!("{:.2}", m / d),
        ]);
    }
    output::line(&t.to_string());
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    output::line(&format!(
        "{records} sign-ins; geometric mean ratio entrail/duckdb {geo:.2} (goal <= 1.2); duckdb {}; peak RSS {:.0} MiB",
        duck["version"].as_str().unwrap_or("?"),
        peak_rss_mib()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Generates `records` sign-ins (interactive and non-interactive, no republications, so both
/// engines read the same rows) into a fresh archive: the simulator's diagnostic-shape JSON, decoded
/// by the real decoder on two worker threads and written through the real archive writer with the
/// pipeline's settings. The JSON file and the durable log of `bench ingest` are skipped, which is
/// what makes 10M records fit on a small machine. Returns the records written.
fn generate(archive_dir: &Path, records: u64) -> anyhow::Result<u64> {
    let mut cfg = sim::TenantConfig {
        seed: 11,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    cfg.duplicate_rate = 0.0;
    cfg.republish_rate = 0.0;
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
        threads: 2,
        max_records: records,
        dedupe: false,
    };
    let report = load_parallel(&mut archive, events, &options, decode)?;
    archive.compact()?;
    Ok(report.records)
}
