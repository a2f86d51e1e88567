//! What the engine reports: a [`Match`] per matched rule or fired correlation.

use crate::rule::{CorrelationKind, Level};
use model::Category;
use std::sync::Arc;

/// A detection: a rule matched a record, or a correlation fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The rule's id.
    pub rule_id: Arc<str>,
    /// The rule's title.
    pub title: Arc<str>,
    /// The rule's level.
    pub level: Level,
    /// The rule's tags (`attack.t1110`, …); see [`Match::attack_tags`].
    pub tags: Arc<[String]>,
    /// The record's category.
    pub category: Category,
    /// The key of the record that matched (for a correlation: that completed it).
    pub key: String,
    /// The record's event time, microseconds.
    pub event_time: i64,
    /// Set when a correlation fired.
    pub correlation: Option<CorrelationMatch>,
}

impl Match {
    /// The MITRE ATT&CK tags (`attack.*`).
    pub fn attack_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("attack."))
    }
}

/// What a correlation fired on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationMatch {
    /// The correlation type.
    pub kind: CorrelationKind,
    /// Group-by field → value (lower-cased).
    pub group: Vec<(String, String)>,
    /// Keys of the records in the window, in event-time order.
    pub evidence: Vec<String>,
    /// The metric that met the condition (events, distinct values, distinct rules).
    pub count: u64,
    /// Event time of the first record in the window.
    pub first_time: i64,
    /// Event time of the last record in the window.
    pub last_time: i64,
}
