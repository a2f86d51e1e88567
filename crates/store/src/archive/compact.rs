//! Compaction: in each partition, files smaller than `compact_below_bytes` are merged into one,
//! written one row group and one column at a time (memory bounded by one column of each input being
//! read and one output column chunk: see [`super::colmerge`]). Inputs are verified against their
//! manifest hash first.
//!
//! Order: merged files are written to `*.tmp`, fsynced and renamed; one manifest write then
//! replaces the inputs by the outputs and records each merge in `deletions`; the inputs are
//! deleted last. A crash before the manifest leaves an unlisted output (removed at open), after
//! it unlisted inputs (removed at open): no row is ever lost or doubled.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use datafusion::arrow::datatypes::Schema;

use super::colmerge::{
    MergeInput, concat_order, merge_order, plain_columns, row_group_rows, with_plain, write_merged,
};
use super::config::CompactionMode;
use super::file::{
    FileSummary, HashingWriter, hash_file, hex128, sort_columns, sorted_by_event_time, sync_dir,
    writer_properties,
};
use super::manifest::{DeletedFile, Deletion, DeletionReason, FileEntry};
use super::merge::{footer_sorted_by, footer_stitched};
use super::stitch::stitch;
use super::{Archive, ArchiveError, arrow_schema};

/// Files merged into one at most; a partition with more small files is merged in several outputs (a later
/// compaction merges those while they are still small).
const MAX_MERGE_INPUTS: usize = 6;

/// What [`Archive::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Partitions whose small files were merged.
    pub partitions: usize,
    /// Input files merged (and deleted).
    pub files_merged: usize,
    /// Files written.
    pub files_written: usize,
    /// Rows moved.
    pub rows: u64,
    /// Bytes of the inputs.
    pub bytes_before: u64,
    /// Bytes of the outputs.
    pub bytes_after: u64,
}

/// One merge done and waiting for the manifest.
struct Merge {
    inputs: Vec<FileEntry>,
    output: FileEntry,
}

impl Archive {
    /// Merges, in every partition, the committed files smaller than
    /// [`ArchiveConfig::compact_below_bytes`](super::ArchiveConfig::compact_below_bytes) into
    /// one file (partitions with fewer than two such files are left alone; files written with
    /// an older table schema are not merged). Uncommitted writes are not affected.
    pub fn compact(&mut self) -> Result<CompactionReport, ArchiveError> {
        self.usable()?;
        self.guard(Self::compact_inner)
    }

    fn compact_inner(&mut self) -> Result<CompactionReport, ArchiveError> {
        let mut groups: BTreeMap<(&str, &str), Vec<&FileEntry>> = BTreeMap::new();
        for f in self
            .manifest
            .files
            .iter()
            .filter(|f| f.bytes < self.cfg.compact_below_bytes)
        {
            groups
                .entry((f.table.as_str(), f.day.as_str()))
                .or_default()
                .push(f);
        }
        // At most MAX_MERGE_INPUTS files per merge (in offset order): a merge in sort order reads all its
        // inputs at once, each with its current pages.
        let groups: Vec<Vec<FileEntry>> = groups
            .into_values()
            .flat_map(|mut files| {
                files.sort_by_key(|f| f.first_offset);
                files
                    .chunks(MAX_MERGE_INPUTS)
                    .map(|c| c.iter().map(|f| (*f).clone()).collect::<Vec<FileEntry>>())
                    .collect::<Vec<_>>()
            })
            .filter(|files| files.len() >= 2)
            .collect();
        let mut merges = Vec::new();
        for files in groups {
            let inputs = files.len();
            if let Some(merge) = self.merge(files)? {
                tracing::debug!(file = %merge.output.path, inputs, rows = merge.output.rows, "compacted");
                merges.push(merge);
            }
        }
        let mut report = CompactionReport::default();
        if merges.is_empty() {
            return Ok(report);
        }
        let mut next = self.manifest.clone();
        let generation = next.generation + 1;
        let now = chrono::Utc::now().timestamp_micros();
        let mut dirs = BTreeSet::new();
        for m in &merges {
            let gone: BTreeSet<&str> = m.inputs.iter().map(|f| f.path.as_str()).collect();
            next.files.retain(|f| !gone.contains(f.path.as_str()));
            next.files.push(FileEntry {
                created_us: now,
                ..m.output.clone()
            });
            let rows = m.inputs.iter().map(|f| f.rows).sum();
            let bytes = m.inputs.iter().map(|f| f.bytes).sum();
            next.deletions.push(Deletion {
                table: m.output.table.clone(),
                day: m.output.day.clone(),
                files: m.inputs.iter().map(deleted_file).collect(),
                rows,
                bytes,
                reason: DeletionReason::Compaction,
                detail: format!("merged into {}", m.output.path),
                time_us: now,
                generation,
            });
            report.partitions += 1;
            report.files_merged += m.inputs.len();
            report.files_written += 1;
            report.rows += rows;
            report.bytes_before += bytes;
            report.bytes_after += m.output.bytes;
        }
        self.store_manifest(next)?;
        for m in &merges {
            for f in &m.inputs {
                let path = self.dir.join(&f.path);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(ArchiveError::io(path, e)),
                }
                if let Some(parent) = path.parent() {
                    dirs.insert(parent.to_path_buf());
                }
            }
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        Ok(report)
    }

    /// Merges `files` (one partition) into a new file, renamed into place but not yet listed.
    /// `None` when fewer than two files have the current schema or the name is taken.
    fn merge(&self, files: Vec<FileEntry>) -> Result<Option<Merge>, ArchiveError> {
        let Some((table, day)) = files.first().map(|f| (f.table.clone(), f.day.clone())) else {
            return Ok(None);
        };
        let Some(category) = Self::category_of(&table) else {
            return Ok(None);
        };
        let schema = arrow_schema(category);
        let mut inputs = Vec::new();
        for f in files {
            let path = self.dir.join(&f.path);
            let (bytes, hash) = hash_file(&path)?;
            if bytes != f.bytes || hex128(hash) != f.xxh3_128 {
                return Err(ArchiveError::Mismatch {
                    path,
                    reason: format!(
                        "size {bytes} and xxh3 {} differ from the manifest",
                        hex128(hash)
                    ),
                });
            }
            let reader = MergeInput::open(&path)?;
            if same_fields(reader.metadata().schema(), &schema) {
                inputs.push((f, path, reader));
            } else {
                tracing::info!(file = %path.display(), "not compacting a file with an older table schema");
            }
        }
        if inputs.len() < 2 {
            return Ok(None);
        }
        inputs.sort_by_key(|(f, _, _)| (f.min_event_time_us, f.first_offset));
        let sorted = inputs.iter().all(|(f, _, _)| f.sorted)
            && inputs
                .windows(2)
                .all(|w| matches!(w, [(a, _, _), (b, _, _)] if a.max_event_time_us <= b.min_event_time_us));
        let first_offset = inputs
            .iter()
            .map(|(f, _, _)| f.first_offset)
            .min()
            .unwrap_or(0);
        let last_offset = inputs
            .iter()
            .map(|(f, _, _)| f.last_offset)
            .max()
            .unwrap_or(0);
        let rel = format!("{table}/day={day}/part-{first_offset}-{last_offset}.parquet");
        let out: PathBuf = self.dir.join(&rel);
        if out.exists() || self.manifest.files.iter().any(|f| f.path == rel) {
            tracing::warn!(file = %out.display(), "compaction output name is taken; partition skipped");
            return Ok(None);
        }
        let tmp = self.dir.join(format!("{rel}.tmp"));
        // Inputs each sorted by the table's entity columns (as the writer makes them) are merged in that
        // order, so that the day's rows of one user end up side by side; others are concatenated.
        let keys = sort_columns(&schema);
        // A stitched file is sorted per row group only: it can be stitched again, not merged in order.
        let stitching = self.cfg.compaction == CompactionMode::Stitch;
        let by_keys = !sorted_by_event_time(&schema, &keys)
            && inputs.iter().all(|(_, _, b)| {
                let m = b.metadata().metadata();
                footer_sorted_by(m, &keys) && (stitching || !footer_stitched(m))
            });
        let sorted_by: Vec<usize> = if by_keys {
            keys.clone()
        } else {
            schema
                .index_of(super::EVENT_TIME_COLUMN)
                .ok()
                .filter(|_| sorted)
                .into_iter()
                .collect()
        };
        let sorted = sorted && sorted_by_event_time(&schema, &sorted_by);
        let props = writer_properties(
            &schema,
            self.cfg.row_group_rows,
            self.cfg.compaction_zstd_level(),
            &sorted_by,
        )?;
        let out = Output {
            tmp,
            path: out,
            rel,
            table: table.clone(),
            day,
            first_offset,
            last_offset,
            sorted,
        };
        if stitching {
            let paths: Vec<PathBuf> = inputs.iter().map(|(_, p, _)| p.clone()).collect();
            if let Some(s) = stitch(&paths, &out.tmp, props.clone())? {
                let entries: Vec<FileEntry> = inputs.into_iter().map(|(f, _, _)| f).collect();
                let summary = merged_summary(s.rows, s.bytes, s.xxh3, &entries);
                return out.publish(summary, entries).map(Some);
            }
            tracing::info!(file = %out.path.display(), "inputs' Parquet schemas differ; merging instead of stitching");
        }
        let (entries, readers): (Vec<FileEntry>, Vec<MergeInput>) =
            inputs.into_iter().map(|(f, _, r)| (f, r)).unzip();
        let order = if by_keys {
            merge_order(&schema, &keys, &readers).map_err(|e| match e {
                ArchiveError::Arrow { source, .. } => ArchiveError::Arrow {
                    table: table.clone(),
                    source,
                },
                other => other,
            })?
        } else {
            concat_order(&readers)
        };
        let props = with_plain(props, plain_columns(&schema, &readers));
        let group_rows = row_group_rows(
            entries.iter().map(|f| f.bytes).sum(),
            order.len(),
            self.cfg.row_group_rows,
        );
        let sink = HashingWriter::create(&out.tmp)?;
        let mut sink = write_merged(sink, &out.tmp, &schema, props, &readers, &order, group_rows)?;
        drop(readers);
        let (bytes, xxh3) = sink.sync(&out.tmp)?;
        let summary = merged_summary(order.len() as u64, bytes, xxh3, &entries);
        out.publish(summary, entries).map(Some)
    }
}

/// The summary of a file that holds every row of `inputs`: their time range and highest revision.
fn merged_summary(rows: u64, bytes: u64, xxh3: u128, inputs: &[FileEntry]) -> FileSummary {
    FileSummary {
        rows,
        bytes,
        xxh3,
        min_event_time: inputs
            .iter()
            .map(|f| f.min_event_time_us)
            .min()
            .unwrap_or(0),
        max_event_time: inputs
            .iter()
            .map(|f| f.max_event_time_us)
            .max()
            .unwrap_or(0),
        max_revision: inputs.iter().map(|f| f.max_revision).max().unwrap_or(0),
    }
}

/// Where a merge's output goes and what its manifest entry says besides the file's summary.
struct Output {
    tmp: PathBuf,
    path: PathBuf,
    rel: String,
    table: String,
    day: String,
    first_offset: u64,
    last_offset: u64,
    sorted: bool,
}

impl Output {
    /// Checks that the written file holds every row of `inputs`, renames it into place (fsyncing its
    /// directory) and returns the merge, not yet listed in the manifest.
    fn publish(self, summary: FileSummary, inputs: Vec<FileEntry>) -> Result<Merge, ArchiveError> {
        let expected_rows: u64 = inputs.iter().map(|f| f.rows).sum();
        if summary.rows != expected_rows {
            return Err(ArchiveError::Mismatch {
                path: self.tmp,
                reason: format!(
                    "merged {} rows, the inputs list {expected_rows}",
                    summary.rows
                ),
            });
        }
        fs::rename(&self.tmp, &self.path).map_err(|e| ArchiveError::io(&self.path, e))?;
        if let Some(parent) = self.path.parent() {
            sync_dir(parent)?;
        }
        Ok(Merge {
            output: FileEntry {
                path: self.rel,
                table: self.table,
                day: self.day,
                rows: summary.rows,
                bytes: summary.bytes,
                min_event_time_us: summary.min_event_time,
                max_event_time_us: summary.max_event_time,
                first_offset: self.first_offset,
                last_offset: self.last_offset,
                max_revision: summary.max_revision,
                sorted: self.sorted,
                xxh3_128: hex128(summary.xxh3),
                created_us: 0,
                raw_residual: inputs.iter().any(|f| f.raw_residual),
            },
            inputs,
        })
    }
}

pub(crate) fn deleted_file(f: &FileEntry) -> DeletedFile {
    DeletedFile {
        path: f.path.clone(),
        rows: f.rows,
        bytes: f.bytes,
        xxh3_128: f.xxh3_128.clone(),
    }
}

/// Whether two schemas have the same column names and types, in order (metadata ignored).
fn same_fields(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}
