//! Backfill: `since` up to where the tail starts, in time slices (1 day at first; a slice whose first page
//! keeps getting throttled or timing out is split in two, down to `min_slice`, as Microsoft advises), several
//! in flight at once at backfill priority. Each finished slice is recorded in the cursor store
//! (`graph/{id}/{category}/backfill`: `{"until": …, "done": [[start, end], …]}`), so a restart skips it.
//! [`BackfillProgress`] is readable from another task (progress bars).

use super::endpoints::endpoint;
use super::scheduler::Priority;
use super::tail::parse_cursor;
use super::{Accepted, CursorStore, Deliver, ErrorKind, GraphError, GraphSource};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use model::Category;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Failed first-page attempts before a slice is narrowed.
const NARROW_AFTER: u32 = 3;

/// Backfill progress of one category.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryProgress {
    /// The category name.
    pub category: String,
    /// Backfill start.
    pub since: Option<DateTime<Utc>>,
    /// Backfill end (where the tail starts).
    pub until: Option<DateTime<Utc>>,
    /// Seconds of time to cover.
    pub total_seconds: i64,
    /// Seconds covered (finished slices, earlier runs included).
    pub done_seconds: i64,
    /// Slices finished in this run.
    pub slices_done: u64,
    /// Slices skipped because an earlier run finished them (counted as time in `done_seconds`).
    pub resumed_seconds: i64,
    /// Slices split after repeated throttling or timeouts.
    pub narrowed: u64,
    /// Pages read.
    pub pages: u64,
    /// Objects read.
    pub records: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
    /// Objects per second in this run.
    pub records_per_s: f64,
    /// Estimated seconds left.
    pub eta_seconds: Option<f64>,
    /// Whether every slice is done.
    pub finished: bool,
    /// Why the category stopped, if it did.
    pub error: Option<String>,
}

/// Live backfill progress, shared with a display task.
#[derive(Debug)]
pub struct BackfillProgress {
    started: Instant,
    inner: Mutex<BTreeMap<Category, CategoryProgress>>,
}

impl Default for BackfillProgress {
    fn default() -> Self {
        BackfillProgress::new()
    }
}

impl BackfillProgress {
    /// Empty progress; the clock for rates starts now.
    pub fn new() -> BackfillProgress {
        BackfillProgress {
            started: Instant::now(),
            inner: Mutex::new(BTreeMap::new()),
        }
    }

    fn with<R>(&self, c: Category, f: impl FnOnce(&mut CategoryProgress) -> R) -> R {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(m.entry(c).or_insert_with(|| CategoryProgress {
            category: c.name().to_owned(),
            ..CategoryProgress::default()
        }))
    }

    /// Per category, with rates and ETAs computed now.
    pub fn snapshot(&self) -> Vec<CategoryProgress> {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.values()
            .cloned()
            .map(|mut p| {
                p.records_per_s = p.records as f64 / elapsed;
                let this_run = (p.done_seconds - p.resumed_seconds) as f64;
                let left = (p.total_seconds - p.done_seconds).max(0) as f64;
                p.eta_seconds = if p.finished || left == 0.0 {
                    Some(0.0)
                } else if this_run > 0.0 {
                    Some(elapsed * left / this_run)
                } else {
                    None
                };
                p
            })
            .collect()
    }
}

/// What a backfill did, per category.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackfillReport {
    /// Final progress per category.
    pub categories: Vec<CategoryProgress>,
}

type Span = (DateTime<Utc>, DateTime<Utc>);

#[derive(Debug, Clone, Copy)]
struct Slice {
    category: Category,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse(v: &serde_json::Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Sorted, merged spans (touching spans join).
pub(crate) fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The parts of `[from, to]` no span covers.
pub(crate) fn gaps(done: &[Span], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = from;
    for &(s, e) in done {
        if e <= at || s >= to {
            continue;
        }
        if s > at {
            out.push((at, s));
        }
        at = at.max(e);
    }
    if at < to {
        out.push((at, to));
    }
    out
}

fn covered(done: &[Span], from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    done.iter()
        .map(|&(s, e)| (e.min(to) - s.max(from)).num_seconds().max(0))
        .sum()
}

#[derive(Debug, Default)]
struct Stored {
    until: Option<DateTime<Utc>>,
    done: Vec<Span>,
}

impl Stored {
    fn from_json(v: Option<&serde_json::Value>) -> Stored {
        let Some(v) = v else { return Stored::default() };
        let done = v
            .get("done")
            .and_then(|d| d.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| Some((parse(p.get(0)?)?, parse(p.get(1)?)?)))
                    .collect()
            })
            .unwrap_or_default();
        Stored {
            until: v.get("until").and_then(parse),
            done: merge(done),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "until": self.until.map(stamp),
            "done": self.done.iter().map(|(s, e)| [stamp(*s), stamp(*e)]).collect::<Vec<_>>(),
        })
    }
}

struct Shared<'a, C> {
    queue: Mutex<VecDeque<Slice>>,
    stored: Mutex<BTreeMap<Category, Stored>>,
    failed: Mutex<BTreeMap<Category, String>>,
    fatal: Mutex<Option<GraphError>>,
    cursors: &'a C,
    progress: &'a BackfillProgress,
    cancel: CancellationToken,
}

impl GraphSource {
    /// Backfills `categories` from `since` to where the tail starts, skipping slices finished by earlier
    /// runs. Category failures (403, bad filter) are in the report; a pipeline or cursor-store failure
    /// stops the backfill with that error (finished slices stay recorded).
    pub async fn backfill<D: Deliver, C: CursorStore>(
        &self,
        since: DateTime<Utc>,
        categories: &[Category],
        deliver: &D,
        cursors: &C,
        progress: Arc<BackfillProgress>,
    ) -> Result<BackfillReport, GraphError> {
        self.backfill_until_cancelled(
            since,
            categories,
            deliver,
            cursors,
            progress,
            CancellationToken::new(),
        )
        .await
    }

    /// [`GraphSource::backfill`] that stops at `shutdown` (between pages; deliveries in progress finish) and
    /// returns [`GraphError::Cancelled`]. Finished slices stay recorded.
    pub async fn backfill_until_cancelled<D: Deliver, C: CursorStore>(
        &self,
        since: DateTime<Utc>,
        categories: &[Category],
        deliver: &D,
        cursors: &C,
        progress: Arc<BackfillProgress>,
        shutdown: CancellationToken,
    ) -> Result<BackfillReport, GraphError> {
        let slice_len =
            TimeDelta::from_std(self.config.backfill_slice).unwrap_or(TimeDelta::days(1));
        let since = DateTime::from_timestamp(since.timestamp(), 0).unwrap_or(since);
        // "Now" decides where the backfill ends: with a server-date clock it must come from the server.
        self.sync_clock().await?;
        let mut stored = BTreeMap::new();
        let mut slices = Vec::new();
        for &category in categories {
            if endpoint(category).is_none() {
                return Err(GraphError::fatal(format!(
                    "{category}: not served by Graph"
                )));
            }
            let key = self.backfill_key(category);
            let mut st =
                Stored::from_json(cursors.load(&key).map_err(GraphError::Cursor)?.as_ref());
            let until = match st.until {
                Some(u) => u,
                None => {
                    let tail = cursors
                        .load(&self.tail_key(category))
                        .map_err(GraphError::Cursor)?;
                    let u = match tail.as_ref().and_then(parse_cursor) {
                        Some(c) => c - TimeDelta::from_std(self.config.overlap).unwrap_or_default(),
                        None => {
                            self.clock.now()
                                - TimeDelta::from_std(self.config.delay + self.config.start)
                                    .unwrap_or_default()
                        }
                    };
                    let u = DateTime::from_timestamp(u.timestamp(), 0).unwrap_or(u);
                    st.until = Some(u);
                    cursors
                        .save(&key, &st.to_json())
                        .map_err(GraphError::Cursor)?;
                    u
                }
            };
            let total = (until - since).num_seconds().max(0);
            let resumed = covered(&st.done, since, until);
            let todo = gaps(&st.done, since, until);
            progress.with(category, |p| {
                p.since = Some(since);
                p.until = Some(until);
                p.total_seconds = total;
                p.done_seconds = resumed;
                p.resumed_seconds = resumed;
                p.finished = todo.is_empty();
            });
            for (s, e) in todo {
                let mut at = s;
                while at < e {
                    let end = (at + slice_len).min(e);
                    slices.push(Slice {
                        category,
                        start: at,
                        end,
                    });
                    at = end;
                }
            }
            stored.insert(category, st);
        }
        // Oldest first (closest to falling out of retention), categories interleaved.
        slices.sort_by_key(|s| (s.start, s.category));
        let shared = Shared {
            queue: Mutex::new(slices.into()),
            stored: Mutex::new(stored),
            failed: Mutex::new(BTreeMap::new()),
            fatal: Mutex::new(None),
            cursors,
            progress: &progress,
            cancel: shutdown.child_token(),
        };
        let workers =
            (0..self.config.backfill_parallel).map(|_| self.backfill_worker(deliver, &shared));
        futures_util::future::join_all(workers).await;
        if shutdown.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        if let Some(e) = shared
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(e);
        }
        let failed = shared
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for &category in categories {
            let error = failed.get(&category).cloned();
            progress.with(category, |p| {
                p.finished = error.is_none();
                p.error = error;
            });
        }
        let mut report = progress.snapshot();
        report.retain(|p| categories.iter().any(|c| c.name() == p.category));
        Ok(BackfillReport { categories: report })
    }

    async fn backfill_worker<D: Deliver, C: CursorStore>(
        &self,
        deliver: &D,
        shared: &Shared<'_, C>,
    ) {
        let min = TimeDelta::from_std(self.config.min_slice).unwrap_or(TimeDelta::minutes(15));
        loop {
            let Some(slice) = shared
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front()
            else {
                return;
            };
            if shared.cancel.is_cancelled() {
                return;
            }
            if shared
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&slice.category)
            {
                continue;
            }
            let Some(ep) = endpoint(slice.category) else {
                continue;
            };
            let narrowable = slice.end - slice.start >= min * 2;
            let progress = shared.progress;
            let on_page = |seen: u64, acc: &Accepted| {
                progress.with(slice.category, |p| {
                    p.pages += 1;
                    p.records += seen;
                    p.accepted.add(acc);
                });
            };
            let result = self
                .read_range(
                    ep,
                    slice.start,
                    slice.end,
                    Priority::Backfill,
                    deliver,
                    &shared.cancel,
                    narrowable.then_some(NARROW_AFTER),
                    &on_page,
                )
                .await;
            match result {
                Ok(_) => {
                    if let Err(e) = self.slice_done(shared, slice) {
                        self.stop(shared, e);
                        return;
                    }
                }
                Err(GraphError::Cancelled) => return,
                Err(e @ (GraphError::Deliver(_) | GraphError::Cursor(_))) => {
                    self.accounting.error(slice.category, &e, self.clock.now());
                    self.stop(shared, e);
                    return;
                }
                Err(e)
                    if narrowable
                        && matches!(
                            e.kind(),
                            ErrorKind::Throttled { .. } | ErrorKind::Transient
                        ) =>
                {
                    let mid = slice.start + (slice.end - slice.start) / 2;
                    let mid = DateTime::from_timestamp(mid.timestamp(), 0).unwrap_or(mid);
                    tracing::warn!(source = %self.config.id, category = %slice.category,
                        start = %slice.start, end = %slice.end, error = %e, "backfill slice narrowed");
                    progress.with(slice.category, |p| p.narrowed += 1);
                    let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
                    q.push_front(Slice {
                        end: slice.end,
                        start: mid,
                        ..slice
                    });
                    q.push_front(Slice { end: mid, ..slice });
                }
                Err(e) => {
                    tracing::error!(source = %self.config.id, category = %slice.category, error = %e,
                        "backfill of the category stopped");
                    shared
                        .failed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(slice.category, e.to_string());
                }
            }
        }
    }

    fn stop<C>(&self, shared: &Shared<'_, C>, e: GraphError) {
        tracing::error!(source = %self.config.id, error = %e, "backfill stopped");
        shared
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
        shared.cancel.cancel();
    }

    /// Records a finished slice durably.
    fn slice_done<C: CursorStore>(
        &self,
        shared: &Shared<'_, C>,
        slice: Slice,
    ) -> Result<(), GraphError> {
        let mut stored = shared.stored.lock().unwrap_or_else(|p| p.into_inner());
        let st = stored.entry(slice.category).or_default();
        let mut done = std::mem::take(&mut st.done);
        done.push((slice.start, slice.end));
        st.done = merge(done);
        shared
            .cursors
            .save(&self.backfill_key(slice.category), &st.to_json())
            .map_err(GraphError::Cursor)?;
        let (since, until) = shared.progress.with(slice.category, |p| (p.since, p.until));
        let covered_now = match (since, until) {
            (Some(s), Some(u)) => covered(&st.done, s, u),
            _ => 0,
        };
        shared.progress.with(slice.category, |p| {
            p.slices_done += 1;
            p.done_seconds = covered_now;
            p.finished = covered_now >= p.total_seconds;
        });
        Ok(())
    }
}
