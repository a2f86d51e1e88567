//! Suppression and grouping: the same rule and entity within a window updates one open alert (count, last
//! seen, evidence) instead of raising another. State is bounded (`max_open` alerts, the least recently
//! updated evicted) and expires (alerts whose window closed behind the newest event time are dropped).

use super::build::{alert_with, evidence_keys, group_entity, new_alert, observables, update_alert};
use super::ocsf::Alert;
use crate::eval::Match;
use model::Record;
use std::collections::HashMap;
use std::time::Duration;

/// Grouping settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// Matches of one rule and entity within this long after the alert's first evidence update it
    /// (default one hour).
    pub window: Duration,
    /// Most open alerts kept (default 10,000).
    pub max_open: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            window: Duration::from_secs(3600),
            max_open: 10_000,
        }
    }
}

/// What [`AlertGrouper::observe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouped {
    /// A new alert was raised.
    New,
    /// An open alert was updated.
    Updated,
    /// The match was already in an open alert (every evidence key known): a replay after a crash, left
    /// out so that counts do not grow.
    Replayed,
}

/// Groups matches into alerts; see the module docs.
#[derive(Debug)]
pub struct AlertGrouper {
    config: GroupConfig,
    window_ms: i64,
    /// (rule id, entity) → open alert.
    open: HashMap<(String, String), Alert>,
    watermark_ms: i64,
    since_sweep: usize,
    /// Watermark at the last sweep: a sweep runs at least once per window of event time.
    swept_at_ms: i64,
}

impl AlertGrouper {
    /// An empty grouper.
    pub fn new(config: GroupConfig) -> AlertGrouper {
        AlertGrouper {
            window_ms: i64::try_from(config.window.as_millis()).unwrap_or(i64::MAX),
            config: GroupConfig {
                max_open: config.max_open.max(1),
                ..config
            },
            open: HashMap::new(),
            watermark_ms: i64::MIN,
            since_sweep: 0,
            swept_at_ms: i64::MIN,
        }
    }

    /// Takes back alerts raised before (from the alert store after a restart), so that detections within
    /// their window keep updating them.
    pub fn restore(&mut self, alerts: impl IntoIterator<Item = Alert>) {
        for a in alerts {
            self.watermark_ms = self.watermark_ms.max(a.finding_info.last_seen_time);
            let key = (
                a.finding_info.analytic.uid.clone(),
                a.unmapped.entity.clone(),
            );
            match self.open.get(&key) {
                Some(o) if o.finding_info.first_seen_time >= a.finding_info.first_seen_time => {}
                _ => {
                    self.open.insert(key, a);
                }
            }
        }
        self.sweep();
        while self.open.len() > self.config.max_open {
            self.evict();
        }
    }

    /// Open alerts held.
    pub fn open_alerts(&self) -> usize {
        self.open.len()
    }

    /// Groups one match on `record` (see [`super::new_alert`]); returns the alert as it now stands and
    /// whether it is new. `now_ms` is the wall-clock time stamped as `metadata.modified_time`.
    pub fn observe(
        &mut self,
        m: &Match,
        record: Option<&Record>,
        now_ms: i64,
    ) -> (&Alert, Grouped) {
        let t = m.event_time / 1000;
        self.watermark_ms = self.watermark_ms.max(t);
        self.since_sweep += 1;
        if self.since_sweep >= 1024
            || self.watermark_ms.saturating_sub(self.swept_at_ms) >= self.window_ms
        {
            self.sweep();
        }
        // The full alert is built only when a group opens; an update needs the entities alone.
        let entities = observables(m, record);
        let key = (m.rule_id.to_string(), group_entity(m, &entities));
        let within = self.open.get(&key).is_some_and(|a| {
            let first = a.finding_info.first_seen_time;
            t >= first.saturating_sub(self.window_ms) && t - first <= self.window_ms
        });
        if !within && !self.open.contains_key(&key) && self.open.len() >= self.config.max_open {
            self.sweep();
            if self.open.len() >= self.config.max_open {
                self.evict();
            }
        }
        let replayed = within
            && self.open.get(&key).is_some_and(|a| {
                evidence_keys(m)
                    .iter()
                    .all(|k| a.evidences.iter().any(|e| &e.data.key == k))
            });
        let grouped = if replayed {
            Grouped::Replayed
        } else if within {
            Grouped::Updated
        } else {
            self.open
                .insert(key.clone(), alert_with(m, entities, now_ms));
            Grouped::New
        };
        // The entry exists: inserted above, or found by `within`.
        let alert = self
            .open
            .entry(key)
            .or_insert_with(|| new_alert(m, record, now_ms));
        if grouped == Grouped::Updated {
            update_alert(alert, m, record, now_ms);
        }
        (alert, grouped)
    }

    fn sweep(&mut self) {
        self.since_sweep = 0;
        self.swept_at_ms = self.watermark_ms;
        let horizon = self.watermark_ms.saturating_sub(self.window_ms);
        self.open
            .retain(|_, a| a.finding_info.first_seen_time >= horizon);
    }

    fn evict(&mut self) {
        if let Some(k) = self
            .open
            .iter()
            .min_by_key(|(_, a)| a.finding_info.last_seen_time)
            .map(|(k, _)| k.clone())
        {
            self.open.remove(&k);
        }
    }
}
