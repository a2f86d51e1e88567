//! `[report]`: what `entrail report` needs beyond the data directory, the price per GB of each sink
//! (`[report.price_per_gb] splunk = 2.5`) used for the projected monthly cost and what route filters save.

use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[report]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReportConfig {
    /// Price per GB (10^9 bytes) delivered, per sink id, in any currency (the report does not name one).
    #[serde(default)]
    pub price_per_gb: BTreeMap<String, f64>,
}

/// Validated `[report]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportConfig {
    /// Price per GB (10^9 bytes) per sink id; finite and not negative.
    pub price_per_gb: BTreeMap<String, f64>,
}

/// Validates `[report]`: every price finite and not negative, every sink id non-empty. Returns every
/// problem with its path; does no I/O. Sink ids are not checked against `[[sinks]]`: volume recorded for a
/// sink since removed can still be priced; the report lists prices that match no recorded traffic.
pub(crate) fn validate(raw: RawReportConfig, errors: &mut Vec<ConfigError>) -> ReportConfig {
    let mut price_per_gb = BTreeMap::new();
    for (sink, price) in raw.price_per_gb {
        let path = format!("report.price_per_gb.{sink}");
        if sink.trim().is_empty() {
            errors.push(ConfigError::new(path, "the sink id is empty"));
            continue;
        }
        if !price.is_finite() || price < 0.0 {
            errors.push(ConfigError::new(
                path,
                format!("must be a finite number >= 0, not {price}"),
            ));
            continue;
        }
        price_per_gb.insert(sink, price);
    }
    ReportConfig { price_per_gb }
}
