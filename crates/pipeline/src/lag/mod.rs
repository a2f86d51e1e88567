//! Ingest lag and future timestamps: per source and category, the distribution of (ingest time − event
//! time) over a sliding window ([`LagSketch`]: p50/p95/p99/max in fixed memory), fed where continuous sources
//! deliver batches (`collect::HubDeliver`). Evaluated each pass of `entrail run`: a p95 above the category's
//! threshold raises `entrail.ingest_lag`, records further ahead than the tolerance raise
//! `entrail.future_timestamp` (`crate::watch`); each fires once per episode and re-arms when the window is
//! clean again. A snapshot goes to `lag-status.json` for `entrail status`.
//!
//! Time is the records' own ingest time (the newest seen is "now"), so a source with a simulated clock gives
//! simulated lag. File imports are not measured (history imported today is not late).

mod config;
mod sketch;

pub(crate) use config::duration;
pub use config::{LagConfig, RawLagConfig};
pub use sketch::{LagSketch, LagSummary};

use model::{Category, Record};
use serde::{Deserialize, Serialize};
use sketch::RecentHashes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Slots a window is cut into.
const SLOTS: usize = 12;
/// Most (source, category) pairs measured; more are ignored (logged once).
const MAX_PAIRS: usize = 512;

/// The status file `entrail status` reads.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("lag-status.json")
}

/// One source and category as `entrail status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LagStatus {
    /// Source id (`_Source`).
    pub source: String,
    /// Category.
    pub category: String,
    /// The window, seconds.
    pub window_s: u64,
    /// Records in the window.
    pub records: u64,
    /// Median lag, seconds.
    pub p50_s: f64,
    /// 95th percentile, seconds.
    pub p95_s: f64,
    /// 99th percentile, seconds.
    pub p99_s: f64,
    /// Largest lag, seconds.
    pub max_s: f64,
    /// Records beyond the future tolerance in the window.
    pub future: u64,
    /// How far ahead the furthest was, seconds.
    pub max_future_s: f64,
    /// The p95 threshold, seconds (`None`: not alerted).
    pub threshold_s: Option<f64>,
    /// p95 above the threshold (an `entrail.ingest_lag` alert was raised).
    pub lagging: bool,
    /// Future records in the window (an `entrail.future_timestamp` alert was raised).
    pub future_alert: bool,
    /// The window's end (newest ingest time seen, RFC 3339).
    pub at: String,
}

// Never NaN: the floats are measured times and counts, so equality is total.
impl Eq for LagStatus {}

/// A transition that becomes an alert.
#[derive(Debug, Clone, PartialEq)]
pub enum LagEvent {
    /// The p95 passed the threshold.
    High {
        /// Source id.
        source: String,
        /// Category.
        category: Category,
        /// The window at that moment.
        summary: LagSummary,
        /// The threshold, seconds.
        threshold_s: f64,
        /// When (ingest time, µs).
        at_us: i64,
    },
    /// Records carried event times in the future.
    Future {
        /// Source id.
        source: String,
        /// Category.
        category: Category,
        /// The window at that moment.
        summary: LagSummary,
        /// The tolerance, seconds.
        tolerance_s: f64,
        /// When (ingest time, µs).
        at_us: i64,
    },
}

struct Pair {
    sketch: LagSketch,
    recent: RecentHashes,
    lagging: bool,
    future: bool,
}

#[derive(Default)]
struct Inner {
    /// Source → category → window.
    pairs: BTreeMap<String, BTreeMap<Category, Pair>>,
    count: usize,
    newest_us: i64,
    overflow_logged: bool,
}

/// The lag of every (source, category) of one pipeline, shared by the delivering tasks.
pub struct LagTracker {
    config: LagConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LagTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LagTracker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LagTracker {
    /// An empty tracker; the alert states (lagging, future) are taken back from `saved` (the last snapshot),
    /// so a restart does not raise an open episode again.
    pub fn new(config: LagConfig, saved: &[LagStatus]) -> LagTracker {
        let t = LagTracker {
            config,
            inner: Mutex::new(Inner::default()),
        };
        {
            let mut inner = t.lock();
            for s in saved.iter().filter(|s| s.lagging || s.future_alert) {
                if let Some(c) = Category::from_name(&s.category) {
                    let mut p = t.pair();
                    p.lagging = s.lagging;
                    p.future = s.future_alert;
                    inner.count += 1;
                    inner
                        .pairs
                        .entry(s.source.clone())
                        .or_default()
                        .insert(c, p);
                }
            }
        }
        t
    }

    /// The settings.
    pub fn config(&self) -> &LagConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn pair(&self) -> Pair {
        let slot_us = (self.config.window.as_micros() / SLOTS as u128).max(1) as i64;
        Pair {
            sketch: LagSketch::new(slot_us, SLOTS),
            recent: RecentHashes::new(),
            lagging: false,
            future: false,
        }
    }

    fn tolerance_us(&self) -> i64 {
        self.config
            .future_tolerance
            .map_or(i64::MAX, |d| d.as_micros().min(i64::MAX as u128) as i64)
    }

    /// Counts delivered records (a record whose content was delivered just before is counted once).
    pub fn observe(&self, records: &[Record]) {
        if !self.config.enabled || records.is_empty() {
            return;
        }
        let tolerance = self.tolerance_us();
        let mut guard = self.lock();
        let inner = &mut *guard;
        for r in records {
            inner.newest_us = inner.newest_us.max(r.ingest_time);
            let known = inner
                .pairs
                .get(r.source.as_str())
                .is_some_and(|m| m.contains_key(&r.category));
            if !known {
                if inner.count >= MAX_PAIRS {
                    if !inner.overflow_logged {
                        inner.overflow_logged = true;
                        tracing::warn!(
                            max = MAX_PAIRS,
                            "ingest lag: too many source/category pairs; new ones are not measured"
                        );
                    }
                    continue;
                }
                inner.count += 1;
                inner
                    .pairs
                    .entry(r.source.clone())
                    .or_default()
                    .insert(r.category, self.pair());
            }
            if let Some(p) = inner
                .pairs
                .get_mut(r.source.as_str())
                .and_then(|m| m.get_mut(&r.category))
                && !p.recent.seen(r.content_hash)
            {
                p.sketch.add(r.event_time, r.ingest_time, tolerance);
            }
        }
    }

    /// Every pair's window now (the newest ingest time seen).
    pub fn snapshot(&self) -> Vec<LagStatus> {
        let inner = self.lock();
        let now = inner.newest_us;
        inner
            .pairs
            .iter()
            .flat_map(|(source, m)| m.iter().map(move |(c, p)| (source, c, p)))
            .map(|(source, category, p)| {
                let s = p.sketch.summary(now);
                LagStatus {
                    source: source.clone(),
                    category: category.name().to_owned(),
                    window_s: self.config.window.as_secs(),
                    records: s.records,
                    p50_s: s.p50_s,
                    p95_s: s.p95_s,
                    p99_s: s.p99_s,
                    max_s: s.max_s,
                    future: s.future,
                    max_future_s: s.max_future_s,
                    threshold_s: self.config.threshold(*category).map(|d| d.as_secs_f64()),
                    lagging: p.lagging,
                    future_alert: p.future,
                    at: model::format_micros(now),
                }
            })
            .collect()
    }

    /// Judges every pair's window: the transitions into "lagging" and "future" since the last call.
    pub fn evaluate(&self) -> Vec<LagEvent> {
        if !self.config.enabled {
            return Vec::new();
        }
        let tolerance_s = self.tolerance_us() as f64 / 1e6;
        let has_tolerance = self.config.future_tolerance.is_some();
        let mut inner = self.lock();
        let now = inner.newest_us;
        let mut events = Vec::new();
        let pairs = inner
            .pairs
            .iter_mut()
            .flat_map(|(source, m)| m.iter_mut().map(move |(c, p)| (&*source, c, p)));
        for (source, category, p) in pairs {
            let s = p.sketch.summary(now);
            let threshold = self.config.threshold(*category).map(|d| d.as_secs_f64());
            match threshold {
                Some(t) if s.records >= self.config.min_records && s.p95_s > t => {
                    if !p.lagging {
                        p.lagging = true;
                        events.push(LagEvent::High {
                            source: source.clone(),
                            category: *category,
                            summary: s.clone(),
                            threshold_s: t,
                            at_us: now,
                        });
                    }
                }
                Some(t) if s.records >= self.config.min_records && s.p95_s <= t => {
                    p.lagging = false;
                }
                Some(_) => {}
                None => p.lagging = false,
            }
            if has_tolerance && s.future > 0 {
                if !p.future {
                    p.future = true;
                    events.push(LagEvent::Future {
                        source: source.clone(),
                        category: *category,
                        summary: s,
                        tolerance_s,
                        at_us: now,
                    });
                }
            } else {
                p.future = false;
            }
        }
        events
    }

    /// Writes [`LagTracker::snapshot`] to `path` (atomically; a failure is logged).
    pub fn save(&self, path: &Path) {
        crate::status_file::save(path, &self.snapshot(), "ingest lag");
    }
}

/// The last saved snapshot (empty when none).
pub fn load_status(data_dir: &Path) -> Vec<LagStatus> {
    crate::status_file::load(&status_path(data_dir), "ingest lag")
}

#[cfg(test)]
mod tests;
