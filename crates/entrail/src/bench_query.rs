//! `entrail bench query`: ten analyst queries over generated sign-ins in the archive, median latency next to
//! DuckDB over the same Parquet files in the same run.

use crate::bench::{peak_rss_mib, reset_peak_rss, write_signins};
use crate::output;
use anyhow::{Context, bail};
use pipeline::{Pipeline, RawConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;
use store::query::{QueryEngine, QueryOptions};

/// The analyst queries: (name, SQL). Standard SQL that DataFusion and DuckDB both run unchanged.
const QUERIES: &[(&str, &str)] = &[
    (
        "user timeline",
        "SELECT CreatedDateTime, AppDisplayName, IPAddress, ResultType FROM SigninLogs WHERE UserPrincipalName = (SELECT min(UserPrincipalName) FROM SigninLogs) ORDER BY CreatedDateTime",
    ),
    (
        "failures by IP",
        "SELECT IPAddress, count(*) AS n FROM SigninLogs WHERE ResultType <> '0' GROUP BY IPAddress ORDER BY n DESC, IPAddress LIMIT 20",
    ),
    (
        "count by app per day",
        "SELECT AppDisplayName, date_trunc('day', CreatedDateTime) AS d, count(*) AS n FROM SigninLogs GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    (
        "LIKE on user agent",
        "SELECT count(*) AS n FROM SigninLogs WHERE UserAgent LIKE '%Android%'",
    ),
    (
        "distinct users per country",
        "SELECT Location, count(DISTINCT UserPrincipalName) AS users FROM SigninLogs GROUP BY Location ORDER BY users DESC, Location",
    ),
    (
        "hourly volume",
        "SELECT date_trunc('hour', CreatedDateTime) AS h, count(*) AS n FROM SigninLogs GROUP BY 1 ORDER BY 1",
    ),
    (
        "top errors",
        "SELECT ResultType, ResultDescription, count(*) AS n FROM SigninLogs WHERE ResultType <> '0' GROUP BY 1, 2 ORDER BY n DESC, ResultType LIMIT 10",
    ),
    (
        "spray candidates",
        "SELECT IPAddress, count(DISTINCT UserPrincipalName) AS users FROM SigninLogs WHERE ResultType IN ('50126', '50053') GROUP BY IPAddress HAVING count(DISTINCT UserPrincipalName) > 3 ORDER BY users DESC, IPAddress",
    ),
    (
        "non-interactive by app",
        "SELECT AppDisplayName, count(*) AS n FROM AADNonInteractiveUserSignInLogs GROUP BY 1 ORDER BY n DESC, AppDisplayName LIMIT 20",
    ),
    (
        "CA failures by app",
        "SELECT AppDisplayName, count(*) AS n FROM SigninLogs WHERE ConditionalAccessStatus = 'failure' GROUP BY 1 ORDER BY n DESC, AppDisplayName",
    ),
];

pub(crate) fn run(records: u64, dir: &Path, runs: usize) -> anyhow::Result<ExitCode> {
    let marker = dir.join("records.txt");
    let have = std::fs::File::open(&marker)
        .ok()
        .and_then(|f| model::limits::read_capped(f, 64).ok())
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<u64>().ok());
    if have != Some(records) {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let input = dir.join("signins.json");
        output::line(&format!(
            "generating and archiving {records} sign-ins in {} ...",
            dir.display()
        ));
        write_signins(&input, records, 11, false)?;
        let raw = RawConfig {
            data_dir: Some(dir.join("data")),
            ..RawConfig::default()
        };
        let mut pipeline = Pipeline::open(raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?)?;
        let source = FileSource::new(FileSourceConfig::new(
            "bench",
            vec![input.display().to_string()],
        ))?;
        pipeline.import(&source, Progress::default())?;
        pipeline.archive()?;
        std::fs::remove_file(&input)?;
        std::fs::write(&marker, records.to_string())?;
    }
    let archive = dir.join("data/archive");
    reset_peak_rss();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = QueryEngine::with_options(&archive, QueryOptions::default())?;
    let mut ours = Vec::new();
    for (name, sql) in QUERIES {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let batches = rt
                .block_on(engine.sql(sql))
                .with_context(|| format!("query {name}"))?;
            times.push(t.elapsed().as_secs_f64());
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
        }
        ours.push((median(&mut times), rows));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_query.py");
    let queries = serde_json::to_string(&QUERIES.iter().map(|(_, q)| *q).collect::<Vec<_>>())?;
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
    for (i, (name, _)) in QUERIES.iter().enumerate() {
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
