//! The archive manifest `<dir>/_manifest.json`: the one source of truth for which Parquet files
//! are live, how far the archive has consumed the log, and every deletion ever made.
//!
//! It is replaced atomically (write `_manifest.json.tmp`, fsync, rename, fsync the directory), so
//! a reader sees either the old or the new one. Files on disk that it does not list are leftovers
//! of an interrupted commit and are removed by [`Archive::open`](super::Archive::open).
//!
//! ```json
//! { "format": "entrail-archive-manifest", "version": 1, "generation": 7, "next_offset": 1200,
//!   "updated_us": 1704067200000000,
//!   "files": [ { "path": "SigninLogs/day=2024-01-01/part-0-99.parquet", "table": "SigninLogs",
//!                "day": "2024-01-01", "rows": 100, "bytes": 51234,
//!                "min_event_time_us": ..., "max_event_time_us": ..., "first_offset": 0,
//!                "last_offset": 99, "max_revision": 0, "sorted": true,
//!                "xxh3_128": "<32 hex digits>", "created_us": ... } ],
//!   "deletions": [ { "table": "SigninLogs", "day": "2023-01-01", "files": [ { "path": ...,
//!                    "rows": 100, "bytes": 51234, "xxh3_128": ... } ], "rows": 100,
//!                    "bytes": 51234, "reason": "retention", "detail": "older than 90 days",
//!                    "time_us": ..., "generation": 6 } ] }
//! ```
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ArchiveError;
use super::file::sync_dir;

/// File name of the manifest inside the archive directory.
pub const MANIFEST_FILE: &str = "_manifest.json";
/// Value of [`Manifest::format`].
pub const MANIFEST_FORMAT: &str = "entrail-archive-manifest";
/// The manifest version this code writes and reads.
pub const MANIFEST_VERSION: u32 = 1;
/// Largest manifest accepted when reading (a million files is about 400 MB).
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024 * 1024;

/// One live Parquet file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the archive directory, `/`-separated:
    /// `<Table>/day=YYYY-MM-DD/part-<first_offset>-<last_offset>.parquet`.
    pub path: String,
    /// Table name (`SigninLogs`).
    pub table: String,
    /// UTC day of the rows' event time, `YYYY-MM-DD` (the `day` partition value).
    pub day: String,
    /// Number of rows.
    pub rows: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Smallest `_EventTime`, microseconds since the epoch.
    pub min_event_time_us: i64,
    /// Largest `_EventTime`, microseconds since the epoch.
    pub max_event_time_us: i64,
    /// Smallest log offset of a row in the file.
    pub first_offset: u64,
    /// Largest log offset of a row in the file.
    pub last_offset: u64,
    /// Largest `_Revision` in the file (0: no row in it replaces an earlier one).
    pub max_revision: u32,
    /// Whether rows are sorted by `_EventTime`.
    pub sorted: bool,
    /// xxh3-128 of the whole file content, 32 lower-case hex digits.
    pub xxh3_128: String,
    /// When the file was committed, microseconds since the epoch.
    pub created_us: i64,
    /// Whether rows' `_Raw` may be stored as residuals (`archive.raw = "residual"`, docs/archive.md):
    /// queries then rebuild `_Raw` from the row's text columns. Absent (false) in files written as text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_residual: bool,
}

impl FileEntry {
    /// Whether `path` is exactly `<table>/day=<day>/<name>` with plain components, so that
    /// joining it to the archive directory cannot leave it.
    fn path_is_safe(&self) -> bool {
        let parts: Vec<&str> = self.path.split('/').collect();
        let plain = |p: &str| !p.is_empty() && p != "." && p != ".." && !p.contains('\\');
        parts.len() == 3
            && parts.iter().all(|p| plain(p))
            && parts.first() == Some(&self.table.as_str())
            && parts.get(1).and_then(|d| d.strip_prefix("day=")) == Some(self.day.as_str())
    }
}

/// A file named in a [`Deletion`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedFile {
    /// Path relative to the archive directory.
    pub path: String,
    /// Rows it held.
    pub rows: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its xxh3-128, as it was listed.
    pub xxh3_128: String,
}

/// Why files left the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionReason {
    /// The partition outlived its category's retention; its rows are gone.
    Retention,
    /// The files were merged into one new file (named in the detail); every row is kept.
    Compaction,
}

/// One recorded deletion, so a verifier can tell policy deletion from tampering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// Table name.
    pub table: String,
    /// Partition day, `YYYY-MM-DD`.
    pub day: String,
    /// The files removed.
    pub files: Vec<DeletedFile>,
    /// Rows in those files.
    pub rows: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Why.
    pub reason: DeletionReason,
    /// Details: the retention rule applied, or the file the rows were merged into.
    pub detail: String,
    /// When, microseconds since the epoch.
    pub time_us: i64,
    /// The manifest generation that first recorded it.
    pub generation: u64,
}

/// The archive manifest; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// Incremented by every manifest write.
    pub generation: u64,
    /// The log offset to resume consuming at: every record below it is in a listed file.
    pub next_offset: u64,
    /// When this manifest was written, microseconds since the epoch.
    pub updated_us: i64,
    /// Every live file, sorted by path.
    pub files: Vec<FileEntry>,
    /// Every deletion, oldest first.
    pub deletions: Vec<Deletion>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            format: MANIFEST_FORMAT.to_owned(),
            version: MANIFEST_VERSION,
            generation: 0,
            next_offset: 0,
            updated_us: 0,
            files: Vec::new(),
            deletions: Vec::new(),
        }
    }
}

impl Manifest {
    /// Reads `<dir>/_manifest.json`; `Ok(None)` when there is none yet (an empty archive).
    pub fn load(dir: &Path) -> Result<Option<Manifest>, ArchiveError> {
        let path = dir.join(MANIFEST_FILE);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ArchiveError::io(path, e)),
        };
        let bytes = model::limits::read_capped(file, MAX_MANIFEST_BYTES).map_err(|e| match e {
            model::limits::CappedReadError::Io(e) => ArchiveError::io(&path, e),
            e @ model::limits::CappedReadError::TooLarge { .. } => ArchiveError::Manifest {
                path: path.clone(),
                reason: e.to_string(),
            },
        })?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Manifest {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if manifest.format != MANIFEST_FORMAT || manifest.version > MANIFEST_VERSION {
            return Err(ArchiveError::Manifest {
                path,
                reason: format!(
                    "unsupported format {:?} version {}",
                    manifest.format, manifest.version
                ),
            });
        }
        if let Some(bad) = manifest.files.iter().find(|f| !f.path_is_safe()) {
            return Err(ArchiveError::Manifest {
                path,
                reason: format!("file path {:?} is not <table>/day=<day>/<name>", bad.path),
            });
        }
        Ok(Some(manifest))
    }

    /// Replaces `<dir>/_manifest.json` atomically and durably.
    pub(crate) fn store(&self, dir: &Path) -> Result<(), ArchiveError> {
        let path = dir.join(MANIFEST_FILE);
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(|e| ArchiveError::Manifest {
            path: path.clone(),
            reason: format!("cannot encode: {e}"),
        })?;
        let mut file = File::create(&tmp).map_err(|e| ArchiveError::io(&tmp, e))?;
        file.write_all(&json)
            .map_err(|e| ArchiveError::io(&tmp, e))?;
        file.sync_all().map_err(|e| ArchiveError::io(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| ArchiveError::io(&path, e))?;
        sync_dir(dir)
    }

    /// The live files of `table`, by day (days sorted).
    pub fn files_by_day(&self, table: &str) -> BTreeMap<&str, Vec<&FileEntry>> {
        let mut days: BTreeMap<&str, Vec<&FileEntry>> = BTreeMap::new();
        for f in self.files.iter().filter(|f| f.table == table) {
            days.entry(f.day.as_str()).or_default().push(f);
        }
        days
    }
}
