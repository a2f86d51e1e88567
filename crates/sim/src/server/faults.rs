//! Fault injection: a 429 storm, random 5xx / connection resets / truncated bodies (seeded RNG, one draw per
//! Graph request), tokens invalidated after N pages, nextLinks that fail once, and late arrival of records.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::Faults;
use super::lock;
use crate::util::mix2;

/// A random fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Close the connection without a response.
    Reset,
    /// Send part of the body and close.
    Truncate,
}

/// Runtime fault state.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) cfg: Faults,
    /// When the first Graph request came (the storm's clock starts there, not at server start, so a slow
    /// client start on a loaded machine cannot miss the storm).
    started: OnceLock<Instant>,
    rng: Mutex<SmallRng>,
    next_links: Mutex<(u64, HashSet<String>)>,
}

impl FaultState {
    pub(crate) fn new(cfg: Faults) -> FaultState {
        FaultState {
            rng: Mutex::new(SmallRng::seed_from_u64(cfg.seed)),
            cfg,
            started: OnceLock::new(),
            next_links: Mutex::new((0, HashSet::new())),
        }
    }

    /// Seconds left in the 429 storm, if one is on now.
    pub(crate) fn storm(&self, now: Instant) -> Option<u64> {
        let storm = self.cfg.storm.as_ref()?;
        let since = now.duration_since(*self.started.get_or_init(|| now));
        let end = storm.after + storm.duration;
        (since >= storm.after && since < end)
            .then(|| (end - since).as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Draws the random fault of one request (if any).
    pub(crate) fn draw(&self) -> Option<Injected> {
        let c = &self.cfg;
        if c.server_error_rate <= 0.0
            && c.connection_reset_rate <= 0.0
            && c.truncated_body_rate <= 0.0
        {
            return None;
        }
        let mut rng = lock(&self.rng);
        let x: f64 = rng.random();
        let status = if rng.random::<bool>() { 503 } else { 500 };
        if x < c.server_error_rate {
            Some(Injected::ServerError(status))
        } else if x < c.server_error_rate + c.connection_reset_rate {
            Some(Injected::Reset)
        } else if x < c.server_error_rate + c.connection_reset_rate + c.truncated_body_rate {
            Some(Injected::Truncate)
        } else {
            None
        }
    }

    /// Notes an issued nextLink (by its skiptoken); every Nth will fail once.
    pub(crate) fn issued_next_link(&self, skiptoken: &str) {
        let Some(every) = self.cfg.next_link_fail_every.filter(|n| *n > 0) else {
            return;
        };
        let mut g = lock(&self.next_links);
        g.0 += 1;
        if g.0.is_multiple_of(u64::from(every)) {
            g.1.insert(skiptoken.to_owned());
        }
    }

    /// Whether this use of a nextLink fails (first use of a marked one); returns the status.
    pub(crate) fn next_link_fails(&self, skiptoken: &str) -> Option<u16> {
        let mut g = lock(&self.next_links);
        g.1.remove(skiptoken)
            .then(|| if g.0.is_multiple_of(2) { 503 } else { 500 })
    }

    /// How long a truncated body waits after its partial data before closing (lets it reach the client).
    pub(crate) const TRUNCATE_LINGER: Duration = Duration::from_millis(30);
}

/// Extra visibility delay (ns) of a record under the late-arrival fault: for a chosen fraction of record seeds,
/// the record becomes visible at a uniform point up to `late_max` after its event time (never earlier than it
/// was received). Versions of one record share the seed and so the shift, keeping their order.
pub(crate) fn late_shift(cfg: &Faults, seed: u64, time: i64, received: i64) -> i64 {
    if cfg.late_arrival_rate <= 0.0 {
        return 0;
    }
    let h = mix2(seed, cfg.seed ^ 0x1A7E_A441);
    if (h % 1_000_000) as f64 >= cfg.late_arrival_rate * 1_000_000.0 {
        return 0;
    }
    let max = i64::try_from(cfg.late_max.as_nanos()).unwrap_or(i64::MAX);
    if max <= 0 {
        return 0;
    }
    let at = time.saturating_add((mix2(h, 7) % max as u64) as i64);
    (at - received).max(0)
}
