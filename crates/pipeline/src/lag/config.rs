//! `[lag]`: the ingest-lag window, its alert threshold and the future-timestamp tolerance; parsed with
//! unknown keys rejected, validated with every problem named by its path and no I/O.

use crate::config::ConfigError;
use model::Category;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[lag]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLagConfig {
    /// Measure ingest lag and raise its alerts (default true).
    pub enabled: Option<bool>,
    /// Sliding window the distribution covers (default `1h`, 1m..=7d).
    pub window: Option<String>,
    /// Alert when a source's p95 lag for a category passes this (default `30m`; `off` for never).
    pub p95_threshold: Option<String>,
    /// Per-category p95 thresholds (category or table name → duration or `off`).
    #[serde(default)]
    pub thresholds: BTreeMap<String, String>,
    /// Records this far ahead of their receipt are "in the future" (default `5m`; `off` for never).
    pub future_tolerance: Option<String>,
    /// Records the window must hold before the p95 is judged (default 20).
    pub min_records: Option<u64>,
}

/// Validated `[lag]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LagConfig {
    /// Measuring on.
    pub enabled: bool,
    /// Window length.
    pub window: Duration,
    /// Default p95 threshold (`None`: no lag alert).
    pub p95_threshold: Option<Duration>,
    /// Per-category thresholds (`None`: no lag alert for it).
    pub thresholds: BTreeMap<Category, Option<Duration>>,
    /// Future tolerance (`None`: no future-timestamp alert; records ahead count as lag 0).
    pub future_tolerance: Option<Duration>,
    /// Records needed before judging the p95.
    pub min_records: u64,
}

impl Default for LagConfig {
    fn default() -> Self {
        LagConfig {
            enabled: true,
            window: Duration::from_secs(3600),
            p95_threshold: Some(Duration::from_secs(1800)),
            thresholds: BTreeMap::new(),
            future_tolerance: Some(Duration::from_secs(300)),
            min_records: 20,
        }
    }
}

impl LagConfig {
    /// The p95 threshold of `category`.
    pub fn threshold(&self, category: Category) -> Option<Duration> {
        self.thresholds
            .get(&category)
            .copied()
            .unwrap_or(self.p95_threshold)
    }
}

/// A duration or `off`.
pub(crate) fn duration_or_off(
    text: &str,
    path: &str,
    min: Duration,
    errors: &mut Vec<ConfigError>,
) -> Option<Option<Duration>> {
    if text.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    duration(text, path, min, Duration::MAX, errors).map(Some)
}

/// A duration within `min..=max`.
pub(crate) fn duration(
    text: &str,
    path: &str,
    min: Duration,
    max: Duration,
    errors: &mut Vec<ConfigError>,
) -> Option<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) if d >= min && d <= max => Some(d),
        Ok(d) => {
            errors.push(ConfigError::new(
                path,
                format!(
                    "must be at least {}{}, got {}",
                    humantime::format_duration(min),
                    if max == Duration::MAX {
                        String::new()
                    } else {
                        format!(" and at most {}", humantime::format_duration(max))
                    },
                    humantime::format_duration(d)
                ),
            ));
            None
        }
        Err(e) => {
            errors.push(ConfigError::new(path, format!("not a duration: {e}")));
            None
        }
    }
}

impl RawLagConfig {
    /// Validates, pushing every problem to `errors`.
    pub fn validate(&self, errors: &mut Vec<ConfigError>) -> LagConfig {
        let mut out = LagConfig {
            enabled: self.enabled.unwrap_or(true),
            ..LagConfig::default()
        };
        if let Some(w) = &self.window {
            let (min, max) = (Duration::from_secs(60), Duration::from_secs(7 * 86_400));
            if let Some(d) = duration(w, "lag.window", min, max, errors) {
                out.window = d;
            }
        }
        if let Some(t) = &self.p95_threshold
            && let Some(d) = duration_or_off(t, "lag.p95_threshold", Duration::from_secs(1), errors)
        {
            out.p95_threshold = d;
        }
        if let Some(t) = &self.future_tolerance
            && let Some(d) = duration_or_off(t, "lag.future_tolerance", Duration::ZERO, errors)
        {
            out.future_tolerance = d;
        }
        for (name, t) in &self.thresholds {
            let path = format!("lag.thresholds.{name}");
            let cat = Category::from_name(name)
                .or_else(|| Category::ALL.iter().copied().find(|c| c.table() == name));
            let d = duration_or_off(t, &path, Duration::from_secs(1), errors);
            match (cat, d) {
                (Some(c), Some(d)) => {
                    out.thresholds.insert(c, d);
                }
                (None, _) => errors.push(ConfigError::new(path, "unknown category")),
                (Some(_), None) => {}
            }
        }
        match self.min_records {
            Some(0) => errors.push(ConfigError::new("lag.min_records", "must be at least 1")),
            Some(n) => out.min_records = n,
            None => {}
        }
        out
    }
}
