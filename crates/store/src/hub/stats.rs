//! Ingest statistics per category (appended, revisions, duplicates, event-time range), saved with every hub
//! checkpoint so `entrail status` can show them without reading the log.

use model::{Category, Record, Rejected};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Counters of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryStats {
    /// Records appended to the log.
    pub appended: u64,
    /// Of those, revisions of a known key.
    pub revisions: u64,
    /// Exact duplicates dropped.
    pub duplicates: u64,
    /// Oldest event time appended (µs).
    pub first_event_time: Option<i64>,
    /// Newest event time appended (µs).
    pub last_event_time: Option<i64>,
    /// Last time a record of this category was appended (µs).
    pub last_ingest_time: Option<i64>,
}

/// Counters of every category, plus quarantine totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestStats {
    /// Per category name.
    pub categories: BTreeMap<String, CategoryStats>,
    /// Items quarantined, per category name (or `unknown`).
    pub quarantined: BTreeMap<String, u64>,
    /// The log offset these counters cover.
    pub applied_offset: u64,
}

impl IngestStats {
    /// Loads the statistics file; a missing or unreadable file starts from zero (the counters are
    /// informational, the log is the truth).
    pub fn load(path: &Path) -> IngestStats {
        std::fs::File::open(path)
            .ok()
            .and_then(|f| model::limits::read_capped(f, 64 << 20).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves atomically (temp file, fsync, rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    fn entry(&mut self, category: Category) -> &mut CategoryStats {
        self.categories
            .entry(category.name().to_owned())
            .or_default()
    }

    pub(crate) fn count_appended(&mut self, r: &Record) {
        let s = self.entry(r.category);
        s.appended += 1;
        if r.revision > 0 {
            s.revisions += 1;
        }
        s.first_event_time = Some(
            s.first_event_time
                .map_or(r.event_time, |t| t.min(r.event_time)),
        );
        s.last_event_time = Some(
            s.last_event_time
                .map_or(r.event_time, |t| t.max(r.event_time)),
        );
        s.last_ingest_time = Some(
            s.last_ingest_time
                .map_or(r.ingest_time, |t| t.max(r.ingest_time)),
        );
    }

    pub(crate) fn count_replayed(&mut self, category: Category) {
        self.entry(category).appended += 1;
    }

    pub(crate) fn count_duplicate(&mut self, category: Category) {
        self.entry(category).duplicates += 1;
    }

    pub(crate) fn count_quarantined(&mut self, rejected: &[Rejected]) {
        for r in rejected {
            *self
                .quarantined
                .entry(r.category.clone().unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
        }
    }
}
