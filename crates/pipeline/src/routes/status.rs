//! Per-sink status for `entrail status`: backlog (records, estimated bytes, age of the oldest unsent
//! record), what was sent and left out by routes ([`super::volume`]), and what the disk budget cost
//! ([`super::budget`]).

use super::budget;
use super::volume;
use serde::Serialize;
use std::path::Path;
use store::log::Log;

/// One log-consuming sink.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SinkStatus {
    /// Sink id.
    pub sink: String,
    /// Priority under the disk budget (`[sink_priority]`, default 0).
    pub priority: i64,
    /// Whether `[[routes]]` select its records (false: it gets everything).
    pub routed: bool,
    /// Next log offset it will read.
    pub offset: u64,
    /// Log entries not yet consumed (records it has not been sent or deliberately skipped).
    pub backlog_records: u64,
    /// Their bytes, estimated from the retained log's average entry size.
    pub backlog_bytes: u64,
    /// When entrail accepted the oldest unconsumed record (RFC 3339).
    pub oldest_unsent: Option<String>,
    /// Its age in seconds.
    pub oldest_unsent_age_seconds: Option<i64>,
    /// Records acknowledged, over all days (`sinks/volume.json`).
    pub sent_records: u64,
    /// Their bytes.
    pub sent_bytes: u64,
    /// Records deliberately not sent: category filter, route conditions and sampling.
    pub filtered_records: u64,
    /// Records lost to the log's disk budget (`sinks/losses.json`).
    pub lost_records: u64,
    /// Their bytes.
    pub lost_bytes: u64,
    /// When it last lost records.
    pub last_loss_at: Option<String>,
}

/// The status of every sink in `sinks` (ids of log-consuming sinks).
pub(crate) fn sink_statuses(
    log: &Log,
    data_dir: &Path,
    sinks: &[String],
    routes: &super::Routes,
) -> Vec<SinkStatus> {
    let (start, end) = (log.start_offset(), log.end_offset());
    let avg = log.disk_bytes().checked_div(end - start).unwrap_or(0);
    let vol = volume::load(data_dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sink volume unreadable for status");
        volume::SinkVolume::default()
    });
    let losses = budget::load(data_dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sink losses unreadable for status");
        budget::Losses::default()
    });
    let now = chrono::Utc::now().timestamp_micros();
    sinks
        .iter()
        .map(|id| {
            let offset = log.committed(id).unwrap_or(0).max(start);
            let backlog = end.saturating_sub(offset);
            let oldest = if backlog > 0 {
                log.reader(offset)
                    .read_batch(1, 1)
                    .ok()
                    .and_then(|b| b.into_iter().next())
                    .and_then(|(_, bytes)| model::codec::decode(&bytes).ok())
                    .map(|r| r.ingest_time)
            } else {
                None
            };
            let total = vol.total(id);
            let loss = losses.sinks.get(id).cloned().unwrap_or_default();
            SinkStatus {
                sink: id.clone(),
                priority: routes.priority(id),
                routed: routes.has_routes(id),
                offset,
                backlog_records: backlog,
                backlog_bytes: backlog * avg,
                oldest_unsent: oldest.map(model::format_micros),
                oldest_unsent_age_seconds: oldest.map(|t| (now - t) / 1_000_000),
                sent_records: total.sent_records,
                sent_bytes: total.sent_bytes,
                filtered_records: total.filtered_records,
                lost_records: loss.lost_records,
                lost_bytes: loss.lost_bytes,
                last_loss_at: loss.last_loss_at,
            }
        })
        .collect()
}
