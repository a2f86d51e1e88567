//! The Parquet archive: a log consumer that writes records into Hive-partitioned Parquet files,
//! readable by DataFusion ([`crate::query`]), Spark, Trino and DuckDB.
//!
//! # Contract
//! - [`Archive::write`] buffers a record read from log offset `offset` in its partition (table,
//!   UTC day of the event time); offsets below [`Archive::next_offset`] plus what is buffered are
//!   ignored, so replaying the log is harmless. A buffer past `flush_rows` / `flush_bytes` (or the
//!   buffers together past `max_buffered_bytes`) is written to a `*.tmp` file.
//! - [`Archive::commit`] makes everything written so far durable and records it atomically with
//!   the consumer offset: remaining buffers go to `*.tmp` files, every file is fsynced, renamed,
//!   its directories fsynced, then `_manifest.json` is replaced (see [`manifest`]). Nothing
//!   written since the last commit is visible before that.
//! - [`Archive::open`] deletes files the manifest does not list (a crash between rename and
//!   manifest) and `*.tmp` files, and checks that every listed file exists with its size, so
//!   re-consuming from [`Archive::next_offset`] never archives a record twice.
//! - [`Archive::compact`] merges small files per partition; [`Archive::apply_retention`] deletes
//!   expired partitions. Both commit through the manifest first and delete files after, and
//!   record every deletion in the manifest.
//! - One writer per directory (`_archive.lock`, an OS file lock). After a failed write, commit
//!   or compaction the archive refuses work ([`ArchiveError::Failed`]) until reopened.
//!
//! # On disk
//! ```text
//! <dir>/_manifest.json                                  live files, next offset, deletions
//! <dir>/_archive.lock                                   advisory lock, empty
//! <dir>/.spill/                                         partition buffers' entries (unlinked files)
//! <dir>/<Table>/day=YYYY-MM-DD/part-<first>-<last>.parquet
//! ```
//! `<first>`/`<last>` are the smallest and largest log offsets in the file. Columns: see
//! [`arrow_schema`]; rows are sorted within a flushed file by up to two of the table's entity columns
//! (`UserPrincipalName`, `AppId`, ...) and then `_EventTime` (recorded in the Parquet footer).
//!
//! # Memory
//! The partition buffers never hold more than [`ArchiveConfig::max_buffered_bytes`] by their own
//! accounting ([`Archive::peak_buffered_bytes`]): before a record is buffered, the largest buffers are
//! written out until it fits. A buffer holds its rows' log entries still encoded ([`model::codec`]), in an
//! unlinked spill file under `.spill/` once it passes 1 MiB (default, [`ArchiveConfig::spill`]: the page
//! cache holds them, not the heap) or in 1 MiB chunks, and per row its sort keys (copied when spilled,
//! else their position in the entry), taken from the walk that checks the entry when it is buffered.
//! Writing it out sorts the row indices by those keys alone, then decodes the rows, borrowed and each in one pass, into Arrow columns one slice of 1024 sorted rows at a time. That
//! adds one slice of rows and the encoded pages of one row group (at most 6 MiB), never a batch or a
//! sorted copy of the whole buffer. Compaction merges files one output column at a time (`colmerge.rs`):
//! it holds one column of each input and one encoded column chunk, less than a flush.
mod buffer;
mod colmerge;
mod compact;
mod config;
mod error;
mod file;
pub mod manifest;
mod merge;
mod recovery;
pub(crate) mod residual;
mod retention;
mod schema;
mod sortkey;
mod stitch;

#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_colmerge;
#[cfg(test)]
mod tests_encoded;
#[cfg(test)]
mod tests_encoding;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_layout;
#[cfg(test)]
mod tests_stitch;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use model::{Category, Record, codec};

pub use compact::CompactionReport;
pub use config::{ArchiveConfig, CompactionMode, LegalHold, RawMode, RetentionPolicy};
pub use error::{ArchiveError, ErrorKind};
pub use manifest::{DeletedFile, Deletion, DeletionReason, FileEntry, Manifest};
pub use recovery::RecoveryReport;
pub use retention::{PlannedDeletion, RetentionReport};
pub use schema::{
    DAY_COLUMN, EVENT_TIME_COLUMN, KEY_COLUMN, REVISION_COLUMN, arrow_schema, arrow_type,
};

use buffer::entries::SPILL_DIR;
use buffer::{PartitionBuffer, day_of, day_string, row_bytes};
use file::{FileWriter, sort_columns, sorted_by_event_time, sync_dir, writer_properties};

/// Name of the lock file inside the archive directory.
const LOCK_FILE: &str = "_archive.lock";

/// Per-table totals over the committed files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// Table name.
    pub table: String,
    /// Live files.
    pub files: usize,
    /// Rows in them.
    pub rows: u64,
    /// Bytes of them.
    pub bytes: u64,
    /// Day partitions.
    pub days: usize,
    /// Smallest `_EventTime` (microseconds), `None` without files.
    pub min_event_time_us: Option<i64>,
    /// Largest `_EventTime` (microseconds), `None` without files.
    pub max_event_time_us: Option<i64>,
}

/// A file written to `*.tmp` and not yet committed.
struct PendingFile {
    tmp: PathBuf,
    path: PathBuf,
    entry: FileEntry,
}

/// The Parquet archive in one directory; see the module docs.
pub struct Archive {
    dir: PathBuf,
    cfg: ArchiveConfig,
    manifest: Manifest,
    buffers: BTreeMap<(Category, NaiveDate), PartitionBuffer>,
    buffered_bytes: u64,
    peak_buffered_bytes: u64,
    pending: Vec<PendingFile>,
    /// The offset after everything written (buffered, pending or committed).
    written_next: u64,
    failed: bool,
    /// Reused by [`Archive::write`] to encode a record.
    scratch: Vec<u8>,
    recovery: RecoveryReport,
    /// Told about every manifest change (tamper evidence, see [`crate::seal`]).
    seal: Option<std::sync::Arc<dyn crate::seal::SealHook>>,
    /// Held (with its OS lock) for the lifetime of the archive.
    _lock: File,
}

impl Archive {
    /// Opens (creating if needed) the archive in `dir`: validates `cfg`, takes the lock, reads
    /// the manifest and removes files it does not list (see [`Archive::recovery`]).
    pub fn open(dir: &Path, cfg: ArchiveConfig) -> Result<Archive, ArchiveError> {
        cfg.validate()?;
        fs::create_dir_all(dir).map_err(|e| ArchiveError::io(dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| ArchiveError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ArchiveError::Locked {
                    dir: dir.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(ArchiveError::io(&lock_path, e)),
        }
        // Spill files are unlinked when created; a crash between the two steps can leave one (ours: we
        // hold the lock).
        let spill = dir.join(SPILL_DIR);
        if spill.exists() {
            fs::remove_dir_all(&spill).map_err(|e| ArchiveError::io(&spill, e))?;
        }
        let manifest = Manifest::load(dir)?.unwrap_or_default();
        let recovery = recovery::recover(dir, &manifest)?;
        if !recovery.removed.is_empty() {
            tracing::warn!(
                dir = %dir.display(),
                removed = recovery.removed.len(),
                "removed archive files left by an interrupted commit"
            );
        }
        Ok(Archive {
            dir: dir.to_path_buf(),
            cfg,
            written_next: manifest.next_offset,
            manifest,
            buffers: BTreeMap::new(),
            buffered_bytes: 0,
            peak_buffered_bytes: 0,
            pending: Vec::new(),
            failed: false,
            scratch: Vec::new(),
            recovery,
            seal: None,
            _lock: lock,
        })
    }

    /// The archive directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration in force.
    pub fn config(&self) -> &ArchiveConfig {
        &self.cfg
    }

    /// The committed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reports every manifest change (files added, files deleted and why) to `hook` (tamper evidence, see
    /// [`crate::seal`]).
    pub fn set_seal_hook(&mut self, hook: std::sync::Arc<dyn crate::seal::SealHook>) {
        self.seal = Some(hook);
    }

    /// What [`Archive::open`] cleaned up.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// The log offset to resume reading at: everything below it is committed.
    pub fn next_offset(&self) -> u64 {
        self.manifest.next_offset
    }

    /// Rows written but not yet committed.
    pub fn uncommitted_rows(&self) -> u64 {
        let buffered: usize = self.buffers.values().map(PartitionBuffer::rows).sum();
        buffered as u64 + self.pending.iter().map(|p| p.entry.rows).sum::<u64>()
    }

    /// Buffers `record`, read from log `offset`. Offsets below the end of what was already
    /// written are skipped (a replay). May write a full partition buffer to a `*.tmp` file. Values
    /// missing from `record.values` are null; values past the table's columns are ignored.
    pub fn write(&mut self, offset: u64, record: &Record) -> Result<(), ArchiveError> {
        self.usable()?;
        if offset < self.written_next {
            return Ok(());
        }
        let mut entry = std::mem::take(&mut self.scratch);
        entry.clear();
        let columns = model::schema(record.category).columns.len();
        if record.values.len() > columns {
            let mut trimmed = record.clone();
            trimmed.values.truncate(columns);
            codec::encode(&trimmed, &mut entry);
        } else {
            codec::encode(record, &mut entry);
        }
        let result = self.write_encoded(offset, &entry);
        self.scratch = entry;
        result
    }

    /// Buffers the log entry `entry` (a record encoded by [`model::codec::encode`]) read from log `offset`,
    /// like [`Archive::write`] without decoding it into a [`Record`]: its values are decoded, borrowed,
    /// straight into Arrow columns when its partition is written out. An entry that cannot be decoded is an
    /// [`ArchiveError::Entry`]; one whose header decodes but whose text is not UTF-8 fails that write-out.
    pub fn write_encoded(&mut self, offset: u64, entry: &[u8]) -> Result<(), ArchiveError> {
        self.usable()?;
        if offset < self.written_next {
            return Ok(());
        }
        let (record, sort_keys) = sortkey::decode_with_keys(entry)
            .map_err(|source| ArchiveError::Entry { offset, source })?;
        let key = (
            record.category,
            day_of(record.event_time, record.ingest_time),
        );
        let need = row_bytes(entry) + sortkey::owned_bytes(&sort_keys);
        // Make room first, so that the buffers never hold more than `max_buffered_bytes` by their own
        // accounting (a single record larger than that is written out alone right after it is buffered).
        while self.buffered_bytes + need > self.cfg.max_buffered_bytes {
            let Some(largest) = self
                .buffers
                .iter()
                .max_by_key(|(_, b)| b.bytes)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.guard(|a| a.flush(largest))?;
        }
        let spill_to = self.cfg.spill.then_some(&self.dir);
        let residual = self.cfg.raw == RawMode::Residual;
        let buffer = self.buffers.entry(key).or_insert_with(|| {
            PartitionBuffer::new(key.0, key.1, spill_to.map(|d| d.as_path().into()))
                .with_residual(residual)
        });
        let pushed = buffer.push(
            offset,
            entry,
            need,
            record.event_time,
            record.is_ordered(),
            sort_keys,
        );
        if let Err(e) = pushed {
            // The buffer's file and its rows may disagree now: like a failed write-out, refuse work
            // until reopened (nothing is committed past what the files hold, so the log keeps the rows).
            self.failed = true;
            return Err(e);
        }
        self.buffered_bytes += need;
        self.peak_buffered_bytes = self.peak_buffered_bytes.max(self.buffered_bytes);
        let full = buffer.rows() >= self.cfg.flush_rows
            || buffer.bytes >= self.cfg.flush_bytes
            || self.buffered_bytes > self.cfg.max_buffered_bytes;
        self.written_next = offset.saturating_add(1);
        if full {
            self.guard(|a| a.flush(key))?;
        }
        Ok(())
    }

    /// Bytes the partition buffers hold now, by the archive's own accounting (see
    /// [`ArchiveConfig::max_buffered_bytes`]).
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered_bytes
    }

    /// The most [`Archive::buffered_bytes`] has been since the archive was opened.
    pub fn peak_buffered_bytes(&self) -> u64 {
        self.peak_buffered_bytes
    }

    /// Marks every offset below `next` as consumed without a record (entries the archive does
    /// not store); takes effect at the next commit.
    pub fn skip_to(&mut self, next: u64) {
        self.written_next = self.written_next.max(next);
    }

    /// Makes everything written so far durable and records it, with the consumer offset, in
    /// the manifest. Returns the new [`Archive::next_offset`].
    pub fn commit(&mut self) -> Result<u64, ArchiveError> {
        self.usable()?;
        self.guard(Self::commit_inner)
    }

    fn commit_inner(&mut self) -> Result<u64, ArchiveError> {
        self.publish_files()?;
        if self.pending.is_empty() && self.written_next == self.manifest.next_offset {
            return Ok(self.manifest.next_offset);
        }
        let mut next = self.manifest.clone();
        let now = chrono::Utc::now().timestamp_micros();
        for p in self.pending.drain(..) {
            next.files.push(FileEntry {
                created_us: now,
                ..p.entry
            });
        }
        next.next_offset = self.written_next;
        self.store_manifest(next)?;
        Ok(self.manifest.next_offset)
    }

    /// The first half of a commit: flushes every buffer and renames every pending file into
    /// place (fsyncing the directories), without recording them in the manifest.
    pub(crate) fn publish_files(&mut self) -> Result<(), ArchiveError> {
        let keys: Vec<_> = self.buffers.keys().copied().collect();
        for key in keys {
            self.flush(key)?;
        }
        let mut dirs = BTreeSet::new();
        for p in &self.pending {
            fs::rename(&p.tmp, &p.path).map_err(|e| ArchiveError::io(&p.path, e))?;
            if let Some(day_dir) = p.path.parent() {
                dirs.insert(day_dir.to_path_buf());
                if let Some(table_dir) = day_dir.parent() {
                    dirs.insert(table_dir.to_path_buf());
                }
            }
        }
        if !self.pending.is_empty() {
            dirs.insert(self.dir.clone()); // new table directories
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        Ok(())
    }

    /// Writes the buffer of `key` to a `*.tmp` file (sorted by [`file::sort_columns`]) and queues it for
    /// the next commit.
    fn flush(&mut self, key: (Category, NaiveDate)) -> Result<(), ArchiveError> {
        let Some(mut buffer) = self.buffers.remove(&key) else {
            return Ok(());
        };
        self.buffered_bytes = self.buffered_bytes.saturating_sub(buffer.bytes);
        if buffer.rows() == 0 {
            return Ok(());
        }
        let table = buffer.category.table();
        let schema = buffer.schema();
        let sort = sort_columns(&schema);
        let day = day_string(buffer.day);
        let rel = format!(
            "{table}/day={day}/part-{}-{}.parquet",
            buffer.first_offset, buffer.last_offset
        );
        let path = self.dir.join(&rel);
        let tmp = self.dir.join(format!("{rel}.tmp"));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| ArchiveError::io(parent, e))?;
        }
        let props =
            writer_properties(&schema, self.cfg.row_group_rows, self.cfg.zstd_level, &sort)?;
        let mut writer = FileWriter::create(&tmp, schema.clone(), props)?;
        buffer.write_to(&mut writer, &sort)?;
        let (first_offset, last_offset) = (buffer.first_offset, buffer.last_offset);
        drop(buffer);
        let summary = writer.finish()?;
        tracing::debug!(file = %rel, rows = summary.rows, bytes = summary.bytes, "partition buffer written");
        self.pending.push(PendingFile {
            tmp,
            path,
            entry: FileEntry {
                path: rel,
                table: table.to_owned(),
                day,
                rows: summary.rows,
                bytes: summary.bytes,
                min_event_time_us: summary.min_event_time,
                max_event_time_us: summary.max_event_time,
                first_offset,
                last_offset,
                max_revision: summary.max_revision,
                sorted: sorted_by_event_time(&schema, &sort),
                xxh3_128: file::hex128(summary.xxh3),
                created_us: 0,
                raw_residual: self.cfg.raw == RawMode::Residual,
            },
        });
        Ok(())
    }

    /// Per-table totals over the committed files, for every table with files, sorted by name.
    pub fn stats(&self) -> Vec<TableStats> {
        let mut by_table: BTreeMap<&str, (TableStats, BTreeSet<&str>)> = BTreeMap::new();
        for f in &self.manifest.files {
            let (s, days) = by_table.entry(f.table.as_str()).or_insert_with(|| {
                let stats = TableStats {
                    table: f.table.clone(),
                    files: 0,
                    rows: 0,
                    bytes: 0,
                    days: 0,
                    min_event_time_us: None,
                    max_event_time_us: None,
                };
                (stats, BTreeSet::new())
            });
            s.files += 1;
            s.rows += f.rows;
            s.bytes += f.bytes;
            days.insert(f.day.as_str());
            s.min_event_time_us = Some(
                s.min_event_time_us
                    .map_or(f.min_event_time_us, |m| m.min(f.min_event_time_us)),
            );
            s.max_event_time_us = Some(
                s.max_event_time_us
                    .map_or(f.max_event_time_us, |m| m.max(f.max_event_time_us)),
            );
        }
        by_table
            .into_values()
            .map(|(mut s, days)| {
                s.days = days.len();
                s
            })
            .collect()
    }

    /// Stores `next` as the manifest (generation + 1, sorted files) and adopts it.
    fn store_manifest(&mut self, mut next: Manifest) -> Result<(), ArchiveError> {
        next.generation = self.manifest.generation + 1;
        next.updated_us = chrono::Utc::now().timestamp_micros();
        next.files.sort_by(|a, b| a.path.cmp(&b.path));
        next.store(&self.dir)?;
        if let Some(seal) = &self.seal {
            seal.manifest_stored(&self.dir, &self.manifest, &next);
        }
        self.manifest = next;
        Ok(())
    }

    fn usable(&self) -> Result<(), ArchiveError> {
        if self.failed {
            Err(ArchiveError::Failed)
        } else {
            Ok(())
        }
    }

    /// Runs `f`; on error the archive refuses further work until reopened.
    fn guard<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ArchiveError>,
    ) -> Result<T, ArchiveError> {
        let result = f(self);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// The category whose table is `table`.
    fn category_of(table: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.table() == table)
    }
}
