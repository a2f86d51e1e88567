//! Metric families with labels, updated with atomics: counters, gauges and histograms. A family keeps one
//! child per label-value tuple; a stage looks a child up once (a map lookup under a short lock) and then
//! updates it lock-free, or keeps the `Arc` to skip the lookup entirely.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The three Prometheus types entrail exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with their sum and count.
    Histogram,
}

impl Kind {
    /// The name on the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (an `f64` kept as its bits).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Observations in fixed buckets (upper bounds, ascending); each observation lands in the first bucket
/// whose bound is at least its value, and rendering makes the counts cumulative.
#[derive(Debug)]
pub struct Histogram {
    bounds: Arc<[f64]>,
    /// One count per bound, plus the `+Inf` overflow bucket.
    counts: Box<[AtomicU64]>,
    /// Sum of observations, as `f64` bits.
    sum: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: Arc<[f64]>) -> Histogram {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram {
            bounds,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let i = self.bounds.partition_point(|b| *b < v);
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let mut cur = self.sum.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(cur) + v).to_bits();
            match self
                .sum
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// `(upper bound, cumulative count)` per bucket, the last one `+Inf`; then the sum and the count.
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64, u64) {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let bound = self.bounds.get(i).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, cumulative));
        }
        // The count is read after the buckets: `+Inf` is forced to it so a concurrent observation can
        // never show more in `_count` than in the last bucket.
        let count = self.count.load(Ordering::Relaxed).max(cumulative);
        if let Some(last) = buckets.last_mut() {
            last.1 = count;
        }
        (
            buckets,
            f64::from_bits(self.sum.load(Ordering::Relaxed)),
            count,
        )
    }
}

/// What a family holds per child.
#[derive(Debug)]
enum Children {
    Counter(BTreeMap<Vec<String>, Arc<Counter>>),
    Gauge(BTreeMap<Vec<String>, Arc<Gauge>>),
    Histogram(Arc<[f64]>, BTreeMap<Vec<String>, Arc<Histogram>>),
}

/// One metric name with its help text, type, label names and children.
#[derive(Debug)]
pub struct Family {
    /// Metric name (`entrail_...`).
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Label names, in order.
    pub labels: &'static [&'static str],
    children: Mutex<Children>,
}

impl Family {
    fn with(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        c: Children,
    ) -> Family {
        Family {
            name,
            help,
            labels,
            children: Mutex::new(c),
        }
    }

    /// A counter family.
    pub fn counter(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Family {
        Family::with(name, help, labels, Children::Counter(BTreeMap::new()))
    }

    /// A gauge family.
    pub fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Family {
        Family::with(name, help, labels, Children::Gauge(BTreeMap::new()))
    }

    /// A histogram family with these bucket upper bounds (ascending, finite; `+Inf` is implied).
    pub fn histogram(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &[f64],
    ) -> Family {
        Family::with(
            name,
            help,
            labels,
            Children::Histogram(bounds.into(), BTreeMap::new()),
        )
    }

    /// The family's type.
    pub fn kind(&self) -> Kind {
        match &*self.lock() {
            Children::Counter(_) => Kind::Counter,
            Children::Gauge(_) => Kind::Gauge,
            Children::Histogram(..) => Kind::Histogram,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Children> {
        self.children
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, values: &[&str]) -> Vec<String> {
        debug_assert_eq!(values.len(), self.labels.len(), "{}", self.name);
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    /// The counter child for these label values (created at 0). `None` when this is not a counter family.
    pub fn counter_of(&self, values: &[&str]) -> Option<Arc<Counter>> {
        let key = self.key(values);
        match &mut *self.lock() {
            Children::Counter(m) => Some(m.entry(key).or_default().clone()),
            _ => None,
        }
    }

    /// The gauge child for these label values (created at 0). `None` when this is not a gauge family.
    pub fn gauge_of(&self, values: &[&str]) -> Option<Arc<Gauge>> {
        let key = self.key(values);
        match &mut *self.lock() {
            Children::Gauge(m) => Some(m.entry(key).or_default().clone()),
            _ => None,
        }
    }

    /// The histogram child for these label values (created empty). `None` when this is not a histogram.
    pub fn histogram_of(&self, values: &[&str]) -> Option<Arc<Histogram>> {
        let key = self.key(values);
        match &mut *self.lock() {
            Children::Histogram(bounds, m) => Some(
                m.entry(key)
                    .or_insert_with(|| Arc::new(Histogram::new(bounds.clone())))
                    .clone(),
            ),
            _ => None,
        }
    }

    /// Adds `n` to a counter child (nothing when this is not a counter family).
    pub fn add(&self, values: &[&str], n: u64) {
        if let Some(c) = self.counter_of(values) {
            c.add(n);
        }
    }

    /// Sets a gauge child (nothing when this is not a gauge family).
    pub fn set(&self, values: &[&str], v: f64) {
        if let Some(g) = self.gauge_of(values) {
            g.set(v);
        }
    }

    /// The samples of every child, label values in the order of [`Family::labels`].
    pub fn samples(&self) -> Vec<(Vec<String>, Value)> {
        match &*self.lock() {
            Children::Counter(m) => (m.iter())
                .map(|(k, c)| (k.clone(), Value::Counter(c.get())))
                .collect(),
            Children::Gauge(m) => (m.iter())
                .map(|(k, g)| (k.clone(), Value::Gauge(g.get())))
                .collect(),
            Children::Histogram(_, m) => (m.iter())
                .map(|(k, h)| {
                    let (buckets, sum, count) = h.snapshot();
                    (
                        k.clone(),
                        Value::Histogram {
                            buckets,
                            sum,
                            count,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// One child's value at render time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A counter.
    Counter(u64),
    /// A gauge.
    Gauge(f64),
    /// A histogram: cumulative `(upper bound, count)` ending with `+Inf`, sum, count.
    Histogram {
        /// Cumulative buckets.
        buckets: Vec<(f64, u64)>,
        /// Sum of observations.
        sum: f64,
        /// Number of observations.
        count: u64,
    },
}
