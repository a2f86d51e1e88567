//! Configuration of the Parquet archive (file sizes, compression, compaction, retention) and its
//! validation (no I/O).
use std::collections::HashMap;

use model::Category;
use serde::{Deserialize, Serialize};

use super::ArchiveError;

/// The lowest zstd level compaction merges write at when `compact_zstd_level` is not set.
const DEFAULT_COMPACT_ZSTD_LEVEL: i32 = 3;

/// How long one category's partitions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days a day partition is kept after the day ends; `None` keeps it forever. At least 1.
    pub days: Option<u32>,
    /// Legal hold: nothing of the category is deleted, whatever `days` says.
    pub legal_hold: bool,
}

/// A legal hold on a time range: day partitions of the listed categories (every category when empty)
/// whose day lies in `from..=to` are never deleted by retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    /// Categories held; empty holds every category.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// First day held (UTC); `None`: from the beginning.
    #[serde(default)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day held (UTC); `None`: until further notice.
    #[serde(default)]
    pub to: Option<chrono::NaiveDate>,
    /// Why (a case number), shown by `entrail retention plan`.
    #[serde(default)]
    pub reason: String,
}

impl LegalHold {
    /// Whether this hold keeps the partition `day` of `category`.
    pub fn holds(&self, category: Category, day: chrono::NaiveDate) -> bool {
        (self.categories.is_empty() || self.categories.contains(&category))
            && self.from.is_none_or(|f| day >= f)
            && self.to.is_none_or(|t| day <= t)
    }
}

/// How [`Archive::compact`](super::Archive::compact) makes one file of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactionMode {
    /// Merge the inputs' rows in sort order and encode them again at `compact_zstd_level`: one user's rows
    /// of the whole partition end up side by side, which makes the archive ~15% smaller than its inputs
    /// (docs/archive.md).
    #[default]
    Merge,
    /// Copy the inputs' row groups byte for byte into one file: no decoding or compression, a fraction of
    /// merge's CPU, but the archive stays the size of the files as first written.
    Stitch,
}

/// How the archive stores each row's raw record (`_Raw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawMode {
    /// The raw text as received: every reader (Spark, DuckDB, Trino) sees it as it is.
    #[default]
    Text,
    /// A residual: the raw text with each JSON string, object or array that equals one of the row's text
    /// columns replaced by a two-byte reference to that column, so ids and other random values are stored
    /// once. `entrail query` rebuilds `_Raw` byte for byte; other readers need the decoding described in
    /// docs/archive.md. Roughly halves the archive of generated sign-ins.
    Residual,
}

/// How the archive writes, compacts and expires Parquet files. Build with
/// `ArchiveConfig::default()` and override fields; [`Archive::open`](super::Archive::open)
/// validates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Rows per Parquet row group. Default 128 Ki.
    pub row_group_rows: usize,
    /// A partition (table, day) buffer holding this many rows is written out to a file.
    /// Default 256 Ki.
    pub flush_rows: usize,
    /// A partition buffer holding this many bytes (by the archive's accounting: its rows' encoded log
    /// entries plus 64 bytes per row) is written out to a file. Default 256 MiB.
    pub flush_bytes: u64,
    /// The partition buffers together never hold more than this many bytes (same accounting): before a
    /// record would pass it, the largest buffers are written out. At least `flush_bytes`. Default 256 MiB,
    /// which with `spill` (the default) is disk and page cache, not heap: a whole ingest stays under 256 MB
    /// of resident memory (docs/benchmarks.md). Without `spill` the buffered entries are on the heap; use
    /// 64 MiB or less there.
    pub max_buffered_bytes: u64,
    /// Keep the partition buffers' entries in unlinked files under `.spill/` in the archive directory
    /// (the page cache, which the kernel can reclaim) instead of the heap, once a buffer holds more than
    /// 1 MiB: a spilled row then costs ~100 bytes of memory (its bookkeeping and sort keys) instead of its
    /// ~6 KB entry. Files written are
    /// byte-identical either way. Default `true`.
    pub spill: bool,
    /// zstd level of the files partition buffers are written to, 1..=22. Default 1: compaction (in
    /// `merge` mode) compresses every row again, so these files are mostly short-lived.
    pub zstd_level: i32,
    /// zstd level of the files [`Archive::compact`](super::Archive::compact) merges write, 1..=22; `None`
    /// (the default) uses `zstd_level` or 3, whichever is higher. Compaction rewrites every row once, in the
    /// background: a higher level here trades compaction CPU for archive size (docs/archive.md).
    pub compact_zstd_level: Option<i32>,
    /// How compaction makes one file of several: merge (default) or stitch.
    pub compaction: CompactionMode,
    /// How `_Raw` is stored in files written from now on: `text` (default) or `residual`.
    pub raw: RawMode,
    /// Files smaller than this are merged by [`Archive::compact`](super::Archive::compact).
    /// Default 64 MiB.
    pub compact_below_bytes: u64,
    /// Retention per category; categories not listed use `default_retention_days` without
    /// legal hold.
    pub retention: HashMap<Category, RetentionPolicy>,
    /// Retention of categories not in `retention`, in days; `None` (the default) keeps forever.
    pub default_retention_days: Option<u32>,
    /// Legal holds on time ranges (besides the per-category `legal_hold`).
    pub legal_holds: Vec<LegalHold>,
}

impl ArchiveConfig {
    /// The default of `flush_bytes` and `max_buffered_bytes`: 256 MiB when the buffers spill (their rows are
    /// then on disk, ~100 bytes of memory each), 64 MiB when they keep their rows on the heap.
    pub const fn default_buffer_bytes(spill: bool) -> u64 {
        if spill { 256 << 20 } else { 64 << 20 }
    }
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            row_group_rows: 128 * 1024,
            flush_rows: 256 * 1024,
            flush_bytes: Self::default_buffer_bytes(true),
            max_buffered_bytes: Self::default_buffer_bytes(true),
            spill: true,
            zstd_level: 1,
            compact_zstd_level: None,
            compaction: CompactionMode::Merge,
            raw: RawMode::Text,
            compact_below_bytes: 64 * 1024 * 1024,
            retention: HashMap::new(),
            default_retention_days: None,
            legal_holds: Vec::new(),
        }
    }
}

impl ArchiveConfig {
    /// Checks every field and reports all problems at once in [`ArchiveError::Config`].
    pub fn validate(&self) -> Result<(), ArchiveError> {
        let mut problems = Vec::new();
        if self.row_group_rows == 0 {
            problems.push("row_group_rows: must be at least 1".to_owned());
        }
        if self.flush_rows == 0 {
            problems.push("flush_rows: must be at least 1".to_owned());
        }
        if self.flush_bytes == 0 {
            problems.push("flush_bytes: must be at least 1".to_owned());
        }
        if self.max_buffered_bytes < self.flush_bytes {
            problems.push(format!(
                "max_buffered_bytes: must be at least flush_bytes ({}), got {}",
                self.flush_bytes, self.max_buffered_bytes
            ));
        }
        if !(1..=22).contains(&self.zstd_level) {
            problems.push(format!(
                "zstd_level: must be 1..=22, got {}",
                self.zstd_level
            ));
        }
        if let Some(level) = self.compact_zstd_level
            && !(1..=22).contains(&level)
        {
            problems.push(format!("compact_zstd_level: must be 1..=22, got {level}"));
        }
        if self.default_retention_days == Some(0) {
            problems.push(
                "default_retention_days: must be at least 1 (or absent to keep forever)".to_owned(),
            );
        }
        let mut zero: Vec<_> = self
            .retention
            .iter()
            .filter(|(_, p)| p.days == Some(0))
            .map(|(c, _)| c.name())
            .collect();
        zero.sort_unstable();
        for name in zero {
            problems.push(format!(
                "retention.{name}.days: must be at least 1 (or absent to keep forever)"
            ));
        }
        for (i, h) in self.legal_holds.iter().enumerate() {
            if let (Some(from), Some(to)) = (h.from, h.to)
                && from > to
            {
                problems.push(format!("legal_holds[{i}]: from {from} is after to {to}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ArchiveError::Config { problems })
        }
    }

    /// The zstd level of compaction outputs: `compact_zstd_level`, else `zstd_level` or 3, whichever is
    /// higher.
    pub fn compaction_zstd_level(&self) -> i32 {
        self.compact_zstd_level
            .unwrap_or(self.zstd_level.max(DEFAULT_COMPACT_ZSTD_LEVEL))
    }

    /// The retention policy of `category`.
    pub fn policy(&self, category: Category) -> RetentionPolicy {
        self.retention
            .get(&category)
            .copied()
            .unwrap_or(RetentionPolicy {
                days: self.default_retention_days,
                legal_hold: false,
            })
    }
}
