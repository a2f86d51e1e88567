//! `entrail alerts list|show`: the alerts the detection consumer stored (docs/alerts.md), and the alert
//! table shared by `hunt` and `demo`.

use crate::output;
use anyhow::bail;
use clap::Subcommand;
use detect::alert::Alert;
use std::path::Path;
use std::process::ExitCode;

/// `entrail alerts` actions.
#[derive(Debug, Subcommand)]
pub(crate) enum AlertsAction {
    /// List stored alerts, newest first.
    List {
        /// Only alerts last seen at or after this time (RFC 3339, a date, or a duration before now: `24h`).
        #[arg(long)]
        since: Option<String>,
        /// Print one OCSF alert JSON per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one alert (OCSF JSON); a unique prefix of its id is enough.
    Show {
        /// Alert id (`finding_info.uid`) or a unique prefix.
        id: String,
    },
}

/// Runs an `alerts` action.
pub(crate) fn run(data_dir: &Path, action: &AlertsAction) -> anyhow::Result<ExitCode> {
    let alerts = pipeline::detection::load_alerts(data_dir)?;
    match action {
        AlertsAction::List { since, json } => {
            let since = since
                .as_deref()
                .map(|s| crate::hunt::parse_time(s, "--since"))
                .transpose()?
                .map(|us| us / 1000);
            let shown: Vec<&Alert> = alerts
                .iter()
                .filter(|a| since.is_none_or(|s| a.finding_info.last_seen_time >= s))
                .collect();
            if *json {
                for a in shown {
                    output::line(&serde_json::to_string(a)?);
                }
            } else {
                print_table(shown.iter().copied());
                output::line(&format!("{} alert(s)", shown.len()));
            }
            Ok(ExitCode::SUCCESS)
        }
        AlertsAction::Show { id } => {
            let found: Vec<&Alert> = alerts
                .iter()
                .filter(|a| a.uid().starts_with(id.as_str()))
                .collect();
            match found.as_slice() {
                [a] => {
                    output::line(&serde_json::to_string_pretty(a)?);
                    Ok(ExitCode::SUCCESS)
                }
                [] => bail!("no alert with id {id:?}"),
                _ => bail!(
                    "{} alerts start with {id:?}; give more of the id",
                    found.len()
                ),
            }
        }
    }
}

fn time(ms: i64) -> String {
    let t = model::format_micros(ms.saturating_mul(1000));
    // Seconds are enough in a table.
    t.get(..19).map_or(t.clone(), |s| format!("{s}Z"))
}

/// At most `max` characters, `…` marking a cut (long resource ids would widen the table).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Prints alerts as a table: id, first and last seen, severity, count, rule, entity.
pub(crate) fn print_table<'a>(alerts: impl Iterator<Item = &'a Alert>) {
    let mut t = output::table(&[
        "alert",
        "first seen",
        "last seen",
        "severity",
        "count",
        "rule",
        "entity",
    ]);
    let mut any = false;
    for a in alerts {
        any = true;
        t.add_row(vec![
            a.uid().get(..12).unwrap_or(a.uid()).to_owned(),
            time(a.finding_info.first_seen_time),
            time(a.finding_info.last_seen_time),
            a.severity.clone(),
            a.count.to_string(),
            a.finding_info.title.clone(),
            cut(&a.unmapped.entity, 80),
        ]);
    }
    if any {
        output::line(&t.to_string());
    }
}

/// `entrail demo`: runs the detection consumer over what the demo ingested and prints the alerts it raised.
pub(crate) fn demo(pipeline: &mut pipeline::Pipeline, data_dir: &Path) -> anyhow::Result<()> {
    let report = pipeline.detect()?;
    let alerts = pipeline::detection::load_alerts(data_dir)?;
    output::line(&format!(
        "\nDetection: {} records through the built-in analytics, {} match(es), {} alert(s):",
        report.records,
        report.matches,
        alerts.len()
    ));
    print_table(alerts.iter());
    output::line(&format!(
        "  entrail -d {0} alerts list\n  entrail -d {0} query \"SELECT Title, Severity, Count, Entity FROM Alerts ORDER BY Time DESC\"",
        data_dir.display()
    ));
    Ok(())
}

/// Prints what a detection run did (`entrail run`); with `keep_going` a failure is reported and retried next
/// pass instead of ending the run.
pub(crate) fn report_detection(
    result: Result<pipeline::detection::DetectionReport, pipeline::PipelineError>,
    keep_going: bool,
) -> anyhow::Result<()> {
    let r = match result {
        Ok(r) => r,
        Err(e) if keep_going => {
            output::line(&format!(
                "detection error, retried next pass (nothing skipped): {:#}",
                anyhow::Error::from(e)
            ));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if r.records == 0
        && r.deliveries
            .iter()
            .all(|d| d.delivered == 0 && d.error.is_none())
    {
        return Ok(());
    }
    output::line(&format!(
        "detection: {} records, {} match(es), {} new alert(s), {} updated (offset {} -> {})",
        r.records, r.matches, r.new_alerts, r.updated_alerts, r.from, r.to
    ));
    for d in &r.deliveries {
        match &d.error {
            None => output::line(&format!(
                "alerts -> {}: {} delivered",
                d.destination, d.delivered
            )),
            Some(e) => output::line(&format!(
                "alerts -> {}: {} delivered, then failed (retried next pass, nothing skipped): {e}",
                d.destination, d.delivered
            )),
        }
    }
    Ok(())
}
