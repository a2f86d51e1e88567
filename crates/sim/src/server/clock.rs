//! The simulated clock: maps real time to sim time (start, speed), can be set, advanced, frozen and resumed,
//! and stops at an optional end. Data visibility runs on it; throttling does not (limits are per real second).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug)]
struct State {
    base_sim: DateTime<Utc>,
    base_real: Instant,
    speed: f64,
    frozen: bool,
    end: Option<DateTime<Utc>>,
}

impl State {
    fn now(&self) -> DateTime<Utc> {
        let t = if self.frozen {
            self.base_sim
        } else {
            let real = self.base_real.elapsed().as_secs_f64() * self.speed;
            let nanos = (real * 1e9).min(i64::MAX as f64) as i64;
            self.base_sim + TimeDelta::nanoseconds(nanos)
        };
        match self.end {
            Some(end) if t > end => end,
            _ => t,
        }
    }

    fn rebase(&mut self) {
        self.base_sim = self.now();
        self.base_real = Instant::now();
    }
}

/// A shared handle on the server's simulated clock. Cheap to clone; every clone sees the same time.
#[derive(Debug, Clone)]
pub struct SimClock {
    state: Arc<Mutex<State>>,
}

impl SimClock {
    /// A clock at `start` running at `speed` sim seconds per real second, stopping at `end`.
    pub fn new(
        start: DateTime<Utc>,
        speed: f64,
        end: Option<DateTime<Utc>>,
        frozen: bool,
    ) -> SimClock {
        SimClock {
            state: Arc::new(Mutex::new(State {
                base_sim: start,
                base_real: Instant::now(),
                speed: if speed.is_finite() && speed >= 0.0 {
                    speed
                } else {
                    1.0
                },
                frozen,
                end,
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut g)
    }

    /// Current sim time.
    pub fn now(&self) -> DateTime<Utc> {
        self.with(|s| s.now())
    }

    /// Jumps to `t` (keeps running if running; the end still caps it).
    pub fn set(&self, t: DateTime<Utc>) {
        self.with(|s| {
            s.base_sim = t;
            s.base_real = Instant::now();
        });
    }

    /// Moves sim time forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.with(|s| {
            s.rebase();
            s.base_sim += TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        });
    }

    /// Stops the clock where it is.
    pub fn freeze(&self) {
        self.with(|s| {
            s.rebase();
            s.frozen = true;
        });
    }

    /// Restarts a frozen clock from where it stopped.
    pub fn resume(&self) {
        self.with(|s| {
            if s.frozen {
                s.base_real = Instant::now();
                s.frozen = false;
            }
        });
    }

    /// Changes the speed (sim seconds per real second) from now on.
    pub fn set_speed(&self, speed: f64) {
        self.with(|s| {
            s.rebase();
            if speed.is_finite() && speed >= 0.0 {
                s.speed = speed;
            }
        });
    }

    /// Whether the clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.with(|s| s.frozen)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frozen_set_advance_end() {
        let t0 = DateTime::parse_from_rfc3339("2024-03-04T00:00:00Z")
            .unwrap()
            .to_utc();
        let end = t0 + TimeDelta::hours(2);
        let c = SimClock::new(t0, 1.0, Some(end), true);
        assert_eq!(c.now(), t0);
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now(), t0 + TimeDelta::seconds(60));
        c.set(t0 + TimeDelta::hours(5));
        assert_eq!(c.now(), end, "end caps the clock");
        c.set(t0);
        c.set_speed(3600.0);
        c.resume();
        assert!(!c.is_frozen());
        let a = c.now();
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            c.now() > a + TimeDelta::seconds(30),
            "3600x speed moves fast"
        );
    }
}
