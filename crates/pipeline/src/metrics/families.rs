//! Every metric entrail updates as it runs: names, help texts and labels in one place (docs/metrics.md
//! lists the same).

use super::LAG_BUCKETS;
use super::registry::Family;

/// The families of one [`super::Metrics`].
#[derive(Debug)]
pub(super) struct Families {
    pub(super) build_info: Family,
    pub(super) appended: Family,
    pub(super) revisions: Family,
    pub(super) duplicates: Family,
    pub(super) quarantined: Family,
    pub(super) ingest_lag: Family,
    pub(super) future: Family,
    pub(super) sink_records: Family,
    pub(super) sink_bytes: Family,
    pub(super) sink_errors: Family,
    pub(super) sink_blocked: Family,
    pub(super) clock_offset: Family,
    pub(super) clock_ok: Family,
    pub(super) clock_checks: Family,
    pub(super) alerts: Family,
    /// Set at render time; rendered apart from [`Families::all`].
    pub(super) uptime: Family,
}

impl Families {
    pub(super) fn new() -> Families {
        let f = Families {
            build_info: Family::gauge(
                "entrail_build_info",
                "Always 1; the labels name the running build.",
                &["version"],
            ),
            appended: Family::counter(
                "entrail_records_appended_total",
                "Records appended to the durable log (new keys and revisions), by source and category.",
                &["source", "category"],
            ),
            revisions: Family::counter(
                "entrail_records_revisions_total",
                "Of the appended records, new revisions of a known key (new content under a known id).",
                &["source", "category"],
            ),
            duplicates: Family::counter(
                "entrail_records_duplicates_total",
                "Exact duplicates dropped by dedupe (counted, not appended).",
                &["source", "category"],
            ),
            quarantined: Family::counter(
                "entrail_records_quarantined_total",
                "Input moved to the quarantine, by source and reason kind.",
                &["source", "reason"],
            ),
            ingest_lag: Family::histogram(
                "entrail_ingest_lag_seconds",
                "Ingest time minus event time of records delivered by continuous sources (negative counts as 0).",
                &["source"],
                &LAG_BUCKETS,
            ),
            future: Family::counter(
                "entrail_records_future_dated_total",
                "Records whose event time is further ahead of their receipt than lag.future_tolerance.",
                &["source", "category"],
            ),
            sink_records: Family::counter(
                "entrail_sink_sent_records_total",
                "Records the sink's receiver acknowledged.",
                &["sink"],
            ),
            sink_bytes: Family::counter(
                "entrail_sink_sent_bytes_total",
                "Bytes (log entry size) of the records the sink's receiver acknowledged.",
                &["sink"],
            ),
            sink_errors: Family::counter(
                "entrail_sink_errors_total",
                "Failed sink batches by error kind (the batch is retried, never skipped).",
                &["sink", "kind"],
            ),
            sink_blocked: Family::gauge(
                "entrail_sink_blocked",
                "1 while an auth or fatal error stops the sink until an operator acts; 0 otherwise.",
                &["sink"],
            ),
            clock_offset: Family::gauge(
                "entrail_clock_offset_seconds",
                "Host clock offset against the [clock] SNTP servers at the last check that got an answer.",
                &[],
            ),
            clock_ok: Family::gauge(
                "entrail_clock_ok",
                "1 when the last answered clock check was within clock.max_offset_ms, else 0.",
                &[],
            ),
            clock_checks: Family::counter(
                "entrail_clock_checks_total",
                "Host clock checks, by result (answered, failed: no server answered).",
                &["result"],
            ),
            alerts: Family::counter(
                "entrail_alerts_raised_total",
                "Alerts raised, by origin (detection, health) and severity.",
                &["origin", "severity"],
            ),
            uptime: Family::gauge(
                "entrail_uptime_seconds",
                "Seconds since this process made its metrics registry.",
                &[],
            ),
        };
        f.build_info.set(&[env!("CARGO_PKG_VERSION")], 1.0);
        f
    }

    /// Every family updated by the stages, in exposition order.
    pub(super) fn all(&self) -> impl Iterator<Item = &Family> {
        [
            &self.build_info,
            &self.appended,
            &self.revisions,
            &self.duplicates,
            &self.quarantined,
            &self.ingest_lag,
            &self.future,
            &self.sink_records,
            &self.sink_bytes,
            &self.sink_errors,
            &self.sink_blocked,
            &self.clock_offset,
            &self.clock_ok,
            &self.clock_checks,
            &self.alerts,
        ]
        .into_iter()
    }
}
