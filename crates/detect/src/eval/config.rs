//! Engine settings.

use std::collections::HashMap;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Values of `expand` placeholders (`%Name%` → values; names match ignoring case).
    pub placeholders: HashMap<String, Vec<String>>,
    /// Most groups one correlation rule keeps (the least recently active group is evicted).
    pub max_groups: usize,
    /// Most events one correlation group keeps (the oldest is dropped).
    pub max_events_per_group: usize,
    /// Also run entrail's built-in Entra analytics ([`crate::analytics`]).
    pub builtin_analytics: bool,
    /// Thresholds and windows of the built-in analytics.
    pub analytics: crate::analytics::AnalyticsConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            placeholders: HashMap::new(),
            max_groups: 100_000,
            max_events_per_group: 1_000,
            builtin_analytics: false,
            analytics: crate::analytics::AnalyticsConfig::default(),
        }
    }
}
