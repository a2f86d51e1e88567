//! `entrail report volume [--since 30d] [--until T] [--json] [--daily]` and `entrail report --html <file>`:
//! volume and cost per category and sink, and the self-contained HTML report (docs/report.md).

use crate::output;
use anyhow::Context;
use clap::{Args, Subcommand};
use pipeline::report::{self, VolumeReport, Window};
use std::path::PathBuf;
use std::process::ExitCode;

/// `entrail report`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ReportArgs {
    /// Which report (or `--html`).
    #[command(subcommand)]
    pub action: Option<ReportAction>,
    /// Write one self-contained HTML page (coverage, volume charts, ingest lag, alerts, sink volume).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The days covered.
    #[command(flatten)]
    pub window: WindowArgs,
}

/// The window of a report, in whole UTC days.
#[derive(Debug, Args)]
pub(crate) struct WindowArgs {
    /// From: a duration before now (`30d`), a date (`2024-03-04`) or an RFC 3339 time; whole UTC days.
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Up to (exclusive): same forms (default: now).
    #[arg(long)]
    pub until: Option<String>,
}

/// `entrail report` actions.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportAction {
    /// Records, raw bytes and archive bytes per category per day; bytes sent and filtered per sink per day;
    /// with `[report.price_per_gb]`, the monthly cost of each sink and what its route filter saves.
    Volume {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Also print one row per category and day.
        #[arg(long)]
        daily: bool,
        /// The days covered.
        #[command(flatten)]
        window: WindowArgs,
    },
}

fn window(w: &WindowArgs) -> anyhow::Result<Window> {
    let micros = |us: i64| chrono::DateTime::from_timestamp_micros(us).context("time out of range");
    let since = micros(crate::hunt::parse_time(&w.since, "--since")?)?;
    let until = match &w.until {
        Some(u) => micros(crate::hunt::parse_time(u, "--until")?)?,
        None => chrono::Utc::now(),
    };
    if until <= since {
        anyhow::bail!("--until must be after --since");
    }
    Ok(Window::new(since, until))
}

/// Runs `entrail report`.
pub(crate) fn run(config: &pipeline::Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    match (&args.action, &args.html) {
        (
            Some(ReportAction::Volume {
                json,
                daily,
                window: w,
            }),
            _,
        ) => {
            let w = window(w)?;
            let r = crate::query::block_on(report::volume(&config.data_dir, w, &config.report))??;
            if *json {
                output::line(&serde_json::to_string_pretty(&r)?);
            } else {
                print(&r, *daily);
            }
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(path)) => {
            let w = window(&args.window)?;
            let input =
                crate::query::block_on(report::collect_page(config, w, chrono::Utc::now()))??;
            let page = report::render(&input);
            std::fs::write(path, &page).with_context(|| format!("writing {}", path.display()))?;
            output::line(&format!(
                "wrote {} ({}; {} to {})",
                path.display(),
                output::bytes(page.len() as u64),
                w.first_day,
                w.last_day
            ));
            Ok(ExitCode::SUCCESS)
        }
        (None, None) => {
            eprintln!("entrail report: give a report (`entrail report volume`) or `--html <file>`");
            Ok(ExitCode::from(2))
        }
    }
}

fn num(v: f64) -> String {
    format!("{v:.0}")
}

fn money(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn print(r: &VolumeReport, daily: bool) {
    output::line(&format!(
        "{} to {} ({} days, UTC, by event time)",
        r.window.first_day, r.window.last_day, r.days
    ));
    let mut t = output::table(&[
        "category",
        "table",
        "records",
        "records/day",
        "raw bytes",
        "raw/day",
        "archive bytes",
        "archive/day",
    ]);
    for c in &r.categories {
        t.add_row(vec![
            c.category.clone(),
            c.table.clone(),
            c.records.to_string(),
            num(c.records_per_day),
            output::bytes(c.raw_bytes),
            output::bytes(c.raw_bytes_per_day as u64),
            output::bytes(c.archive_bytes),
            output::bytes(c.archive_bytes_per_day as u64),
        ]);
    }
    t.add_row(vec![
        "total".to_owned(),
        String::new(),
        r.totals.records.to_string(),
        num(r.totals.records as f64 / f64::from(r.days)),
        output::bytes(r.totals.raw_bytes),
        output::bytes(r.totals.raw_bytes / u64::from(r.days.max(1))),
        output::bytes(r.totals.archive_bytes),
        output::bytes(r.totals.archive_bytes / u64::from(r.days.max(1))),
    ]);
    output::line(&t.to_string());
    if daily {
        let mut t = output::table(&["day", "category", "records", "raw bytes", "archive bytes"]);
        for c in &r.categories {
            for d in &c.days {
                t.add_row(vec![
                    d.day.clone(),
                    c.category.clone(),
                    d.records.to_string(),
                    d.raw_bytes.to_string(),
                    d.archive_bytes.to_string(),
                ]);
            }
        }
        output::line(&t.to_string());
    }
    if r.sinks.is_empty() {
        output::line("no sink traffic recorded in this window");
    } else {
        let mut t = output::table(&[
            "sink",
            "sent records",
            "sent bytes",
            "sent/day",
            "filtered records",
            "filtered bytes",
            "price/GB",
            "cost/month",
            "filter saves/month",
        ]);
        for s in &r.sinks {
            t.add_row(vec![
                s.sink.clone(),
                s.total.sent_records.to_string(),
                output::bytes(s.total.sent_bytes),
                output::bytes(s.sent_bytes_per_day as u64),
                s.total.filtered_records.to_string(),
                output::bytes(s.total.filtered_bytes),
                money(s.price_per_gb),
                money(s.monthly_cost),
                money(s.monthly_savings),
            ]);
        }
        output::line(&t.to_string());
        output::line(&format!(
            "priced sinks: {:.2} per month, route filters save {:.2} per month (30-day month, GB = 10^9 bytes)",
            r.totals.monthly_cost, r.totals.monthly_savings
        ));
    }
    if !r.unmatched_prices.is_empty() {
        output::line(&format!(
            "priced in [report.price_per_gb] but no traffic in this window: {}",
            r.unmatched_prices.join(", ")
        ));
    }
}
