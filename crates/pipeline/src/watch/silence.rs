//! Silence detection inside `entrail run`: every `check_interval` the archive's hourly counts per source
//! and category are brought up to date (the whole history once, then only the last hours), the last day is
//! replayed through [`SilenceDetector`] against the baseline (learned by hour of week, or the configured
//! rate of `[silence.expected]`), and a change of state becomes a finding: `entrail.silence` when a pair
//! turns silent, `entrail.silence_ended` when it arrives again. The silent pairs are kept in
//! `silence-state.json`, so a restart neither repeats nor forgets an open silence.

use super::config::SilenceRunConfig;
use super::finding::{Finding, RULE_SILENCE, RULE_SILENCE_ENDED};
use crate::runtime::PipelineError;
use crate::silence::{
    Baseline, HourlyCounts, SilenceDetector, SilenceEvent, archive_counts, hour_of,
};
use chrono::{DateTime, Utc};
use model::Category;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A pair that is silent now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilentPair {
    /// Source.
    pub source: String,
    /// Category.
    pub category: String,
    /// `stopped` (nothing) or `dropped` (far below the baseline).
    pub kind: String,
    /// Start of the window that showed it (RFC 3339).
    pub since: String,
    /// When it was found.
    pub found: String,
    /// Records expected over the window.
    pub expected: f64,
    /// Records received over it.
    pub observed: u64,
}

// Never NaN: the floats are measured times and counts, so equality is total.
impl Eq for SilentPair {}

/// The state file.
pub(super) fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("silence-state.json")
}

/// The pairs silent at the last check (for `entrail status`).
pub fn load_state(data_dir: &Path) -> BTreeMap<String, SilentPair> {
    crate::status_file::load(&state_path(data_dir), "silence")
}

type Counts = BTreeMap<(String, Category), HourlyCounts>;

/// Counts and state between checks.
#[derive(Debug, Default)]
pub(crate) struct SilenceRun {
    counts: Counts,
    /// Hours up to here (exclusive) were loaded.
    loaded_until: Option<i64>,
    next_check: Option<DateTime<Utc>>,
    state: BTreeMap<String, SilentPair>,
    state_loaded: bool,
}

fn ms(t: &str) -> i64 {
    DateTime::parse_from_rfc3339(t).map_or(0, |d| d.timestamp_millis())
}

/// Runs a future to completion on a current-thread runtime of its own thread (callers may or may not be
/// inside a runtime).
fn block_on<T: Send>(f: impl std::future::Future<Output = T> + Send) -> Option<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .map(|rt| rt.block_on(f))
        })
        .join()
        .ok()
        .flatten()
    })
}

impl SilenceRun {
    /// Checks when due at `now`: the findings of the pairs whose state changed.
    pub(crate) fn check(
        &mut self,
        config: &SilenceRunConfig,
        data_dir: &Path,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Vec<Finding>, PipelineError> {
        if !config.enabled || (!force && self.next_check.is_some_and(|n| now < n)) {
            return Ok(Vec::new());
        }
        self.next_check = Some(
            now + chrono::TimeDelta::from_std(config.check_interval)
                .unwrap_or(chrono::TimeDelta::minutes(15)),
        );
        if !self.state_loaded {
            self.state = load_state(data_dir);
            self.state_loaded = true;
        }
        self.refresh(config, data_dir, now)?;
        let silent_now = self.evaluate(config, now);
        let mut findings = Vec::new();
        let at_ms = now.timestamp_millis();
        for (key, p) in &silent_now {
            if self.state.contains_key(key) {
                continue;
            }
            findings.push(Finding {
                rule: RULE_SILENCE,
                title: "Log category stopped arriving",
                severity_id: 4,
                entity: key.clone(),
                categories: vec![p.category.clone()],
                source: Some(p.source.clone()),
                detail: format!(
                    "{} since {}: {} records arrived, {:.0} expected",
                    p.kind, p.since, p.observed, p.expected
                ),
                first_ms: ms(&p.since),
                at_ms,
            });
        }
        for (key, p) in &self.state {
            if silent_now.contains_key(key) {
                continue;
            }
            findings.push(Finding {
                rule: RULE_SILENCE_ENDED,
                title: "Log category arrives again",
                severity_id: 1,
                entity: key.clone(),
                categories: vec![p.category.clone()],
                source: Some(p.source.clone()),
                detail: format!("silent ({}) since {}, arriving again", p.kind, p.since),
                first_ms: ms(&p.since),
                at_ms,
            });
        }
        self.state = silent_now;
        crate::status_file::save(&state_path(data_dir), &self.state, "silence");
        Ok(findings)
    }

    /// Brings the hourly counts up to `now`: all of the history the first time, then from two hours before
    /// the last load (late records of recent hours).
    fn refresh(
        &mut self,
        config: &SilenceRunConfig,
        data_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<(), PipelineError> {
        let archive = data_dir.join("archive");
        let now_h = hour_of(now);
        let history_h = (config.history.as_secs() / 3600) as i64;
        let from_h = match self.loaded_until {
            Some(h) if h > now_h - history_h => h - 2,
            _ => now_h - history_h,
        };
        if archive.join("_manifest.json").exists() {
            let since = DateTime::from_timestamp(from_h * 3600, 0).unwrap_or_default();
            let fresh = block_on(archive_counts(&archive, since, config.basis))
                .ok_or_else(|| PipelineError::Detection("silence: query thread failed".into()))?
                .map_err(|e| PipelineError::Detection(format!("silence: archive counts: {e}")))?;
            for series in self.counts.values_mut() {
                series.retain(|h, _| *h < from_h);
            }
            for (k, series) in fresh {
                let s = self.counts.entry(k).or_default();
                s.extend(series.into_iter().filter(|(h, _)| *h >= from_h));
            }
        }
        let oldest = now_h - history_h;
        for series in self.counts.values_mut() {
            series.retain(|h, _| *h >= oldest);
        }
        self.counts.retain(|_, s| !s.is_empty());
        self.loaded_until = Some(now_h + 1);
        Ok(())
    }

    /// The pairs silent at `now`: the last day replayed hour by hour.
    fn evaluate(
        &self,
        config: &SilenceRunConfig,
        now: DateTime<Utc>,
    ) -> BTreeMap<String, SilentPair> {
        let now_h = hour_of(now);
        let check_from = now_h - 24;
        let min_history = (config.min_history.as_secs() / 3600) as i64;
        let mut out = BTreeMap::new();
        for ((source, category), series) in &self.counts {
            let baseline = match config.expected.get(category) {
                Some(rate) => Baseline::Fixed(*rate),
                None => {
                    let Some(&oldest) = series.keys().next() else {
                        continue;
                    };
                    if check_from - oldest < min_history {
                        continue;
                    }
                    Baseline::learn(series, oldest, check_from)
                }
            };
            let key = format!("{source}/{}", category.name());
            let mut detector = SilenceDetector::new(config.detector);
            let mut last = None;
            for h in check_from + 1..=now_h {
                if let Some(e) = detector.check(&key, series, &baseline, h) {
                    last = Some(e);
                }
            }
            if !detector.is_silent(&key) {
                continue;
            }
            let (kind, since, found, expected, observed) = match last {
                Some(SilenceEvent::Stopped {
                    since,
                    at,
                    expected,
                    ..
                }) => ("stopped", since, at, expected, 0),
                Some(SilenceEvent::Dropped {
                    since,
                    at,
                    expected,
                    observed,
                    ..
                }) => ("dropped", since, at, expected, observed),
                _ => continue,
            };
            // An open silence keeps the start it was first raised with (a stable alert id).
            let since = self.state.get(&key).map_or(since, |p| p.since.clone());
            out.insert(
                key,
                SilentPair {
                    source: source.clone(),
                    category: category.name().to_owned(),
                    kind: kind.to_owned(),
                    since,
                    found,
                    expected,
                    observed,
                },
            );
        }
        out
    }
}
