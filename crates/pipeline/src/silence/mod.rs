//! Silence detection: is each category still arriving from each source? Expected volume per hour is learned
//! from history by hour of week (falling back to hour of day on weekdays or weekends while fewer than one week
//! is known), or configured. Each completed hour, the detector looks back over the shortest window whose
//! expected volume reaches `min_expected` (at most `max_window_hours`): if what arrived is at most `drop_ratio`
//! of what was expected, the category has **stopped** (nothing at all) or **dropped**; it **resumed** once an
//! hour brings at least `recover_ratio` of that hour's expectation again. Quiet nights and weekends expect
//! little, so the window grows until the evidence is strong (or no verdict is given): they are not silences.
//!
//! Pure: counts go in ([`HourlyCounts`]), events come out ([`SilenceEvent`]).

mod archive;

pub use archive::{SilenceStatus, TimeBasis, archive_counts, status};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Records per hour; the key is the hour's start as Unix seconds / 3600.
pub type HourlyCounts = BTreeMap<i64, u64>;

/// The hour index of a time.
pub fn hour_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(3600)
}

fn hour_start(h: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(h * 3600, 0).unwrap_or_default()
}

/// Hour of week (Monday 00:00 UTC = 0 .. Sunday 23:00 = 167).
fn hour_of_week(h: i64) -> usize {
    let t = hour_start(h);
    (t.weekday().num_days_from_monday() * 24 + t.hour()) as usize
}

fn is_weekend(h: i64) -> bool {
    hour_start(h).weekday().num_days_from_monday() >= 5
}

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceConfig {
    /// Expected records a window must reach before a verdict is given (Poisson: P(0 | 20) ≈ 2e-9).
    pub min_expected: f64,
    /// At most this fraction of the expected volume arriving is a silence.
    pub drop_ratio: f64,
    /// An hour bringing at least this fraction of its expectation ends a silence.
    pub recover_ratio: f64,
    /// The longest window looked back over.
    pub max_window_hours: u32,
}

impl Default for SilenceConfig {
    /// 20 expected records, 10 % drop, 50 % recovery, 24 h window.
    fn default() -> Self {
        SilenceConfig {
            min_expected: 20.0,
            drop_ratio: 0.1,
            recover_ratio: 0.5,
            max_window_hours: 24,
        }
    }
}

/// Expected records per hour, learned or configured.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// Learned from history.
    Learned {
        /// Mean per hour of week, with the number of samples.
        by_hour_of_week: Vec<(f64, u32)>,
        /// Mean per hour of day on weekdays and on weekends, with samples.
        by_day_type: [Vec<(f64, u32)>; 2],
    },
    /// A configured constant rate.
    Fixed(f64),
}

impl Baseline {
    /// Learns from the hours `from..to` of `counts` (absent hours count as zero).
    pub fn learn(counts: &HourlyCounts, from: i64, to: i64) -> Baseline {
        let mut how = vec![(0.0, 0u32); 168];
        let mut day_type = [vec![(0.0, 0u32); 24], vec![(0.0, 0u32); 24]];
        for h in from..to {
            let n = counts.get(&h).copied().unwrap_or(0) as f64;
            let w = &mut how[hour_of_week(h)];
            w.0 += n;
            w.1 += 1;
            let d = &mut day_type[usize::from(is_weekend(h))][hour_start(h).hour() as usize];
            d.0 += n;
            d.1 += 1;
        }
        let mean = |v: &mut Vec<(f64, u32)>| {
            for (sum, n) in v.iter_mut() {
                if *n > 0 {
                    *sum /= f64::from(*n);
                }
            }
        };
        mean(&mut how);
        mean(&mut day_type[0]);
        mean(&mut day_type[1]);
        Baseline::Learned {
            by_hour_of_week: how,
            by_day_type: day_type,
        }
    }

    /// Expected records in hour `h`.
    pub fn expected(&self, h: i64) -> f64 {
        match self {
            Baseline::Fixed(r) => *r,
            Baseline::Learned {
                by_hour_of_week,
                by_day_type,
            } => {
                let (m, n) = by_hour_of_week[hour_of_week(h)];
                if n > 0 {
                    return m;
                }
                let (m, n) = by_day_type[usize::from(is_weekend(h))][hour_start(h).hour() as usize];
                if n > 0 {
                    return m;
                }
                // Nothing known about this kind of day: the other kind's hour, halved at weekends.
                let (m, _) =
                    by_day_type[usize::from(!is_weekend(h))][hour_start(h).hour() as usize];
                if is_weekend(h) { m * 0.5 } else { m }
            }
        }
    }
}

/// What a category and source did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SilenceEvent {
    /// Nothing arrived over a window that expected at least `min_expected` records.
    Stopped {
        /// `source/category`.
        key: String,
        /// Start of the window (RFC 3339).
        since: String,
        /// When it was found (end of the window).
        at: String,
        /// Records expected over the window.
        expected: f64,
    },
    /// Far fewer than expected arrived.
    Dropped {
        /// `source/category`.
        key: String,
        /// Start of the window.
        since: String,
        /// End of the window.
        at: String,
        /// Expected over the window.
        expected: f64,
        /// Received over the window.
        observed: u64,
    },
    /// Records arrive again.
    Resumed {
        /// `source/category`.
        key: String,
        /// The hour they came back.
        at: String,
        /// Hours since the silence was found.
        silent_hours: i64,
    },
}

/// Per-key state across checks.
#[derive(Debug, Default)]
pub struct SilenceDetector {
    config: SilenceConfig,
    silent_since: HashMap<String, i64>,
}

fn rfc3339(h: i64) -> String {
    hour_start(h).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl SilenceDetector {
    /// A detector with `config`.
    pub fn new(config: SilenceConfig) -> SilenceDetector {
        SilenceDetector {
            config,
            silent_since: HashMap::new(),
        }
    }

    /// Whether `key` is currently silent.
    pub fn is_silent(&self, key: &str) -> bool {
        self.silent_since.contains_key(key)
    }

    /// Checks `key` once the hours before `now` (an hour index) are complete.
    pub fn check(
        &mut self,
        key: &str,
        counts: &HourlyCounts,
        baseline: &Baseline,
        now: i64,
    ) -> Option<SilenceEvent> {
        let c = self.config;
        let got = |h: i64| counts.get(&h).copied().unwrap_or(0);
        if let Some(&since) = self.silent_since.get(key) {
            let last = now - 1;
            let want = (baseline.expected(last) * c.recover_ratio).max(1.0);
            if got(last) as f64 >= want {
                self.silent_since.remove(key);
                return Some(SilenceEvent::Resumed {
                    key: key.to_owned(),
                    at: rfc3339(last),
                    silent_hours: now - since,
                });
            }
            return None;
        }
        let (mut expected, mut observed) = (0.0, 0u64);
        for w in 1..=i64::from(c.max_window_hours) {
            expected += baseline.expected(now - w);
            observed += got(now - w);
            if expected < c.min_expected {
                continue;
            }
            if observed as f64 > c.drop_ratio * expected {
                return None;
            }
            self.silent_since.insert(key.to_owned(), now);
            let (since, at) = (rfc3339(now - w), rfc3339(now));
            return Some(if observed == 0 {
                SilenceEvent::Stopped {
                    key: key.to_owned(),
                    since,
                    at,
                    expected,
                }
            } else {
                SilenceEvent::Dropped {
                    key: key.to_owned(),
                    since,
                    at,
                    expected,
                    observed,
                }
            });
        }
        None
    }
}

#[cfg(test)]
mod tests;
