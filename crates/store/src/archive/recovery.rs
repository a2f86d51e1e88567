//! Startup recovery: removes what an interrupted commit, compaction or retention run left behind
//! (files the manifest does not list, `*.tmp` files, empty partition directories) and checks that
//! every listed file is there with its size.
//!
//! Only table directories (named after a known table or one in the manifest) and their `day=`
//! directories are touched, and in them only `part-*.parquet` and `*.tmp` files.
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use model::Category;

use super::ArchiveError;
use super::file::sync_dir;
use super::manifest::{MANIFEST_FILE, Manifest};

/// What [`Archive::open`](super::Archive::open) cleaned up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Files removed: uncommitted Parquet files and temporary files.
    pub removed: Vec<PathBuf>,
}

/// Cleans `dir` against `manifest`; see the module docs.
pub(crate) fn recover(dir: &Path, manifest: &Manifest) -> Result<RecoveryReport, ArchiveError> {
    let mut report = RecoveryReport::default();
    let manifest_tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
    if manifest_tmp.exists() {
        remove(&manifest_tmp, &mut report)?;
    }
    let live: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let mut tables: BTreeSet<&str> = Category::ALL.iter().map(|c| c.table()).collect();
    tables.extend(manifest.files.iter().map(|f| f.table.as_str()));
    for table in tables {
        let table_dir = dir.join(table);
        if !table_dir.is_dir() {
            continue;
        }
        let mut changed = false;
        for day_dir in read_dir(&table_dir)? {
            let Some(day) = day_dir
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
            else {
                continue;
            };
            if !day.starts_with("day=") || !day_dir.is_dir() {
                continue;
            }
            let mut removed_here = false;
            for file in read_dir(&day_dir)? {
                let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let rel = format!("{table}/{day}/{name}");
                let stray = name.ends_with(".tmp")
                    || (name.starts_with("part-")
                        && name.ends_with(".parquet")
                        && !live.contains(rel.as_str()));
                if stray && file.is_file() {
                    remove(&file, &mut report)?;
                    removed_here = true;
                }
            }
            if removed_here {
                sync_dir(&day_dir)?;
            }
            if fs::remove_dir(&day_dir).is_ok() {
                changed = true; // it was empty
            }
        }
        if changed {
            sync_dir(&table_dir)?;
        }
    }
    for f in &manifest.files {
        let path = dir.join(&f.path);
        match fs::metadata(&path) {
            Ok(m) if m.len() == f.bytes => {}
            Ok(m) => {
                return Err(ArchiveError::Mismatch {
                    path,
                    reason: format!("size {} instead of {}", m.len(), f.bytes),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ArchiveError::Mismatch {
                    path,
                    reason: "missing".to_owned(),
                });
            }
            Err(e) => return Err(ArchiveError::io(path, e)),
        }
    }
    Ok(report)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| ArchiveError::io(dir, e))? {
        paths.push(entry.map_err(|e| ArchiveError::io(dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn remove(path: &Path, report: &mut RecoveryReport) -> Result<(), ArchiveError> {
    match fs::remove_file(path) {
        Ok(()) => {
            report.removed.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ArchiveError::io(path, e)),
    }
}
