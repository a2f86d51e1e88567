//! Request pacing shared by every category, tail and backfill of one (authority, tenant, app): a
//! sliding-window log per documented throttle class (N requests in any window, as Graph counts them), a class-wide block after a 429 (until `Retry-After`, or an
//! exponential backoff with jitter when there is none), and priority: the tail is served first; while a
//! tail request is waiting, backfill gets at most `backfill_share` of the grants, and everything otherwise.
//!
//! The state is a plain mutex never held across an await; waiting is `tokio::time::sleep`, so tests can run
//! on tokio's paused clock.

use super::GraphLimits;
use super::assertion::random_fraction;
use super::endpoints::ThrottleClass;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// The live tail: served first.
    Tail,
    /// Backfill: the rest of the capacity.
    Backfill,
}

/// Graph counts "N requests per window" over a sliding window; a grant is also held back a little longer than
/// the window (at most this, and at most 1 % of the window), for the difference in network latency between two
/// requests (a request sent a little late arriving a little early).
const WINDOW_MARGIN: Duration = Duration::from_millis(50);

#[derive(Debug)]
struct ClassState {
    /// When each of the last `limit` requests was granted (a sliding-window log, as Graph counts).
    grants: std::collections::VecDeque<Instant>,
    limit: usize,
    window: Duration,
    per_s: f64,
    blocked_until: Option<Instant>,
    throttles_in_row: u32,
    tail_waiting: usize,
    backfill_waiting: usize,
    credit: f64,
    granted: [u64; 2],
}

impl ClassState {
    fn new(limit: u32, window: Duration) -> ClassState {
        let limit = limit.max(1);
        ClassState {
            grants: std::collections::VecDeque::new(),
            limit: limit as usize,
            window: window + WINDOW_MARGIN.min(window / 100),
            per_s: f64::from(limit) / window.as_secs_f64().max(0.001),
            blocked_until: None,
            throttles_in_row: 0,
            tail_waiting: 0,
            backfill_waiting: 0,
            credit: 0.0,
            granted: [0, 0],
        }
    }

    /// How long until a request may be granted by the window alone (zero: now).
    fn window_wait(&mut self, now: Instant) -> Duration {
        while self
            .grants
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            self.grants.pop_front();
        }
        if self.grants.len() < self.limit {
            return Duration::ZERO;
        }
        self.grants.front().map_or(Duration::ZERO, |t| {
            (*t + self.window).saturating_duration_since(now)
        })
    }

    fn grant(&mut self, now: Instant) {
        self.grants.push_back(now);
    }
}

/// The shared pacing state of one (authority, tenant, app).
#[derive(Debug)]
pub struct Scheduler {
    classes: Mutex<HashMap<ThrottleClass, ClassState>>,
    /// One request in flight per class (see [`Scheduler::in_flight`]).
    sending: HashMap<ThrottleClass, Arc<tokio::sync::Semaphore>>,
    share: f64,
    max_backoff: Duration,
}

static REGISTRY: LazyLock<Mutex<HashMap<String, Weak<Scheduler>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Removes the waiting mark when an acquire ends (granted or cancelled).
struct WaitMark<'a>(&'a Scheduler, ThrottleClass, Priority);

impl Drop for WaitMark<'_> {
    fn drop(&mut self) {
        self.0.with(self.1, |st| match self.2 {
            Priority::Tail => st.tail_waiting = st.tail_waiting.saturating_sub(1),
            Priority::Backfill => st.backfill_waiting = st.backfill_waiting.saturating_sub(1),
        });
    }
}

/// The backoff before retry number `attempt` (0-based): 1 s doubling, capped, with "equal jitter".
pub(crate) fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(max);
    exp.mul_f64(0.5 + 0.5 * random_fraction())
}

impl Scheduler {
    /// A scheduler of its own (tests; sources use [`Scheduler::shared`]).
    pub fn new(limits: &GraphLimits, share: f64, max_backoff: Duration) -> Scheduler {
        let mut classes = HashMap::new();
        classes.insert(
            ThrottleClass::Reports,
            ClassState::new(limits.reports_per_window, limits.reports_window),
        );
        classes.insert(
            ThrottleClass::IdentityProtection,
            ClassState::new(limits.identity_protection_per_s, Duration::from_secs(1)),
        );
        let sending = [ThrottleClass::Reports, ThrottleClass::IdentityProtection]
            .into_iter()
            .map(|c| (c, Arc::new(tokio::sync::Semaphore::new(1))))
            .collect();
        Scheduler {
            classes: Mutex::new(classes),
            sending,
            share: share.clamp(0.0, 1.0),
            max_backoff,
        }
    }

    /// The process-wide scheduler of `key` (authority, tenant, client id); the first caller's limits apply.
    pub fn shared(
        key: &str,
        limits: &GraphLimits,
        share: f64,
        max_backoff: Duration,
    ) -> Arc<Scheduler> {
        let mut reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        reg.retain(|_, w| w.strong_count() > 0);
        if let Some(s) = reg.get(key).and_then(Weak::upgrade) {
            return s;
        }
        let s = Arc::new(Scheduler::new(limits, share, max_backoff));
        reg.insert(key.to_owned(), Arc::downgrade(&s));
        s
    }

    fn with<R>(&self, class: ThrottleClass, f: impl FnOnce(&mut ClassState) -> R) -> R {
        let mut classes = self.classes.lock().unwrap_or_else(|p| p.into_inner());
        let st = classes
            .entry(class)
            .or_insert_with(|| ClassState::new(1, Duration::from_secs(1)));
        f(st)
    }

    /// Waits until `priority` may send one request of `class`, and takes its token.
    pub async fn acquire(&self, class: ThrottleClass, priority: Priority) {
        self.with(class, |st| match priority {
            Priority::Tail => st.tail_waiting += 1,
            Priority::Backfill => st.backfill_waiting += 1,
        });
        let _mark = WaitMark(self, class, priority);
        let share = self.share;
        loop {
            let wait = self.with(class, |st| {
                let now = Instant::now();
                if let Some(until) = st.blocked_until {
                    if until > now {
                        return until - now;
                    }
                    st.blocked_until = None;
                }
                let next = st.window_wait(now);
                if !next.is_zero() {
                    return next.max(Duration::from_millis(1));
                }
                let contended = st.tail_waiting > 0;
                match priority {
                    // Backfill is waiting and has earned this token: the tail lets it go first.
                    Priority::Tail
                        if share < 1.0 && st.backfill_waiting > 0 && st.credit >= 1.0 =>
                    {
                        return Duration::from_secs_f64(1.0 / st.per_s)
                            .max(Duration::from_millis(1));
                    }
                    Priority::Tail => {
                        if share >= 1.0 {
                            st.credit = 1.0;
                        } else {
                            let ratio = share / (1.0 - share);
                            st.credit = (st.credit + ratio).min(1.0 + ratio);
                        }
                    }
                    Priority::Backfill if !contended || share >= 1.0 => {}
                    Priority::Backfill if st.credit >= 1.0 => st.credit -= 1.0,
                    // A tail request is waiting and backfill has had its share: let the tail go first.
                    Priority::Backfill => {
                        return Duration::from_secs_f64(1.0 / st.per_s)
                            .max(Duration::from_millis(1));
                    }
                }
                st.granted[usize::from(priority == Priority::Backfill)] += 1;
                Duration::ZERO
            });
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits until no other request of `class` is in flight and the class is not blocked, and holds that
    /// until the permit is dropped (after the response was classified). A request sent while another was in
    /// flight could not know of the 429 the other is about to get, and would arrive before its Retry-After.
    /// The limits allow a few requests per second at most, so sending them one at a time costs nothing.
    pub async fn in_flight(
        &self,
        class: ThrottleClass,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let permit = match self.sending.get(&class) {
            Some(s) => s.clone().acquire_owned().await.ok(),
            None => None,
        };
        // The window counts sends, as the server does: the grant is recorded now, when the request goes out.
        loop {
            let wait = self.with(class, |st| {
                let now = Instant::now();
                let blocked = st
                    .blocked_until
                    .map_or(Duration::ZERO, |u| u.saturating_duration_since(now));
                let wait = blocked.max(st.window_wait(now));
                if wait.is_zero() {
                    st.grant(now);
                }
                wait
            });
            if wait.is_zero() {
                return permit;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Graph answered 429 for `class`: nothing of that class is sent before `retry_after` has passed, or
    /// before an exponential backoff with jitter when the answer had none (Identity Protection never sends it).
    pub fn throttled(&self, class: ThrottleClass, retry_after: Option<Duration>) -> Duration {
        let max = self.max_backoff;
        self.with(class, |st| {
            let now = Instant::now();
            st.throttles_in_row = st.throttles_in_row.saturating_add(1);
            let wait = match retry_after {
                Some(d) => d,
                None => backoff(
                    st.throttles_in_row - 1,
                    Duration::from_secs(2).min(max),
                    max,
                ),
            };
            let until = now + wait;
            st.blocked_until = Some(st.blocked_until.map_or(until, |b| b.max(until)));
            wait
        })
    }

    /// A request of `class` succeeded: the no-`Retry-After` backoff starts over.
    pub fn succeeded(&self, class: ThrottleClass) {
        self.with(class, |st| st.throttles_in_row = 0);
    }

    /// Grants so far to (tail, backfill) in `class`.
    pub fn granted(&self, class: ThrottleClass) -> (u64, u64) {
        self.with(class, |st| (st.granted[0], st.granted[1]))
    }

    /// The longest backoff.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }
}
