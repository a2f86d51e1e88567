//! `entrail hunt`: runs Sigma rules (and, with `--builtin`, the built-in analytics) over history — the
//! Parquet archive by default, or exported files with `--input` — groups the matches into alerts like the
//! detection consumer, and prints them. Nothing is stored or delivered: a backtest.
//!
//! From the archive, each table with rows is read back with SQL (`_EventTime` in the range, in event-time
//! order); each Arrow batch becomes a column-wise batch straight from its arrays (`hunt_columns`) and is
//! evaluated in place ([`Hunt::feed_columns`]); batches it does not map are decoded as Log Analytics rows into
//! canonical records with their archived `_Key`.

use crate::output;
use anyhow::Context;
use clap::Args;
use detect::alert::{Alert, GroupConfig};
use indicatif::{ProgressBar, ProgressStyle};
use model::{Category, DecodeContext, Record, Shape};
use pipeline::detection::Hunt;
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `entrail hunt` arguments.
#[derive(Debug, Args)]
pub(crate) struct HuntArgs {
    /// Directory of Sigma rules (repeatable; searched recursively).
    #[arg(long, required = true)]
    pub rules: Vec<PathBuf>,
    /// Start of the range: RFC 3339 time or a duration before now (`7d`). Default: the beginning.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range (exclusive): RFC 3339 time or a duration before now. Default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// Hunt over these exported files (JSON lines, arrays, Graph pages, CSV) instead of the archive.
    #[arg(long)]
    pub input: Vec<String>,
    /// Also run the built-in analytics.
    #[arg(long)]
    pub builtin: bool,
    /// Group matches of one rule and entity within this window into one alert.
    #[arg(long, default_value = "1h")]
    pub group_window: String,
    /// Print one OCSF alert JSON per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Parses an RFC 3339 time or a duration before now into microseconds.
pub(crate) fn parse_time(text: &str, what: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros())
            .unwrap_or(0));
    }
    let d = humantime::parse_duration(text).with_context(|| {
        format!("{what}: {text:?} is neither an RFC 3339 time, a date nor a duration")
    })?;
    Ok(chrono::Utc::now().timestamp_micros() - i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// What a hunt found, and how fast.
pub(crate) struct Outcome {
    /// Alerts by uid.
    pub(crate) alerts: BTreeMap<String, Alert>,
    /// Records evaluated.
    pub(crate) records: u64,
    /// Rule and analytic matches.
    pub(crate) matches: u64,
    /// Wall time.
    pub(crate) elapsed: Duration,
}

/// Runs the hunt and prints the results.
pub(crate) fn run(data_dir: &Path, args: &HuntArgs) -> anyhow::Result<ExitCode> {
    let from = args
        .from
        .as_deref()
        .map(|t| parse_time(t, "--from"))
        .transpose()?
        .unwrap_or(i64::MIN);
    let to = args
        .to
        .as_deref()
        .map(|t| parse_time(t, "--to"))
        .transpose()?
        .unwrap_or(i64::MAX);
    let window = humantime::parse_duration(&args.group_window).context("--group-window")?;
    let mut hunt = Hunt::new(
        &args.rules,
        detect::EngineConfig {
            builtin_analytics: args.builtin,
            ..detect::EngineConfig::default()
        },
        GroupConfig {
            window,
            max_open: 100_000,
        },
    );
    let errors = hunt
        .diagnostics()
        .iter()
        .filter(|d| d.severity == detect::Severity::Error)
        .count();
    if errors > 0 {
        eprintln!("{errors} rule problem(s) left rules out; run `entrail rules check` for details");
    }
    if hunt.rules() == 0 && !args.builtin {
        anyhow::bail!("no rule loaded from {:?}", args.rules);
    }
    let out = if args.input.is_empty() {
        from_archive(data_dir, &mut hunt, from, to, args.quiet)?
    } else {
        hunt_files(&args.input, &mut hunt, from, to, args.quiet)?
    };
    print(&out, args.json, hunt.rules())?;
    Ok(ExitCode::SUCCESS)
}

fn bar(quiet: bool, total: u64, template: &str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn keep(out: &mut BTreeMap<String, Alert>, produced: Vec<(Alert, detect::alert::Grouped)>) {
    for (a, _) in produced {
        out.insert(a.uid().to_owned(), a);
    }
}

/// Hunts over exported files (`entrail hunt --input`): JSON-lines files are decoded on
/// [`decode_workers`] threads and evaluated in order on this one; other formats go through the file
/// source.
pub(crate) fn hunt_files(
    paths: &[String],
    hunt: &mut Hunt,
    from: i64,
    to: i64,
    quiet: bool,
) -> anyhow::Result<Outcome> {
    let all = FileSource::new(FileSourceConfig::new("hunt", paths.to_vec()))?;
    let bar = bar(
        quiet,
        all.total_bytes(),
        "{spinner} hunting [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    );
    let start = Instant::now();
    let mut alerts = BTreeMap::new();
    let mut records = 0u64;
    let mut done = 0u64;
    let now = chrono::Utc::now().timestamp_micros();
    let workers = decode_workers();
    for path in all.files() {
        let name = path.display().to_string();
        if is_json_lines(path)? {
            // JSON lines: decoded on worker threads, evaluated here in input order.
            let cx = DecodeContext {
                source: "hunt".into(),
                location: name.clone(),
                ingest_time: now,
                category: None,
                shape: None,
            };
            let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
            let mut rejected = 0u64;
            let projection = hunt.projection();
            detect::scan::decode_json_lines_projected(
                file,
                &cx,
                projection.as_ref(),
                workers,
                detect::scan::BLOCK_BYTES,
                |mut d| {
                    d.records
                        .retain(|r| r.event_time >= from && r.event_time < to);
                    records += d.records.len() as u64;
                    rejected += d.rejected.len() as u64;
                    keep(&mut alerts, hunt.feed(&d.records));
                    done += d.bytes;
                    bar.set_position(done);
                    Ok::<(), std::convert::Infallible>(())
                },
            )
            .with_context(|| format!("hunting over {name}"))?
            .unwrap_or_else(|e| match e {});
            if rejected > 0 {
                tracing::warn!(file = %name, rejected, "items not decoded");
            }
            continue;
        }
        let source = FileSource::new(FileSourceConfig::new("hunt", vec![name.clone()]))?;
        let progress = Progress::default();
        for batch in source.batches(now, progress.clone()) {
            let batch = batch?;
            let mut rs = batch.records;
            rs.retain(|r| r.event_time >= from && r.event_time < to);
            records += rs.len() as u64;
            keep(&mut alerts, hunt.feed(&rs));
            bar.set_position(done + progress.bytes());
        }
        done += progress.bytes();
    }
    bar.finish_and_clear();
    Ok(Outcome {
        alerts,
        records,
        matches: hunt.matches,
        elapsed: start.elapsed(),
    })
}

/// Threads that decode JSON lines: one per core.
pub(crate) fn decode_workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Whether a file holds JSON lines (the file source's own format detection; `.csv` files never do).
fn is_json_lines(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read;
    if path
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".csv")
    {
        return Ok(false);
    }
    // The first MiB, as the file source looks at.
    let mut head = vec![0u8; 1 << 20];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    head.truncate(len);
    Ok(model::detect_format(&head) == model::Format::JsonLines)
}

fn sql_time(micros: i64) -> String {
    model::format_micros(micros)
}

fn from_archive(
    data_dir: &Path,
    hunt: &mut Hunt,
    from: i64,
    to: i64,
    quiet: bool,
) -> anyhow::Result<Outcome> {
    from_archive_with(data_dir, hunt, from, to, quiet, true)
}

/// [`from_archive`]; `columnar` false decodes every batch the old way ([`decode_rows`]), for comparing.
pub(crate) fn from_archive_with(
    data_dir: &Path,
    hunt: &mut Hunt,
    from: i64,
    to: i64,
    quiet: bool,
    columnar: bool,
) -> anyhow::Result<Outcome> {
    let dir = data_dir.join("archive");
    let start = Instant::now();
    let mut alerts = BTreeMap::new();
    let mut records = 0u64;
    if !dir.exists() {
        return Ok(Outcome {
            alerts,
            records,
            matches: 0,
            elapsed: start.elapsed(),
        });
    }
    let engine = store::query::QueryEngine::new(&dir)?;
    let tables: Vec<(Category, String, u64)> = engine
        .tables()
        .iter()
        .filter(|t| t.rows > 0)
        .map(|t| (t.category, t.name.clone(), t.rows))
        .collect();
    let total = tables.iter().map(|t| t.2).sum();
    let bar = bar(
        quiet,
        total,
        "{spinner} hunting [{bar:30}] {human_pos}/{human_len} rows {per_sec} eta {eta}",
    );
    let mut range = Vec::new();
    if from > i64::MIN {
        range.push(format!("\"_EventTime\" >= TIMESTAMP '{}'", sql_time(from)));
    }
    if to < i64::MAX {
        range.push(format!("\"_EventTime\" < TIMESTAMP '{}'", sql_time(to)));
    }
    let filter = if range.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", range.join(" AND "))
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for (category, name, _) in tables {
        let sql = format!("SELECT * FROM \"{name}\" {filter} ORDER BY \"_EventTime\"");
        let mut stream = rt.block_on(engine.sql_stream(&sql))?;
        let cx = table_context(category, &name);
        while let Some(batch) = rt.block_on(stream.next_batch()) {
            let batch = batch?;
            bar.inc(batch.num_rows() as u64);
            // Column-wise straight from the Arrow arrays; batches it does not map are decoded.
            let columns = if columnar {
                crate::hunt_columns::to_columns(&batch, category)
            } else {
                None
            };
            if let Some(columns) = columns {
                records += columns.len() as u64;
                keep(&mut alerts, hunt.feed_columns(&columns));
            } else {
                let rs = decode_rows(&batch, &cx)?;
                records += rs.len() as u64;
                keep(&mut alerts, hunt.feed(&rs));
            }
        }
    }
    bar.finish_and_clear();
    Ok(Outcome {
        alerts,
        records,
        matches: hunt.matches,
        elapsed: start.elapsed(),
    })
}

/// How the rows of archive table `name` (of `category`) are decoded for [`decode_rows`]: Log Analytics rows
/// of that category, source `hunt`.
pub(crate) fn table_context(category: Category, name: &str) -> DecodeContext {
    DecodeContext {
        source: "hunt".into(),
        location: name.to_owned(),
        ingest_time: 0,
        category: Some(category),
        shape: Some(Shape::LogAnalytics),
    }
}

/// An archive batch's rows as canonical records the old way: written as JSON lines, each decoded as a Log
/// Analytics row ([`model::decode_record`]), with its archived `_Key`. Rows that do not decode are logged and
/// left out.
pub(crate) fn decode_rows(
    batch: &store::query::RecordBatch,
    cx: &DecodeContext,
) -> anyhow::Result<Vec<Record>> {
    let mut json = Vec::new();
    store::query::write_json_lines(std::slice::from_ref(batch), &mut json)?;
    // The archived key of each row, read from its column (one JSON line per row, in order).
    let keys = row_keys(batch);
    let mut rs: Vec<Record> = Vec::with_capacity(batch.num_rows());
    let lines = json.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    for (i, line) in lines.enumerate() {
        let text = std::str::from_utf8(line)?;
        match model::decode_record(text, cx) {
            Ok(decoded) => {
                for mut r in decoded {
                    if let Some(Some(k)) = keys.get(i) {
                        (*k).clone_into(&mut r.key);
                    }
                    rs.push(r);
                }
            }
            Err(e) => {
                tracing::warn!(table = %cx.location, error = %e, "archived row not decoded");
            }
        }
    }
    Ok(rs)
}

/// Per row of an archive batch, its `_Key` (text columns are `Utf8View`; `Utf8` read too).
fn row_keys(batch: &store::query::RecordBatch) -> Vec<Option<&str>> {
    use store::query::AsArray;
    let Some(col) = batch.column_by_name("_Key") else {
        return Vec::new();
    };
    if let Some(a) = col.as_string_view_opt() {
        return a.iter().collect();
    }
    if let Some(a) = col.as_string_opt::<i32>() {
        return a.iter().collect();
    }
    if let Some(a) = col.as_string_opt::<i64>() {
        return a.iter().collect();
    }
    Vec::new()
}

fn print(out: &Outcome, json: bool, rules: usize) -> anyhow::Result<()> {
    let mut alerts: Vec<&Alert> = out.alerts.values().collect();
    alerts.sort_by(|a, b| {
        a.finding_info
            .first_seen_time
            .cmp(&b.finding_info.first_seen_time)
            .then_with(|| a.uid().cmp(b.uid()))
    });
    if json {
        for a in alerts {
            output::line(&serde_json::to_string(a)?);
        }
        return Ok(());
    }
    crate::alerts::print_table(alerts.iter().copied());
    let secs = out.elapsed.as_secs_f64().max(1e-9);
    output::line(&format!(
        "{} alert(s) from {} match(es); {} records x {rules} rule(s) in {:.2}s ({:.0} records/s)",
        out.alerts.len(),
        out.matches,
        out.records,
        secs,
        out.records as f64 / secs
    ));
    Ok(())
}
