//! Opening a log directory: find the segments, check the sealed ones, cut the torn tail of the
//! active one.
//!
//! Sealed segments were fsynced before the next one was created, so they must be whole: each
//! must hold exactly `next base - base` verified frames and nothing else. Their `.idx` sidecar is
//! trusted when its count and byte length match; otherwise the segment is scanned, and any
//! failing frame is [`LogError::Corrupt`] (never skipped or cut). Only the last segment may end in
//! a torn or corrupt tail left by a crash; it is truncated at the last verified frame.
use std::fs::{self, File, OpenOptions};
use std::path::Path;

use super::segment;
use super::writer::{ActiveSegment, SegmentMeta, sync_dir};
use super::{LogConfig, LogError};

/// What [`Log::open`](super::Log::open) found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Bytes cut from the end of the last segment (a torn or corrupt tail).
    pub truncated_bytes: u64,
    /// Offset of the last entry kept, `None` if the log holds no entries.
    pub last_offset: Option<u64>,
    /// Offset the next append gets.
    pub end_offset: u64,
    /// Segments retained.
    pub segments: usize,
    /// Sealed segments that had to be scanned because their index sidecar was missing or stale.
    pub rebuilt_indexes: usize,
}

/// The result of recovery: segment metadata, the writer's active segment and the report.
pub(crate) struct Recovered {
    pub(crate) segments: Vec<SegmentMeta>,
    pub(crate) active: ActiveSegment,
    pub(crate) report: RecoveryReport,
}

/// Lists segment bases in `dir`, ascending, and removes leftover temp files.
fn list_segments(dir: &Path) -> Result<Vec<u64>, LogError> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| LogError::io(dir, e))? {
        let entry = entry.map_err(|e| LogError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(base) = segment::parse_segment_name(name) {
            bases.push(base);
        } else if name.ends_with(".idx.tmp") {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| LogError::io(&path, e))?;
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Checks a sealed segment that must hold exactly `expected` entries.
fn check_sealed(
    dir: &Path,
    base: u64,
    expected: u64,
    report: &mut RecoveryReport,
) -> Result<SegmentMeta, LogError> {
    let path = segment::segment_path(dir, base);
    let file_len = fs::metadata(&path)
        .map_err(|e| LogError::io(&path, e))?
        .len();
    if let Some((count, bytes, index)) = segment::read_index_file(dir, base)
        && count == expected
        && bytes == file_len
    {
        return Ok(SegmentMeta {
            base,
            path,
            bytes,
            index,
        });
    }
    let scan = segment::scan_segment(&path, base)?;
    if scan.count != expected || scan.valid_bytes != scan.file_len {
        return Err(LogError::Corrupt {
            segment: path,
            offset: base + scan.count,
        });
    }
    report.rebuilt_indexes += 1;
    if let Err(err) = segment::write_index_file(dir, base, scan.count, scan.file_len, &scan.index) {
        tracing::warn!(error = %err, "writing segment index failed");
    }
    Ok(SegmentMeta {
        base,
        path,
        bytes: scan.file_len,
        index: scan.index,
    })
}

/// Opens the log files in `dir` (which exists and is locked by the caller).
pub(crate) fn recover(dir: &Path, cfg: &LogConfig) -> Result<Recovered, LogError> {
    let mut bases = list_segments(dir)?;
    if bases.is_empty() {
        let path = segment::segment_path(dir, 0);
        File::create_new(&path).map_err(|e| LogError::io(&path, e))?;
        if cfg.fsync {
            sync_dir(dir).map_err(|e| LogError::io(dir, e))?;
        }
        bases.push(0);
    }
    let mut report = RecoveryReport::default();
    let mut segments = Vec::with_capacity(bases.len());
    for pair in bases.windows(2) {
        segments.push(check_sealed(dir, pair[0], pair[1] - pair[0], &mut report)?);
    }
    let base = bases[bases.len() - 1];
    let path = segment::segment_path(dir, base);
    let scan = segment::scan_segment(&path, base)?;
    if scan.valid_bytes < scan.file_len {
        report.truncated_bytes = scan.file_len - scan.valid_bytes;
        tracing::warn!(
            segment = %path.display(),
            truncated_bytes = report.truncated_bytes,
            kept_entries = scan.count,
            "cut torn tail of log segment"
        );
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| LogError::io(&path, e))?;
        file.set_len(scan.valid_bytes)
            .map_err(|e| LogError::io(&path, e))?;
        if cfg.fsync {
            file.sync_all().map_err(|e| LogError::io(&path, e))?;
        }
    }
    let end = base + scan.count;
    segments.push(SegmentMeta {
        base,
        path: path.clone(),
        bytes: scan.valid_bytes,
        index: scan.index.clone(),
    });
    let active = ActiveSegment::open(path.clone(), base, scan.valid_bytes, scan.count, scan.index)
        .map_err(|e| LogError::io(&path, e))?;
    report.last_offset = end.checked_sub(1);
    report.end_offset = end;
    report.segments = segments.len();
    Ok(Recovered {
        segments,
        active,
        report,
    })
}
