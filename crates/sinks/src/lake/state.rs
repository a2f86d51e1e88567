//! The lake sink's durable progress (`<data_dir>/lake/<id>.json`: every object known to be in the lake, with
//! its size and hash) and the plan computed from it and the archive manifest: what to upload, what to delete,
//! what to keep. Pure apart from loading and storing the progress file (temp file, fsync, rename).

use model::Category;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Value of the progress file's `format`.
const FORMAT: &str = "entrail-lake-progress";
/// Largest progress file accepted when reading.
const MAX_STATE_BYTES: u64 = 512 << 20;

/// One committed archive file, as the archive manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeFile {
    /// Archive-relative path, `<Table>/day=YYYY-MM-DD/part-<first>-<last>.parquet` (also the lake key below
    /// the prefix).
    pub path: String,
    /// Table name (`SigninLogs`).
    pub table: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: u64,
    /// xxh3-128 of the content, 32 hex digits.
    pub xxh3_128: String,
    /// When the archive committed it, microseconds since the epoch.
    pub created_us: i64,
}

/// Why a file the lake holds has left the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Merged into another file by compaction: every row lives on in the merged file, so the lake deletes it
    /// (after uploading the merged file) whatever `mirror_deletions` says.
    Compaction,
    /// Deleted by retention: the lake deletes it only with `mirror_deletions = true`.
    Retention,
}

/// One object the lake holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeObject {
    /// Size in bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: u64,
    /// xxh3-128 of the content.
    pub xxh3_128: String,
    /// When it was uploaded, microseconds since the epoch.
    pub uploaded_us: i64,
}

/// The progress file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LakeState {
    pub(crate) format: String,
    pub(crate) version: u32,
    /// The target and prefix the objects were uploaded to; a different one starts over.
    pub(crate) target: String,
    /// Objects in the lake, by archive-relative path.
    pub(crate) objects: BTreeMap<String, LakeObject>,
    /// When the last run completed without error.
    pub(crate) last_success_us: Option<i64>,
    /// The last run's error, cleared by a successful run.
    pub(crate) last_error: Option<String>,
}

impl LakeState {
    pub(crate) fn empty(target: &str) -> LakeState {
        LakeState {
            format: FORMAT.to_owned(),
            version: 1,
            target: target.to_owned(),
            objects: BTreeMap::new(),
            last_success_us: None,
            last_error: None,
        }
    }

    /// The progress file of sink `id`.
    pub(crate) fn path(state_dir: &Path, id: &str) -> PathBuf {
        state_dir.join(format!("{id}.json"))
    }

    /// Loads the progress for `target`: empty when there is none or it was for another target.
    pub(crate) fn load(path: &Path, target: &str) -> std::io::Result<LakeState> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LakeState::empty(target));
            }
            Err(e) => return Err(e),
        };
        let bytes = model::limits::read_capped(file, MAX_STATE_BYTES)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let state: LakeState = serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if state.format != FORMAT || state.version != 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "unsupported format {:?} version {}",
                    state.format, state.version
                ),
            ));
        }
        if state.target != target {
            tracing::warn!(
                file = %path.display(),
                was = %state.target,
                now = %target,
                "lake target changed: every archive file will be uploaded to the new target"
            );
            return Ok(LakeState::empty(target));
        }
        Ok(state)
    }

    /// Replaces the progress file atomically and durably.
    pub(crate) fn store(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let mut f = File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    }
}

/// What one run has to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LakePlan {
    /// Archive files not (or not with this content) in the lake, oldest path first.
    pub uploads: Vec<LakeFile>,
    /// Lake objects to delete (merged away by compaction; retention when mirrored).
    pub deletes: Vec<String>,
    /// Lake objects whose archive file retention deleted, kept because `mirror_deletions` is off.
    pub kept: usize,
}

impl LakePlan {
    /// Bytes still to upload.
    pub fn upload_bytes(&self) -> u64 {
        self.uploads.iter().map(|f| f.bytes).sum()
    }
}

/// Compares the archive's live files with the lake's objects. `categories` empty: every table.
/// Objects whose file left the archive are deleted when compaction merged them or `mirror_deletions` is on
/// (retention, or a file gone without a recorded reason), else kept.
pub(crate) fn plan(
    objects: &BTreeMap<String, LakeObject>,
    files: &[LakeFile],
    removed: &HashMap<String, Removal>,
    mirror_deletions: bool,
    categories: &[Category],
) -> LakePlan {
    let wanted =
        |table: &str| categories.is_empty() || categories.iter().any(|c| c.table() == table);
    let live: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut uploads: Vec<LakeFile> = files
        .iter()
        .filter(|f| wanted(&f.table))
        .filter(|f| {
            objects
                .get(&f.path)
                .is_none_or(|o| o.bytes != f.bytes || !o.xxh3_128.eq_ignore_ascii_case(&f.xxh3_128))
        })
        .cloned()
        .collect();
    uploads.sort_by(|a, b| a.path.cmp(&b.path));
    let mut deletes = Vec::new();
    let mut kept = 0;
    for path in objects.keys().filter(|p| !live.contains(p.as_str())) {
        match removed.get(path) {
            Some(Removal::Compaction) => deletes.push(path.clone()),
            _ if mirror_deletions => deletes.push(path.clone()),
            _ => kept += 1,
        }
    }
    LakePlan {
        uploads,
        deletes,
        kept,
    }
}
