//! Archive tests on real files in temporary directories (SQL round trips are in `query::tests`).
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use model::Category;

use super::test_util::{DAY, HOUR, JAN_1, record};
use super::*;

fn small() -> ArchiveConfig {
    ArchiveConfig {
        row_group_rows: 4,
        ..ArchiveConfig::default()
    }
}

fn parquet_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for table in std::fs::read_dir(dir).unwrap() {
        let table = table.unwrap().path();
        if !table.is_dir() {
            continue;
        }
        for day in std::fs::read_dir(&table).unwrap() {
            for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
                let p = f.unwrap().path();
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn rows_in(path: &Path) -> usize {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap().num_rows()).sum()
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap()
}

#[test]
fn commit_writes_hive_partitions_and_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    // Out of order in time within a day, two days, two tables.
    a.write(0, &record(Category::SignInLogs, JAN_1 + 5 * HOUR, "s0"))
        .unwrap();
    a.write(1, &record(Category::SignInLogs, JAN_1 + HOUR, "s1"))
        .unwrap();
    a.write(2, &record(Category::SignInLogs, JAN_1 + DAY, "s2"))
        .unwrap();
    a.write(3, &record(Category::AuditLogs, JAN_1, "a0"))
        .unwrap();
    assert!(
        parquet_files(tmp.path()).is_empty(),
        "nothing is visible before commit"
    );
    assert_eq!(a.uncommitted_rows(), 4);
    assert_eq!(a.commit().unwrap(), 4);
    assert_eq!(a.next_offset(), 4);
    assert_eq!(a.uncommitted_rows(), 0);
    assert_eq!(
        parquet_files(tmp.path()),
        [
            "AuditLogs/day=2024-01-01/part-3-3.parquet",
            "SigninLogs/day=2024-01-01/part-0-1.parquet",
            "SigninLogs/day=2024-01-02/part-2-2.parquet",
        ]
    );
    let m = Manifest::load(tmp.path()).unwrap().unwrap();
    assert_eq!(m, *a.manifest());
    assert_eq!((m.next_offset, m.generation, m.files.len()), (4, 1, 3));
    let f = &m.files[1];
    assert_eq!(
        (f.table.as_str(), f.day.as_str(), f.rows),
        ("SigninLogs", "2024-01-01", 2)
    );
    assert_eq!(
        (f.min_event_time_us, f.max_event_time_us),
        (JAN_1 + HOUR, JAN_1 + 5 * HOUR)
    );
    assert_eq!(
        (f.first_offset, f.last_offset, f.max_revision, f.sorted),
        (0, 1, 0, false)
    );
    let path = tmp.path().join(&f.path);
    let (bytes, hash) = file::hash_file(&path).unwrap();
    assert_eq!((bytes, file::hex128(hash)), (f.bytes, f.xxh3_128.clone()));

    // Parquet: zstd, page index, sorted by user then event time, the table's schema.
    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata();
    assert!(matches!(
        meta.row_group(0).column(0).compression(),
        Compression::ZSTD(_)
    ));
    assert!(
        meta.row_group(0).column(0).column_index_offset().is_some(),
        "page index written"
    );
    let batch = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        batch.schema().fields(),
        arrow_schema(Category::SignInLogs).fields()
    );
    let times = batch
        .column_by_name("_EventTime")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    // s0@contoso.com (5 h) before s1@contoso.com (1 h).
    assert_eq!(times.values().to_vec(), [JAN_1 + 5 * HOUR, JAN_1 + HOUR]);

    let stats = a.stats();
    assert_eq!(stats.len(), 2);
    assert_eq!(
        (
            stats[1].table.as_str(),
            stats[1].files,
            stats[1].rows,
            stats[1].days
        ),
        ("SigninLogs", 2, 3, 2)
    );
    assert_eq!(stats[1].max_event_time_us, Some(JAN_1 + DAY));
}

#[test]
fn replayed_offsets_are_ignored_and_empty_commits_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    for i in 0..3 {
        a.write(i, &record(Category::AuditLogs, JAN_1, &format!("k{i}")))
            .unwrap();
    }
    assert_eq!(a.commit().unwrap(), 3);
    for i in 0..5 {
        a.write(i, &record(Category::AuditLogs, JAN_1, &format!("k{i}")))
            .unwrap();
    }
    assert_eq!(a.uncommitted_rows(), 2);
    assert_eq!(a.commit().unwrap(), 5);
    let generation = a.manifest().generation;
    assert_eq!(a.commit().unwrap(), 5);
    assert_eq!(
        a.manifest().generation,
        generation,
        "nothing to commit, no manifest write"
    );
    a.skip_to(9);
    assert_eq!(a.commit().unwrap(), 9);
    assert_eq!(a.manifest().files.iter().map(|f| f.rows).sum::<u64>(), 5);
}

#[test]
fn full_buffers_are_flushed_to_tmp_files_before_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ArchiveConfig {
        flush_rows: 3,
        ..small()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    for i in 0..7 {
        a.write(
            i,
            &record(Category::AuditLogs, JAN_1 + i as i64, &format!("k{i}")),
        )
        .unwrap();
    }
    let files = parquet_files(tmp.path());
    assert_eq!(files.len(), 2);
    assert!(
        files.iter().all(|f| f.ends_with(".parquet.tmp")),
        "{files:?}"
    );
    a.commit().unwrap();
    assert_eq!(
        parquet_files(tmp.path()),
        [
            "AuditLogs/day=2024-01-01/part-0-2.parquet",
            "AuditLogs/day=2024-01-01/part-3-5.parquet",
            "AuditLogs/day=2024-01-01/part-6-6.parquet",
        ]
    );
}

#[test]
fn a_crash_between_rename_and_manifest_loses_nothing_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    for i in 0..3 {
        a.write(i, &record(Category::AuditLogs, JAN_1, &format!("k{i}")))
            .unwrap();
    }
    a.commit().unwrap();
    for i in 3..6 {
        a.write(
            i,
            &record(Category::AuditLogs, JAN_1 + DAY, &format!("k{i}")),
        )
        .unwrap();
    }
    a.write(6, &record(Category::AuditLogs, JAN_1, "k6"))
        .unwrap();
    a.publish_files().unwrap(); // renamed, fsynced, not in the manifest: then the process dies
    File::create(
        tmp.path()
            .join("AuditLogs/day=2024-01-01/part-9-9.parquet.tmp"),
    )
    .unwrap();
    drop(a);
    assert_eq!(parquet_files(tmp.path()).len(), 4);

    let mut a = Archive::open(tmp.path(), small()).unwrap();
    assert_eq!(a.next_offset(), 3);
    assert_eq!(a.recovery().removed.len(), 3, "{:?}", a.recovery());
    assert_eq!(
        parquet_files(tmp.path()),
        ["AuditLogs/day=2024-01-01/part-0-2.parquet"]
    );
    // Re-consume from next_offset.
    for i in a.next_offset()..7 {
        let t = if (3..6).contains(&i) {
            JAN_1 + DAY
        } else {
            JAN_1
        };
        a.write(i, &record(Category::AuditLogs, t, &format!("k{i}")))
            .unwrap();
    }
    assert_eq!(a.commit().unwrap(), 7);
    let total: usize = a
        .manifest()
        .files
        .iter()
        .map(|f| rows_in(&tmp.path().join(&f.path)))
        .sum();
    assert_eq!(total, 7);
}

#[test]
fn one_writer_per_directory_and_failures_need_a_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Archive::open(tmp.path(), small()).unwrap();
    let err = Archive::open(tmp.path(), small()).err().unwrap();
    assert!(matches!(err, ArchiveError::Locked { .. }));
    assert_eq!(err.kind(), ErrorKind::Fatal);
    drop(a);
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    a.failed = true;
    assert!(matches!(a.commit(), Err(ArchiveError::Failed)));
}

#[test]
fn config_problems_are_all_reported() {
    let cfg = ArchiveConfig {
        row_group_rows: 0,
        zstd_level: 40,
        retention: HashMap::from([(
            Category::SignInLogs,
            RetentionPolicy {
                days: Some(0),
                legal_hold: false,
            },
        )]),
        ..ArchiveConfig::default()
    };
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let text = err.to_string();
    assert!(
        text.contains("row_group_rows")
            && text.contains("zstd_level")
            && text.contains("retention.SignInLogs.days"),
        "{text}"
    );
    assert!(ArchiveConfig::default().validate().is_ok());
}

#[test]
fn a_changed_or_missing_file_is_reported_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    a.write(0, &record(Category::AuditLogs, JAN_1, "k"))
        .unwrap();
    a.commit().unwrap();
    let path = tmp.path().join(&a.manifest().files[0].path);
    drop(a);
    std::fs::write(&path, b"tampered").unwrap();
    let err = Archive::open(tmp.path(), small()).err().unwrap();
    assert!(matches!(err, ArchiveError::Mismatch { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        Archive::open(tmp.path(), small()),
        Err(ArchiveError::Mismatch { .. })
    ));
}

#[test]
fn compaction_merges_small_files_and_keeps_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    let mut offset = 0;
    for round in 0..4 {
        for i in 0..5 {
            let t = JAN_1 + round * HOUR + i;
            a.write(
                offset,
                &record(Category::SignInLogs, t, &format!("k{offset}")),
            )
            .unwrap();
            offset += 1;
        }
        a.write(offset, &record(Category::AuditLogs, JAN_1 + DAY, "lonely"))
            .unwrap();
        offset += 1;
        a.commit().unwrap();
    }
    assert_eq!(a.manifest().files.len(), 8);
    let report = a.compact().unwrap();
    assert_eq!(
        (
            report.partitions,
            report.files_merged,
            report.files_written,
            report.rows
        ),
        (2, 8, 2, 24)
    );
    let m = a.manifest().clone();
    assert_eq!(m.files.len(), 2);
    assert_eq!(parquet_files(tmp.path()).len(), 2, "inputs deleted");
    let signin = m.files.iter().find(|f| f.table == "SigninLogs").unwrap();
    assert_eq!(
        (signin.rows, signin.first_offset, signin.last_offset),
        (20, 0, 22)
    );
    assert!(
        !signin.sorted,
        "inputs sorted by user then time, concatenated: not sorted by time"
    );
    assert_eq!(rows_in(&tmp.path().join(&signin.path)), 20);
    let (_, hash) = file::hash_file(&tmp.path().join(&signin.path)).unwrap();
    assert_eq!(file::hex128(hash), signin.xxh3_128);
    let merges: Vec<_> = m
        .deletions
        .iter()
        .filter(|d| d.reason == DeletionReason::Compaction)
        .collect();
    assert_eq!(merges.len(), 2);
    assert_eq!(merges.iter().map(|d| d.rows).sum::<u64>(), 24);
    assert!(
        merges
            .iter()
            .any(|d| d.detail == format!("merged into {}", signin.path))
    );
    assert_eq!(a.next_offset(), 24);
    // Nothing left to merge; reopening finds a consistent archive.
    assert_eq!(a.compact().unwrap(), CompactionReport::default());
    drop(a);
    let a = Archive::open(tmp.path(), small()).unwrap();
    assert!(a.recovery().removed.is_empty());
}

#[test]
fn compaction_refuses_a_file_whose_hash_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), small()).unwrap();
    for i in 0..2 {
        a.write(i, &record(Category::AuditLogs, JAN_1, "k"))
            .unwrap();
        a.commit().unwrap();
    }
    let path = tmp.path().join(&a.manifest().files[0].path);
    let mut bytes = model::limits::read_capped(File::open(&path).unwrap(), 1 << 30).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let err = a.compact().unwrap_err();
    assert!(matches!(err, ArchiveError::Mismatch { .. }), "{err}");
    assert_eq!(a.manifest().files.len(), 2);
}

#[test]
fn retention_deletes_expired_days_unless_held_and_records_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ArchiveConfig {
        retention: HashMap::from([
            (
                Category::SignInLogs,
                RetentionPolicy {
                    days: Some(30),
                    legal_hold: false,
                },
            ),
            (
                Category::AuditLogs,
                RetentionPolicy {
                    days: Some(30),
                    legal_hold: true,
                },
            ),
        ]),
        default_retention_days: None,
        ..small()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    let partitions = [
        (Category::SignInLogs, JAN_1),
        (Category::SignInLogs, JAN_1 + 10 * DAY),
        (Category::AuditLogs, JAN_1),
        (Category::ProvisioningLogs, JAN_1),
    ];
    for (offset, (category, t)) in (0u64..).zip(partitions) {
        a.write(offset, &record(category, t, &format!("k{offset}")))
            .unwrap();
    }
    a.commit().unwrap();
    let now = at(JAN_1 + 35 * DAY); // 2024-02-05
    let plan = a.retention_plan(now);
    let summary: Vec<_> = plan
        .iter()
        .map(|p| (p.table.as_str(), p.day.as_str(), p.due, p.legal_hold))
        .collect();
    assert_eq!(
        summary,
        [
            ("AuditLogs", "2024-01-01", false, true),
            ("SigninLogs", "2024-01-01", true, false),
            ("SigninLogs", "2024-01-11", false, false),
        ]
    );
    assert_eq!(plan[1].delete_after, at(JAN_1 + 31 * DAY));

    let report = a.apply_retention(now).unwrap();
    assert_eq!((report.deleted.len(), report.files, report.rows), (1, 1, 1));
    assert_eq!(report.held.len(), 1);
    let d = &a.manifest().deletions[0];
    assert_eq!(
        (d.table.as_str(), d.day.as_str(), d.reason, d.rows),
        ("SigninLogs", "2024-01-01", DeletionReason::Retention, 1)
    );
    assert_eq!(d.time_us, now.timestamp_micros());
    assert_eq!(
        d.files[0].path,
        "SigninLogs/day=2024-01-01/part-0-0.parquet"
    );
    assert!(!tmp.path().join("SigninLogs/day=2024-01-01").exists());
    assert_eq!(
        a.manifest().files.len(),
        3,
        "held audit, young sign-in, forever provisioning"
    );
    assert_eq!(
        Manifest::load(tmp.path()).unwrap().unwrap().deletions.len(),
        1
    );
    // Idempotent.
    assert!(a.apply_retention(now).unwrap().deleted.is_empty());
}
