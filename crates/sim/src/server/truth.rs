//! What the server has made visible so far ([`GraphTruth`]) and what it has done ([`ServerStats`]), both
//! serde-serializable and served at `/_sim/truth` and `/_sim/stats`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::GRAPH_CATEGORIES;
use super::data::Data;

/// One id made visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTruth {
    /// Distinct versions made visible (original plus republications; exact duplicates not counted).
    pub versions: u32,
    /// xxh3-64 (16 hex digits) of the latest visible version's JSON as stored: the beta rendering (v1.0 sign-ins
    /// drop `signInEventTypes`).
    pub hash: String,
}

/// Ground truth of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryGraphTruth {
    /// Every id visible so far.
    pub ids: BTreeMap<String, IdTruth>,
    /// Exact duplicates made visible so far (each served as a second identical entry until replaced).
    pub exact_duplicates: u64,
    /// Record versions made visible so far (originals, duplicates and republications).
    pub records: u64,
}

/// Everything made visible up to [`GraphTruth::at`], by sim category name (`SignInLogs`, `AuditLogs`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphTruth {
    /// The sim time it describes.
    pub at: Option<DateTime<Utc>>,
    /// Per category (every served category, possibly empty).
    pub categories: BTreeMap<String, CategoryGraphTruth>,
}

impl GraphTruth {
    /// Distinct ids over all categories.
    pub fn distinct_ids(&self) -> usize {
        self.categories.values().map(|c| c.ids.len()).sum()
    }

    /// The truth of one category (empty if it is not served).
    pub fn category(&self, name: &str) -> CategoryGraphTruth {
        self.categories.get(name).cloned().unwrap_or_default()
    }
}

/// Computes the truth at sim time `at` (ns).
pub(crate) fn compute(data: &Data, served: &[crate::Category], at: DateTime<Utc>) -> GraphTruth {
    let now = super::data::nanos(at);
    let mut t = GraphTruth {
        at: Some(at),
        categories: served
            .iter()
            .map(|c| (c.name().to_owned(), CategoryGraphTruth::default()))
            .collect(),
    };
    let n = data.truth.partition_point(|i| i.visible <= now);
    for item in &data.truth[..n] {
        let Some(cat) = GRAPH_CATEGORIES.get(item.category as usize) else {
            continue;
        };
        let c = t.categories.entry(cat.name().to_owned()).or_default();
        c.records += 1;
        if item.duplicate {
            c.exact_duplicates += 1;
            continue;
        }
        let id = data.ids.get(item.id as usize).map_or("", |s| s);
        let e = c.ids.entry(id.to_owned()).or_insert(IdTruth {
            versions: 0,
            hash: String::new(),
        });
        e.versions += 1;
        e.hash = format!("{:016x}", item.hash);
    }
    t
}

/// Faults injected so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStats {
    /// 429s sent during a storm.
    pub storm_429s: u64,
    /// Injected 500 / 503.
    pub server_errors: u64,
    /// Connections closed without a response.
    pub connection_resets: u64,
    /// Bodies cut short.
    pub truncated_bodies: u64,
    /// Tokens invalidated after N pages (counted when a request with one is refused).
    pub tokens_expired_mid_paging: u64,
    /// nextLinks that failed on first use.
    pub next_link_failures: u64,
    /// Records whose visibility the late-arrival fault delayed.
    pub late_records: u64,
}

/// What the server has done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Requests received (every endpoint).
    pub requests: u64,
    /// Responses per HTTP status (resets not included).
    pub by_status: BTreeMap<u16, u64>,
    /// Requests per endpoint (`v1.0/auditLogs/signIns`, `token`, `imds`, `_sim/truth`, …).
    pub by_endpoint: BTreeMap<String, u64>,
    /// 429s of any cause.
    pub throttled: u64,
    /// 429s from the reports limit.
    pub throttled_reports: u64,
    /// 429s from the identity-protection limit.
    pub throttled_identity_protection: u64,
    /// Requests an app sent to a class before a `Retry-After` it got for that class expired.
    pub retry_after_violations: u64,
    /// Access tokens issued (token endpoint and IMDS).
    pub tokens_issued: u64,
    /// Token requests refused.
    pub token_errors: u64,
    /// Complete Graph pages served.
    pub pages_served: u64,
    /// Records in complete Graph pages served.
    pub records_served: u64,
    /// Injected faults.
    pub faults: FaultStats,
    /// Records pre-generated (all versions).
    pub records_generated: u64,
    /// Bytes of rendered JSON held in memory.
    pub data_bytes: u64,
    /// Wall time of generation at start, ms.
    pub generation_ms: u64,
}
