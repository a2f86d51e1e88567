//! Accounting per category: records seen, new, duplicate, revised and quarantined (from the pipeline's
//! answers), pages, the current and last tail window, last success, last error, cursor and lag. Read as a
//! serializable [`GraphStatus`] snapshot by `entrail status`.

use super::{Accepted, GraphError};
use chrono::{DateTime, Utc};
use model::Category;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts for one window (or backfill slice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WindowStats {
    /// Window start.
    pub start: Option<DateTime<Utc>>,
    /// Window end.
    pub end: Option<DateTime<Utc>>,
    /// Pages read.
    pub pages: u64,
    /// Objects Graph returned.
    pub seen: u64,
    /// Objects that did not decode (sent to the quarantine).
    pub rejected: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
}

/// One category's state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryStatus {
    /// The category name.
    pub category: String,
    /// Objects Graph returned, tail and backfill.
    pub seen: u64,
    /// Pages read.
    pub pages: u64,
    /// The pipeline's counts, summed.
    pub accepted: Accepted,
    /// Objects that did not decode.
    pub rejected: u64,
    /// Tail windows completed.
    pub windows: u64,
    /// When the last tail window completed.
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure (throttling included), without secrets.
    pub last_error: Option<String>,
    /// Its retry class.
    pub last_error_kind: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures so far.
    pub errors: u64,
    /// The saved tail cursor (the last completed window's end).
    pub cursor: Option<DateTime<Utc>>,
    /// Seconds the cursor is behind now.
    pub lag_seconds: Option<i64>,
    /// Paused after a 401/403 (retried slowly).
    pub paused: bool,
    /// The window being read.
    pub current_window: Option<WindowStats>,
    /// The last completed window.
    pub last_window: Option<WindowStats>,
}

/// The whole source's state.
#[derive(Debug, Clone, Serialize)]
pub struct GraphStatus {
    /// Source id.
    pub source: String,
    /// Tenant.
    pub tenant_id: String,
    /// The source's "now" when the snapshot was taken.
    pub now: DateTime<Utc>,
    /// Per category, in configuration order.
    pub categories: Vec<CategoryStatus>,
}

/// The live counters behind [`GraphStatus`].
#[derive(Debug, Default)]
pub(crate) struct Accounting {
    inner: Mutex<BTreeMap<Category, CategoryStatus>>,
}

impl Accounting {
    pub(crate) fn new(categories: &[Category]) -> Accounting {
        let map = categories
            .iter()
            .map(|c| {
                (
                    *c,
                    CategoryStatus {
                        category: c.name().to_owned(),
                        ..CategoryStatus::default()
                    },
                )
            })
            .collect();
        Accounting {
            inner: Mutex::new(map),
        }
    }

    fn with<R>(&self, c: Category, f: impl FnOnce(&mut CategoryStatus) -> R) -> R {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let st = m.entry(c).or_insert_with(|| CategoryStatus {
            category: c.name().to_owned(),
            ..CategoryStatus::default()
        });
        f(st)
    }

    pub(crate) fn begin_window(&self, c: Category, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.with(c, |s| {
            s.current_window = Some(WindowStats {
                start: Some(start),
                end: Some(end),
                ..WindowStats::default()
            });
        });
    }

    pub(crate) fn page(&self, c: Category, tail: bool, seen: u64, rejected: u64, acc: &Accepted) {
        self.with(c, |s| {
            s.pages += 1;
            s.seen += seen;
            s.rejected += rejected;
            s.accepted.add(acc);
            if tail && let Some(w) = &mut s.current_window {
                w.pages += 1;
                w.seen += seen;
                w.rejected += rejected;
                w.accepted.add(acc);
            }
        });
    }

    pub(crate) fn window_done(&self, c: Category, cursor: DateTime<Utc>, now: DateTime<Utc>) {
        self.with(c, |s| {
            s.windows += 1;
            s.last_success = Some(now);
            s.cursor = Some(cursor);
            s.paused = false;
            s.last_window = s.current_window.take();
        });
    }

    pub(crate) fn set_cursor(&self, c: Category, cursor: Option<DateTime<Utc>>) {
        self.with(c, |s| s.cursor = cursor);
    }

    pub(crate) fn set_paused(&self, c: Category, paused: bool) {
        self.with(c, |s| s.paused = paused);
    }

    pub(crate) fn error(&self, c: Category, e: &GraphError, now: DateTime<Utc>) {
        self.with(c, |s| {
            s.errors += 1;
            s.last_error = Some(e.to_string());
            s.last_error_kind = Some(format!("{:?}", e.kind()));
            s.last_error_at = Some(now);
        });
    }

    pub(crate) fn snapshot(&self, order: &[Category], now: DateTime<Utc>) -> Vec<CategoryStatus> {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        order
            .iter()
            .filter_map(|c| m.get(c).cloned())
            .map(|mut s| {
                s.lag_seconds = s.cursor.map(|c| (now - c).num_seconds());
                s
            })
            .collect()
    }
}
