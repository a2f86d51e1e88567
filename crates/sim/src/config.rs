//! Simulation parameters. The same [`TenantConfig`] (seed included) always yields byte-identical output.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Everything that shapes a simulated tenant and its log stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConfig {
    /// Seed for every random choice: same seed, same bytes.
    pub seed: u64,
    /// Number of users in the directory.
    pub users: u32,
    /// Start of the simulated window (UTC).
    pub start: DateTime<Utc>,
    /// Length of the simulated window in days.
    pub days: u32,
    /// Multiplier on every event rate (1.0 = a typical tenant of this size).
    pub volume_scale: f64,
    /// Default for writers: reproduce documented real-world quirks on a fraction of records.
    pub quirks: bool,
    /// Fraction of records (0..=1) that are delivered twice, byte for byte.
    pub duplicate_rate: f64,
    /// Fraction of records with an id (0..=1) that are re-published later with the same id and enriched
    /// content (MFA details, risk levels, state changes).
    pub republish_rate: f64,
    /// Inject the labelled attack scenarios of [`crate::attacks`] (one per built-in analytic) into the
    /// benign stream; their labels go to [`crate::GroundTruth::attacks`].
    #[serde(default)]
    pub attacks: bool,
}

impl Default for TenantConfig {
    /// 500 users, one week from Monday 2024-03-04 00:00 UTC, normal volume, quirks on, 0.5 % exact duplicates,
    /// 3 % republications, no attacks.
    fn default() -> Self {
        TenantConfig {
            seed: 42,
            users: 500,
            start: Utc
                .with_ymd_and_hms(2024, 3, 4, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            days: 7,
            volume_scale: 1.0,
            quirks: true,
            duplicate_rate: 0.005,
            republish_rate: 0.03,
            attacks: false,
        }
    }
}

impl TenantConfig {
    /// The end of the simulated window (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.start + chrono::TimeDelta::days(i64::from(self.days))
    }
}
