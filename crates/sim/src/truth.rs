//! Ground truth collected while generating: per category, the distinct dedupe ids (or, for categories
//! without an id, the number of distinct records and flow tuples), and how many exact duplicates and
//! republications were emitted. Memory is O(distinct ids); turn it off for benchmarks.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::category::{Category, IdKind};
use crate::{EventKind, SimEvent};

/// Ground truth of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTruth {
    /// The dedupe id field (`id`, `requestId`, `transactionId`…), absent for categories without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// Records emitted, all kinds.
    pub emitted: u64,
    /// First deliveries. For categories without an id this is the number of distinct records.
    pub originals: u64,
    /// Byte-identical second deliveries.
    pub exact_duplicates: u64,
    /// Later deliveries of an id with enriched content.
    pub republished: u64,
    /// Number of distinct ids (categories with an id).
    pub distinct_ids: u64,
    /// Flow tuples in distinct records (flow logs; each becomes one row once expanded).
    pub flow_tuples: u64,
    /// The distinct ids, sorted.
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub ids: BTreeSet<String>,
}

/// Ground truth of a whole run, keyed by diagnostic-settings category name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Per category.
    pub categories: BTreeMap<String, CategoryTruth>,
    /// Labels of the injected attacks ([`crate::attacks`]), empty unless `TenantConfig::attacks`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<crate::attacks::AttackLabel>,
}

impl GroundTruth {
    /// Accounts for one emitted event.
    pub fn record(&mut self, ev: &SimEvent) {
        let cat = ev.category_enum();
        let entry = self
            .categories
            .entry(ev.category.to_owned())
            .or_insert_with(|| CategoryTruth {
                id_field: cat.and_then(Category::id_field).map(str::to_owned),
                ..CategoryTruth::default()
            });
        entry.emitted += 1;
        match ev.kind {
            EventKind::Original => {
                entry.originals += 1;
                if let Some(id) = ev.id()
                    && entry.ids.insert(id.to_owned())
                {
                    entry.distinct_ids += 1;
                }
                if cat.map(Category::id_kind) == Some(IdKind::FlowTuples) {
                    entry.flow_tuples += ev.flow_tuples() as u64;
                }
            }
            EventKind::ExactDuplicate => entry.exact_duplicates += 1,
            EventKind::Republished => entry.republished += 1,
        }
    }

    /// Total records emitted over all categories.
    pub fn total_emitted(&self) -> u64 {
        self.categories.values().map(|c| c.emitted).sum()
    }

    /// The same truth without the id sets (counts only), for compact reports.
    pub fn summary(&self) -> GroundTruth {
        GroundTruth {
            categories: self
                .categories
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        CategoryTruth {
                            ids: BTreeSet::new(),
                            ..v.clone()
                        },
                    )
                })
                .collect(),
            attacks: self.attacks.clone(),
        }
    }

    /// Serialises to pretty JSON (with id sets).
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}
