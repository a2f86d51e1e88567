//! entrail's own health, checked by `entrail run` on every pass ([`Pipeline::watch`]): ingest lag and
//! future timestamps (`crate::lag`), the host clock against time servers (`crate::clock`, every
//! `clock.interval`), silence per source and category (`[silence]`, every `check_interval`) and, with
//! `[integrity] publish_alerts`, the integrity chain's new checkpoints (`entrail.chain_head`). Every
//! change of state becomes an OCSF Detection Finding ([`finding`]) stored in the alert store beside the
//! detections (the `Alerts` table) and delivered through `[[alerts.destinations]]` from each destination's
//! own offset, at least once.

mod config;
pub mod finding;
mod head;
mod silence;

pub(crate) use config::validate;
pub use config::{RawSilenceConfig, SilenceRunConfig, WatchConfig};
pub use finding::Finding;
pub use head::{head_of, parse_heads};
pub use silence::{SilentPair, load_state as load_silence_state};

use crate::clock::ClockStatus;
use crate::detection::{DeliveryReport, Detector};
use crate::lag::{LagEvent, LagTracker};
use crate::runtime::{Pipeline, PipelineError};
use chrono::{DateTime, Utc};
use detect::alert::Alert;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The checks' state, held by the [`Pipeline`].
#[derive(Debug)]
pub struct Watch {
    lag: Arc<LagTracker>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_clock: Option<Instant>,
    /// The clock was out of bounds at the last check (an alert was raised).
    clock_bad: Option<bool>,
    silence: silence::SilenceRun,
    head: head::HeadWatch,
}

/// What one round of checks did.
#[derive(Debug, Clone, Default)]
pub struct WatchReport {
    /// Findings raised (alert versions stored).
    pub alerts: Vec<Alert>,
    /// The clock check, when one ran.
    pub clock: Option<ClockStatus>,
    /// Per destination.
    pub deliveries: Vec<DeliveryReport>,
}

impl Watch {
    /// The checks of a data directory (lag alert states are taken back from its last snapshot).
    pub fn new(config: &WatchConfig, data_dir: &Path) -> Watch {
        let saved = crate::lag::load_status(data_dir);
        let clock_bad = crate::clock::load_status(data_dir).map(|s| !s.ok);
        Watch {
            lag: Arc::new(LagTracker::new(config.lag.clone(), &saved)),
            inner: Mutex::new(Inner {
                clock_bad,
                ..Inner::default()
            }),
        }
    }

    /// The lag tracker the collectors feed.
    pub fn lag(&self) -> &Arc<LagTracker> {
        &self.lag
    }
}

fn secs(s: f64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(s.max(0.0) as u64)).to_string()
}

fn lag_finding(e: LagEvent) -> Finding {
    match e {
        LagEvent::High {
            source,
            category,
            summary,
            threshold_s,
            at_us,
        } => Finding {
            rule: finding::RULE_INGEST_LAG,
            title: "Ingest lag above threshold",
            severity_id: 3,
            entity: format!("{source}/{}", category.name()),
            categories: vec![category.name().to_owned()],
            source: Some(source),
            detail: format!(
                "p95 lag {} over the last window (p50 {}, p99 {}, max {}, {} records), threshold {}",
                secs(summary.p95_s),
                secs(summary.p50_s),
                secs(summary.p99_s),
                secs(summary.max_s),
                summary.records,
                secs(threshold_s)
            ),
            first_ms: at_us / 1000,
            at_ms: at_us / 1000,
        },
        LagEvent::Future {
            source,
            category,
            summary,
            tolerance_s,
            at_us,
        } => Finding {
            rule: finding::RULE_FUTURE_TIMESTAMP,
            title: "Records with event times in the future",
            severity_id: 3,
            entity: format!("{source}/{}", category.name()),
            categories: vec![category.name().to_owned()],
            source: Some(source),
            detail: format!(
                "{} records more than {} ahead of their receipt (furthest {} ahead)",
                summary.future,
                secs(tolerance_s),
                secs(summary.max_future_s)
            ),
            first_ms: at_us / 1000,
            at_ms: at_us / 1000,
        },
    }
}

impl Pipeline {
    /// The health checks' state (the lag tracker the collectors feed).
    pub fn watcher(&self) -> &Watch {
        &self.watch
    }

    /// One round of checks now: see [`Pipeline::watch_at`].
    pub fn watch(&mut self) -> Result<WatchReport, PipelineError> {
        self.watch_at(Utc::now(), false)
    }

    /// One round of checks with `now` as the silence detector's time (a simulated clock in tests): lag
    /// transitions, the clock when due, silence when due (`force`: clock and silence now, whatever their
    /// interval). Findings are stored and delivered; a delivery failure is in the report, not an error.
    pub fn watch_at(
        &mut self,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<WatchReport, PipelineError> {
        let config = self.config().watch.clone();
        let data_dir = self.config().data_dir.clone();
        let mut report = WatchReport::default();
        let mut findings: Vec<Finding> = self
            .watch
            .lag
            .evaluate()
            .into_iter()
            .map(lag_finding)
            .collect();
        if config.lag.enabled {
            self.watch.lag.save(&crate::lag::status_path(&data_dir));
        }
        let mut inner = self
            .watch
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock_due = !config.clock.servers.is_empty()
            && (force || inner.next_clock.is_none_or(|t| Instant::now() >= t));
        if clock_due {
            inner.next_clock = Some(Instant::now() + config.clock.interval);
            let status = crate::clock::check(&config.clock);
            self.metrics.clock_checked(&status);
            crate::clock::save_status(&data_dir, &status);
            let answered = status.offset_ms.is_some();
            if answered {
                let bad = !status.ok;
                if bad && inner.clock_bad != Some(true) {
                    findings.push(Finding {
                        rule: finding::RULE_CLOCK_SKEW,
                        title: "Host clock off",
                        severity_id: 3,
                        entity: status.server.clone().unwrap_or_default(),
                        categories: Vec::new(),
                        source: None,
                        detail: format!(
                            "offset {:+.0} ms (round trip {:.0} ms), more than {:.0} ms",
                            status.offset_ms.unwrap_or_default(),
                            status.delay_ms.unwrap_or_default(),
                            status.max_offset_ms
                        ),
                        first_ms: Utc::now().timestamp_millis(),
                        at_ms: Utc::now().timestamp_millis(),
                    });
                }
                inner.clock_bad = Some(bad);
            }
            report.clock = Some(status);
        }
        findings.extend(
            inner
                .silence
                .check(&config.silence, &data_dir, now, force)?,
        );
        if config.publish_head {
            findings.extend(inner.head.poll(&data_dir, Utc::now().timestamp_millis()));
        }
        drop(inner);
        if findings.is_empty() {
            return Ok(report);
        }
        let now_ms = Utc::now().timestamp_millis();
        report.alerts = findings.iter().map(|f| f.to_alert(now_ms)).collect();
        for a in &report.alerts {
            self.metrics.alert_raised("health", &a.severity, 1);
        }
        for a in report.alerts.iter().filter(|a| a.severity_id > 1) {
            tracing::warn!(rule = %a.finding_info.analytic.uid, message = %a.message, "health finding");
        }
        report.deliveries = self.raise(&report.alerts)?;
        Ok(report)
    }

    /// Stores alerts raised outside the rules in the alert store (beside the detections) and delivers them
    /// to every destination (with whatever else is pending there).
    pub fn raise(&mut self, alerts: &[Alert]) -> Result<Vec<DeliveryReport>, PipelineError> {
        let config = self.config().detection.clone();
        let mut slot = self
            .detector
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(Detector::open(&config, &self.config().data_dir)?);
        }
        let Some(detector) = slot.as_mut() else {
            return Ok(Vec::new());
        };
        detector.store_alerts(alerts)?;
        let mut reports = Vec::new();
        let mut destinations = Vec::new();
        for c in config.destinations {
            let id = c.id().to_owned();
            match c.build() {
                Ok(d) => destinations.push(d),
                Err(e) => reports.push(DeliveryReport {
                    destination: id,
                    error: Some(e.to_string()),
                    ..DeliveryReport::default()
                }),
            }
        }
        reports.extend(detector.deliver(&mut destinations));
        Ok(reports)
    }
}

#[cfg(test)]
mod tests;
