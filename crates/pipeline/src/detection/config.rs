//! `[detection]` and `[alerts]` (`[[alerts.destinations]]`): parsed with unknown keys rejected, validated with
//! every problem named by its path and no I/O.

use crate::config::ConfigError;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[detection]` as written. Its presence turns detection on (`enabled = false` turns it off again).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDetectionConfig {
    /// Run detection (default true once the section exists).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Directories of Sigma rules (`.yml`/`.yaml`, searched recursively).
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Run entrail's built-in Entra analytics (default true).
    #[serde(default = "yes")]
    pub builtin_analytics: bool,
    /// Same rule and entity within this window update one alert (default `1h`).
    pub group_window: Option<String>,
    /// Most open alerts kept for grouping (default 10000).
    pub max_open_alerts: Option<usize>,
    /// Most groups one correlation rule or analytic keeps (default 100000).
    pub max_groups: Option<usize>,
    /// Thresholds and windows of the built-in analytics (`[detection.analytics]`, docs/detections.md).
    #[serde(default)]
    pub analytics: detect::analytics::AnalyticsConfig,
}

const fn yes() -> bool {
    true
}

/// `[alerts]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlertsConfig {
    /// Where alerts are delivered, at least once each.
    #[serde(default)]
    pub destinations: Vec<sinks::alert::AlertDestinationConfig>,
}

/// Validated detection settings.
#[derive(Debug, Clone)]
pub struct DetectionConfig {
    /// Whether detection runs.
    pub enabled: bool,
    /// Rule directories.
    pub rules: Vec<PathBuf>,
    /// Built-in analytics on.
    pub builtin_analytics: bool,
    /// Grouping window.
    pub group_window: Duration,
    /// Open alerts kept.
    pub max_open_alerts: usize,
    /// Groups per correlation.
    pub max_groups: usize,
    /// Thresholds of the built-in analytics.
    pub analytics: detect::analytics::AnalyticsConfig,
    /// Alert destinations (validated).
    pub destinations: Vec<sinks::alert::AlertDestinationConfig>,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            enabled: false,
            rules: Vec::new(),
            builtin_analytics: true,
            group_window: Duration::from_secs(3600),
            max_open_alerts: 10_000,
            max_groups: 100_000,
            analytics: detect::analytics::AnalyticsConfig::default(),
            destinations: Vec::new(),
        }
    }
}

/// Validates `[detection]` and `[alerts]`, pushing every problem to `errors`.
pub(crate) fn validate(
    detection: Option<RawDetectionConfig>,
    alerts: RawAlertsConfig,
    errors: &mut Vec<ConfigError>,
) -> DetectionConfig {
    let mut out = DetectionConfig::default();
    if let Some(d) = detection {
        out.enabled = d.enabled;
        out.builtin_analytics = d.builtin_analytics;
        for (i, r) in d.rules.iter().enumerate() {
            if r.as_os_str().is_empty() {
                errors.push(ConfigError::new(
                    format!("detection.rules[{i}]"),
                    "must not be empty",
                ));
            }
        }
        out.rules = d.rules;
        match humantime::parse_duration(d.group_window.as_deref().unwrap_or("1h")) {
            Ok(w) if w >= Duration::from_secs(1) && w <= Duration::from_secs(30 * 86_400) => {
                out.group_window = w;
            }
            Ok(w) => errors.push(ConfigError::new(
                "detection.group_window",
                format!("must be 1s..=30d, got {w:?}"),
            )),
            Err(e) => errors.push(ConfigError::new(
                "detection.group_window",
                format!("not a duration: {e}"),
            )),
        }
        for (key, value, slot) in [
            (
                "max_open_alerts",
                d.max_open_alerts,
                &mut out.max_open_alerts,
            ),
            ("max_groups", d.max_groups, &mut out.max_groups),
        ] {
            match value {
                Some(0) => errors.push(ConfigError::new(
                    format!("detection.{key}"),
                    "must be at least 1",
                )),
                Some(n) => *slot = n,
                None => {}
            }
        }
        if let Err(problems) = d.analytics.validate() {
            errors.extend(
                problems.into_iter().map(|e| {
                    ConfigError::new(format!("detection.analytics.{}", e.path), e.message)
                }),
            );
        }
        out.analytics = d.analytics;
        if out.enabled && out.rules.is_empty() && !out.builtin_analytics {
            errors.push(ConfigError::new(
                "detection.rules",
                "name at least one rule directory, or turn builtin_analytics on",
            ));
        }
    }
    let mut ids: Vec<String> = Vec::new();
    for (i, d) in alerts.destinations.iter().enumerate() {
        let p = format!("alerts.destinations[{i}]");
        if ids.iter().any(|s| s == d.id()) {
            errors.push(ConfigError::new(
                format!("{p}.id"),
                format!(
                    "{:?} is used twice (destination ids must be unique)",
                    d.id()
                ),
            ));
        }
        ids.push(d.id().to_owned());
        if let Err(problems) = d.validate() {
            errors.extend(
                problems
                    .into_iter()
                    .map(|e| ConfigError::new(format!("{p}.{}", e.field), e.message)),
            );
        }
    }
    // Destinations without `[detection]` are fine: entrail's own health findings (ingest lag, clock skew,
    // silence: `crate::watch`) go through them too.
    out.destinations = alerts.destinations;
    out
}
