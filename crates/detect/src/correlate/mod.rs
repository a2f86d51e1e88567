//! Correlation state: per correlation rule, per group (the group-by values), the matching events of the
//! last `timespan`, kept sorted by event time so a late event lands where it belongs. State is bounded
//! (events per group, groups per rule) and expires: a group whose newest event is older than the
//! watermark (newest event time seen) minus the timespan is dropped.

use crate::rule::{CmpOp, CorrelationKind};
use std::collections::{HashMap, VecDeque};

/// One base-rule match fed to a correlation.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// Event time, microseconds.
    pub(crate) time: i64,
    /// Position of the matching rule in the correlation's `rules`.
    pub(crate) rule_pos: usize,
    /// The counted field's value (`value_count`), lower-cased.
    pub(crate) value: Option<String>,
    /// The record's key (evidence).
    pub(crate) key: String,
}

/// What a correlation fired with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fired {
    /// The metric that met the threshold (events, distinct values or distinct rules).
    pub(crate) count: u64,
    /// Keys of the records in the window, in event-time order.
    pub(crate) evidence: Vec<String>,
    /// First and last event time of the window.
    pub(crate) first: i64,
    /// Last event time.
    pub(crate) last: i64,
}

/// The static part of a correlation.
#[derive(Debug, Clone)]
pub(crate) struct Def {
    pub(crate) kind: CorrelationKind,
    pub(crate) rules: usize,
    pub(crate) span: i64,
    pub(crate) threshold: Vec<(CmpOp, u64)>,
}

/// Limits on correlation state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_groups: usize,
    pub(crate) max_events: usize,
}

/// The state of one correlation rule.
#[derive(Debug)]
pub(crate) struct State {
    def: Def,
    limits: Limits,
    groups: HashMap<Vec<String>, VecDeque<Event>>,
    watermark: i64,
    since_sweep: usize,
}

impl State {
    pub(crate) fn new(def: Def, limits: Limits) -> State {
        State {
            def,
            limits,
            groups: HashMap::new(),
            watermark: i64::MIN,
            since_sweep: 0,
        }
    }

    /// Number of live groups (for tests and metrics).
    pub(crate) fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Adds an event to its group; returns what fired, if the window now meets the condition.
    pub(crate) fn add(&mut self, group: Vec<String>, ev: Event) -> Option<Fired> {
        self.watermark = self.watermark.max(ev.time);
        let horizon = self.watermark.saturating_sub(self.def.span);
        if ev.time < horizon {
            return None; // Too late to share a window with anything still live.
        }
        self.since_sweep += 1;
        if self.since_sweep >= 1024 || self.groups.len() >= self.limits.max_groups {
            self.sweep(horizon);
        }
        if !self.groups.contains_key(&group) && self.groups.len() >= self.limits.max_groups {
            self.evict_oldest();
        }
        let events = self.groups.entry(group).or_default();
        while events.front().is_some_and(|e| e.time < horizon) {
            events.pop_front();
        }
        let t = ev.time;
        let at = events.partition_point(|e| e.time <= t);
        events.insert(at, ev);
        if events.len() > self.limits.max_events {
            events.pop_front();
        }
        let fired = check(&self.def, events, t)?;
        // Reset the group's window so one burst fires once.
        events.retain(|e| e.time > fired.last || e.time < fired.first);
        Some(fired)
    }

    fn sweep(&mut self, horizon: i64) {
        self.since_sweep = 0;
        self.groups
            .retain(|_, evs| evs.back().is_some_and(|e| e.time >= horizon));
    }

    fn evict_oldest(&mut self) {
        if let Some(k) = self
            .groups
            .iter()
            .min_by_key(|(_, evs)| evs.back().map_or(i64::MIN, |e| e.time))
            .map(|(k, _)| k.clone())
        {
            self.groups.remove(&k);
        }
    }
}

/// Checks every window of length `span` that contains `t`.
fn check(def: &Def, events: &VecDeque<Event>, t: i64) -> Option<Fired> {
    let lo = events.partition_point(|e| e.time < t.saturating_sub(def.span));
    for start in lo..events.len() {
        let first = events[start].time;
        if first > t {
            break;
        }
        let end = events.partition_point(|e| e.time <= first.saturating_add(def.span));
        let window = events.range(start..end);
        let count = metric(def, window.clone());
        let holds = if def.threshold.is_empty() {
            count >= def.rules as u64
        } else {
            def.threshold.iter().all(|(op, v)| op.holds(count, *v))
        };
        if holds && count > 0 {
            let evidence: Vec<String> = window.clone().map(|e| e.key.clone()).collect();
            let last = window.clone().last().map_or(first, |e| e.time);
            return Some(Fired {
                count,
                evidence,
                first,
                last,
            });
        }
    }
    None
}

fn metric<'a>(def: &Def, window: impl Iterator<Item = &'a Event> + Clone) -> u64 {
    match def.kind {
        CorrelationKind::EventCount => window.count() as u64,
        CorrelationKind::ValueCount => {
            let mut vals: Vec<&str> = window.filter_map(|e| e.value.as_deref()).collect();
            vals.sort_unstable();
            vals.dedup();
            vals.len() as u64
        }
        CorrelationKind::Temporal => {
            let mut seen = vec![false; def.rules];
            for e in window {
                if let Some(s) = seen.get_mut(e.rule_pos) {
                    *s = true;
                }
            }
            seen.iter().filter(|s| **s).count() as u64
        }
        CorrelationKind::TemporalOrdered => {
            let mut next = 0;
            for e in window {
                if e.rule_pos == next {
                    next += 1;
                }
            }
            next as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: i64, rule_pos: usize, value: &str, key: &str) -> Event {
        Event {
            time,
            rule_pos,
            value: Some(value.to_owned()),
            key: key.to_owned(),
        }
    }

    fn state(kind: CorrelationKind, rules: usize, threshold: Vec<(CmpOp, u64)>) -> State {
        State::new(
            Def {
                kind,
                rules,
                span: 100,
                threshold,
            },
            Limits {
                max_groups: 2,
                max_events: 10,
            },
        )
    }

    #[test]
    fn event_count_with_late_event_inside_the_window() {
        let mut s = state(CorrelationKind::EventCount, 1, vec![(CmpOp::Gte, 3)]);
        let g = || vec!["u1".to_owned()];
        assert!(s.add(g(), ev(1000, 0, "", "a")).is_none());
        assert!(s.add(g(), ev(1090, 0, "", "c")).is_none());
        // Late, but inside the window [1000, 1100].
        let f = s.add(g(), ev(1050, 0, "", "b")).unwrap();
        assert_eq!(f.count, 3);
        assert_eq!(f.evidence, ["a", "b", "c"]);
        // Reset after firing.
        assert!(s.add(g(), ev(1095, 0, "", "d")).is_none());
    }

    #[test]
    fn groups_expire_and_are_bounded() {
        let mut s = state(CorrelationKind::EventCount, 1, vec![(CmpOp::Gte, 5)]);
        s.add(vec!["a".into()], ev(0, 0, "", "1"));
        s.add(vec!["b".into()], ev(10, 0, "", "2"));
        assert_eq!(s.groups(), 2);
        // A third group evicts the oldest (max_groups = 2); the watermark expires the rest.
        s.add(vec!["c".into()], ev(500, 0, "", "3"));
        assert_eq!(s.groups(), 1);
        // Too late to matter: dropped.
        assert!(s.add(vec!["d".into()], ev(100, 0, "", "4")).is_none());
        assert_eq!(s.groups(), 1);
    }

    #[test]
    fn value_count_and_temporal_ordered() {
        let mut s = state(CorrelationKind::ValueCount, 1, vec![(CmpOp::Gte, 2)]);
        let g = || vec![String::new()];
        assert!(s.add(g(), ev(0, 0, "x", "1")).is_none());
        assert!(s.add(g(), ev(1, 0, "x", "2")).is_none());
        assert_eq!(s.add(g(), ev(2, 0, "y", "3")).unwrap().count, 2);

        let mut o = state(CorrelationKind::TemporalOrdered, 2, vec![]);
        // Second rule first, then the first rule: not in order.
        assert!(o.add(g(), ev(10, 1, "", "b")).is_none());
        assert!(o.add(g(), ev(20, 0, "", "a")).is_none());
        let f = o.add(g(), ev(30, 1, "", "b2")).unwrap();
        assert_eq!(f.count, 2);
        let mut t = state(CorrelationKind::Temporal, 2, vec![]);
        assert!(t.add(g(), ev(10, 1, "", "b")).is_none());
        assert!(t.add(g(), ev(20, 0, "", "a")).is_some());
    }
}
