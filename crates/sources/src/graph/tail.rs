//! The live tail. Per category the window is `[cursor - overlap, now - delay]` (`now - start` without a
//! cursor), at most `max_window` long; its pages are delivered one at a time and only once the whole window
//! is durable is the cursor (the window's end) saved. A crash mid-window re-reads the window; the pipeline
//! dedupes. Categories run side by side: a 401/403 pauses one category (retried every `denied_retry`) while
//! the others go on; throttling and transient failures are retried inside the window.

use super::endpoints::endpoint;
use super::scheduler::Priority;
use super::{Accepted, CursorStore, Deliver, ErrorKind, GraphError, GraphSource};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use model::Category;
use serde::Serialize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one tail window of one category did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryPoll {
    /// The category name.
    pub category: String,
    /// Window start (none when it failed before one was computed).
    pub start: Option<DateTime<Utc>>,
    /// Window end.
    pub end: Option<DateTime<Utc>>,
    /// Pages read.
    pub pages: u64,
    /// Objects Graph returned.
    pub seen: u64,
    /// Objects that did not decode.
    pub rejected: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
    /// Whether the window reached `now - delay` (false: a longer gap remains, read next).
    pub caught_up: bool,
    /// The cursor saved (the window's end), if the window completed.
    pub cursor_saved: Option<DateTime<Utc>>,
    /// Why the window failed.
    pub error: Option<String>,
    /// The failure's retry class.
    pub error_kind: Option<String>,
}

/// What [`GraphSource::poll_once`] did, per category.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollReport {
    /// One entry per configured category.
    pub categories: Vec<CategoryPoll>,
}

impl PollReport {
    /// Whether every category's window completed.
    pub fn is_ok(&self) -> bool {
        self.categories.iter().all(|c| c.error.is_none())
    }

    /// The entry of `category`.
    pub fn get(&self, category: Category) -> Option<&CategoryPoll> {
        self.categories
            .iter()
            .find(|c| c.category == category.name())
    }
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Reads a tail cursor value (`{"end": RFC 3339}`).
pub(crate) fn parse_cursor(v: &serde_json::Value) -> Option<DateTime<Utc>> {
    let s = v.get("end")?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

impl GraphSource {
    /// The saved tail cursor of `category`.
    pub fn tail_cursor<C: CursorStore>(
        &self,
        category: Category,
        cursors: &C,
    ) -> Result<Option<DateTime<Utc>>, GraphError> {
        let v = cursors
            .load(&self.tail_key(category))
            .map_err(GraphError::Cursor)?;
        Ok(v.as_ref().and_then(parse_cursor))
    }

    /// One tail window of one category.
    async fn tail_window<D: Deliver, C: CursorStore>(
        &self,
        category: Category,
        deliver: &D,
        cursors: &C,
        cancel: &CancellationToken,
        report: &mut CategoryPoll,
    ) -> Result<(), GraphError> {
        let ep = endpoint(category)
            .ok_or_else(|| GraphError::fatal(format!("{category}: not served by Graph")))?;
        if let Err(e) = self.client.ensure_token().await {
            self.accounting.error(category, &e, self.clock.now());
            return Err(e);
        }
        let cursor = self.tail_cursor(category, cursors)?;
        self.accounting.set_cursor(category, cursor);
        let limit = whole_seconds(self.clock.now() - delta(self.config.delay));
        let start = match cursor {
            Some(c) => c - delta(self.config.overlap),
            None => limit - delta(self.config.start),
        };
        let mut end = limit;
        report.caught_up = true;
        if end - start > delta(self.config.max_window) {
            end = start + delta(self.config.max_window);
            report.caught_up = false;
        }
        report.start = Some(start);
        report.end = Some(end);
        if end <= start {
            return Ok(());
        }
        self.accounting.begin_window(category, start, end);
        tracing::debug!(source = %self.config.id, %category, %start, %end, "graph tail window");
        let stats = self
            .read_range(
                ep,
                start,
                end,
                Priority::Tail,
                deliver,
                cancel,
                None,
                &|_, _| {},
            )
            .await?;
        report.pages = stats.pages;
        report.seen = stats.seen;
        report.rejected = stats.rejected;
        report.accepted = stats.accepted;
        let saved = match cursor {
            Some(c) if c >= end => c,
            _ => {
                let value =
                    serde_json::json!({"end": end.to_rfc3339_opts(SecondsFormat::Secs, true)});
                cursors
                    .save(&self.tail_key(category), &value)
                    .map_err(GraphError::Cursor)?;
                end
            }
        };
        report.cursor_saved = Some(saved);
        self.accounting
            .window_done(category, saved, self.clock.now());
        tracing::info!(source = %self.config.id, %category, %start, %end, pages = stats.pages,
            seen = stats.seen, new = stats.accepted.new, "graph tail window done");
        Ok(())
    }

    async fn window_report<D: Deliver, C: CursorStore>(
        &self,
        category: Category,
        deliver: &D,
        cursors: &C,
        cancel: &CancellationToken,
    ) -> (CategoryPoll, Option<GraphError>) {
        let mut report = CategoryPoll {
            category: category.name().to_owned(),
            ..CategoryPoll::default()
        };
        let result = self
            .tail_window(category, deliver, cursors, cancel, &mut report)
            .await;
        match result {
            Ok(()) => (report, None),
            Err(e) => {
                if matches!(e, GraphError::Deliver(_) | GraphError::Cursor(_)) {
                    self.accounting.error(category, &e, self.clock.now());
                }
                report.error = Some(e.to_string());
                report.error_kind = Some(format!("{:?}", e.kind()));
                (report, Some(e))
            }
        }
    }

    /// Reads one tail window per category (side by side) and returns what each did; a category's failure
    /// is in its entry and does not stop the others. Throttling and transient failures are retried.
    pub async fn poll_once<D: Deliver, C: CursorStore>(
        &self,
        deliver: &D,
        cursors: &C,
    ) -> Result<PollReport, GraphError> {
        let cancel = CancellationToken::new();
        let runs = self
            .categories
            .iter()
            .map(|c| self.window_report(*c, deliver, cursors, &cancel));
        let categories = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        Ok(PollReport { categories })
    }

    /// Tails every category until `shutdown`: windows back to back while behind, then one per
    /// `poll_interval`. Returns `Ok` on shutdown; failures are recorded per category and retried.
    pub async fn run_tail<D: Deliver, C: CursorStore>(
        &self,
        deliver: &D,
        cursors: &C,
        shutdown: CancellationToken,
    ) -> Result<(), GraphError> {
        let loops = self
            .categories
            .iter()
            .map(|c| self.tail_loop(*c, deliver, cursors, &shutdown));
        futures_util::future::join_all(loops).await;
        Ok(())
    }

    async fn tail_loop<D: Deliver, C: CursorStore>(
        &self,
        category: Category,
        deliver: &D,
        cursors: &C,
        shutdown: &CancellationToken,
    ) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let (report, error) = self
                .window_report(category, deliver, cursors, shutdown)
                .await;
            let wait = match error {
                None => {
                    failures = 0;
                    if report.caught_up {
                        self.config.poll_interval
                    } else {
                        Duration::ZERO
                    }
                }
                Some(GraphError::Cancelled) => return,
                Some(e) => {
                    failures = failures.saturating_add(1);
                    match e.kind() {
                        ErrorKind::Auth | ErrorKind::Forbidden => {
                            self.accounting.set_paused(category, true);
                            tracing::error!(source = %self.config.id, %category, error = %e,
                                retry_s = self.config.denied_retry.as_secs(), "graph category paused");
                            self.config.denied_retry
                        }
                        ErrorKind::Fatal => {
                            tracing::error!(source = %self.config.id, %category, error = %e,
                                "graph tail window failed; retrying next poll");
                            self.config.poll_interval
                        }
                        _ => {
                            tracing::warn!(source = %self.config.id, %category, error = %e,
                                "graph tail window failed; retrying");
                            super::scheduler::backoff(
                                failures - 1,
                                Duration::from_secs(1),
                                self.config.max_backoff,
                            )
                        }
                    }
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}
