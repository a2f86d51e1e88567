//! The health checks `entrail run` makes besides detection: `[lag]`, `[clock]` and `[silence]` (silence
//! detection evaluated periodically), validated together with every problem named by its path and no I/O.

use crate::clock::{ClockConfig, RawClockConfig};
use crate::config::ConfigError;
use crate::lag::{LagConfig, RawLagConfig};
use crate::silence::{SilenceConfig, TimeBasis};
use model::Category;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[silence]` as written: silence detection inside `entrail run`. Its presence turns it on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSilenceConfig {
    /// Evaluate silence while running (default true once the section exists).
    pub enabled: Option<bool>,
    /// Time between checks (default `15m`, at least `1m`).
    pub check_interval: Option<String>,
    /// History the baseline is learned from (default `14d`, 1d..=90d).
    pub history: Option<String>,
    /// Least history before a source/category is judged (default `48h`).
    pub min_history: Option<String>,
    /// Count records by `ingest` time (default: still arriving) or `event` time.
    pub basis: Option<String>,
    /// Expected records a window must reach before a verdict (default 20).
    pub min_expected: Option<f64>,
    /// At most this fraction of the expectation arriving is a silence (default 0.1, 0..1).
    pub drop_ratio: Option<f64>,
    /// An hour bringing this fraction of its expectation ends a silence (default 0.5, 0..=1).
    pub recover_ratio: Option<f64>,
    /// Longest window looked back over (default `24h`, 1h..=7d).
    pub max_window: Option<String>,
    /// Per-category expected records per hour, replacing the learned baseline (category → rate).
    #[serde(default)]
    pub expected: BTreeMap<String, f64>,
}

/// Validated `[silence]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceRunConfig {
    /// On.
    pub enabled: bool,
    /// Time between checks.
    pub check_interval: Duration,
    /// History learned from.
    pub history: Duration,
    /// Least history before judging.
    pub min_history: Duration,
    /// Which time records are counted at.
    pub basis: TimeBasis,
    /// The detector's thresholds.
    pub detector: SilenceConfig,
    /// Fixed expected rates per category.
    pub expected: BTreeMap<Category, f64>,
}

impl Default for SilenceRunConfig {
    fn default() -> Self {
        SilenceRunConfig {
            enabled: false,
            check_interval: Duration::from_secs(900),
            history: Duration::from_secs(14 * 86_400),
            min_history: Duration::from_secs(48 * 3600),
            basis: TimeBasis::Ingest,
            detector: SilenceConfig::default(),
            expected: BTreeMap::new(),
        }
    }
}

/// Everything `crate::watch` checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchConfig {
    /// `[lag]`.
    pub lag: LagConfig,
    /// `[clock]`.
    pub clock: ClockConfig,
    /// `[silence]`.
    pub silence: SilenceRunConfig,
    /// `[integrity] publish_alerts`: checkpoints to the alert destinations.
    pub publish_head: bool,
}

fn ratio(
    v: Option<f64>,
    path: &str,
    upper_inclusive: bool,
    slot: &mut f64,
    e: &mut Vec<ConfigError>,
) {
    let Some(v) = v else { return };
    let ok = v.is_finite() && v >= 0.0 && (v < 1.0 || (upper_inclusive && v <= 1.0));
    if ok {
        *slot = v;
    } else {
        e.push(ConfigError::new(path, format!("must be 0..1, got {v}")));
    }
}

fn silence(raw: Option<RawSilenceConfig>, errors: &mut Vec<ConfigError>) -> SilenceRunConfig {
    let mut out = SilenceRunConfig::default();
    let Some(r) = raw else {
        return out;
    };
    out.enabled = r.enabled.unwrap_or(true);
    let day = 86_400;
    let durations = [
        (
            "silence.check_interval",
            &r.check_interval,
            60,
            u64::MAX,
            &mut out.check_interval,
        ),
        (
            "silence.history",
            &r.history,
            day,
            90 * day,
            &mut out.history,
        ),
        (
            "silence.min_history",
            &r.min_history,
            3600,
            90 * day,
            &mut out.min_history,
        ),
    ];
    for (path, text, min, max, slot) in durations {
        if let Some(t) = text
            && let Some(d) = crate::lag::duration(
                t,
                path,
                Duration::from_secs(min),
                Duration::from_secs(max),
                errors,
            )
        {
            *slot = d;
        }
    }
    if let Some(t) = &r.max_window
        && let Some(d) = crate::lag::duration(
            t,
            "silence.max_window",
            Duration::from_secs(3600),
            Duration::from_secs(7 * day),
            errors,
        )
    {
        out.detector.max_window_hours = (d.as_secs() / 3600) as u32;
    }
    match r.basis.as_deref() {
        None | Some("ingest") => {}
        Some("event") => out.basis = TimeBasis::Event,
        Some(b) => errors.push(ConfigError::new(
            "silence.basis",
            format!("`{b}`: expected `ingest` or `event`"),
        )),
    }
    match r.min_expected {
        Some(v) if v.is_finite() && v >= 1.0 => out.detector.min_expected = v,
        Some(v) => errors.push(ConfigError::new(
            "silence.min_expected",
            format!("must be at least 1, got {v}"),
        )),
        None => {}
    }
    ratio(
        r.drop_ratio,
        "silence.drop_ratio",
        false,
        &mut out.detector.drop_ratio,
        errors,
    );
    ratio(
        r.recover_ratio,
        "silence.recover_ratio",
        true,
        &mut out.detector.recover_ratio,
        errors,
    );
    if out.detector.recover_ratio <= out.detector.drop_ratio {
        errors.push(ConfigError::new(
            "silence.recover_ratio",
            "must be above drop_ratio",
        ));
    }
    for (name, rate) in &r.expected {
        let path = format!("silence.expected.{name}");
        match Category::from_name(name) {
            Some(_) if !rate.is_finite() || *rate <= 0.0 => errors.push(ConfigError::new(
                path,
                format!("records per hour must be above 0, got {rate}"),
            )),
            Some(c) => {
                out.expected.insert(c, *rate);
            }
            None => errors.push(ConfigError::new(path, "unknown category")),
        }
    }
    out
}

/// Validates `[lag]`, `[clock]` and `[silence]`, pushing every problem to `errors`.
pub(crate) fn validate(
    lag: &RawLagConfig,
    clock: &RawClockConfig,
    raw_silence: Option<RawSilenceConfig>,
    errors: &mut Vec<ConfigError>,
) -> WatchConfig {
    WatchConfig {
        lag: lag.validate(errors),
        clock: clock.validate(errors),
        silence: silence(raw_silence, errors),
        publish_head: false,
    }
}
