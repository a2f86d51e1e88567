//! Routes (docs/sinks.md "Routes"): which records of the log each sink is sent — by category, field
//! conditions and deterministic sampling — plus the per-sink accounting built on them: daily volume
//! ([`volume`]) and records lost to the log's disk budget ([`budget`]).
//!
//! A record a route leaves out still advances the sink's offset (it is deliberately not sent) and is
//! counted as filtered; nothing is dropped silently.

pub mod budget;
mod config;
pub mod status;
#[cfg(test)]
mod tests;
pub mod volume;

pub(crate) use config::validate;
pub use config::{RawCondition, RawRoute};

use model::{Category, FieldLookup, Record};
use std::collections::BTreeMap;

/// The validated routes of every sink and the sink priorities of the disk budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes {
    /// Routes per sink id; a sink without an entry gets every record.
    pub by_sink: BTreeMap<String, Vec<Route>>,
    /// `[sink_priority]`: higher keeps its backlog longer under the disk budget (default 0).
    pub priority: BTreeMap<String, i64>,
}

/// One validated `[[routes]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Categories (empty: every category).
    pub categories: Vec<Category>,
    /// Conditions, ANDed.
    pub conditions: Vec<Condition>,
    /// Share sent, `0.0..=1.0`.
    pub sample: f64,
}

/// One field condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Field name (column, `Column.path` or meta field).
    pub field: String,
    /// Operator and operand.
    pub op: Op,
}

/// A condition's operator. Values are compared as text: strings as they are, numbers and booleans by their
/// JSON text, dynamic values by their compact JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Equal (case-sensitive); a missing field is not equal.
    Eq(String),
    /// Not equal; a missing field is not equal, so it matches.
    Ne(String),
    /// Equal to one of the values.
    In(Vec<String>),
    /// Equal to none of the values (a missing field matches).
    NotIn(Vec<String>),
    /// Contains the text, case ignored (stored lower-case).
    Contains(String),
    /// The field is present and not null (`true`) or absent/null (`false`).
    Exists(bool),
}

/// What a sink's routes decide for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it.
    Send,
    /// No route matches its category and conditions (or the sink's own category filter refuses it).
    Filtered,
    /// A route matched but its sample left the record out.
    Sampled,
}

/// The text a field is compared by, `None` when absent or null.
fn field_text(record: &Record, field: &str) -> Option<String> {
    let meta = |name: &str| field.eq_ignore_ascii_case(name);
    if meta("_Category") {
        return Some(record.category.name().to_owned());
    }
    if meta("_Source") {
        return Some(record.source.clone());
    }
    if meta("_Shape") {
        return Some(record.shape.as_str().to_owned());
    }
    if meta("_Key") {
        return Some(record.key.clone());
    }
    if meta("_Revision") {
        return Some(record.revision.to_string());
    }
    match record.lookup(field)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

impl Condition {
    /// Whether `record` satisfies the condition.
    pub fn matches(&self, record: &Record) -> bool {
        let v = field_text(record, &self.field);
        match (&self.op, v) {
            (Op::Exists(want), v) => v.is_some() == *want,
            (Op::Eq(x), Some(v)) => *x == v,
            (Op::Ne(x), v) => v.as_ref() != Some(x),
            (Op::In(xs), Some(v)) => xs.contains(&v),
            (Op::NotIn(xs), v) => v.is_none_or(|v| !xs.contains(&v)),
            (Op::Contains(x), Some(v)) => v.to_lowercase().contains(x.as_str()),
            (Op::Eq(_) | Op::In(_) | Op::Contains(_), None) => false,
        }
    }
}

/// A stable position in `[0, 1)` for a dedupe key (FNV-1a 64 mixed by the murmur3 finalizer, top 53
/// bits): the same key always gets the same position, in every process and version, so sampling is
/// repeatable.
pub fn sample_position(key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Route {
    fn matches(&self, record: &Record) -> bool {
        (self.categories.is_empty() || self.categories.contains(&record.category))
            && self.conditions.iter().all(|c| c.matches(record))
    }
}

impl Routes {
    /// Whether `sink` has any route (else it gets everything).
    pub fn has_routes(&self, sink: &str) -> bool {
        self.by_sink.contains_key(sink)
    }

    /// Whether any record of `category` can reach `sink` (false only when every route of the sink names
    /// other categories): `replay` skips reading such categories.
    pub fn may_send(&self, sink: &str, category: Category) -> bool {
        self.by_sink.get(sink).is_none_or(|routes| {
            routes
                .iter()
                .any(|r| r.categories.is_empty() || r.categories.contains(&category))
        })
    }

    /// The priority of `sink` under the disk budget (default 0).
    pub fn priority(&self, sink: &str) -> i64 {
        self.priority.get(sink).copied().unwrap_or(0)
    }

    /// What `sink`'s routes decide for `record`: sent when any route matches and samples it in; sampled
    /// out when routes matched but none sampled it in; filtered otherwise.
    pub fn decide(&self, sink: &str, record: &Record) -> Decision {
        let Some(routes) = self.by_sink.get(sink) else {
            return Decision::Send;
        };
        let mut matched = false;
        let position = sample_position(&record.key);
        for r in routes.iter().filter(|r| r.matches(record)) {
            matched = true;
            if position < r.sample {
                return Decision::Send;
            }
        }
        if matched {
            Decision::Sampled
        } else {
            Decision::Filtered
        }
    }
}

/// One sink's routing during a drain: decides each record, remembers the batch's counts and adds them to
/// [`volume`] once the batch is acknowledged.
pub(crate) struct SinkRouter<'a> {
    routes: &'a Routes,
    data_dir: &'a std::path::Path,
    sink: String,
    volume: volume::SinkVolume,
    /// (event time, sent, encoded bytes) of the batch in flight.
    pending: Vec<(i64, bool, u64)>,
    /// Records left out by a category filter or conditions, since the router was made.
    pub(crate) filtered: u64,
    /// Records left out by sampling.
    pub(crate) sampled: u64,
    /// The sink's sent counters in [`crate::metrics`], updated per acknowledged batch.
    pub(crate) meter: Option<crate::metrics::SinkMeter>,
}

impl<'a> SinkRouter<'a> {
    /// A router for `sink`, continuing the counts in `<data_dir>/sinks/volume.json`.
    pub(crate) fn new(routes: &'a Routes, data_dir: &'a std::path::Path, sink: &str) -> Self {
        SinkRouter {
            routes,
            data_dir,
            sink: sink.to_owned(),
            volume: volume::load_or_reset(data_dir),
            pending: Vec::new(),
            filtered: 0,
            sampled: 0,
            meter: None,
        }
    }

    /// Whether to send `record` (`accepts`: the sink's own category filter); `bytes` is its encoded size.
    pub(crate) fn admit(&mut self, accepts: bool, record: &Record, bytes: usize) -> bool {
        let decision = if accepts {
            self.routes.decide(&self.sink, record)
        } else {
            Decision::Filtered
        };
        match decision {
            Decision::Send => {}
            Decision::Filtered => self.filtered += 1,
            Decision::Sampled => self.sampled += 1,
        }
        let send = decision == Decision::Send;
        self.pending.push((record.event_time, send, bytes as u64));
        send
    }

    /// The batch in flight was acknowledged: its counts go to `volume.json` (a failed write is logged:
    /// statistics never stop delivery).
    pub(crate) fn acknowledged(&mut self) {
        if let Some(m) = &self.meter {
            let sent = self.pending.iter().filter(|p| p.1);
            m.sent(sent.clone().count() as u64, sent.map(|p| p.2).sum());
        }
        for (t, sent, bytes) in self.pending.drain(..) {
            self.volume.add(&self.sink, t, sent, bytes);
        }
        if let Err(e) = volume::save(self.data_dir, &self.volume) {
            tracing::warn!(sink = %self.sink, error = %e, "writing sink volume");
        }
    }

    /// The batch in flight failed: its counts are dropped (it is sent again later).
    pub(crate) fn failed(&mut self) {
        self.pending.clear();
    }
}
