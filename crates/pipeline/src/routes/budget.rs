//! The log's disk budget (`[log] disk_budget_bytes`): when the retained segments exceed it, the oldest
//! segments are deleted even though the lowest-priority sinks (`[sink_priority]`) have not consumed them.
//! What those sinks lose is counted exactly, per sink, in `<data_dir>/sinks/losses.json`, logged at error
//! level and shown by `entrail status`. The archive, detection and the dedupe index are never skipped.

use super::{Decision, Routes};
use crate::runtime::PipelineError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use store::log::Log;

/// What one sink lost to the disk budget, over all time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkLoss {
    /// Records its routes would have sent that were deleted before it consumed them.
    pub lost_records: u64,
    /// Their encoded log-entry bytes.
    pub lost_bytes: u64,
    /// Records deleted unsent that its routes would not have sent anyway.
    pub skipped_filtered: u64,
    /// The log offset its losses are counted up to (its offset was moved there).
    pub cut_offset: u64,
    /// When it last lost records (RFC 3339).
    pub last_loss_at: Option<String>,
}

/// The whole `losses.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Losses {
    /// Format version, 1.
    pub version: u32,
    /// Per sink id.
    pub sinks: BTreeMap<String, SinkLoss>,
}

impl Default for Losses {
    fn default() -> Self {
        Losses {
            version: 1,
            sinks: BTreeMap::new(),
        }
    }
}

/// `<data_dir>/sinks/losses.json`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("sinks").join("losses.json")
}

/// Reads `losses.json`; empty when missing.
pub fn load(data_dir: &Path) -> Result<Losses, PipelineError> {
    let path = path(data_dir);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Losses::default()),
        Err(e) => {
            return Err(PipelineError::Accounting(format!(
                "{}: {e}",
                path.display()
            )));
        }
    };
    let text = model::limits::read_capped(file, 64 << 20)
        .map_err(|e| PipelineError::Accounting(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&text)
        .map_err(|e| PipelineError::Accounting(format!("{}: {e}", path.display())))
}

fn save(data_dir: &Path, losses: &Losses) -> Result<(), PipelineError> {
    let path = path(data_dir);
    let e = |e: std::io::Error| PipelineError::Accounting(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(e)?;
    }
    let text = serde_json::to_vec_pretty(losses).unwrap_or_default();
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(e)?;
    // The count must survive a crash before the sink's offset moves: fsync before the rename.
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(e)?;
    std::fs::rename(&tmp, &path).map_err(e)
}

/// Retained segments `(base offset, bytes)`, oldest first (the last is the active one).
fn segments(log: &Log) -> Result<Vec<(u64, u64)>, PipelineError> {
    let dir = log.dir();
    let e = |e: std::io::Error| PipelineError::Accounting(format!("{}: {e}", dir.display()));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(e)? {
        let entry = entry.map_err(e)?;
        let name = entry.file_name();
        let Some(base) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|b| b.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((base, entry.metadata().map_err(e)?.len()));
    }
    out.sort_unstable();
    Ok(out)
}

/// The offset below which segments must go for the log to fit `budget` (the active segment always stays).
fn budget_cut(segments: &[(u64, u64)], budget: u64) -> u64 {
    let mut kept: u64 = segments.iter().map(|(_, b)| b).sum();
    for (i, (_, bytes)) in segments.iter().enumerate() {
        if kept <= budget || i + 1 == segments.len() {
            return segments[i].0;
        }
        kept -= bytes;
    }
    0
}

/// Trims the log under the budget: `protected` is the smallest offset of the consumers that are never
/// skipped (archive, detection); `sinks` are every sink's id. Returns the offset to truncate before.
/// Sinks whose offset is below it get their loss counted (through their routes), saved, logged at error
/// level, and their offset moved to it.
pub(crate) fn enforce(
    log: &Log,
    data_dir: &Path,
    budget: u64,
    protected: u64,
    sinks: &[String],
    routes: &Routes,
) -> Result<u64, PipelineError> {
    let start = log.start_offset();
    let committed = |s: &str| log.committed(s).unwrap_or(0).max(start);
    let normal = sinks.iter().map(|s| committed(s)).fold(protected, u64::min);
    let segs = segments(log)?;
    let total: u64 = segs.iter().map(|(_, b)| b).sum();
    if total <= budget {
        return Ok(normal);
    }
    let want = budget_cut(&segs, budget);
    let mut levels: Vec<i64> = sinks.iter().map(|s| routes.priority(s)).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut cut = normal;
    for level in levels {
        if cut >= want {
            break;
        }
        // Give up the sinks of this level: the cut may now pass them, up to what the others consumed.
        let others = sinks
            .iter()
            .filter(|s| routes.priority(s) > level)
            .map(|s| committed(s))
            .fold(protected, u64::min);
        cut = cut.max(others.min(want));
    }
    if cut <= normal {
        return Ok(normal);
    }
    let mut losses = load(data_dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sink losses unreadable; counting afresh");
        Losses::default()
    });
    let now = chrono::Utc::now().to_rfc3339();
    let mut victims = Vec::new();
    for s in sinks {
        let counted = losses.sinks.get(s).map_or(0, |l| l.cut_offset);
        let from = committed(s).max(counted);
        if from >= cut {
            continue;
        }
        let (mut records, mut bytes, mut filtered) = (0u64, 0u64, 0u64);
        let mut reader = log.reader(from);
        'read: loop {
            let batch = reader.read_batch(8192, 16 << 20)?;
            if batch.is_empty() {
                break;
            }
            for (offset, entry_bytes) in &batch {
                if *offset >= cut {
                    break 'read;
                }
                let send = model::codec::decode(entry_bytes)
                    .map(|r| routes.decide(s, &r) == Decision::Send)
                    .unwrap_or(true);
                if send {
                    records += 1;
                    bytes += entry_bytes.len() as u64;
                } else {
                    filtered += 1;
                }
            }
        }
        let entry = losses.sinks.entry(s.clone()).or_default();
        entry.lost_records += records;
        entry.lost_bytes += bytes;
        entry.skipped_filtered += filtered;
        entry.cut_offset = cut;
        entry.last_loss_at = Some(now.clone());
        tracing::error!(
            target: "entrail::alert",
            sink = %s,
            lost_records = records,
            lost_bytes = bytes,
            from_offset = from,
            to_offset = cut,
            budget_bytes = budget,
            log_bytes = total,
            "disk budget exceeded: deleting log data this sink has not consumed; the lost records are counted (entrail status)"
        );
        victims.push(s.clone());
    }
    save(data_dir, &losses)?;
    for s in victims {
        log.commit(&s, cut)?;
    }
    Ok(cut)
}
