//! A sliding-window histogram of ingest lag: a ring of time slots (by ingest time), each a log-linear
//! histogram in milliseconds (exact below 16 ms, then 8 sub-buckets per power of two: a quantile is reported
//! within 6.25 % of the true value), plus the records that carried event times beyond the future tolerance.
//! Memory is fixed per (source, category): slots × buckets counters.

/// Buckets: 16 exact (0..16 ms), then 8 per power of two from 2^4 to 2^43 ms (about 278 years).
pub(crate) const BUCKETS: usize = 16 + 40 * 8;

/// The bucket of a lag in milliseconds.
pub(crate) fn bucket(ms: u64) -> usize {
    if ms < 16 {
        return ms as usize;
    }
    let e = 63 - ms.leading_zeros() as usize; // floor(log2), >= 4
    let e = e.min(43);
    let sub = ((ms >> (e - 3)) & 7) as usize;
    (16 + (e - 4) * 8 + sub).min(BUCKETS - 1)
}

/// The value a bucket stands for: its midpoint (exact buckets: the value).
pub(crate) fn bucket_value(i: usize) -> u64 {
    if i < 16 {
        return i as u64;
    }
    let e = (i - 16) / 8 + 4;
    let sub = ((i - 16) % 8) as u64;
    let width = 1u64 << (e - 3);
    let low = (1u64 << e) + sub * width;
    low + width / 2
}

/// One time slot.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// Slot number (ingest time / slot length); `i64::MIN` when unused.
    epoch: i64,
    counts: Vec<u32>,
    total: u64,
    max_ms: u64,
    future: u64,
    max_future_ms: u64,
}

/// What a window holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LagSummary {
    /// Records in the window (future ones aside).
    pub records: u64,
    /// Median lag, seconds.
    pub p50_s: f64,
    /// 95th percentile, seconds.
    pub p95_s: f64,
    /// 99th percentile, seconds.
    pub p99_s: f64,
    /// Largest lag, seconds (exact).
    pub max_s: f64,
    /// Records whose event time was more than the tolerance after their ingest time.
    pub future: u64,
    /// How far ahead the furthest of them was, seconds.
    pub max_future_s: f64,
}

/// The sliding window of one (source, category).
#[derive(Debug, Clone)]
pub struct LagSketch {
    slot_us: i64,
    slots: Vec<Slot>,
}

impl LagSketch {
    /// A window of `slots` slots of `slot_us` microseconds each.
    pub fn new(slot_us: i64, slots: usize) -> LagSketch {
        let slots = slots.max(1);
        LagSketch {
            slot_us: slot_us.max(1),
            slots: (0..slots)
                .map(|_| Slot {
                    epoch: i64::MIN,
                    ..Slot::default()
                })
                .collect(),
        }
    }

    /// Adds one record received at `ingest_us` with event time `event_us`; a record more than
    /// `future_tolerance_us` in the future counts as future, one less far ahead as lag 0. A record older
    /// than the window is ignored.
    pub fn add(&mut self, event_us: i64, ingest_us: i64, future_tolerance_us: i64) {
        let epoch = ingest_us.div_euclid(self.slot_us);
        let n = self.slots.len() as i64;
        let Some(slot) = self.slots.get_mut(epoch.rem_euclid(n) as usize) else {
            return;
        };
        if slot.epoch != epoch {
            if slot.epoch > epoch {
                return;
            }
            slot.epoch = epoch;
            slot.counts.clear();
            slot.total = 0;
            slot.max_ms = 0;
            slot.future = 0;
            slot.max_future_ms = 0;
        }
        let lag_us = ingest_us.saturating_sub(event_us);
        if lag_us < -future_tolerance_us {
            slot.future += 1;
            slot.max_future_ms = slot.max_future_ms.max(lag_us.unsigned_abs() / 1000);
            return;
        }
        let ms = lag_us.max(0).unsigned_abs() / 1000;
        if slot.counts.is_empty() {
            slot.counts = vec![0; BUCKETS];
        }
        if let Some(c) = slot.counts.get_mut(bucket(ms)) {
            *c = c.saturating_add(1);
        }
        slot.total += 1;
        slot.max_ms = slot.max_ms.max(ms);
    }

    /// The window ending at `now_us` (the slot holding it and the ones before).
    pub fn summary(&self, now_us: i64) -> LagSummary {
        let now = now_us.div_euclid(self.slot_us);
        let oldest = now - self.slots.len() as i64;
        let mut merged = vec![0u64; BUCKETS];
        let mut s = LagSummary::default();
        let mut max_ms = 0;
        let mut max_future_ms = 0;
        for slot in self
            .slots
            .iter()
            .filter(|x| x.epoch > oldest && x.epoch <= now)
        {
            for (m, c) in merged.iter_mut().zip(&slot.counts) {
                *m += u64::from(*c);
            }
            s.records += slot.total;
            s.future += slot.future;
            max_ms = max_ms.max(slot.max_ms);
            max_future_ms = max_future_ms.max(slot.max_future_ms);
        }
        let q = |p: f64| -> f64 {
            if s.records == 0 {
                return 0.0;
            }
            let rank = ((p * s.records as f64).ceil() as u64).clamp(1, s.records);
            let mut seen = 0;
            for (i, c) in merged.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return bucket_value(i).min(max_ms) as f64 / 1000.0;
                }
            }
            max_ms as f64 / 1000.0
        };
        s.p50_s = q(0.50);
        s.p95_s = q(0.95);
        s.p99_s = q(0.99);
        s.max_s = max_ms as f64 / 1000.0;
        s.max_future_s = max_future_ms as f64 / 1000.0;
        s
    }
}

/// Recently seen content hashes of one (source, category), direct-mapped: a re-delivered record (a Graph
/// overlap re-read, an at-least-once redelivery) is not counted twice while its hash is still in the table.
/// Fixed size; an evicted hash only means a duplicate is counted.
#[derive(Debug, Clone)]
pub(crate) struct RecentHashes {
    table: Vec<u64>,
}

/// Entries of [`RecentHashes`] (128 KiB per pair).
const RECENT: usize = 16 * 1024;

impl RecentHashes {
    pub(crate) fn new() -> RecentHashes {
        RecentHashes {
            table: vec![0; RECENT],
        }
    }

    /// True when `hash` was seen (and is still remembered); remembers it otherwise.
    pub(crate) fn seen(&mut self, hash: u128) -> bool {
        let h = ((hash as u64) ^ ((hash >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let h = h.max(1); // 0 marks an empty entry
        let i = (h >> (64 - RECENT.trailing_zeros())) as usize;
        match self.table.get_mut(i) {
            Some(slot) if *slot == h => true,
            Some(slot) => {
                *slot = h;
                false
            }
            None => false,
        }
    }
}
