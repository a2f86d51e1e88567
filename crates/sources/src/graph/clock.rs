//! "Now" for window ends and token assertions: the local clock, or the latest Graph `Date` header plus the
//! local time elapsed since, which protects against local clock skew and lets a simulated tenant run its
//! clock faster than real time.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Mutex;
use tokio::time::Instant;

/// A source of "now". The Graph client reports every response's `Date` header through `observe_server_date`.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// A Graph (or token endpoint) response carried this `Date`. Default: ignored.
    fn observe_server_date(&self, _date: DateTime<Utc>) {}
}

/// The local clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The latest server `Date` plus local elapsed time (tokio's clock, so paused tests advance it); the local
/// clock until the first response.
#[derive(Debug, Default)]
pub struct ServerDateClock {
    seen: Mutex<Option<(DateTime<Utc>, Instant)>>,
}

impl ServerDateClock {
    /// A clock that has seen no server yet.
    pub fn new() -> ServerDateClock {
        ServerDateClock::default()
    }
}

impl Clock for ServerDateClock {
    fn now(&self) -> DateTime<Utc> {
        let seen = *self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen {
            Some((date, at)) => {
                date + TimeDelta::from_std(at.elapsed()).unwrap_or(TimeDelta::zero())
            }
            None => Utc::now(),
        }
    }

    fn observe_server_date(&self, date: DateTime<Utc>) {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some((date, Instant::now()));
    }
}

/// Parses an HTTP `Date` (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
