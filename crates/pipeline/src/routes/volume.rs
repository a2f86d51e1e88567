//! Per-sink daily volume: `<data_dir>/sinks/volume.json`, what each sink was sent and what its routes left
//! out, per UTC day of the records' event time:
//!
//! ```json
//! {"version":1,"sinks":{"<sink id>":{"<YYYY-MM-DD>":{"sent_records":N,"sent_bytes":N,
//!   "filtered_records":N,"filtered_bytes":N}}}}
//! ```
//!
//! Bytes are the record's encoded log-entry size. `filtered_*` counts every record a sink was deliberately
//! not sent (its category filter, a route's conditions, or sampling). The consumer rewrites the file
//! atomically (temp file + rename) after each acknowledged batch; it is statistics, not a commit: a crash
//! between the acknowledgement and the rewrite loses that one batch's counts, and the batch resent after
//! the restart is counted again.

use crate::runtime::PipelineError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One sink's counts for one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayVolume {
    /// Records the receiver acknowledged.
    pub sent_records: u64,
    /// Their encoded log-entry bytes.
    pub sent_bytes: u64,
    /// Records deliberately not sent (category filter, route conditions, sampling).
    pub filtered_records: u64,
    /// Their encoded log-entry bytes.
    pub filtered_bytes: u64,
}

/// The whole `volume.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkVolume {
    /// Format version, 1.
    pub version: u32,
    /// Per sink id, per UTC day (`YYYY-MM-DD`) of the event time.
    pub sinks: BTreeMap<String, BTreeMap<String, DayVolume>>,
}

impl Default for SinkVolume {
    fn default() -> Self {
        SinkVolume {
            version: 1,
            sinks: BTreeMap::new(),
        }
    }
}

/// `<data_dir>/sinks/volume.json`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("sinks").join("volume.json")
}

fn err(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Accounting(format!("{}: {e}", path.display()))
}

/// Reads `<data_dir>/sinks/volume.json`; an empty [`SinkVolume`] when it does not exist yet.
pub fn load(data_dir: &Path) -> Result<SinkVolume, PipelineError> {
    let path = path(data_dir);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SinkVolume::default()),
        Err(e) => return Err(err(&path, e)),
    };
    let bytes = model::limits::read_capped(file, 256 << 20).map_err(|e| err(&path, e))?;
    let v: SinkVolume = serde_json::from_slice(&bytes).map_err(|e| err(&path, e))?;
    if v.version != 1 {
        return Err(err(&path, format!("unknown version {}", v.version)));
    }
    Ok(v)
}

/// Writes `volume` to `<data_dir>/sinks/volume.json` atomically (temp file, then rename).
pub fn save(data_dir: &Path, volume: &SinkVolume) -> Result<(), PipelineError> {
    let path = path(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    }
    let text = serde_json::to_vec(volume).map_err(|e| err(&path, e))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| err(&path, e))
}

/// The UTC day (`YYYY-MM-DD`) of an event time in microseconds.
pub fn day_of(event_time_us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(event_time_us).map_or_else(
        || "invalid".to_owned(),
        |t| t.format("%Y-%m-%d").to_string(),
    )
}

impl SinkVolume {
    /// Adds one record to `sink`'s day of `event_time_us`: sent or filtered, with its encoded size.
    pub fn add(&mut self, sink: &str, event_time_us: i64, sent: bool, bytes: u64) {
        let day = self
            .sinks
            .entry(sink.to_owned())
            .or_default()
            .entry(day_of(event_time_us))
            .or_default();
        if sent {
            day.sent_records += 1;
            day.sent_bytes += bytes;
        } else {
            day.filtered_records += 1;
            day.filtered_bytes += bytes;
        }
    }

    /// `sink`'s totals over every day.
    pub fn total(&self, sink: &str) -> DayVolume {
        let mut t = DayVolume::default();
        for d in self.sinks.get(sink).into_iter().flat_map(|m| m.values()) {
            t.sent_records += d.sent_records;
            t.sent_bytes += d.sent_bytes;
            t.filtered_records += d.filtered_records;
            t.filtered_bytes += d.filtered_bytes;
        }
        t
    }
}

/// [`load`] for the consumer: an unreadable file is moved aside (`volume.json.corrupt`) with a warning and
/// counting starts afresh, since statistics must never stop delivery.
pub(crate) fn load_or_reset(data_dir: &Path) -> SinkVolume {
    load(data_dir).unwrap_or_else(|e| {
        let p = path(data_dir);
        tracing::warn!(error = %e, "sink volume unreadable; moved aside, counting afresh");
        let _ = std::fs::rename(&p, p.with_extension("json.corrupt"));
        SinkVolume::default()
    })
}
