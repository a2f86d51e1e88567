//! `entrail silence [--json] [--history D] [--basis ingest|event] [--at TIME]`: is each category still
//! arriving from each source? Exit 1 when one is silent now (docs/coverage.md, "Still arriving").

use crate::output;
use anyhow::Context;
use pipeline::silence::{self, SilenceConfig, SilenceEvent, TimeBasis};
use std::process::ExitCode;

/// What `entrail silence` was asked.
#[derive(Debug, Clone)]
pub(crate) struct SilenceArgs {
    /// Print JSON.
    pub json: bool,
    /// How much history teaches the baseline.
    pub history: String,
    /// Count records by ingest or event time.
    pub event_time: bool,
    /// Judge as of this time (RFC 3339) instead of now.
    pub at: Option<String>,
}

pub(crate) fn run(config: &pipeline::Config, args: &SilenceArgs) -> anyhow::Result<ExitCode> {
    let history = humantime::parse_duration(&args.history).context("--history")?;
    let now = match &args.at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .context("--at: not an RFC 3339 time")?
            .to_utc(),
        None => chrono::Utc::now(),
    };
    let from = now - chrono::TimeDelta::from_std(history).context("--history too long")?;
    let basis = if args.event_time {
        TimeBasis::Event
    } else {
        TimeBasis::Ingest
    };
    let archive = config.data_dir.join("archive");
    anyhow::ensure!(
        archive.is_dir(),
        "{}: no archive yet (run `entrail import` or `entrail run` first)",
        archive.display()
    );
    let rt = crate::collect::runtime()?;
    let counts = rt.block_on(silence::archive_counts(&archive, from, basis))?;
    let rows = silence::status(&counts, from, now, SilenceConfig::default(), 48);
    if args.json {
        output::line(&serde_json::to_string_pretty(&rows)?);
    } else {
        let mut t = output::table(&[
            "source",
            "category",
            "expected 24h",
            "received 24h",
            "state",
            "events",
        ]);
        for r in &rows {
            let events: Vec<String> = r
                .events
                .iter()
                .map(|e| match e {
                    SilenceEvent::Stopped { since, .. } => format!("stopped since {since}"),
                    SilenceEvent::Dropped {
                        since, observed, ..
                    } => {
                        format!("dropped since {since} ({observed} received)")
                    }
                    SilenceEvent::Resumed { at, .. } => format!("resumed {at}"),
                })
                .collect();
            t.add_row(vec![
                r.source.clone(),
                r.category.clone(),
                format!("{:.0}", r.expected_24h),
                r.observed_24h.to_string(),
                if r.silent { "SILENT" } else { "ok" }.to_owned(),
                events.join("\n"),
            ]);
        }
        output::line(&t.to_string());
        output::line(&format!(
            "{} source/category pair(s) with at least 48h of history; {} silent",
            rows.len(),
            rows.iter().filter(|r| r.silent).count()
        ));
    }
    Ok(if rows.iter().any(|r| r.silent) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
