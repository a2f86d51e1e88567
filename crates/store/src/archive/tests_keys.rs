//! Sort keys taken when an entry is buffered ([`super::sortkey`]): every table's order is carried by its
//! rows, the last value of a column counts in an entry that repeats it, and a value of another type in a
//! text sort column sorts as the text the column stores.
use std::fs::File;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use model::{Category, Value, codec};

use super::file::sort_columns;
use super::sortkey::{self, SortKey};
use super::test_util::{HOUR, JAN_1, record};
use super::*;

fn read_all(path: &Path) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An entry of `category` whose values are `(column, text)` in the order given (possibly repeating a
/// column, which [`codec::encode`] never does), with `raw` as its raw record.
fn entry_with(category: Category, event_time: i64, values: &[(usize, &str)], raw: &str) -> Vec<u8> {
    let mut empty = record(category, event_time, "k");
    empty.values.iter_mut().for_each(|v| *v = Value::Null);
    empty.raw = String::new();
    let mut bytes = codec::encode_to_vec(&empty);
    assert_eq!(
        bytes.split_off(bytes.len() - 2),
        [0, 0],
        "no values, empty raw"
    );
    put_varint(&mut bytes, values.len() as u64);
    for (index, text) in values {
        put_varint(&mut bytes, *index as u64);
        bytes.push(1);
        put_varint(&mut bytes, text.len() as u64);
        bytes.extend_from_slice(text.as_bytes());
    }
    put_varint(&mut bytes, raw.len() as u64);
    bytes.extend_from_slice(raw.as_bytes());
    bytes
}

#[test]
fn every_table_is_sorted_by_keys_its_rows_carry() {
    for c in Category::ALL {
        let schema = arrow_schema(*c);
        let plan = sortkey::plan(*c).unwrap_or_else(|| panic!("{} has no plan", c.table()));
        let sort = sort_columns(&schema);
        assert_eq!(plan.keys.len(), sort.len(), "{}", c.table());
        for (key, column) in plan.keys.iter().zip(&sort) {
            match key {
                SortKey::Text(slot) => assert_eq!(plan.text_columns[*slot], Some(*column)),
                SortKey::EventTime => {
                    assert_eq!(schema.field(*column).name(), EVENT_TIME_COLUMN)
                }
            }
        }
    }
}

#[test]
fn a_repeated_column_sorts_and_stores_its_last_value_and_other_types_sort_as_stored_text() {
    let c = Category::SignInLogs;
    let upn = model::schema(c).index_of("UserPrincipalName").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    // Offset 0: UPN "zed" then "amy" (the last counts); offset 1: "mia"; offset 2: an integer in the text
    // column, stored (and sorted) as "12"; offset 3: no UPN (null sorts first); offset 4: "mia" again,
    // earlier in time than offset 1.
    let entries = [
        entry_with(c, JAN_1, &[(upn, "zed"), (upn, "amy")], "{\"n\":0}"),
        entry_with(c, JAN_1 + 2 * HOUR, &[(upn, "mia")], "{\"n\":1}"),
        {
            let mut r = record(c, JAN_1, "k2");
            r.values[upn] = Value::Int(12);
            r.raw = "{\"n\":2}".into();
            codec::encode_to_vec(&r)
        },
        entry_with(c, JAN_1 + HOUR, &[], "{\"n\":3}"),
        entry_with(c, JAN_1 + HOUR, &[(upn, "mia")], "{\"n\":4}"),
    ];
    for (offset, e) in entries.iter().enumerate() {
        a.write_encoded(offset as u64, e).unwrap();
    }
    a.commit().unwrap();
    let batch = read_all(&tmp.path().join(&a.manifest().files[0].path));
    let names = batch
        .column_by_name("UserPrincipalName")
        .unwrap()
        .as_string::<i32>();
    let raw = batch.column_by_name("_Raw").unwrap().as_string::<i32>();
    let rows: Vec<(Option<&str>, &str)> = (0..batch.num_rows())
        .map(|i| (names.is_valid(i).then(|| names.value(i)), raw.value(i)))
        .collect();
    assert_eq!(
        rows,
        [
            (None, "{\"n\":3}"),
            (Some("12"), "{\"n\":2}"),
            (Some("amy"), "{\"n\":0}"),
            (Some("mia"), "{\"n\":4}"),
            (Some("mia"), "{\"n\":1}"),
        ]
    );
}
