//! The detection consumer: reads the durable log from its own committed offset (`detect`), runs the
//! configured Sigma rules and the built-in analytics over new records, groups matches into alerts
//! ([`detect::alert::AlertGrouper`]), stores them durably ([`AlertStore`]) and only then commits its offset;
//! then delivers new alerts to each destination from that destination's own delivered offset, at least once.
//!
//! A crash between storing alerts and committing the offset replays the batch: alert ids are stable for a
//! rule, entity and first evidence, so the replay rewrites the same alerts instead of adding others.

mod config;
mod store;

pub(crate) use config::validate;
pub use config::{DetectionConfig, RawAlertsConfig, RawDetectionConfig};
pub use store::{AlertStore, AlertStoreError, TABLE_COLUMNS, TABLE_FILE, table_row};

use crate::runtime::{Pipeline, PipelineError};
use ::store::log::Log;
use detect::alert::{Alert, AlertGrouper, GroupConfig, Grouped};
use detect::{Engine, EngineConfig, RuleDiagnostic, RuleSet};
use model::{Record, codec};
use sinks::alert::AlertDestination;
use std::collections::BTreeMap;
use std::path::Path;

/// The detection consumer's name in the log.
pub const DETECT_CONSUMER: &str = "detect";

const BATCH_ENTRIES: usize = 8192;
const BATCH_BYTES: usize = 16 << 20;

/// Rules, analytics and grouping over a stream of records, without storage: the core of the detection
/// consumer and of `entrail hunt`.
pub struct Hunt {
    engine: Engine,
    grouper: AlertGrouper,
    rules: usize,
    diagnostics: Vec<RuleDiagnostic>,
    /// Matches seen.
    pub matches: u64,
    /// Records evaluated.
    pub records: u64,
}

impl std::fmt::Debug for Hunt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hunt")
            .field("rules", &self.rules)
            .field("matches", &self.matches)
            .finish_non_exhaustive()
    }
}

impl Hunt {
    /// Loads every rule directory (a bad rule never stops the others: see [`Hunt::diagnostics`]) and compiles
    /// them with `engine`'s settings (built-in analytics on or off, their thresholds, state bounds).
    pub fn new(rule_dirs: &[impl AsRef<Path>], engine: EngineConfig, group: GroupConfig) -> Hunt {
        let mut set = RuleSet::new();
        let mut diagnostics = Vec::new();
        for dir in rule_dirs {
            let (s, d) = RuleSet::load_dir(dir);
            set.extend(s);
            diagnostics.extend(d);
        }
        let rules = set.len();
        let engine = Engine::new(&set, engine);
        diagnostics.extend(engine.diagnostics().iter().cloned());
        Hunt {
            engine,
            grouper: AlertGrouper::new(group),
            rules,
            diagnostics,
            matches: 0,
            records: 0,
        }
    }

    /// The columns the rules and alerts read, for decoding only those; `None` when the built-in
    /// analytics are on (see [`Engine::projection`]).
    pub fn projection(&self) -> Option<model::normalize::Projection> {
        self.engine.projection()
    }

    /// Sigma rules loaded (the built-in analytics aside).
    pub fn rules(&self) -> usize {
        self.rules
    }

    /// What loading and compiling found (errors for rules left out, warnings).
    pub fn diagnostics(&self) -> &[RuleDiagnostic] {
        &self.diagnostics
    }

    /// Takes back stored alerts so later detections keep grouping into them.
    pub fn restore(&mut self, alerts: impl IntoIterator<Item = Alert>) {
        self.grouper.restore(alerts);
    }

    /// Evaluates records (in order) and groups what matched; returns the alert versions this produced, in
    /// order, with whether each is new.
    pub fn feed(&mut self, records: &[Record]) -> Vec<(Alert, Grouped)> {
        let mut hits = Vec::new();
        self.engine
            .evaluate_batch(records, |i, m| hits.push((i, m)));
        self.records += records.len() as u64;
        self.group(hits, |i| records.get(i))
    }

    /// [`Hunt::feed`] over encoded log entries (in order), evaluated in place in one pass each
    /// ([`Engine::evaluate_entry`]): no owned record is built but for the entries that match, for their
    /// alerts. Fails with the position of an entry that does not decode (the entries before it are
    /// evaluated).
    pub fn feed_entries(
        &mut self,
        entries: &[&[u8]],
    ) -> Result<Vec<(Alert, Grouped)>, (usize, codec::CodecError)> {
        let mut hits = Vec::new();
        let mut result = Ok(());
        for (i, bytes) in entries.iter().enumerate() {
            match self.engine.evaluate_entry(bytes) {
                Ok(found) => hits.extend(found.map(|m| (i, m))),
                Err(e) => {
                    result = Err((i, e));
                    break;
                }
            }
        }
        self.records += entries.len() as u64;
        // Owned records of the entries that matched (hits are in entry order).
        let mut owned: Vec<(usize, Record)> = Vec::new();
        for (i, _) in &hits {
            if owned.last().is_some_and(|(j, _)| j == i) {
                continue;
            }
            if let Some(bytes) = entries.get(*i) {
                owned.push((*i, codec::decode(bytes).map_err(|e| (*i, e))?));
            }
        }
        let produced = self.group(hits, |i| {
            owned
                .binary_search_by_key(&i, |(j, _)| *j)
                .ok()
                .and_then(|p| owned.get(p))
                .map(|(_, r)| r)
        });
        result.map(|()| produced)
    }

    /// [`Hunt::feed`] over a column-wise batch (rows in order), evaluated in place
    /// ([`Engine::evaluate_columns`]): no owned record is built but for the rows that match, for their
    /// alerts ([`model::columns::Columns::record`]).
    pub fn feed_columns(&mut self, batch: &model::columns::Columns) -> Vec<(Alert, Grouped)> {
        let mut hits = Vec::new();
        self.engine
            .evaluate_columns(batch, |row, m| hits.push((row, m)));
        self.records += batch.len() as u64;
        // Owned records of the rows that matched (hits are in row order).
        let mut owned: Vec<(usize, Record)> = Vec::new();
        for (row, _) in &hits {
            if owned.last().is_none_or(|(j, _)| j != row) {
                owned.push((*row, batch.record(*row)));
            }
        }
        self.group(hits, |i| {
            owned
                .binary_search_by_key(&i, |(j, _)| *j)
                .ok()
                .and_then(|p| owned.get(p))
                .map(|(_, r)| r)
        })
    }

    /// Groups matches (with the position of their record, which `record` gives) into alerts.
    fn group<'r>(
        &mut self,
        hits: Vec<(usize, detect::Match)>,
        record: impl Fn(usize) -> Option<&'r Record>,
    ) -> Vec<(Alert, Grouped)> {
        self.matches += hits.len() as u64;
        let now = chrono::Utc::now().timestamp_millis();
        let mut out: Vec<(Alert, Grouped)> = Vec::new();
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (i, m) in hits {
            let (alert, how) = self.grouper.observe(&m, record(i), now);
            if how == Grouped::Replayed {
                continue;
            }
            // Several updates of one alert in a batch: keep its last version only (a creation stays one).
            match at.get(alert.uid()).and_then(|&j| out.get_mut(j)) {
                Some(prev) => prev.0 = alert.clone(),
                None => {
                    at.insert(alert.uid().to_owned(), out.len());
                    out.push((alert.clone(), how));
                }
            }
        }
        out
    }
}

/// What one detection run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectionReport {
    /// Log offset the consumer started at.
    pub from: u64,
    /// Offset it reached.
    pub to: u64,
    /// Records evaluated.
    pub records: u64,
    /// Rule and analytic matches.
    pub matches: u64,
    /// Alerts raised.
    pub new_alerts: u64,
    /// Alerts updated by grouping.
    pub updated_alerts: u64,
    /// New alerts per severity name (for `entrail_alerts_raised_total`, docs/metrics.md).
    pub new_by_severity: BTreeMap<String, u64>,
    /// Per destination.
    pub deliveries: Vec<DeliveryReport>,
}

/// One destination's delivery in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Destination id.
    pub destination: String,
    /// Alerts delivered.
    pub delivered: u64,
    /// Alert versions the destination does not want (severity, updates).
    pub filtered: u64,
    /// Why delivery stopped, when it did (the rest is retried next run: nothing is skipped).
    pub error: Option<String>,
}

/// The detection consumer of one data directory (held by the [`Pipeline`] between runs, so correlation and
/// analytic windows span runs).
pub struct Detector {
    hunt: Hunt,
    store: AlertStore,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("hunt", &self.hunt)
            .finish_non_exhaustive()
    }
}

fn store_error(e: AlertStoreError) -> PipelineError {
    PipelineError::Detection(format!("{e}: {}", e.source))
}

impl Detector {
    /// Loads the rules and opens the alert store under `data_dir/alerts`.
    pub fn open(config: &DetectionConfig, data_dir: &Path) -> Result<Detector, PipelineError> {
        let mut hunt = Hunt::new(
            &config.rules,
            EngineConfig {
                builtin_analytics: config.builtin_analytics,
                max_groups: config.max_groups,
                analytics: config.analytics.clone(),
                ..EngineConfig::default()
            },
            GroupConfig {
                window: config.group_window,
                max_open: config.max_open_alerts,
            },
        );
        for d in hunt.diagnostics() {
            tracing::warn!(diagnostic = %d, "detection rule problem");
        }
        let store = AlertStore::open(&data_dir.join("alerts")).map_err(store_error)?;
        hunt.restore(store.alerts().values().cloned());
        Ok(Detector { hunt, store })
    }

    /// The rules and analytics.
    pub fn hunt(&self) -> &Hunt {
        &self.hunt
    }

    /// The alert store.
    pub fn store(&self) -> &AlertStore {
        &self.store
    }

    /// Evaluates the log from the committed offset to its end: per batch, alerts are stored (fsynced) before
    /// the offset is committed.
    pub fn consume(
        &mut self,
        log: &Log,
        report: &mut DetectionReport,
    ) -> Result<(), PipelineError> {
        let from = log
            .committed(DETECT_CONSUMER)
            .unwrap_or(0)
            .max(log.start_offset());
        report.from = from;
        report.to = from;
        let mut reader = log.reader(from);
        loop {
            let batch = reader.read_batch(BATCH_ENTRIES, BATCH_BYTES)?;
            let Some(last) = batch.last().map(|(o, _)| *o) else {
                break;
            };
            // Entries are evaluated in place (`Hunt::feed_entries`): only those that match are decoded.
            let mut entries = Vec::with_capacity(batch.len());
            for (offset, bytes) in &batch {
                let head = codec::read_entry(bytes).map_err(|e| PipelineError::Entry {
                    offset: *offset,
                    message: e.to_string(),
                })?;
                entries.push((head.event_time, *offset, &bytes[..]));
            }
            // Correlations and analytics want event-time order; the log is in arrival order.
            entries.sort_by_key(|(t, _, _)| *t);
            let views: Vec<&[u8]> = entries.iter().map(|(_, _, b)| *b).collect();
            let before = self.hunt.matches;
            let produced =
                self.hunt
                    .feed_entries(&views)
                    .map_err(|(i, e)| PipelineError::Entry {
                        offset: entries.get(i).map_or(0, |(_, o, _)| *o),
                        message: e.to_string(),
                    })?;
            report.records += views.len() as u64;
            report.matches += self.hunt.matches - before;
            for (alert, how) in &produced {
                if matches!(how, Grouped::New) {
                    *report
                        .new_by_severity
                        .entry(alert.severity.clone())
                        .or_default() += 1;
                }
                match how {
                    Grouped::New => report.new_alerts += 1,
                    Grouped::Updated => report.updated_alerts += 1,
                    Grouped::Replayed => {}
                }
            }
            let versions: Vec<Alert> = produced.into_iter().map(|(a, _)| a).collect();
            self.store.append(&versions).map_err(store_error)?;
            log.commit(DETECT_CONSUMER, last + 1)?;
            report.to = last + 1;
        }
        if report.new_alerts + report.updated_alerts > 0
            || !self.store.dir().join(TABLE_FILE).exists()
        {
            self.store.write_table().map_err(store_error)?;
        }
        Ok(())
    }

    /// Stores alerts raised outside the rules (entrail's own health findings, `crate::watch`) and rewrites
    /// the `Alerts` table.
    pub fn store_alerts(&mut self, alerts: &[Alert]) -> Result<(), PipelineError> {
        self.store.append(alerts).map_err(store_error)?;
        self.store.write_table().map_err(store_error)
    }

    /// Delivers every stored alert version past each destination's delivered offset, in order; a failure
    /// stops that destination (retried next run, nothing skipped) and the others go on.
    pub fn deliver(
        &mut self,
        destinations: &mut [Box<dyn AlertDestination>],
    ) -> Vec<DeliveryReport> {
        let mut reports = Vec::new();
        for d in destinations.iter_mut() {
            let mut r = DeliveryReport {
                destination: d.id().to_owned(),
                ..DeliveryReport::default()
            };
            let from = self.store.delivered(d.id());
            let result = self
                .store
                .versions_from(from)
                .map_err(store_error)
                .and_then(|versions| {
                    for (next, alert) in versions {
                        if d.wants(&alert) {
                            d.deliver(&alert).map_err(|source| PipelineError::Sink {
                                id: d.id().to_owned(),
                                source,
                            })?;
                            r.delivered += 1;
                        } else {
                            r.filtered += 1;
                        }
                        self.store
                            .mark_delivered(d.id(), next)
                            .map_err(store_error)?;
                    }
                    Ok(())
                });
            if let Err(e) = result {
                let text = error_chain(&e);
                tracing::error!(destination = %r.destination, error = %text,
                    "alert delivery stopped; the rest is retried next run");
                r.error = Some(text);
            }
            reports.push(r);
        }
        reports
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl Pipeline {
    /// Runs the detection consumer over new log records, then delivers alerts to every destination. Does
    /// nothing (an empty report) when detection is off. The rules are loaded on the first call and kept, so
    /// windows span calls.
    pub fn detect(&mut self) -> Result<DetectionReport, PipelineError> {
        let config = self.config().detection.clone();
        if !config.enabled {
            return Ok(DetectionReport::default());
        }
        let log = self.log().clone();
        let mut slot = self
            .detector
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(Detector::open(&config, &self.config().data_dir)?);
        }
        let Some(detector) = slot.as_mut() else {
            return Ok(DetectionReport::default());
        };
        let mut report = DetectionReport::default();
        detector.consume(&log, &mut report)?;
        for (severity, n) in &report.new_by_severity {
            self.metrics.alert_raised("detection", severity, *n);
        }
        let mut destinations = Vec::new();
        for c in config.destinations {
            let id = c.id().to_owned();
            match c.build() {
                Ok(d) => destinations.push(d),
                Err(e) => report.deliveries.push(DeliveryReport {
                    destination: id,
                    error: Some(error_chain(&e)),
                    ..DeliveryReport::default()
                }),
            }
        }
        report
            .deliveries
            .extend(detector.deliver(&mut destinations));
        Ok(report)
    }
}

/// Every stored alert of a data directory, latest version each, newest first (for `entrail alerts`).
pub fn load_alerts(data_dir: &Path) -> Result<Vec<Alert>, PipelineError> {
    let dir = data_dir.join("alerts");
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let store = AlertStore::open(&dir).map_err(store_error)?;
    let mut v: Vec<Alert> = store.alerts().values().cloned().collect();
    v.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.uid().cmp(b.uid())));
    Ok(v)
}

/// Groups alerts by rule for summaries: rule title → count.
pub fn count_by_rule(alerts: &[Alert]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for a in alerts {
        *m.entry(a.finding_info.title.clone()).or_default() += 1;
    }
    m
}

#[cfg(test)]
mod tests;
