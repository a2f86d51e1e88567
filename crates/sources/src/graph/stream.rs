//! Reading one time range of one category: the first page's URL from the endpoint table, then
//! `@odata.nextLink` verbatim. Pages are decoded one at a time (an undecodable object becomes a
//! [`model::Rejected`], never dropped) and handed to [`Deliver`]; the next page is fetched while the
//! current one is being delivered, and no further: at most one page ahead, so memory stays at two pages.
//! Each request waits for the scheduler; throttling and transient failures are retried (capped backoff),
//! each failure recorded and logged; 401/403/400 end the range with the error.

use super::client::Page;
use super::endpoints::Endpoint;
use super::scheduler::{Priority, backoff};
use super::{Accepted, Deliver, ErrorKind, GraphError, GraphSource};
use crate::Batch;
use chrono::{DateTime, SecondsFormat, Utc};
use model::normalize::{DecodeContext, decode_record};
use model::{Position, Rejected, Shape};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What reading a range did.
#[derive(Debug, Clone, Default)]
pub(crate) struct RangeStats {
    pub(crate) pages: u64,
    pub(crate) seen: u64,
    pub(crate) rejected: u64,
    pub(crate) accepted: Accepted,
}

impl GraphSource {
    /// GETs one page, waiting for the scheduler and retrying throttling and transient failures. With a
    /// `budget`, gives up after that many failed attempts (backfill narrows such a slice); without one it
    /// retries until `cancel`.
    pub(crate) async fn fetch(
        &self,
        ep: &Endpoint,
        url: &str,
        priority: Priority,
        budget: Option<u32>,
        cancel: &CancellationToken,
    ) -> Result<Page, GraphError> {
        let mut attempt = 0u32;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(GraphError::Cancelled),
                () = self.scheduler.acquire(ep.class, priority) => {}
            }
            let sending = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(GraphError::Cancelled),
                p = self.scheduler.in_flight(ep.class) => p,
            };
            let result = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(GraphError::Cancelled),
                r = self.client.get_page(url, ep) => r,
            };
            let e = match result {
                Ok(page) => {
                    self.scheduler.succeeded(ep.class);
                    return Ok(page);
                }
                Err(e) => e,
            };
            self.accounting.error(ep.category, &e, self.clock.now());
            // Released once the throttle below is recorded (see `Scheduler::in_flight`), before any backoff.
            let wait = match e.kind() {
                ErrorKind::Throttled { retry_after } => {
                    let blocked = self.scheduler.throttled(ep.class, retry_after);
                    tracing::warn!(source = %self.config.id, category = %ep.category, attempt,
                        blocked_s = blocked.as_secs_f64(), retry_after = ?retry_after, error = %e,
                        "graph throttled the request; its class waits");
                    Duration::ZERO
                }
                ErrorKind::Transient => {
                    let hint = match &e {
                        GraphError::Transient { retry_after, .. } => {
                            retry_after.unwrap_or_default()
                        }
                        _ => Duration::ZERO,
                    };
                    let wait =
                        backoff(attempt, Duration::from_secs(1), self.config.max_backoff).max(hint);
                    tracing::warn!(source = %self.config.id, category = %ep.category, attempt,
                        wait_s = wait.as_secs_f64(), error = %e, "graph request failed; retrying");
                    wait
                }
                _ => {
                    tracing::error!(source = %self.config.id, category = %ep.category, kind = ?e.kind(),
                        error = %e, "graph request refused");
                    return Err(e);
                }
            };
            drop(sending);
            attempt += 1;
            if budget.is_some_and(|b| attempt >= b) {
                return Err(e);
            }
            if !wait.is_zero() {
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return Err(GraphError::Cancelled),
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    /// Decodes one page's objects into a batch.
    fn to_batch(
        &self,
        ep: &Endpoint,
        items: Vec<Box<serde_json::value::RawValue>>,
        url: &str,
        position: String,
    ) -> Batch {
        let cx = DecodeContext {
            source: self.config.id.clone(),
            location: url.to_owned(),
            // The local receive time, as every other source: the server-date clock (which may be skewed or
            // simulated) drives windows and cursors, never `_IngestTime`.
            ingest_time: Utc::now().timestamp_micros(),
            category: Some(ep.category),
            shape: Some(Shape::Graph),
        };
        let mut batch = Batch {
            position,
            ..Batch::default()
        };
        for (i, item) in items.into_iter().enumerate() {
            match decode_record(item.get(), &cx) {
                Ok(records) => batch.records.extend(records),
                Err(e) => {
                    let mut raw = item.get().as_bytes().to_vec();
                    raw.truncate(model::limits::MAX_RECORD_BYTES as usize);
                    batch.rejected.push(Rejected {
                        position: Position {
                            source: cx.source.clone(),
                            location: cx.location.clone(),
                            at: format!("record {}", i + 1),
                        },
                        raw,
                        reason: e.to_string(),
                        category: Some(ep.category.name().to_owned()),
                    });
                }
            }
        }
        batch
    }

    /// Reads `[start, end]` of `ep` page by page into `deliver`. Returns once every page is delivered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn read_range<D: Deliver>(
        &self,
        ep: &Endpoint,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        priority: Priority,
        deliver: &D,
        cancel: &CancellationToken,
        first_budget: Option<u32>,
        on_page: &(dyn Fn(u64, &Accepted) + Send + Sync),
    ) -> Result<RangeStats, GraphError> {
        let mut url = ep.url(&self.config.graph_endpoint, start, end);
        let mut page = self.fetch(ep, &url, priority, first_budget, cancel).await?;
        let mut stats = RangeStats::default();
        let span = format!(
            "{}..{}",
            start.to_rfc3339_opts(SecondsFormat::Secs, true),
            end.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        loop {
            stats.pages += 1;
            let next = page.next_link.take();
            if next.as_deref() == Some(url.as_str()) {
                return Err(GraphError::fatal(format!(
                    "{} page {}: nextLink repeats the page",
                    ep.category, stats.pages
                )));
            }
            let seen = page.items.len() as u64;
            let position = format!(
                "{} {} {span} page {}",
                self.config.id, ep.category, stats.pages
            );
            let batch = self.to_batch(ep, std::mem::take(&mut page.items), &url, position);
            let rejected = batch.rejected.len() as u64;
            let delivery = async {
                if batch.records.is_empty() && batch.rejected.is_empty() {
                    Ok(Accepted::default())
                } else {
                    deliver.deliver(batch).await
                }
            };
            match next {
                None => {
                    let accepted = delivery.await.map_err(GraphError::Deliver)?;
                    self.note_page(ep, priority, seen, rejected, &accepted, &mut stats, on_page);
                    return Ok(stats);
                }
                Some(next) => {
                    // `biased` polls the delivery first: the batch is handed over before the next page is
                    // requested, and the page after that waits until this delivery returned.
                    let (accepted, fetched) = tokio::join!(
                        biased;
                        delivery,
                        self.fetch(ep, &next, priority, None, cancel)
                    );
                    let accepted = accepted.map_err(GraphError::Deliver)?;
                    self.note_page(ep, priority, seen, rejected, &accepted, &mut stats, on_page);
                    page = fetched?;
                    url = next;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn note_page(
        &self,
        ep: &Endpoint,
        priority: Priority,
        seen: u64,
        rejected: u64,
        accepted: &Accepted,
        stats: &mut RangeStats,
        on_page: &(dyn Fn(u64, &Accepted) + Send + Sync),
    ) {
        stats.seen += seen;
        stats.rejected += rejected;
        stats.accepted.add(accepted);
        self.accounting.page(
            ep.category,
            priority == Priority::Tail,
            seen,
            rejected,
            accepted,
        );
        on_page(seen, accepted);
    }
}
