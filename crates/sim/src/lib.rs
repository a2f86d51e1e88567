//! Deterministic simulated Entra ID / Azure tenant and log generator.
//!
//! * [`Tenant::new`] builds users, devices, apps, service principals, managed identities, agents,
//!   subscriptions and resources from a seed.
//! * [`Generator`] streams [`SimEvent`]s for every supported category (see [`Category::ALL`]) with a
//!   realistic daily and weekly rhythm, exact duplicates and late republications, and can collect
//!   [`GroundTruth`] on the way.
//! * [`shape::render`] turns an event into one of the three wire shapes (Graph, diagnostic settings,
//!   Log Analytics), optionally with the documented real-world quirks; [`write`] streams them to files.
//! * [`golden::assert_golden`] compares test output with a file (`UPDATE_GOLDEN=1` rewrites it).
//! * [`server::SimServer`] serves the tenant over HTTP on loopback like Microsoft Graph and the identity
//!   platform (tokens, IMDS, paging, throttling, faults), with a simulated clock and ground truth.
//!
//! Same [`TenantConfig`] (seed included) ⇒ byte-identical output. Nothing here performs network I/O: IP
//! addresses and ids are data only (except [`server`], which listens on loopback).

/// Builds a JSON object from `"key" => value` pairs without deep macro recursion (any `Into<Value>`).
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => {{
        let mut m = serde_json::Map::new();
        $( m.insert(String::from($k), serde_json::Value::from($v)); )*
        serde_json::Value::Object(m)
    }};
}

pub mod attacks;
pub mod azurite;
pub mod blob;
pub mod blob_server;
mod catalog;
pub mod category;
mod config;
pub mod generate;
pub mod golden;
pub mod kafka;
mod rhythm;
pub mod s3_server;
mod serve;
pub mod server;
pub mod shape;
pub mod signin_rows;
pub mod sntp;
pub mod tenant;
pub mod truth;
mod util;
pub mod write;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use category::{Category, IdKind, la_table};
pub use config::TenantConfig;
pub use generate::Generator;
pub use golden::assert_golden;
pub use shape::{Shape, render, render_owned};
pub use tenant::Tenant;
pub use truth::{CategoryTruth, GroundTruth};

/// How a record came to be in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    /// First delivery.
    Original,
    /// A byte-identical second delivery of an earlier record.
    ExactDuplicate,
    /// The same id delivered again later with enriched content (MFA details, risk, state).
    Republished,
}

/// One simulated log record.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvent {
    /// Diagnostic-settings category name (`SignInLogs`, `AuditLogs`, `Administrative`, `AuditEvent`, …).
    pub category: &'static str,
    /// Event time (the category's own time field: `createdDateTime`, `activityDateTime`, …).
    pub time: DateTime<Utc>,
    /// When the record reached the pipeline (event time plus delivery latency; later for duplicates and
    /// republications). Log Analytics `TimeGenerated` and Storage blob hours follow this.
    pub received: DateTime<Utc>,
    /// The Graph-API object (camelCase, as Graph returns it); for categories without a Graph API the
    /// `properties` object of the diagnostic record (for VNet flow logs: the `flowRecords` object).
    pub graph: Value,
    /// For Azure (non-Entra) categories, the diagnostic record's other top-level fields; `None` for Entra
    /// categories, whose envelope [`shape::render`] derives from `graph`.
    pub envelope: Option<Map<String, Value>>,
    /// Original, exact duplicate or republication.
    pub kind: EventKind,
    /// Per-record seed: duplicates and republications share it with their original; quirks key off it.
    pub seed: u64,
}

impl SimEvent {
    /// The category as an enum.
    pub fn category_enum(&self) -> Option<Category> {
        Category::from_name(self.category)
    }

    /// The dedupe id, for categories that have one.
    pub fn id(&self) -> Option<&str> {
        let field = self.category_enum()?.id_field()?;
        self.graph.get(field)?.as_str()
    }

    /// Number of flow tuples (NSG and VNet flow logs), 0 for other categories.
    pub fn flow_tuples(&self) -> usize {
        let count = |v: Option<&Value>, inner: &str| -> usize {
            v.and_then(Value::as_array).map_or(0, |groups| {
                groups
                    .iter()
                    .flat_map(|g| g.get(inner).and_then(Value::as_array).into_iter().flatten())
                    .map(|f| {
                        f.get("flowTuples")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                    })
                    .sum()
            })
        };
        match self.category_enum() {
            Some(Category::NsgFlowEvent) => count(self.graph.get("flows"), "flows"),
            Some(Category::VnetFlowEvent) => count(self.graph.get("flows"), "flowGroups"),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
