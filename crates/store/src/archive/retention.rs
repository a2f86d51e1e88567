//! Retention: deleting whole day partitions once every event in them is older than the
//! category's retention, unless the category is under legal hold.
//!
//! A partition `day=D` of a category kept `N` days becomes deletable at `D + 1 + N` days,
//! 00:00 UTC. The manifest is written first (files removed, one [`Deletion`] per partition with
//! reason `retention`), the files deleted after; a crash in between leaves unlisted files that
//! [`Archive::open`] removes.
use std::collections::BTreeSet;
use std::fs;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use super::compact::deleted_file;
use super::file::sync_dir;
use super::manifest::{Deletion, DeletionReason, FileEntry};
use super::{Archive, ArchiveError};

/// One partition with a finite retention, and when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDeletion {
    /// Table name.
    pub table: String,
    /// Partition day, `YYYY-MM-DD`.
    pub day: String,
    /// Committed files in it.
    pub files: usize,
    /// Rows in them.
    pub rows: u64,
    /// Bytes of them.
    pub bytes: u64,
    /// The category's retention in days.
    pub retention_days: u32,
    /// When the partition becomes deletable (ignoring a legal hold).
    pub delete_after: DateTime<Utc>,
    /// Whether it is deletable now and not held: [`Archive::apply_retention`] deletes it.
    pub due: bool,
    /// Whether a legal hold keeps it.
    pub legal_hold: bool,
}

/// What [`Archive::apply_retention`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// One entry per deleted partition, as recorded in the manifest.
    pub deleted: Vec<Deletion>,
    /// Partitions past their retention that a legal hold keeps.
    pub held: Vec<PlannedDeletion>,
    /// Files deleted.
    pub files: usize,
    /// Rows deleted.
    pub rows: u64,
    /// Bytes deleted.
    pub bytes: u64,
}

impl Archive {
    /// Every committed partition of a category with a finite retention, with the time it
    /// becomes deletable, soonest first. Categories kept forever are not listed.
    pub fn retention_plan(&self, now: DateTime<Utc>) -> Vec<PlannedDeletion> {
        let mut plan = Vec::new();
        let tables: BTreeSet<&str> = self
            .manifest
            .files
            .iter()
            .map(|f| f.table.as_str())
            .collect();
        for table in tables {
            let Some(category) = Self::category_of(table) else {
                continue;
            };
            let policy = self.cfg.policy(category);
            let Some(days) = policy.days else {
                continue;
            };
            for (day, files) in self.manifest.files_by_day(table) {
                let Some(delete_after) = deletable_at(day, days) else {
                    continue;
                };
                let held = policy.legal_hold
                    || NaiveDate::parse_from_str(day, "%Y-%m-%d")
                        .is_ok_and(|d| self.cfg.legal_holds.iter().any(|h| h.holds(category, d)));
                plan.push(PlannedDeletion {
                    table: table.to_owned(),
                    day: day.to_owned(),
                    files: files.len(),
                    rows: files.iter().map(|f| f.rows).sum(),
                    bytes: files.iter().map(|f| f.bytes).sum(),
                    retention_days: days,
                    delete_after,
                    due: now >= delete_after && !held,
                    legal_hold: held,
                });
            }
        }
        plan.sort_by(|a, b| (a.delete_after, &a.table).cmp(&(b.delete_after, &b.table)));
        plan
    }

    /// Deletes every partition that [`Archive::retention_plan`] marks due, recording each in
    /// the manifest's `deletions`. Uncommitted writes are not affected.
    pub fn apply_retention(&mut self, now: DateTime<Utc>) -> Result<RetentionReport, ArchiveError> {
        self.usable()?;
        self.guard(|a| a.apply_retention_inner(now))
    }

    fn apply_retention_inner(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<RetentionReport, ArchiveError> {
        let plan = self.retention_plan(now);
        let mut report = RetentionReport {
            held: plan
                .iter()
                .filter(|p| p.legal_hold && now >= p.delete_after)
                .cloned()
                .collect(),
            ..RetentionReport::default()
        };
        let due: Vec<PlannedDeletion> = plan.into_iter().filter(|p| p.due).collect();
        if due.is_empty() {
            return Ok(report);
        }
        let mut next = self.manifest.clone();
        let generation = next.generation + 1;
        let time_us = now.timestamp_micros();
        let mut doomed: Vec<FileEntry> = Vec::new();
        for p in &due {
            let (gone, kept): (Vec<FileEntry>, Vec<FileEntry>) = next
                .files
                .into_iter()
                .partition(|f| f.table == p.table && f.day == p.day);
            next.files = kept;
            let deletion = Deletion {
                table: p.table.clone(),
                day: p.day.clone(),
                files: gone.iter().map(deleted_file).collect(),
                rows: p.rows,
                bytes: p.bytes,
                reason: DeletionReason::Retention,
                detail: format!(
                    "retention of {} days: deletable after {}",
                    p.retention_days,
                    p.delete_after.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                time_us,
                generation,
            };
            report.files += gone.len();
            report.rows += p.rows;
            report.bytes += p.bytes;
            report.deleted.push(deletion.clone());
            next.deletions.push(deletion);
            doomed.extend(gone);
        }
        self.store_manifest(next)?;
        let mut table_dirs = BTreeSet::new();
        for f in &doomed {
            let path = self.dir.join(&f.path);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ArchiveError::io(path, e)),
            }
            if let Some(day_dir) = path.parent() {
                // Fails harmlessly while uncommitted files of that day are still in it.
                let _ = fs::remove_dir(day_dir);
                if let Some(table_dir) = day_dir.parent() {
                    table_dirs.insert(table_dir.to_path_buf());
                }
            }
        }
        for d in &table_dirs {
            sync_dir(d)?;
        }
        tracing::info!(
            partitions = report.deleted.len(),
            files = report.files,
            rows = report.rows,
            "archive retention deleted expired partitions"
        );
        Ok(report)
    }
}

/// `day + 1 + days` at 00:00 UTC; `None` for an unparsable day.
fn deletable_at(day: &str, days: u32) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let at = day.checked_add_days(Days::new(u64::from(days) + 1))?;
    Some(at.and_time(NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_goes_when_its_last_event_is_older_than_retention() {
        let at = deletable_at("2024-01-01", 30).unwrap();
        assert_eq!(at.to_rfc3339(), "2024-02-01T00:00:00+00:00");
        assert!(deletable_at("not a day", 1).is_none());
    }
}
