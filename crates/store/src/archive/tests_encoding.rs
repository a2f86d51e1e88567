//! Tests of the writer's encodings and compression levels: every column type of every table comes back
//! exactly (including `_Raw` bytes) from files written with the archive's settings, the footers name the
//! encodings chosen, compaction writes at `compact_zstd_level`, and bad levels are rejected with their path.
use std::fs::File;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Encoding;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use model::Category;

use super::file::{FileWriter, sort_columns, writer_properties};
use super::test_util::{HOUR, JAN_1, record};
use super::*;

/// Text a lossy writer would alter: escapes, non-ASCII, control characters, long and empty values,
/// GUID-like and JSON-like values.
fn text(row: usize, column: usize) -> Option<String> {
    match (row + column) % 9 {
        0 => None,
        1 => Some(String::new()),
        2 => Some(format!(
            "{{\"s\":\"caf\u{e9} \\\"q\\\" \u{1f600}\",\"n\":{row}}}"
        )),
        3 => Some(format!("{:08x}-4cf2-aa46-{:012x}", row * 7919, column)),
        4 => Some("ab".repeat(2000 + row)),
        5 => Some(format!("line\r\n\t{row}\u{0}nul")),
        6 => Some(format!(
            "{{ \"id\" : \"{row}\" ,\n\t\"x\":[1, 2.50, 1e3] }}"
        )),
        7 => Some(format!("user{}@contoso.com", row / 3)),
        _ => Some("x".to_owned()),
    }
}

/// A batch of `rows` rows of `schema` with values of every type, nulls and edge values included.
fn batch(schema: &SchemaRef, rows: usize) -> RecordBatch {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| -> ArrayRef {
            match f.data_type() {
                DataType::Utf8 => Arc::new(StringArray::from(
                    (0..rows).map(|r| text(r, c)).collect::<Vec<_>>(),
                )),
                DataType::Int32 => Arc::new(Int32Array::from(
                    (0..rows)
                        .map(|r| match r % 5 {
                            0 => None,
                            1 => Some(i32::MIN),
                            2 => Some(i32::MAX),
                            _ => Some(r as i32 - 50),
                        })
                        .collect::<Vec<_>>(),
                )),
                DataType::Int64 => Arc::new(Int64Array::from(
                    (0..rows)
                        .map(|r| match r % 5 {
                            0 => None,
                            1 => Some(i64::MIN),
                            2 => Some(i64::MAX),
                            _ => Some(r as i64 * 1_000_003),
                        })
                        .collect::<Vec<_>>(),
                )),
                DataType::Float64 => Arc::new(Float64Array::from(
                    (0..rows)
                        .map(|r| match r % 6 {
                            0 => None,
                            1 => Some(-0.0),
                            2 => Some(f64::INFINITY),
                            3 => Some(f64::MIN_POSITIVE / 4.0),
                            _ => Some(r as f64 * 1.1 + 25.206_148_603_802_2),
                        })
                        .collect::<Vec<_>>(),
                )),
                DataType::Boolean => Arc::new(BooleanArray::from(
                    (0..rows)
                        .map(|r| (r % 3 != 0).then_some(r % 2 == 0))
                        .collect::<Vec<_>>(),
                )),
                DataType::Timestamp(_, tz) => Arc::new(
                    TimestampMicrosecondArray::from(
                        (0..rows)
                            .map(|r| match r % 7 {
                                0 => None,
                                1 => Some(i64::MIN + 1),
                                2 => Some(-62_135_596_800_000_000),
                                // Out of order, as rows sorted by user are.
                                _ => Some(JAN_1 + ((r * 7919) % 1000) as i64 * HOUR / 7),
                            })
                            .collect::<Vec<_>>(),
                    )
                    .with_timezone_opt(tz.clone()),
                ),
                other => new_null_array(other, rows),
            }
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns).unwrap()
}

fn read(path: &std::path::Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// The encodings of column `name` in every row group of the file at `path`.
fn encodings(path: &std::path::Path, name: &str) -> Vec<Encoding> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let i = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == name)
        .unwrap();
    let mut all: Vec<Encoding> = (0..meta.num_row_groups())
        .flat_map(|g| meta.row_group(g).column(i).encodings().collect::<Vec<_>>())
        .collect();
    all.sort_by_key(|e| format!("{e:?}"));
    all.dedup();
    all
}

#[test]
fn every_column_type_of_every_table_round_trips_exactly_with_the_writer_settings() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, category) in Category::ALL.iter().enumerate() {
        let schema = arrow_schema(*category);
        let expected = batch(&schema, 300);
        // The flush level and a strong compaction level; small row groups and slices, several pages.
        for level in [1, 3, 19] {
            let path = tmp.path().join(format!("{n}-{level}.parquet"));
            let props = writer_properties(&schema, 128, level, &sort_columns(&schema)).unwrap();
            let mut w = FileWriter::create(&path, schema.clone(), props).unwrap();
            for start in (0..300).step_by(70) {
                w.write(&expected.slice(start, 70.min(300 - start)))
                    .unwrap();
            }
            let summary = w.finish().unwrap();
            assert_eq!(summary.rows, 300);
            let got = read(&path);
            let got = datafusion::arrow::compute::concat_batches(&schema, &got).unwrap();
            assert_eq!(got.num_columns(), expected.num_columns());
            for (i, field) in schema.fields().iter().enumerate() {
                // Compare as data: -0.0 and infinities included, bit for bit.
                assert_eq!(
                    got.column(i).to_data(),
                    expected.column(i).to_data(),
                    "{} column {} at level {level}",
                    category.table(),
                    field.name()
                );
            }
        }
    }
}

#[test]
fn footers_name_the_encodings_chosen_per_column_and_none_spark_35_cannot_read() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, category) in Category::ALL.iter().enumerate() {
        let schema = arrow_schema(*category);
        let path = tmp.path().join(format!("{n}.parquet"));
        let props = writer_properties(&schema, 1024, 3, &[]).unwrap();
        let mut w = FileWriter::create(&path, schema.clone(), props).unwrap();
        w.write(&batch(&schema, 500)).unwrap();
        w.finish().unwrap();
        for field in schema.fields() {
            let e = encodings(&path, field.name());
            // Spark 3.5's vectorized reader fails on DELTA_LENGTH_BYTE_ARRAY (SPARK-52240).
            assert!(
                !e.contains(&Encoding::DELTA_LENGTH_BYTE_ARRAY)
                    && !e.contains(&Encoding::DELTA_BYTE_ARRAY),
                "{} {}: {e:?}",
                category.table(),
                field.name()
            );
        }
    }
    let schema = arrow_schema(Category::SignInLogs);
    let path = tmp.path().join(format!(
        "{}.parquet",
        Category::ALL
            .iter()
            .position(|c| *c == Category::SignInLogs)
            .unwrap()
    ));
    for unique in ["_Raw", "_Key", "Id", "CorrelationId"] {
        let e = encodings(&path, unique);
        assert!(
            e.contains(&Encoding::PLAIN) && !e.contains(&Encoding::RLE_DICTIONARY),
            "{unique}: {e:?}"
        );
    }
    assert!(schema.index_of("CreatedDateTime").is_ok());
    for time in ["_EventTime", "TimeGenerated", "CreatedDateTime"] {
        let e = encodings(&path, time);
        assert!(
            e.contains(&Encoding::DELTA_BINARY_PACKED) && !e.contains(&Encoding::RLE_DICTIONARY),
            "{time}: {e:?}"
        );
    }
    // Repetitive text keeps its dictionary.
    let e = encodings(&path, "UserPrincipalName");
    assert!(e.contains(&Encoding::RLE_DICTIONARY), "{e:?}");
}

/// Raw text of record `i`: ~1 KB of JSON, alike between records as sign-ins are, with a few varying values.
fn raw(i: usize) -> String {
    let fields: String = (0..24)
        .map(|f| format!("\"field{f}\":\"value {} of {}\",", (i * 31 + f * 7) % 97, f))
        .collect();
    format!("{{{fields}\"id\":\"{i:08x}-{:04x}\"}}", (i * 7919) % 65_521)
}

/// Archives 4,000 sign-ins in two commits (two files) and compacts them with `compact_zstd_level`; the
/// compacted file's bytes and its `_Raw` texts by key.
fn compacted(compact_zstd_level: Option<i32>) -> (u64, Vec<(String, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ArchiveConfig {
        zstd_level: 1,
        compact_zstd_level,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    for i in 0..4000usize {
        let mut r = record(
            Category::SignInLogs,
            JAN_1 + i as i64 * 1000,
            &format!("u{}", i % 53),
        );
        r.key = format!("key-{i}");
        r.raw = raw(i);
        a.write(i as u64, &r).unwrap();
        if i == 1999 {
            a.commit().unwrap();
        }
    }
    a.commit().unwrap();
    assert_eq!(a.manifest().files.len(), 2);
    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.files_written), (2, 1));
    let f = &a.manifest().files[0];
    let mut texts = Vec::new();
    for b in read(&tmp.path().join(&f.path)) {
        let key = b.column_by_name("_Key").unwrap();
        let raw = b.column_by_name("_Raw").unwrap();
        let (key, raw) = (
            key.as_any().downcast_ref::<StringArray>().unwrap(),
            raw.as_any().downcast_ref::<StringArray>().unwrap(),
        );
        for i in 0..b.num_rows() {
            texts.push((key.value(i).to_owned(), raw.value(i).to_owned()));
        }
    }
    texts.sort();
    (f.bytes, texts)
}

#[test]
fn compaction_writes_at_compact_zstd_level_and_keeps_raw_byte_exact() {
    let mut expected: Vec<(String, String)> =
        (0..4000).map(|i| (format!("key-{i}"), raw(i))).collect();
    expected.sort();
    let (flush_level, texts) = compacted(None);
    assert_eq!(texts, expected);
    let (strong, texts) = compacted(Some(19));
    assert_eq!(texts, expected);
    assert!(
        strong < flush_level,
        "level 19 output {strong} bytes, level 1 output {flush_level} bytes"
    );
}

#[test]
fn bad_compaction_levels_are_rejected_with_their_path() {
    for bad in [0, 23, -5] {
        let cfg = ArchiveConfig {
            compact_zstd_level: Some(bad),
            zstd_level: 0,
            ..ArchiveConfig::default()
        };
        let Err(ArchiveError::Config { problems }) = cfg.validate() else {
            panic!("level {bad} accepted");
        };
        assert!(
            problems.contains(&format!("compact_zstd_level: must be 1..=22, got {bad}")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("zstd_level:")),
            "every problem reported: {problems:?}"
        );
    }
    for good in [None, Some(1), Some(22)] {
        let cfg = ArchiveConfig {
            compact_zstd_level: good,
            ..ArchiveConfig::default()
        };
        assert!(cfg.validate().is_ok(), "{good:?}");
        assert_eq!(cfg.compaction_zstd_level(), good.unwrap_or(3));
    }
}
