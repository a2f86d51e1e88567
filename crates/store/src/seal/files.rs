//! Checking files: every live sealed file against its seal (locating edits to blocks, record ranges, row
//! groups, the footer; truncation; swapped segments) and every file on disk against the chain.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::chain::{ChainState, root};
use super::entry::{Block, Body, Region};
use super::hash::{BLOCK_BYTES, HashAlg, digest_ranges, parquet_row_groups, root_of};
use super::report::{FindingKind, VerifyOptions, VerifyReport};
use super::{SealError, hex};

/// Whether the seal at `seq` falls in the time window.
fn in_window(opts: &VerifyOptions, body: &Body, sealed_us: i64) -> bool {
    let (lo, hi) = match body {
        Body::Parquet {
            min_event_time_us,
            max_event_time_us,
            ..
        } => (*min_event_time_us, *max_event_time_us),
        _ => (sealed_us, sealed_us),
    };
    opts.from_us.is_none_or(|f| hi >= f) && opts.to_us.is_none_or(|t| lo < t)
}

/// The sealed regions of a file body: `(start, len, label)`.
fn regions(body: &Body) -> Vec<(u64, u64, String)> {
    match body {
        Body::Segment { blocks, .. } => blocks
            .iter()
            .enumerate()
            .map(|(i, b): (usize, &Block)| {
                (
                    b.start,
                    b.len,
                    format!(
                        "block {i}: bytes {}..{}, records {}..={}",
                        b.start,
                        b.start + b.len,
                        b.first,
                        b.last
                    ),
                )
            })
            .collect(),
        Body::Parquet {
            row_groups, footer, ..
        } => row_groups
            .iter()
            .enumerate()
            .map(|(i, r): (usize, &Region)| {
                (
                    r.start,
                    r.len,
                    format!(
                        "row group {i} ({} rows, bytes {}..{})",
                        r.rows,
                        r.start,
                        r.start + r.len
                    ),
                )
            })
            .chain([(
                footer.start,
                footer.len,
                format!(
                    "footer (bytes {}..{})",
                    footer.start,
                    footer.start + footer.len
                ),
            )])
            .collect(),
        _ => Vec::new(),
    }
}

fn region_digest(body: &Body, i: usize) -> Option<&str> {
    match body {
        Body::Segment { blocks, .. } => blocks.get(i).map(|b| b.digest.as_str()),
        Body::Parquet {
            row_groups, footer, ..
        } => Some(
            row_groups
                .get(i)
                .map_or(footer.digest.as_str(), |r| r.digest.as_str()),
        ),
        _ => None,
    }
}

/// Checks every live sealed file in the window against its seal.
pub(crate) fn check_files(
    opts: &VerifyOptions,
    state: &ChainState,
    history: &BTreeMap<String, (u64, Body)>,
    times: &BTreeMap<u64, i64>,
    report: &mut VerifyReport,
) -> Result<(), SealError> {
    for (path, (seq, body)) in &state.live {
        if !in_window(opts, body, times.get(seq).copied().unwrap_or(0)) {
            continue;
        }
        report.files_checked += 1;
        let abs = opts.data_dir.join(path);
        let sealed_bytes = match body {
            Body::Segment { bytes, .. } | Body::Parquet { bytes, .. } => *bytes,
            _ => 0,
        };
        if !abs.is_file() {
            let held = match body {
                Body::Segment { base, entries, .. } => {
                    format!("records {base}..{}", base + entries)
                }
                Body::Parquet { rows, .. } => format!("{rows} rows"),
                _ => String::new(),
            };
            report.find(
                FindingKind::FileRemoved,
                Some(path),
                Some(*seq),
                "whole file",
                format!(
                    "sealed file ({sealed_bytes} bytes, {held}) is gone and no deletion is recorded"
                ),
            );
            continue;
        }
        let regs = regions(body);
        let ranges: Vec<(u64, u64)> = regs.iter().map(|r| (r.0, r.1)).collect();
        let (len, digests) = digest_ranges(&abs, &ranges, super::chain::alg(body))?;
        report.bytes_hashed += len.min(sealed_bytes);
        let mut edited = Vec::new();
        let mut cut = None;
        for (i, d) in digests.iter().enumerate() {
            match d {
                None => {
                    cut.get_or_insert(i);
                }
                Some(d) if Some(hex(d).as_str()) != region_digest(body, i) => {
                    edited.push(regs[i].2.clone())
                }
                Some(_) => {}
            }
        }
        if edited.is_empty() && cut.is_none() && len == sealed_bytes {
            continue;
        }
        if let Body::Segment { .. } = body
            && let Some((other, other_seq)) = same_content_as(&abs, len, path, history)?
        {
            report.find(FindingKind::Reordered, Some(path), Some(*seq), "whole file", format!("holds the content sealed for {other} (entry {other_seq}): segments were renamed or swapped"));
            continue;
        }
        if let Some(i) = cut {
            report.find(
                FindingKind::Truncated,
                Some(path),
                Some(*seq),
                format!("from byte {len}, {}", regs[i].2),
                format!(
                    "file is {len} bytes, sealed {sealed_bytes}: {} bytes cut",
                    sealed_bytes - len
                ),
            );
        }
        if len > sealed_bytes {
            edited.push(format!(
                "bytes {sealed_bytes}..{len} appended after sealing"
            ));
        }
        if !edited.is_empty() {
            let mut detail = "bytes differ from the seal".to_owned();
            if let Body::Parquet { row_groups, .. } = body {
                detail.push_str(&row_group_change(&abs, row_groups));
            }
            report.find(
                FindingKind::FileEdited,
                Some(path),
                Some(*seq),
                edited.join("; "),
                detail,
            );
        }
    }
    Ok(())
}

/// How the row groups changed, when the footer still parses and they differ in number, rows or event
/// times: a row group is identified by its rows and `_EventTime` statistics, which survive a rewrite.
fn row_group_change(path: &Path, sealed: &[Region]) -> String {
    let Ok(now) = parquet_row_groups(path) else {
        return "; the footer does not parse".into();
    };
    let now_ids: Vec<(u64, Option<(i64, i64)>)> =
        now.iter().map(|g| (g.rows, g.event_times)).collect();
    let sealed_ids: Vec<(u64, Option<(i64, i64)>)> =
        sealed.iter().map(|r| (r.rows, r.event_times)).collect();
    if now_ids == sealed_ids {
        return String::new();
    }
    let mut unmatched = now_ids.clone();
    let mut changes = Vec::new();
    for (i, id) in sealed_ids.iter().enumerate() {
        if let Some(j) = unmatched.iter().position(|x| x == id) {
            unmatched.remove(j);
        } else {
            changes.push(format!("row group {i} ({} rows) is missing", id.0));
        }
    }
    for id in &unmatched {
        changes.push(format!("a row group of {} rows was not sealed", id.0));
    }
    format!(
        "; sealed {} row groups, the file now has {}: {}",
        sealed_ids.len(),
        now_ids.len(),
        changes.join(", ")
    )
}

/// The other sealed segment whose content the file at `abs` holds, if any.
fn same_content_as(
    abs: &Path,
    len: u64,
    path: &str,
    history: &BTreeMap<String, (u64, Body)>,
) -> Result<Option<(String, u64)>, SealError> {
    let candidates: Vec<(&String, u64, &str, HashAlg)> = history
        .iter()
        .filter(|(p, _)| p.as_str() != path)
        .filter_map(|(p, (s, b))| match b {
            Body::Segment {
                bytes, root, alg, ..
            } if *bytes == len => Some((p, *s, root.as_str(), *alg)),
            _ => None,
        })
        .collect();
    let ranges: Vec<(u64, u64)> = (0..len.div_ceil(BLOCK_BYTES))
        .map(|i| (i * BLOCK_BYTES, BLOCK_BYTES.min(len - i * BLOCK_BYTES)))
        .collect();
    for alg in [HashAlg::Blake3, HashAlg::Sha256] {
        if !candidates.iter().any(|c| c.3 == alg) {
            continue;
        }
        let (_, digests) = digest_ranges(abs, &ranges, alg)?;
        let digests: Vec<[u8; 32]> = digests.into_iter().flatten().collect();
        let r = root_of(alg, &digests);
        if let Some(c) = candidates.iter().find(|c| c.3 == alg && c.2 == r) {
            return Ok(Some((c.0.clone(), c.1)));
        }
    }
    Ok(None)
}

/// Reports files on disk the chain does not hold: log segments (but the active one) and Parquet files.
pub(crate) fn check_unsealed(
    opts: &VerifyOptions,
    state: &ChainState,
    history: &BTreeMap<String, (u64, Body)>,
    report: &mut VerifyReport,
) -> Result<(), SealError> {
    let log_dir = opts.data_dir.join("log");
    let mut segs: Vec<(u64, String)> = Vec::new();
    if log_dir.is_dir() {
        for e in fs::read_dir(&log_dir).map_err(|e| SealError::io(&log_dir, e))? {
            let e = e.map_err(|e| SealError::io(&log_dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(base) = name
                .strip_suffix(".seg")
                .and_then(|d| d.parse::<u64>().ok())
            {
                segs.push((base, format!("log/{name}")));
            }
        }
    }
    segs.sort();
    let last = segs.last().cloned();
    for (base, rel) in &segs {
        if state.live.contains_key(rel) {
            continue;
        }
        if Some((*base, rel.clone())) == last && *base >= state.segment_end {
            continue; // the active segment
        }
        unsealed(opts, rel, history, report, "log segment")?;
    }
    let mut parquet = Vec::new();
    collect_parquet(&opts.data_dir.join("archive"), &mut parquet)?;
    for abs in parquet {
        let rel = super::rel_path(&opts.data_dir, &abs);
        if !state.live.contains_key(&rel) {
            unsealed(opts, &rel, history, report, "Parquet file")?;
        }
    }
    Ok(())
}

/// A file not live in the chain: a deletion recorded but not yet done (same bytes) is fine.
fn unsealed(
    opts: &VerifyOptions,
    rel: &str,
    history: &BTreeMap<String, (u64, Body)>,
    report: &mut VerifyReport,
    what: &str,
) -> Result<(), SealError> {
    if let Some((seq, body)) = history.get(rel) {
        let regs = regions(body);
        let ranges: Vec<(u64, u64)> = regs.iter().map(|r| (r.0, r.1)).collect();
        let alg = super::chain::alg(body);
        let (len, digests) = digest_ranges(&opts.data_dir.join(rel), &ranges, alg)?;
        let digests: Option<Vec<[u8; 32]>> = digests.into_iter().collect();
        let sealed_len = match body {
            Body::Segment { bytes, .. } | Body::Parquet { bytes, .. } => *bytes,
            _ => 0,
        };
        if len == sealed_len && digests.is_some_and(|d| root_of(alg, &d) == root(body)) {
            return Ok(()); // deleted in the chain, removal pending or interrupted
        }
        report.find(
            FindingKind::FileInserted,
            Some(rel),
            Some(*seq),
            "whole file",
            format!("{what} recorded as deleted is back with other content"),
        );
        return Ok(());
    }
    report.find(
        FindingKind::FileInserted,
        Some(rel),
        None,
        "whole file",
        format!("{what} is not in the chain"),
    );
    Ok(())
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SealError> {
    if !dir.is_dir() {
        return Ok(());
    }
    for e in fs::read_dir(dir).map_err(|e| SealError::io(dir, e))? {
        let path = e.map_err(|e| SealError::io(dir, e))?.path();
        if path.is_dir() {
            collect_parquet(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}
