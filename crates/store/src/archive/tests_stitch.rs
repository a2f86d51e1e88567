//! Tests of stitched compaction (row groups copied byte for byte: every row and value kept, sort claims
//! true per row group, page index kept, readable through SQL; a stitched file is never merged as if it
//! were sorted whole), of the per-column dictionary choice, and of the compaction settings.
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Encoding;
use datafusion::parquet::file::metadata::{
    PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use model::{Category, Value};

use super::merge::STITCHED_KEY;
use super::test_util::{HOUR, JAN_1, record};
use super::*;
use crate::query::QueryEngine;

/// One row as the tests compare it: key, raw text, user, event time, location.
type Row = (String, String, String, i64, Option<String>);

fn metadata(path: &Path) -> ParquetMetaData {
    ParquetMetaDataReader::new()
        .with_page_index_policy(PageIndexPolicy::Required)
        .parse_and_finish(&File::open(path).unwrap())
        .unwrap()
}

/// The rows of row group `group` (every row group when `None`) of the file at `path`.
fn rows(path: &Path, group: Option<usize>) -> Vec<Row> {
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    if let Some(g) = group {
        builder = builder.with_row_groups(vec![g]);
    }
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    let mut out = Vec::new();
    for b in &batches {
        let s = |name: &str| b.column_by_name(name).unwrap().as_string::<i32>().clone();
        let (key, raw, upn, loc) = (
            s("_Key"),
            s("_Raw"),
            s("UserPrincipalName"),
            s("LocationDetails"),
        );
        let t = b
            .column_by_name("_EventTime")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            out.push((
                key.value(i).to_owned(),
                raw.value(i).to_owned(),
                upn.value(i).to_owned(),
                t.value(i),
                loc.is_valid(i).then(|| loc.value(i).to_owned()),
            ));
        }
    }
    out
}

/// Writes `rounds` commits (one file each) of 40 sign-ins of five users in mixed order, with a
/// `LocationDetails` unique per row; returns every row written.
fn fill(a: &mut Archive, rounds: i64, offset: &mut u64) -> Vec<Row> {
    let users = ["dave", "alice", "carol", "bob", "erin"];
    let loc = model::schema(Category::SignInLogs)
        .index_of("LocationDetails")
        .unwrap();
    let mut written = Vec::new();
    for round in 0..rounds {
        for i in 0..40i64 {
            let user = users[((i * 7 + round) % 5) as usize];
            let t = JAN_1 + round * HOUR + i;
            let mut r = record(Category::SignInLogs, t, user);
            r.key = format!("k{offset}");
            r.raw = format!(
                "{{\"n\":{offset},\"pad\":\"{}\"}}",
                "x".repeat(*offset as usize % 50)
            );
            let location = format!("{{\"city\":\"c{offset}\",\"lat\":{}.5}}", *offset * 7);
            r.values[loc] = Value::Dynamic(location.clone());
            written.push((
                r.key.clone(),
                r.raw.clone(),
                format!("{user}@contoso.com"),
                t,
                Some(location),
            ));
            a.write(*offset, &r).unwrap();
            *offset += 1;
        }
        a.commit().unwrap();
    }
    written
}

fn stitch_config() -> ArchiveConfig {
    ArchiveConfig {
        compaction: CompactionMode::Stitch,
        row_group_rows: 16,
        ..ArchiveConfig::default()
    }
}

/// Compressed bytes per column over the files at `paths`.
fn column_bytes(paths: &[std::path::PathBuf]) -> BTreeMap<String, i64> {
    let mut by_column = BTreeMap::new();
    for p in paths {
        for g in metadata(p).row_groups() {
            for c in g.columns() {
                *by_column.entry(c.column_path().string()).or_insert(0) += c.compressed_size();
            }
        }
    }
    by_column
}

#[tokio::test]
async fn stitched_compaction_keeps_every_row_and_value_and_copies_the_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), stitch_config()).unwrap();
    let mut offset = 0;
    let mut expected = fill(&mut a, 5, &mut offset);
    let inputs: Vec<_> = a
        .manifest()
        .files
        .iter()
        .map(|f| tmp.path().join(&f.path))
        .collect();
    assert_eq!(inputs.len(), 5);
    let input_groups: usize = inputs.iter().map(|p| metadata(p).num_row_groups()).sum();
    let input_bytes = column_bytes(&inputs);

    let report = a.compact().unwrap();
    assert_eq!(
        (report.files_merged, report.files_written, report.rows),
        (5, 1, 200)
    );
    let f = a.manifest().files[0].clone();
    assert_eq!(f.rows, 200);
    assert!(!f.sorted, "sorted by user first, not by time alone");
    let path = tmp.path().join(&f.path);
    let meta = metadata(&path);
    // Byte for byte: the same row groups and the same compressed bytes per column.
    assert_eq!(meta.num_row_groups(), input_groups);
    assert_eq!(column_bytes(std::slice::from_ref(&path)), input_bytes);
    assert!(
        meta.file_metadata()
            .key_value_metadata()
            .unwrap()
            .iter()
            .any(|kv| kv.key == STITCHED_KEY)
    );
    // Every row and value, once.
    let mut got = rows(&path, None);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    // Each row group claims its sort order, and it holds; the page index points at its pages.
    let offsets = meta.offset_index().unwrap();
    for (g, group) in meta.row_groups().iter().enumerate() {
        assert_eq!(
            group.sorting_columns().map(|s| s.len()),
            Some(3),
            "group {g}"
        );
        let in_group: Vec<(String, i64)> = rows(&path, Some(g))
            .into_iter()
            .map(|r| (r.2, r.3))
            .collect();
        let mut sorted = in_group.clone();
        sorted.sort();
        assert_eq!(in_group, sorted, "row group {g} sorted by user, then time");
        for (c, chunk) in group.columns().iter().enumerate() {
            let first = offsets[g][c].page_locations().first().unwrap();
            assert_eq!(
                first.offset,
                chunk.data_page_offset(),
                "group {g} column {c}"
            );
        }
    }
    // Readable through SQL, with page-index pruning on the user column.
    drop(a);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let batches = engine
        .sql("SELECT count(*) FROM SigninLogs WHERE UserPrincipalName = 'bob@contoso.com'")
        .await
        .unwrap();
    let n = batches[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .value(0);
    assert_eq!(n, 40);
    let batches = engine
        .sql("SELECT _Key, _Raw FROM SigninLogs")
        .await
        .unwrap();
    let mut through_sql: Vec<(String, String)> = batches
        .iter()
        .flat_map(|b| {
            let (k, r) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
            );
            (0..b.num_rows())
                .map(|i| (k.value(i).to_owned(), r.value(i).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    through_sql.sort();
    let mut want: Vec<(String, String)> = expected.into_iter().map(|r| (r.0, r.1)).collect();
    want.sort();
    assert_eq!(through_sql, want);
}

#[test]
fn a_stitched_file_is_never_merged_as_if_it_were_sorted_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let mut offset = 0;
    let mut expected = {
        let mut a = Archive::open(tmp.path(), stitch_config()).unwrap();
        let rows = fill(&mut a, 3, &mut offset);
        assert_eq!(a.compact().unwrap().files_written, 1);
        rows
    };
    let cfg = ArchiveConfig {
        compaction: CompactionMode::Merge,
        ..stitch_config()
    };
    let mut a = Archive::open(tmp.path(), cfg).unwrap();
    expected.extend(fill(&mut a, 1, &mut offset));
    let report = a.compact().unwrap();
    assert_eq!((report.files_merged, report.rows), (2, 160));
    let path = tmp.path().join(&a.manifest().files[0].path);
    let mut got = rows(&path, None);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every row once");
    let meta = metadata(&path);
    for (g, group) in meta.row_groups().iter().enumerate() {
        let claims = group.sorting_columns().is_some_and(|s| !s.is_empty());
        let in_group: Vec<(String, i64)> = rows(&path, Some(g))
            .into_iter()
            .map(|r| (r.2, r.3))
            .collect();
        let mut sorted = in_group.clone();
        sorted.sort();
        assert!(
            !claims || in_group == sorted,
            "row group {g} claims an order it does not have"
        );
    }
}

/// The encodings of column `name` over every row group of the file at `path`.
fn encodings(path: &Path, name: &str) -> Vec<Encoding> {
    let meta = metadata(path);
    let i = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == name)
        .unwrap();
    meta.row_groups()
        .iter()
        .flat_map(|g| g.column(i).encodings().collect::<Vec<_>>())
        .collect()
}

#[test]
fn near_unique_text_columns_skip_the_dictionary_and_repetitive_ones_keep_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    let mut offset = 0;
    fill(&mut a, 1, &mut offset); // 40 rows: too few to decide, dictionary stays on
    let few = tmp.path().join(&a.manifest().files[0].path);
    assert!(encodings(&few, "LocationDetails").contains(&Encoding::RLE_DICTIONARY));
    let loc = model::schema(Category::SignInLogs)
        .index_of("LocationDetails")
        .unwrap();
    for (n, unique) in [(1u64, true), (2, false)] {
        for i in 0..600u64 {
            let mut r = record(
                Category::SignInLogs,
                JAN_1 + n as i64 * HOUR + i as i64,
                &format!("u{}", i % 7),
            );
            r.key = format!("k{n}-{i}");
            let city = if unique { i } else { i % 5 };
            r.values[loc] = Value::Dynamic(format!("{{\"city\":\"c{city}\"}}"));
            a.write(offset, &r).unwrap();
            offset += 1;
        }
        a.commit().unwrap();
        let f = a
            .manifest()
            .files
            .iter()
            .max_by_key(|f| f.first_offset)
            .unwrap();
        let path = tmp.path().join(&f.path);
        let e = encodings(&path, "LocationDetails");
        assert_eq!(
            e.contains(&Encoding::RLE_DICTIONARY),
            !unique,
            "LocationDetails unique={unique}: {e:?}"
        );
        assert!(e.contains(&Encoding::PLAIN));
        let e = encodings(&path, "UserPrincipalName");
        assert!(e.contains(&Encoding::RLE_DICTIONARY), "{e:?}");
        let got = rows(&path, None);
        assert_eq!(got.len(), 600);
        let mut cities: Vec<String> = got.into_iter().filter_map(|r| r.4).collect();
        cities.sort();
        cities.dedup();
        assert_eq!(cities.len(), if unique { 600 } else { 5 }, "values kept");
    }
}

#[test]
fn compaction_settings_default_to_merge_at_level_3_and_parse_from_config() {
    let cfg = ArchiveConfig::default();
    assert_eq!(
        (cfg.zstd_level, cfg.compaction_zstd_level()),
        (1, 3),
        "short-lived first files at level 1, merged files at 3"
    );
    assert_eq!(cfg.compaction, CompactionMode::Merge);
    let strong = ArchiveConfig {
        zstd_level: 9,
        ..ArchiveConfig::default()
    };
    assert_eq!(strong.compaction_zstd_level(), 9);
    let explicit = ArchiveConfig {
        compact_zstd_level: Some(2),
        ..ArchiveConfig::default()
    };
    assert_eq!(explicit.compaction_zstd_level(), 2);
    let parsed: ArchiveConfig = serde_json::from_str(r#"{"compaction":"stitch"}"#).unwrap();
    assert_eq!(parsed.compaction, CompactionMode::Stitch);
    assert!(serde_json::from_str::<ArchiveConfig>(r#"{"compaction":"zip"}"#).is_err());
}
