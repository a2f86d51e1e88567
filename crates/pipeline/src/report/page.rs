//! What the HTML report shows, gathered from a data directory: the volume report, the coverage matrix (the
//! last saved `entrail coverage --json` result, `<data_dir>/coverage.json`, else computed offline from what
//! entrail received), the ingest lag `entrail run` last saved (`crate::lag`), and the alerts.

use super::ReportError;
use super::html::HtmlInput;
use super::volume::{Window, volume};
use crate::coverage::{LOW_VOLUME, TENANT_CATEGORIES};
use chrono::{DateTime, Utc};
use model::{Category, Requirement};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File holding the last coverage result (`entrail coverage --json > <data_dir>/coverage.json`).
pub const COVERAGE_FILE: &str = "coverage.json";

/// Where the coverage matrix comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageSource {
    /// A saved `entrail coverage --json` result.
    Saved {
        /// The file.
        path: PathBuf,
        /// When that check ran.
        at: String,
    },
    /// Computed from the data directory alone: diagnostic settings were not read.
    Offline,
}

/// One row of the coverage matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    /// `tenant`, a subscription or a resource.
    pub scope: String,
    /// Category.
    pub category: String,
    /// `required`, `recommended` or `optional`.
    pub requirement: String,
    /// Destinations (`event_hub (setting)`), or `not checked` offline.
    pub exported_to: String,
    /// Records entrail holds.
    pub records: u64,
    /// When the last one was received.
    pub last_received: Option<String>,
    /// Records per day.
    pub rate_per_day: Option<f64>,
    /// `pass`, `missing`, `silent`, `not_licensed`; offline: `receiving`, `silent`, `never_received`.
    pub verdict: String,
    /// Why.
    pub reason: String,
}

/// The coverage matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageMatrix {
    /// Where it comes from.
    pub source: CoverageSource,
    /// Rows.
    pub rows: Vec<CoverageRow>,
}

fn requirement_label(r: Requirement) -> String {
    format!("{r:?}").to_lowercase()
}

/// Reads a saved coverage result; `None` when absent or not a coverage report.
pub(super) fn saved(data_dir: &Path) -> Option<CoverageMatrix> {
    let path = data_dir.join(COVERAGE_FILE);
    let file = std::fs::File::open(&path).ok()?;
    let bytes = model::limits::read_capped(file, 16 << 20).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    // `--fix --json` wraps the report in {"coverage": ...}.
    let report = v.get("coverage").filter(|c| c.is_object()).unwrap_or(&v);
    let rows = report.get("rows")?.as_array()?;
    let text =
        |r: &serde_json::Value, k: &str| r.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let rows = rows
        .iter()
        .map(|r| {
            let dests: Vec<String> = r
                .get("destinations")
                .and_then(|d| d.as_array())
                .map(|d| {
                    d.iter()
                        .map(|x| {
                            format!(
                                "{} ({})",
                                text(x, "kind").unwrap_or_default(),
                                text(x, "setting").unwrap_or_default()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            CoverageRow {
                scope: text(r, "scope").unwrap_or_default(),
                category: text(r, "category").unwrap_or_default(),
                requirement: text(r, "requirement").unwrap_or_default(),
                exported_to: if dests.is_empty() {
                    "-".to_owned()
                } else {
                    dests.join(", ")
                },
                records: r.get("records").and_then(|x| x.as_u64()).unwrap_or(0),
                last_received: text(r, "last_received"),
                rate_per_day: r.get("rate_per_day").and_then(|x| x.as_f64()),
                verdict: text(r, "verdict").unwrap_or_default(),
                reason: text(r, "reason").unwrap_or_default(),
            }
        })
        .collect();
    Some(CoverageMatrix {
        source: CoverageSource::Saved {
            at: text(report, "at").unwrap_or_default(),
            path,
        },
        rows,
    })
}

/// The matrix from what entrail received (`stats.json`): required and recommended categories always,
/// others when received. A category is `silent` when nothing arrived within `silence(c)`.
pub fn offline_coverage(
    data_dir: &Path,
    silence: &dyn Fn(Category) -> Option<Duration>,
    now: DateTime<Utc>,
) -> CoverageMatrix {
    let received = crate::coverage::received(data_dir);
    let mut cats: Vec<Category> = TENANT_CATEGORIES
        .iter()
        .copied()
        .filter(|c| c.requirement() != Requirement::Optional || received.contains_key(c))
        .collect();
    let others: Vec<Category> = received
        .keys()
        .filter(|c| !cats.contains(c))
        .copied()
        .collect();
    cats.extend(others);
    let rows = cats
        .into_iter()
        .map(|c| {
            let got = received.get(&c).copied().unwrap_or_default();
            let rate = match (got.first_event, got.last_event) {
                (Some(a), Some(b)) => {
                    Some(got.records as f64 * 86_400.0 / (b - a).num_seconds().max(3600) as f64)
                }
                _ => None,
            };
            let ago = got
                .last_received
                .map(|t| (now - t).to_std().unwrap_or(Duration::ZERO));
            let (verdict, reason) = match (ago, silence(c)) {
                (None, _) => ("never_received", "no record received".to_owned()),
                (Some(_), None) => (
                    "receiving",
                    "arrival not checked for this low-volume category".to_owned(),
                ),
                (Some(a), Some(limit)) if a <= limit => (
                    "receiving",
                    format!("last record {} ago", humantime::format_duration(secs(a))),
                ),
                (Some(a), Some(limit)) => (
                    "silent",
                    format!(
                        "nothing received for {} (threshold {})",
                        humantime::format_duration(secs(a)),
                        humantime::format_duration(limit)
                    ),
                ),
            };
            CoverageRow {
                scope: "tenant".to_owned(),
                category: c.name().to_owned(),
                requirement: requirement_label(c.requirement()),
                exported_to: "not checked".to_owned(),
                records: got.records,
                last_received: got
                    .last_received
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                rate_per_day: rate,
                verdict: verdict.to_owned(),
                reason,
            }
        })
        .collect();
    CoverageMatrix {
        source: CoverageSource::Offline,
        rows,
    }
}

fn secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

/// The silence threshold offline: `[coverage]`'s when configured, else 24 hours except for low-volume
/// categories (not checked), as `entrail coverage` does by default.
fn default_silence(c: Category) -> Option<Duration> {
    (!LOW_VOLUME.contains(&c)).then_some(Duration::from_secs(86_400))
}

/// Gathers everything the page shows for `window`.
pub async fn collect(
    config: &crate::Config,
    window: Window,
    now: DateTime<Utc>,
) -> Result<HtmlInput, ReportError> {
    let data_dir = &config.data_dir;
    let volume = volume(data_dir, window, &config.report).await?;
    let coverage = saved(data_dir).unwrap_or_else(|| match &config.coverage {
        Some(cov) => offline_coverage(data_dir, &|c| cov.silence_after(c), now),
        None => offline_coverage(data_dir, &default_silence, now),
    });
    let from_ms = window
        .first_day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let to_ms = from_ms + i64::from(window.days()) * 86_400_000;
    let alerts = crate::detection::load_alerts(data_dir)
        .map_err(ReportError::pipeline("alerts"))?
        .into_iter()
        .filter(|a| {
            a.finding_info.last_seen_time >= from_ms && a.finding_info.first_seen_time < to_ms
        })
        .collect();
    Ok(HtmlInput {
        title: format!("entrail report: {}", data_dir.display()),
        generated_at: now,
        volume,
        coverage,
        lag: crate::lag::load_status(data_dir),
        alerts,
    })
}
