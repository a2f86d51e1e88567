//! `entrail replay`: sends a time range of the archive to one sink again (latest revision of each record),
//! through the sink's routes and encoding, resumable, without touching the sink's live offset
//! (docs/sinks.md "Replay").

use crate::output;
use anyhow::Context;
use clap::Args;
use pipeline::replay::ReplayRequest;
use pipeline::{Config, Pipeline};
use std::process::ExitCode;

/// `entrail replay` arguments.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// First event time sent (RFC 3339, inclusive).
    #[arg(long)]
    pub from: String,
    /// Event time where the range ends (RFC 3339, exclusive).
    #[arg(long)]
    pub to: String,
    /// The sink id (from the config).
    #[arg(long)]
    pub sink: String,
    /// Only this category (repeatable; category or table name). Default: every category.
    #[arg(long)]
    pub category: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn time(s: &str, what: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .with_context(|| format!("--{what} {s:?} is not an RFC 3339 time"))
}

/// Runs the replay; exit 2 on bad arguments.
pub(crate) fn run(config: Config, args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let mut categories = Vec::new();
    for c in &args.category {
        match model::Category::from_name(c) {
            Some(c) => categories.push(c),
            None => {
                output::line(&format!("error: unknown category {c:?}"));
                return Ok(ExitCode::from(2));
            }
        }
    }
    let (from, to) = match (time(&args.from, "from"), time(&args.to, "to")) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => {
            output::line(&format!("error: {e:#}"));
            return Ok(ExitCode::from(2));
        }
    };
    let request = ReplayRequest {
        sink: args.sink.clone(),
        from,
        to,
        categories,
    };
    if request.from >= request.to {
        output::line("error: --from must be before --to");
        return Ok(ExitCode::from(2));
    }
    if !config.sinks.iter().any(|s| s.id() == request.sink) {
        let known: Vec<&str> = config.sinks.iter().map(|s| s.id()).collect();
        output::line(&format!(
            "error: no sink {:?} in the config (sinks: {})",
            request.sink,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
        return Ok(ExitCode::from(2));
    }
    let mut pipeline = Pipeline::open(config)?;
    let report = pipeline.replay(&request)?;
    if args.json {
        output::line(&serde_json::to_string_pretty(&report)?);
    } else if report.read.iter().all(|(_, n)| *n == 0) {
        output::line(&format!(
            "no archived records with event time in [{}, {}): 0 sent",
            args.from, args.to
        ));
    } else {
        for (category, n) in report.read.iter().filter(|(_, n)| *n > 0) {
            output::line(&format!("{category}: {n} records read from the archive"));
        }
        output::line(&format!(
            "replay to {}{}: {} sent, {} filtered by routes, {} sampled out",
            request.sink,
            if report.resumed { " (resumed)" } else { "" },
            report.sent,
            report.filtered,
            report.sampled
        ));
    }
    Ok(ExitCode::SUCCESS)
}
