//! The encoded write path ([`Archive::write_encoded`]: entries kept encoded, sorted, decoded borrowed into
//! Arrow columns slice by slice) against the path it replaced (owned records into whole-buffer builders,
//! `sort_indices` + `take`): the files read back identical, value by value, and are byte-identical.
use std::collections::BTreeMap;
use std::fs::File;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use model::schema::META_COLUMNS;
use model::{Category, ColumnType, Record, Shape, Value, codec};

use super::file::{FileWriter, hash_file, sort_columns, sort_indices, writer_properties};
use super::schema::{ColumnBuilder, arrow_schema};
use super::test_util::{DAY, HOUR, JAN_1};
use super::*;

/// A small deterministic generator (64-bit LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 17
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "alice@contoso.com",
    "bob@contoso.com",
    "Zoë@fabrikam.com",
    "",
    "app-1",
    "ünïcode ✓",
    "12",
    "2024-01-02T03:04:05Z",
];

/// A value for a column of type `ty`: often null, mostly of the column's type, sometimes of another type
/// (which the archive converts or nulls).
fn value(rng: &mut Rng, ty: ColumnType) -> Value {
    let word = |rng: &mut Rng| WORDS[rng.below(WORDS.len() as u64) as usize].to_owned();
    match rng.below(20) {
        0..=5 => return Value::Null,
        6 => {
            return match rng.below(5) {
                0 => Value::Int(rng.next() as i64 - (1 << 40)),
                1 => Value::String(word(rng)),
                2 => Value::Bool(rng.below(2) == 0),
                3 => Value::Real(rng.below(1000) as f64 / 8.0),
                _ => Value::DateTime(JAN_1 + rng.below(DAY as u64) as i64),
            };
        }
        _ => {}
    }
    match ty {
        ColumnType::String => Value::String(format!("{}{}", word(rng), rng.below(3))),
        ColumnType::Dynamic => {
            Value::Dynamic(format!(r#"{{"a":{},"b":"{}"}}"#, rng.below(9), word(rng)))
        }
        ColumnType::Bool => Value::Bool(rng.below(2) == 0),
        ColumnType::Int => Value::Int(rng.below(100_000) as i64 - 50_000),
        ColumnType::Long => Value::Int(rng.next() as i64),
        ColumnType::Real => Value::Real(rng.below(1 << 20) as f64 / 3.0),
        ColumnType::DateTime => Value::DateTime(JAN_1 + rng.below(3 * DAY as u64) as i64),
    }
}

/// `n` records: half sign-ins on one day (a partition larger than one written slice), the rest of every
/// category over three days, a few with an event time outside the partitionable years.
fn records(n: usize) -> Vec<Record> {
    let mut rng = Rng(7);
    (0..n)
        .map(|i| {
            let category = if i % 2 == 0 {
                Category::SignInLogs
            } else {
                Category::ALL[rng.below(Category::ALL.len() as u64) as usize]
            };
            let days = if category == Category::SignInLogs {
                1
            } else {
                3
            };
            let mut event_time = JAN_1 + rng.below(days * DAY as u64) as i64;
            if i % 997 == 1 {
                event_time = i64::MAX;
            }
            let values = model::schema(category)
                .columns
                .iter()
                .map(|c| value(&mut rng, c.ty))
                .collect();
            Record {
                category,
                event_time,
                ingest_time: JAN_1 + 30 * DAY + i as i64 * HOUR,
                key: format!("key-{}", rng.below(n as u64)),
                content_hash: u128::from(rng.next()),
                revision: rng.below(3) as u32,
                source: ["graph", "file", "hub"][i % 3].to_owned(),
                shape: [Shape::Graph, Shape::Diagnostic, Shape::LogAnalytics][i % 3],
                values,
                raw: format!(r#"{{"i":{i},"w":"{}"}}"#, WORDS[i % WORDS.len()]),
            }
        })
        .collect()
}

/// What the replaced path built for one partition: every record's values and meta columns appended to
/// whole-buffer builders, then sorted with `sort_indices` and `take`.
fn old_path(category: Category, records: &[&Record]) -> RecordBatch {
    let schema = arrow_schema(category);
    let data = model::schema(category).columns.len();
    let mut columns: Vec<ColumnBuilder> = schema
        .fields()
        .iter()
        .map(|f| ColumnBuilder::new(f.data_type(), 16))
        .collect();
    for r in records {
        let (values, meta) = columns.split_at_mut(data);
        for (i, column) in values.iter_mut().enumerate() {
            column.append(r.values.get(i).unwrap_or(&Value::Null));
        }
        for (column, m) in meta.iter_mut().zip(META_COLUMNS) {
            match m.name {
                "_EventTime" => column.append(&Value::DateTime(r.event_time)),
                "_IngestTime" => column.append(&Value::DateTime(r.ingest_time)),
                "_Key" => column.append_str(&r.key),
                "_Revision" => column.append(&Value::Int(i64::from(r.revision))),
                "_Source" => column.append_str(&r.source),
                "_Shape" => column.append_str(r.shape.as_str()),
                "_Raw" => column.append_str(&r.raw),
                _ => column.append(&Value::Null),
            };
        }
    }
    let arrays = columns.iter_mut().map(ColumnBuilder::finish).collect();
    RecordBatch::try_new(schema, arrays).unwrap()
}

fn read_back(path: &Path) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn by_partition(records: &[Record]) -> BTreeMap<(Category, NaiveDate), Vec<&Record>> {
    let mut parts: BTreeMap<_, Vec<&Record>> = BTreeMap::new();
    for r in records {
        parts
            .entry((r.category, buffer::day_of(r.event_time, r.ingest_time)))
            .or_default()
            .push(r);
    }
    parts
}

#[test]
fn encoded_entries_archive_exactly_like_the_old_record_path() {
    let records = records(6000);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ArchiveConfig {
        row_group_rows: 1000,
        ..ArchiveConfig::default()
    };
    let mut a = Archive::open(tmp.path(), cfg.clone()).unwrap();
    for (offset, r) in records.iter().enumerate() {
        a.write_encoded(offset as u64, &codec::encode_to_vec(r))
            .unwrap();
    }
    assert_eq!(a.commit().unwrap(), records.len() as u64);
    let parts = by_partition(&records);
    assert_eq!(a.manifest().files.len(), parts.len());
    assert!(
        parts.values().any(|p| p.len() > 2048),
        "a partition spans several slices"
    );
    let mut rows = 0;
    for ((category, day), part) in &parts {
        let entry = a
            .manifest()
            .files
            .iter()
            .find(|f| f.table == category.table() && f.day == buffer::day_string(*day))
            .unwrap();
        let expected = old_path(*category, part);
        let sort = sort_columns(&expected.schema());
        let indices = sort_indices(&expected, &sort).unwrap();
        let sorted = match &indices {
            Some(i) => take_record_batch(&expected, i).unwrap(),
            None => expected.clone(),
        };
        let actual = read_back(&tmp.path().join(&entry.path));
        assert_eq!(actual.num_rows(), part.len(), "{}", entry.path);
        assert_eq!(entry.rows, part.len() as u64);
        for (i, field) in sorted.schema().fields().iter().enumerate() {
            assert_eq!(
                actual.column(i).as_ref(),
                sorted.column(i).as_ref(),
                "{} column {}",
                entry.path,
                field.name()
            );
        }
        // The old writer (whole batch, sorted by `take` slice by slice) writes the very same bytes.
        let old = tmp.path().join("old.parquet");
        let props = writer_properties(
            &expected.schema(),
            cfg.row_group_rows,
            cfg.zstd_level,
            &sort,
        )
        .unwrap();
        let mut w = FileWriter::create(&old, expected.schema(), props).unwrap();
        w.write_sorted(&expected, indices.as_ref()).unwrap();
        let summary = w.finish().unwrap();
        assert_eq!(
            (summary.bytes, file::hex128(summary.xxh3)),
            (entry.bytes, entry.xxh3_128.clone()),
            "{}",
            entry.path
        );
        assert_eq!(hash_file(&old).unwrap().0, entry.bytes);
        rows += actual.num_rows();
    }
    assert_eq!(rows, records.len());
}

/// The committed files: path, rows and content hash.
fn committed_files(a: &Archive) -> Vec<(String, u64, String)> {
    a.manifest()
        .files
        .iter()
        .map(|f| (f.path.clone(), f.rows, f.xxh3_128.clone()))
        .collect()
}

#[test]
fn records_and_their_encoded_entries_write_the_same_files() {
    let records = records(800);
    let files = |encoded: bool| {
        let tmp = tempfile::tempdir().unwrap();
        let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
        for (offset, r) in records.iter().enumerate() {
            if encoded {
                a.write_encoded(offset as u64, &codec::encode_to_vec(r))
            } else {
                a.write(offset as u64, r)
            }
            .unwrap();
        }
        a.commit().unwrap();
        committed_files(&a)
    };
    let encoded = files(true);
    assert!(encoded.len() > 10);
    assert_eq!(files(false), encoded);
}

#[test]
fn spilled_and_in_memory_buffers_write_the_same_files() {
    let records = records(6000);
    let files = |spill: bool| {
        let tmp = tempfile::tempdir().unwrap();
        // Small buffers: many write-outs, some forced by the shared budget, some spanning several
        // spill write buffers.
        let cfg = ArchiveConfig {
            flush_bytes: 3 << 20,
            max_buffered_bytes: 4 << 20,
            spill,
            ..ArchiveConfig::default()
        };
        let mut a = Archive::open(tmp.path(), cfg).unwrap();
        for (offset, r) in records.iter().enumerate() {
            a.write_encoded(offset as u64, &codec::encode_to_vec(r))
                .unwrap();
        }
        a.commit().unwrap();
        let spill_dir = tmp.path().join(buffer::entries::SPILL_DIR);
        let left = std::fs::read_dir(&spill_dir).map_or(0, |d| d.count());
        assert_eq!(left, 0, "spill files have no name");
        assert_eq!(spill_dir.exists(), spill);
        committed_files(&a)
    };
    let spilled = files(true);
    assert!(spilled.len() > 10);
    assert_eq!(files(false), spilled);
}

#[test]
fn an_undecodable_entry_is_reported_with_its_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    let good = codec::encode_to_vec(&records(1)[0]);
    a.write_encoded(0, &good).unwrap();
    let err = a.write_encoded(1, &good[..good.len() - 1]).unwrap_err();
    assert!(
        matches!(err, ArchiveError::Entry { offset: 1, .. }),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    // Nothing of it was buffered: the archive goes on.
    a.write_encoded(2, &good).unwrap();
    assert_eq!(a.commit().unwrap(), 3);
    assert_eq!(a.stats().iter().map(|t| t.rows).sum::<u64>(), 2);

    // Text that is not UTF-8 is found when the partition is written out: that write fails.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] = 0xff; // last byte of the raw record
    a.write_encoded(3, &bad).unwrap();
    let err = a.commit().unwrap_err();
    assert!(
        matches!(err, ArchiveError::Entry { offset: 3, .. }),
        "{err}"
    );
    assert!(matches!(a.commit(), Err(ArchiveError::Failed)));
}
