//! Prometheus metrics of `entrail run` (docs/metrics.md): a [`Metrics`] handle made by the pipeline
//! ([`crate::Pipeline::metrics`]) and passed explicitly to the stages that update it with atomics (no global
//! registry), the text exposition format 0.0.4 ([`render`]), and an HTTP endpoint serving `GET /metrics` and
//! `GET /healthz` ([`server`], configured by `[metrics]`).
//!
//! Counters count from the start of the process (Prometheus handles resets); gauges of the log and its
//! consumers (offsets, backlog records, bytes and age) are read from the log at scrape time.

mod config;
mod families;
mod logview;
pub mod registry;
pub mod render;
pub mod server;
#[cfg(test)]
mod tests;

pub(crate) use config::validate_config;
pub use config::{MetricsConfig, RawMetricsConfig};
pub use server::{MetricsError, MetricsServer};

use families::Families;
use model::{Record, Rejected};
use registry::Counter;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use store::hub::{Hub, HubError, IngestOutcome};
use store::log::Log;

/// Buckets of `entrail_ingest_lag_seconds`: 1 s to 1 day.
pub const LAG_BUCKETS: [f64; 15] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
    43200.0, 86400.0,
];

/// The label values of `entrail_sink_errors_total{kind}`.
pub const SINK_ERROR_KINDS: [&str; 4] = ["throttled", "transient", "auth", "fatal"];

/// The handle every stage updates; cheap to clone (one `Arc`).
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    families: Families,
    /// The log and its consumers, read at scrape time.
    log: Mutex<Option<logview::LogView>>,
    started: std::time::Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A sink's sent counters, looked up once per drain.
#[derive(Debug, Clone)]
pub struct SinkMeter {
    records: Arc<Counter>,
    bytes: Arc<Counter>,
}

impl SinkMeter {
    /// An acknowledged batch: `records` records of `bytes` encoded bytes.
    pub fn sent(&self, records: u64, bytes: u64) {
        self.records.add(records);
        self.bytes.add(bytes);
    }
}

/// The label of a sink error kind.
pub fn kind_label(kind: sinks::ErrorKind) -> &'static str {
    match kind {
        sinks::ErrorKind::Throttled { .. } => "throttled",
        sinks::ErrorKind::Transient => "transient",
        sinks::ErrorKind::Auth => "auth",
        sinks::ErrorKind::Fatal => "fatal",
    }
}

/// The kind of a failed drain: the sink's own classification, or transient for the pipeline's errors
/// around it (the log, accounting files), which are retried next pass like a network error.
pub fn error_kind(e: &crate::PipelineError) -> sinks::ErrorKind {
    match e {
        crate::PipelineError::Sink { source, .. } => source.kind(),
        _ => sinks::ErrorKind::Transient,
    }
}

/// A bounded label for a quarantine reason (the reason itself is free text).
pub fn reason_kind(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    if has(&["utf-8", "utf8"]) {
        "invalid_utf8"
    } else if has(&[
        "too large",
        "too long",
        "over-long",
        "longer than",
        "larger than",
        "exceeds",
    ]) {
        "too_large"
    } else if has(&["event time", "timestamp", "time generated"]) {
        "event_time"
    } else if has(&["category"]) {
        "unknown_category"
    } else if has(&["not an object", "not an array"]) {
        "not_object"
    } else if has(&["json", "expected", "eof", "trailing"]) {
        "not_json"
    } else if has(&["csv", "cell", "column"]) {
        "csv"
    } else if has(&[
        "syslog",
        "cef",
        "leef",
        "header",
        "octet",
        "framing",
        "empty message",
    ]) {
        "syslog"
    } else {
        "other"
    }
}

impl Metrics {
    /// An empty registry with `entrail_build_info` set.
    pub fn new() -> Metrics {
        Metrics {
            inner: Arc::new(Inner {
                families: Families::new(),
                log: Mutex::new(None),
                started: std::time::Instant::now(),
            }),
        }
    }

    /// The registry of a pipeline: the log and its consumers (the archive, detection when enabled, every
    /// log-consuming sink) are read at scrape time; each sink's `blocked` gauge and error counters start at
    /// 0 so they show before the first failure.
    pub fn for_pipeline(config: &crate::Config, log: &Arc<Log>) -> Metrics {
        let m = Metrics::new();
        let mut consumers = vec![crate::consume::ARCHIVE_CONSUMER.to_owned()];
        if config.detection.enabled {
            consumers.push(crate::detection::DETECT_CONSUMER.to_owned());
        }
        for s in &config.sinks {
            let id = s.id();
            if s.consumes_log() {
                consumers.push(id.to_owned());
            }
            m.sink_meter(id);
            m.inner.families.sink_blocked.set(&[id], 0.0);
            for k in SINK_ERROR_KINDS {
                m.inner.families.sink_errors.add(&[id, k], 0);
            }
        }
        *m.lock_log() = Some(logview::LogView::new(log.clone(), consumers));
        m
    }

    fn lock_log(&self) -> std::sync::MutexGuard<'_, Option<logview::LogView>> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`Hub::ingest`] with its verdicts counted per source and category: the hub's per-category statistics
    /// before and after the call give appended, revisions and duplicates exactly; the source is that of the
    /// batch (every source delivers batches of its own records; in a batch mixing sources, a category's
    /// counts go to the first source seen with it). Quarantined items count per source and reason kind.
    pub fn ingest(
        &self,
        hub: &mut Hub,
        records: Vec<Record>,
        mut rejected: Vec<Rejected>,
    ) -> Result<IngestOutcome, HubError> {
        // What an open quarantine entry already holds is not quarantined (nor counted) again.
        hub.quarantine().retain_new(&mut rejected);
        let mut sources: BTreeMap<&'static str, String> = BTreeMap::new();
        for r in &records {
            sources
                .entry(r.category.name())
                .or_insert_with(|| r.source.clone());
        }
        let before: Vec<[u64; 3]> = sources.keys().map(|c| counts(hub, c)).collect();
        let mut quarantined: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        for r in &rejected {
            *quarantined
                .entry((r.position.source.clone(), reason_kind(&r.reason)))
                .or_default() += 1;
        }
        let outcome = hub.ingest(records, rejected)?;
        let f = &self.inner.families;
        for ((category, source), b) in sources.iter().zip(before) {
            let a = counts(hub, category);
            let labels = [source.as_str(), category];
            f.appended.add(&labels, a[0].saturating_sub(b[0]));
            f.revisions.add(&labels, a[1].saturating_sub(b[1]));
            f.duplicates.add(&labels, a[2].saturating_sub(b[2]));
        }
        for ((source, reason), n) in quarantined {
            f.quarantined.add(&[&source, reason], n);
        }
        Ok(outcome)
    }

    /// Records a sink (or the receiver) rejected as malformed, moved to the quarantine.
    pub fn sink_rejected(&self, rejected: &[Rejected]) {
        for r in rejected {
            (self.inner.families.quarantined).add(&[&r.position.source, "sink_rejected"], 1);
        }
    }

    /// [`Metrics::ingest`] for a continuous source's delivery, also measuring the ingest lag of what
    /// became durable (a failed batch is retried and must not be measured twice): ingest time − event time
    /// in seconds (at least 0) per source, and records whose event time is more than `future_tolerance_us`
    /// ahead of their receipt, per source and category.
    pub fn ingest_delivered(
        &self,
        hub: &mut Hub,
        records: Vec<Record>,
        rejected: Vec<Rejected>,
        future_tolerance_us: Option<i64>,
    ) -> Result<IngestOutcome, HubError> {
        let mut runs: Vec<(String, Vec<(model::Category, i64)>)> = Vec::new();
        for r in &records {
            let lag = (r.category, r.ingest_time - r.event_time);
            match runs.last_mut() {
                Some((s, v)) if *s == r.source => v.push(lag),
                _ => runs.push((r.source.clone(), vec![lag])),
            }
        }
        let outcome = self.ingest(hub, records, rejected)?;
        let f = &self.inner.families;
        for (source, lags) in runs {
            let Some(h) = f.ingest_lag.histogram_of(&[&source]) else {
                break;
            };
            for (category, lag_us) in lags {
                h.observe((lag_us as f64 / 1e6).max(0.0));
                if let Some(tol) = future_tolerance_us
                    && -lag_us > tol
                {
                    f.future.add(&[&source, category.name()], 1);
                }
            }
        }
        Ok(outcome)
    }

    /// The sent counters of `sink` (created at 0).
    pub fn sink_meter(&self, sink: &str) -> SinkMeter {
        let f = &self.inner.families;
        let zero = || Arc::new(Counter::default());
        SinkMeter {
            records: f.sink_records.counter_of(&[sink]).unwrap_or_else(zero),
            bytes: f.sink_bytes.counter_of(&[sink]).unwrap_or_else(zero),
        }
    }

    /// A drain of `sink` finished: `None` when it reached the end of the log (not blocked any more),
    /// `Some(kind)` when a batch failed. Auth and fatal errors set `entrail_sink_blocked` to 1 until a
    /// drain succeeds; throttled and transient ones clear it (the receiver took the credentials).
    pub fn sink_drained(&self, sink: &str, error: Option<sinks::ErrorKind>) {
        let f = &self.inner.families;
        let blocked = match error {
            None => false,
            Some(kind) => {
                f.sink_errors.add(&[sink, kind_label(kind)], 1);
                matches!(kind, sinks::ErrorKind::Auth | sinks::ErrorKind::Fatal)
            }
        };
        f.sink_blocked.set(&[sink], if blocked { 1.0 } else { 0.0 });
    }

    /// A host clock check: its offset (when a server answered) becomes `entrail_clock_offset_seconds`.
    pub fn clock_checked(&self, status: &crate::clock::ClockStatus) {
        let f = &self.inner.families;
        if let Some(ms) = status.offset_ms {
            f.clock_offset.set(&[], ms / 1000.0);
            f.clock_ok.set(&[], if status.ok { 1.0 } else { 0.0 });
        }
        f.clock_checks.add(
            &[if status.offset_ms.is_some() {
                "answered"
            } else {
                "failed"
            }],
            1,
        );
    }

    /// `n` alerts of `severity` raised: `origin` is `detection` (rules and analytics) or `health`
    /// (entrail's own checks).
    pub fn alert_raised(&self, origin: &str, severity: &str, n: u64) {
        self.inner.families.alerts.add(&[origin, severity], n);
    }

    /// The exposition text of every metric now (docs/metrics.md).
    pub fn render(&self) -> String {
        let mut out = render::families(self.inner.families.all());
        let f = &self.inner.families;
        f.uptime
            .set(&[], self.inner.started.elapsed().as_secs_f64());
        render::family(&mut out, &f.uptime);
        if let Some(view) = &*self.lock_log() {
            out.push_str(&render::families(&view.families()));
        }
        out
    }

    /// The `/healthz` summary: version, uptime, the log's offsets, each consumer's backlog, blocked sinks.
    pub fn health(&self) -> serde_json::Value {
        let blocked: Vec<String> = (self.inner.families.sink_blocked.samples().into_iter())
            .filter(|(_, v)| *v == registry::Value::Gauge(1.0))
            .filter_map(|(labels, _)| labels.into_iter().next())
            .collect();
        let log = self.lock_log().as_ref().map(logview::LogView::summary);
        serde_json::json!({
            "status": if blocked.is_empty() { "ok" } else { "degraded" },
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": self.inner.started.elapsed().as_secs(),
            "blocked_sinks": blocked,
            "log": log,
        })
    }

    /// The current value of a counter child, for tests and reports (`None` when it does not exist).
    pub fn counter_value(&self, name: &str, labels: &[&str]) -> Option<u64> {
        let family = self.inner.families.all().find(|f| f.name == name)?;
        let want: Vec<String> = labels.iter().map(|s| (*s).to_owned()).collect();
        family.samples().into_iter().find_map(|(k, v)| match v {
            registry::Value::Counter(n) if k == want => Some(n),
            _ => None,
        })
    }
}

/// (appended, revisions, duplicates) of one category in the hub's statistics.
fn counts(hub: &Hub, category: &str) -> [u64; 3] {
    hub.stats()
        .categories
        .get(category)
        .map_or([0; 3], |s| [s.appended, s.revisions, s.duplicates])
}

impl crate::Pipeline {
    /// This pipeline's metrics registry (stages update it; `/metrics` renders it).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Starts the `[metrics]` endpoint when configured (`None` otherwise); it serves until the handle is
    /// dropped.
    pub fn serve_metrics(&self) -> Result<Option<MetricsServer>, MetricsError> {
        match &self.config().metrics {
            Some(c) => server::serve(c.listen, self.metrics.clone()).map(Some),
            None => Ok(None),
        }
    }
}
