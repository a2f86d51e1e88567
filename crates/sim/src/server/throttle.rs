//! Throttling in real time (wire-formats §3.9): reports APIs per (app, tenant) in a sliding window, answered
//! 429 with `Retry-After` (whole seconds, from when the window frees); identity protection per tenant across
//! apps, answered 429 without `Retry-After`. Requests sent before a `Retry-After` the same app was given for the
//! same class expired are counted as violations.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::Limits;
use super::endpoints::Class;
use super::lock;

/// A throttling decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Allow,
    /// 429; `Some(seconds)` for a `Retry-After` header.
    Throttled(Option<u64>),
}

#[derive(Debug, Default)]
struct State {
    reports: HashMap<String, VecDeque<Instant>>,
    identity_protection: VecDeque<Instant>,
    retry_until: HashMap<(String, Class), Instant>,
}

/// Throttling state of one server.
#[derive(Debug)]
pub(crate) struct Throttle {
    limits: Limits,
    state: Mutex<State>,
}

fn window_check(
    q: &mut VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
    if q.len() < limit.max(1) as usize {
        q.push_back(now);
        return None;
    }
    let oldest = q.front().copied().unwrap_or(now);
    Some(window.saturating_sub(now.duration_since(oldest)))
}

impl Throttle {
    pub(crate) fn new(limits: Limits) -> Throttle {
        Throttle {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether `app` sent this request before a `Retry-After` it was given for `class` expired.
    pub(crate) fn is_violation(&self, app: &str, class: Class, now: Instant) -> bool {
        let g = lock(&self.state);
        g.retry_until
            .get(&(app.to_owned(), class))
            .is_some_and(|until| now < *until)
    }

    /// Records a `Retry-After` given to `app` for `class`.
    pub(crate) fn gave_retry_after(&self, app: &str, class: Class, now: Instant, secs: u64) {
        let mut g = lock(&self.state);
        g.retry_until
            .insert((app.to_owned(), class), now + Duration::from_secs(secs));
    }

    /// Counts a request and decides whether it is throttled.
    pub(crate) fn check(&self, app: &str, class: Class, now: Instant) -> Decision {
        let mut g = lock(&self.state);
        match class {
            Class::Reports => {
                let q = g.reports.entry(app.to_owned()).or_default();
                match window_check(
                    q,
                    self.limits.reports_per_window,
                    self.limits.reports_window,
                    now,
                ) {
                    None => Decision::Allow,
                    Some(wait) => {
                        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                        Decision::Throttled(Some(secs))
                    }
                }
            }
            Class::IdentityProtection => {
                let (limit, window) = (
                    self.limits.identity_protection_per_window,
                    self.limits.identity_protection_window,
                );
                match window_check(&mut g.identity_protection, limit, window, now) {
                    None => Decision::Allow,
                    Some(_) => Decision::Throttled(None),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_window_and_retry_after() {
        let t = Throttle::new(Limits::default());
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(t.check("a", Class::Reports, now), Decision::Allow);
        }
        assert_eq!(
            t.check("a", Class::Reports, now),
            Decision::Throttled(Some(10))
        );
        assert_eq!(
            t.check("b", Class::Reports, now),
            Decision::Allow,
            "per app"
        );
        let later = now + Duration::from_millis(9_200);
        assert_eq!(
            t.check("a", Class::Reports, later),
            Decision::Throttled(Some(1))
        );
        assert_eq!(
            t.check("a", Class::Reports, now + Duration::from_secs(10)),
            Decision::Allow
        );
    }

    #[test]
    fn identity_protection_is_per_tenant_without_retry_after() {
        let t = Throttle::new(Limits::default());
        let now = Instant::now();
        assert_eq!(
            t.check("a", Class::IdentityProtection, now),
            Decision::Allow
        );
        assert_eq!(
            t.check("b", Class::IdentityProtection, now),
            Decision::Throttled(None)
        );
        let next = now + Duration::from_secs(1);
        assert_eq!(
            t.check("b", Class::IdentityProtection, next),
            Decision::Allow
        );
    }

    #[test]
    fn violations() {
        let t = Throttle::new(Limits::default());
        let now = Instant::now();
        t.gave_retry_after("a", Class::Reports, now, 2);
        assert!(t.is_violation("a", Class::Reports, now + Duration::from_secs(1)));
        assert!(!t.is_violation("a", Class::IdentityProtection, now));
        assert!(!t.is_violation("b", Class::Reports, now));
        assert!(!t.is_violation("a", Class::Reports, now + Duration::from_secs(2)));
    }
}
