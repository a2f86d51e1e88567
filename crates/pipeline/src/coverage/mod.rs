//! Coverage: is every required log exported, and is it arriving? Reads the tenant's Entra diagnostic settings,
//! the subscriptions' Activity Log settings and chosen resources' settings through ARM, combines them with
//! what entrail has received, and gives one verdict per category (`evaluate`), plus the ARM change that
//! exports what is missing (`fix`). `entrail coverage` prints it; docs/coverage.md explains the verdicts.
mod config;
mod evaluate;
mod fix;
mod run;

pub(crate) use config::validate as validate_config;
pub use config::{CoverageConfig, LOW_VOLUME, RawCoverageConfig};
pub use evaluate::{
    Destination, FIX_COMMAND, Observed, Received, ReceivedStats, Report, Row, ScopeKind,
    ScopeObserved, TENANT_CATEGORIES, evaluate,
};
pub use fix::{FixError, FixPlan, plan as plan_fix};
pub use run::{observe, received};

use serde::Serialize;

/// A row's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Exported to a destination entrail reads (or received otherwise) and arriving.
    Pass,
    /// Not exported anywhere entrail reads.
    Missing,
    /// Exported, but nothing arrived within the silence threshold.
    Silent,
    /// The tenant's licence does not offer the category.
    NotLicensed,
}

impl Verdict {
    /// `pass`, `missing`, `silent`, `not_licensed`.
    pub const fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Missing => "missing",
            Verdict::Silent => "silent",
            Verdict::NotLicensed => "not_licensed",
        }
    }
}

#[cfg(test)]
mod tests;
