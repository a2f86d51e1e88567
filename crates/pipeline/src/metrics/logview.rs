//! The gauges read from the log at scrape time: its offsets and size, and per consumer (the archive,
//! detection, each log-consuming sink) its committed offset and backlog in records, bytes and age.

use super::registry::Family;
use std::sync::Arc;
use store::log::Log;

/// The log and the consumers whose backlog is exposed.
#[derive(Debug)]
pub(super) struct LogView {
    log: Arc<Log>,
    consumers: Vec<String>,
}

/// One consumer's backlog now.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Backlog {
    consumer: String,
    offset: u64,
    backlog_records: u64,
    backlog_bytes: u64,
    backlog_age_seconds: f64,
}

impl LogView {
    pub(super) fn new(log: Arc<Log>, consumers: Vec<String>) -> LogView {
        LogView { log, consumers }
    }

    /// Every consumer's backlog: entries past its committed offset, their bytes estimated from the
    /// retained log's average entry size, and the age of the oldest (its ingest time; 0 when none).
    pub(super) fn backlogs(&self) -> Vec<Backlog> {
        let (start, end) = (self.log.start_offset(), self.log.end_offset());
        let avg = self.log.disk_bytes().checked_div(end - start).unwrap_or(0);
        let now = chrono::Utc::now().timestamp_micros();
        self.consumers
            .iter()
            .map(|c| {
                let offset = self.log.committed(c).unwrap_or(0).max(start);
                let records = end.saturating_sub(offset);
                let oldest = (records > 0)
                    .then(|| {
                        self.log
                            .reader(offset)
                            .read_batch(1, 1)
                            .ok()
                            .and_then(|b| b.into_iter().next())
                            .and_then(|(_, bytes)| model::codec::decode(&bytes).ok())
                            .map(|r| r.ingest_time)
                    })
                    .flatten();
                Backlog {
                    consumer: c.clone(),
                    offset,
                    backlog_records: records,
                    backlog_bytes: records * avg,
                    backlog_age_seconds: oldest.map_or(0.0, |t| ((now - t) as f64 / 1e6).max(0.0)),
                }
            })
            .collect()
    }

    /// The scrape-time families.
    pub(super) fn families(&self) -> Vec<Family> {
        let head = Family::gauge(
            "entrail_log_head_offset",
            "Next offset the durable log will append (records ever appended, as offsets).",
            &[],
        );
        head.set(&[], self.log.end_offset() as f64);
        let start = Family::gauge(
            "entrail_log_start_offset",
            "First offset still retained in the log (older segments were trimmed).",
            &[],
        );
        start.set(&[], self.log.start_offset() as f64);
        let bytes = Family::gauge("entrail_log_bytes", "Bytes of log segments on disk.", &[]);
        bytes.set(&[], self.log.disk_bytes() as f64);
        let offset = Family::gauge(
            "entrail_consumer_offset",
            "Next log offset the consumer will read (everything before it is committed).",
            &["consumer"],
        );
        let records = Family::gauge(
            "entrail_consumer_backlog_records",
            "Log entries the consumer has not consumed yet.",
            &["consumer"],
        );
        let backlog_bytes = Family::gauge(
            "entrail_consumer_backlog_bytes",
            "Bytes of those entries, estimated from the retained log's average entry size.",
            &["consumer"],
        );
        let age = Family::gauge(
            "entrail_consumer_backlog_age_seconds",
            "Age of the oldest unconsumed entry (since entrail accepted it); 0 without backlog.",
            &["consumer"],
        );
        for b in self.backlogs() {
            let l = [b.consumer.as_str()];
            offset.set(&l, b.offset as f64);
            records.set(&l, b.backlog_records as f64);
            backlog_bytes.set(&l, b.backlog_bytes as f64);
            age.set(&l, b.backlog_age_seconds);
        }
        vec![head, start, bytes, offset, records, backlog_bytes, age]
    }

    /// The `log` part of `/healthz`.
    pub(super) fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "start_offset": self.log.start_offset(),
            "head_offset": self.log.end_offset(),
            "bytes": self.log.disk_bytes(),
            "consumers": self.backlogs(),
        })
    }
}
