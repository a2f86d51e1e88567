//! Tests of compaction's column-by-column merge ([`super::colmerge`]): output row groups that take row
//! ranges starting inside the inputs' row groups, every value of every column kept, sort order, and the
//! inputs' `PLAIN` choices carried over (concatenation: `tests_stitch`).
use std::fs::File;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use model::{Category, Value};

use super::test_util::{HOUR, JAN_1, record};
use super::*;

fn read_all(path: &Path) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .with_batch_size(5)
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// Every row of `batch` as the text of all its columns, sorted (an order-free fingerprint).
fn rows_as_text(batch: &RecordBatch) -> Vec<String> {
    let mut rows: Vec<String> = (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        "<null>".to_owned()
                    } else {
                        array_value_to_string(c, r).unwrap()
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    rows.sort();
    rows
}

fn archive_with(dir: &Path, row_group_rows: usize) -> Archive {
    let cfg = ArchiveConfig {
        row_group_rows,
        ..ArchiveConfig::default()
    };
    Archive::open(dir, cfg).unwrap()
}

/// Five files of 70 rows each (row groups of 5: every input range starts inside a row group), users
/// interleaved across files, a near-unique text column (`LocationDetails`) and nulls.
fn five_sorted_files(a: &mut Archive) -> usize {
    let users = ["dave", "alice", "carol", "bob", "erin", "frank", "gina"];
    let mut offset = 0u64;
    for round in 0..5i64 {
        for i in 0..70i64 {
            let user = users[((i * 3 + round) % 7) as usize];
            let mut r = record(Category::SignInLogs, JAN_1 + round * HOUR + i * 1000, user);
            r.key = format!("k{offset}");
            r.raw = format!(
                "{{\"n\":{offset},\"pad\":\"{}\"}}",
                "x".repeat(offset as usize)
            );
            let schema = model::schema(Category::SignInLogs);
            if let Some(c) = schema.index_of("LocationDetails") {
                r.values[c] = Value::Dynamic(format!("{{\"city\":\"c{offset}\"}}"));
            }
            if let Some(c) = schema.index_of("ResultType")
                && offset.is_multiple_of(4)
            {
                r.values[c] = Value::Null;
            }
            a.write(offset, &r).unwrap();
            offset += 1;
        }
        a.commit().unwrap();
    }
    offset as usize
}

#[test]
fn a_merge_in_small_row_groups_keeps_every_value_and_the_sort_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = archive_with(tmp.path(), 5);
    let rows = five_sorted_files(&mut a);
    let inputs: Vec<RecordBatch> = a
        .manifest()
        .files
        .iter()
        .map(|f| read_all(&tmp.path().join(&f.path)))
        .collect();
    let mut expected: Vec<String> = inputs.iter().flat_map(rows_as_text).collect();
    expected.sort();
    let plain_before: Vec<bool> = a
        .manifest()
        .files
        .iter()
        .map(|f| has_no_dictionary(&tmp.path().join(&f.path), "LocationDetails"))
        .collect();
    assert!(
        plain_before.iter().all(|p| *p),
        "the flush writes a near-unique column PLAIN"
    );

    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.rows), (5, rows as u64));
    let f = a.manifest().files[0].clone();
    let path = tmp.path().join(&f.path);
    let out = read_all(&path);
    assert_eq!(
        rows_as_text(&out),
        expected,
        "every value of every row once"
    );

    let upn = out
        .column_by_name("UserPrincipalName")
        .unwrap()
        .as_string::<i32>();
    let t = out
        .column_by_name("_EventTime")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    let keys: Vec<(String, i64)> = (0..out.num_rows())
        .map(|i| (upn.value(i).to_owned(), t.value(i)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by user, then time");

    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata();
    assert_eq!(meta.num_row_groups(), rows.div_ceil(5));
    for g in meta.row_groups() {
        assert!(g.num_rows() <= 5);
        assert_eq!(g.sorting_columns().map(Vec::len), Some(3));
    }
    assert!(
        has_no_dictionary(&path, "LocationDetails"),
        "the inputs' PLAIN choice is carried over"
    );
    assert!(
        !has_no_dictionary(&path, "ResultType"),
        "a repetitive column keeps its dictionary"
    );
    assert!(
        meta.file_metadata()
            .key_value_metadata()
            .is_some_and(|kv| kv.iter().any(|kv| kv.key == "ARROW:schema")),
        "the Arrow schema is in the footer, as ArrowWriter puts it"
    );
    assert_eq!((f.rows, f.min_event_time_us), (rows as u64, JAN_1));
}

fn has_no_dictionary(path: &Path, column: &str) -> bool {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let i = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == column)
        .unwrap();
    meta.row_groups()
        .iter()
        .all(|g| g.column(i).dictionary_page_offset().is_none())
}

#[test]
fn a_wide_column_is_merged_in_smaller_batches_and_keeps_every_value() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = archive_with(tmp.path(), 128 * 1024);
    let users = ["bob", "alice", "carol"];
    let mut offset = 0u64;
    for round in 0..3i64 {
        for i in 0..300i64 {
            let user = users[((i + round) % 3) as usize];
            let mut r = record(Category::SignInLogs, JAN_1 + round * HOUR + i * 1000, user);
            r.key = format!("k{offset}");
            // ~20 KB of raw text per row: about 50 rows make a 1 MiB batch.
            r.raw = format!("{{\"n\":{offset},\"pad\":\"{}\"}}", "y".repeat(20_000));
            a.write(offset, &r).unwrap();
            offset += 1;
        }
        a.commit().unwrap();
    }
    let mut expected: Vec<String> = Vec::new();
    let mut inputs = Vec::new();
    for f in &a.manifest().files {
        let path = tmp.path().join(&f.path);
        expected.extend(rows_as_text(&read_all(&path)));
        inputs.push(colmerge::MergeInput::open(&path).unwrap());
    }
    expected.sort();
    let schema = inputs[0].metadata().schema().clone();
    let raw = schema.index_of("_Raw").unwrap();
    let upn = schema.index_of("UserPrincipalName").unwrap();
    assert_eq!(colmerge::column_batch_rows(&inputs, raw), 64);
    assert_eq!(colmerge::column_batch_rows(&inputs, upn), 2048);
    drop(inputs);

    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.rows), (3, offset));
    let out = read_all(&tmp.path().join(&a.manifest().files[0].path));
    assert_eq!(
        rows_as_text(&out),
        expected,
        "every value of every row once"
    );
}
