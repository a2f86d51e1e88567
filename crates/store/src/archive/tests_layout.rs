//! Tests of the writer's layout and memory bound: rows sorted by entity then time, `_Raw` byte-exact
//! through SQL, and the partition buffers never past `max_buffered_bytes` by their own accounting.
use std::collections::HashMap;
use std::fs::File;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use model::Category;

use super::test_util::{DAY, HOUR, JAN_1, record};
use super::*;
use crate::query::QueryEngine;

/// Raw texts that a lossy writer would alter: key order, whitespace, escapes, non-ASCII, a very long
/// value, an empty object.
fn tricky_raw(i: usize) -> String {
    match i % 6 {
        0 => format!("{{\"z\":1,\"a\":\"user{i}\"}}"),
        1 => format!("{{ \"id\" : \"{i}\" ,\n\t\"x\":[1, 2.50, 1e3] }}"),
        2 => format!("{{\"s\":\"caf\u{e9} \\u00e9 \\\"q\\\" \\\\ \u{1f600}\",\"n\":{i}}}"),
        3 => format!("{{\"long\":\"{}\"}}", "ab".repeat(3000 + i)),
        4 => "{}".to_owned(),
        _ => format!("id,{i},\"quoted, cell\",\r\n"),
    }
}

#[test]
fn a_file_is_sorted_by_user_then_time_and_says_so_in_its_footer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    // Users interleaved in time, as sign-ins arrive.
    let users = ["carol", "alice", "bob"];
    for i in 0..30u64 {
        let user = users[i as usize % 3];
        let mut r = record(
            Category::SignInLogs,
            JAN_1 + (30 - i as i64) * HOUR / 30,
            user,
        );
        r.key = format!("k{i}");
        a.write(i, &r).unwrap();
    }
    a.commit().unwrap();
    let f = &a.manifest().files[0];
    assert!(!f.sorted, "not sorted by _EventTime alone");
    let path = tmp.path().join(&f.path);
    let batch = read_all(&path);
    let upn = batch
        .column_by_name("UserPrincipalName")
        .unwrap()
        .as_string::<i32>();
    let t = batch
        .column_by_name("_EventTime")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let rows: Vec<(String, i64)> = (0..batch.num_rows())
        .map(|i| (upn.value(i).to_owned(), t.value(i)))
        .collect();
    let mut expected = rows.clone();
    expected.sort();
    assert_eq!(rows, expected);
    assert!(rows.first().unwrap().0.starts_with("alice"));

    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let sorting = reader.metadata().row_group(0).sorting_columns().unwrap();
    let schema = arrow_schema(Category::SignInLogs);
    let names: Vec<&str> = sorting
        .iter()
        .map(|s| schema.field(s.column_idx as usize).name().as_str())
        .collect();
    assert_eq!(names, ["UserPrincipalName", "AppId", "_EventTime"]);
    // Each table by its own entities; only a time-only sort counts as sorted by `_EventTime`.
    for (c, expected) in [
        (
            Category::AuditLogs,
            ["OperationName", "ResourceId", "_EventTime"],
        ),
        (
            Category::ServicePrincipalSignInLogs,
            ["AppId", "ServicePrincipalId", "_EventTime"],
        ),
    ] {
        let s = arrow_schema(c);
        let cols = file::sort_columns(&s);
        let names: Vec<&str> = cols.iter().map(|i| s.field(*i).name().as_str()).collect();
        assert_eq!(names, expected);
        assert!(!file::sorted_by_event_time(&s, &cols));
        assert!(file::sorted_by_event_time(&s, &cols[2..]));
    }
}

#[tokio::test]
async fn raw_text_comes_back_byte_for_byte_through_sql() {
    let tmp = tempfile::tempdir().unwrap();
    // Small buffers: many files, several written out mid-stream, slices of sorted rows.
    let cfg = ArchiveConfig {
        flush_bytes: 64 << 10,
        max_buffered_bytes: 64 << 10,
        row_group_rows: 7,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    let mut expected = HashMap::new();
    for i in 0..3000usize {
        let category = [Category::SignInLogs, Category::NonInteractiveUserSignInLogs][i % 2];
        let mut r = record(
            category,
            JAN_1 + (i as i64 % 2) * DAY + i as i64,
            &format!("u{}", i % 37),
        );
        r.key = format!("key-{i}");
        r.raw = tricky_raw(i);
        expected.insert(r.key.clone(), r.raw.clone());
        a.write(i as u64, &r).unwrap();
    }
    a.commit().unwrap();
    assert!(
        a.manifest().files.len() > 4,
        "the small buffer limit wrote several files"
    );
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let mut got = HashMap::new();
    for table in ["SigninLogs", "AADNonInteractiveUserSignInLogs"] {
        let batches = engine
            .sql(&format!("SELECT _Key, _Raw FROM {table}"))
            .await
            .unwrap();
        for b in &batches {
            let k = b.column(0).as_string::<i32>();
            let r = b.column(1).as_string::<i32>();
            for i in 0..b.num_rows() {
                got.insert(k.value(i).to_owned(), r.value(i).to_owned());
            }
        }
    }
    assert_eq!(got.len(), expected.len());
    for (k, raw) in &expected {
        assert_eq!(
            got.get(k).map(|s| s.as_bytes()),
            Some(raw.as_bytes()),
            "{k}"
        );
    }
}

#[test]
fn buffers_never_hold_more_than_the_byte_limit_by_their_own_accounting() {
    let tmp = tempfile::tempdir().unwrap();
    let limit = 32 << 10;
    let cfg = ArchiveConfig {
        flush_bytes: limit,
        max_buffered_bytes: limit,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    let categories = [
        Category::SignInLogs,
        Category::AuditLogs,
        Category::NonInteractiveUserSignInLogs,
    ];
    let mut rows = 0u64;
    for i in 0..2000u64 {
        let c = categories[(i % 3) as usize];
        // Three days, records of 50 B .. 5 KB.
        let mut r = record(c, JAN_1 + (i % 3) as i64 * DAY, &format!("k{i}"));
        r.raw = "x".repeat(50 + (i as usize * 997) % 5000);
        a.write(i, &r).unwrap();
        rows += 1;
        assert!(
            a.buffered_bytes() <= limit,
            "{} buffered after record {i}",
            a.buffered_bytes()
        );
    }
    assert!(a.peak_buffered_bytes() <= limit);
    assert!(
        a.peak_buffered_bytes() > limit / 2,
        "the accounting counts the records ({})",
        a.peak_buffered_bytes()
    );
    a.commit().unwrap();
    assert_eq!(a.buffered_bytes(), 0);
    let archived: u64 = a.manifest().files.iter().map(|f| f.rows).sum();
    assert_eq!(archived, rows);

    // One record larger than the whole budget is written out alone right away.
    let mut big = record(Category::AuditLogs, JAN_1, "big");
    big.raw = "y".repeat(2 * limit as usize);
    a.write(rows, &big).unwrap();
    assert_eq!(a.buffered_bytes(), 0);
    assert_eq!(a.uncommitted_rows(), 1);
}

#[test]
fn compaction_merges_files_sorted_by_user_into_one_sorted_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    let users = ["dave", "alice", "carol", "bob", "erin"];
    let mut offset = 0u64;
    for round in 0..5i64 {
        for i in 0..40i64 {
            let user = users[((i * 7 + round) % 5) as usize];
            let mut r = record(Category::SignInLogs, JAN_1 + round * HOUR + i, user);
            r.key = format!("k{offset}");
            r.raw = format!("{{\"n\":{offset}}}");
            a.write(offset, &r).unwrap();
            offset += 1;
        }
        a.commit().unwrap();
    }
    assert_eq!(a.manifest().files.len(), 5);
    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.rows), (5, 200));
    let f = a.manifest().files[0].clone();
    assert_eq!(f.rows, 200);
    let path = tmp.path().join(&f.path);
    let batch = read_all(&path);
    let upn = batch
        .column_by_name("UserPrincipalName")
        .unwrap()
        .as_string::<i32>();
    let t = batch
        .column_by_name("_EventTime")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let raw = batch.column_by_name("_Raw").unwrap().as_string::<i32>();
    let rows: Vec<(String, i64)> = (0..batch.num_rows())
        .map(|i| (upn.value(i).to_owned(), t.value(i)))
        .collect();
    let mut expected = rows.clone();
    expected.sort();
    assert_eq!(
        rows, expected,
        "one user's rows of the whole day side by side, in time order"
    );
    let mut seen: Vec<String> = (0..raw.len()).map(|i| raw.value(i).to_owned()).collect();
    seen.sort();
    let mut all: Vec<String> = (0..200).map(|n| format!("{{\"n\":{n}}}")).collect();
    all.sort();
    assert_eq!(seen, all, "every row once");
    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let sorting = reader.metadata().row_group(0).sorting_columns().unwrap();
    assert_eq!(
        sorting.len(),
        3,
        "sorted by UserPrincipalName, AppId, _EventTime"
    );
}

#[test]
fn a_merge_reads_at_most_six_inputs_and_a_later_compaction_merges_the_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    for i in 0..10u64 {
        let mut r = record(
            Category::SignInLogs,
            JAN_1 + i as i64,
            &format!("u{}", 9 - i),
        );
        r.key = format!("k{i}");
        a.write(i, &r).unwrap();
        a.commit().unwrap();
    }
    let report = a.compact().unwrap();
    assert_eq!(
        (report.files_merged, report.files_written, report.rows),
        (10, 2, 10)
    );
    let mut sizes: Vec<u64> = a.manifest().files.iter().map(|f| f.rows).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [4, 6]);
    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.rows), (2, 10));
    let f = &a.manifest().files[0];
    let batch = read_all(&tmp.path().join(&f.path));
    let upn = batch
        .column_by_name("UserPrincipalName")
        .unwrap()
        .as_string::<i32>();
    let users: Vec<&str> = (0..upn.len()).map(|i| upn.value(i)).collect();
    let mut sorted = users.clone();
    sorted.sort_unstable();
    assert_eq!(users, sorted);
    assert_eq!(users.len(), 10);
}

fn read_all(path: &std::path::Path) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}
