//! Archive batches for `entrail hunt`: an Arrow `RecordBatch` read back from the Parquet archive is turned
//! into a column-wise [`Columns`] batch straight from its arrays (no JSON text, no decoding), for
//! [`pipeline::detection::Hunt::feed_columns`]. Each canonical column is found by its schema name; text
//! columns may be `Utf8View`, `Utf8` or `LargeUtf8`, integers `Int32`/`Int64`, reals `Float64`, times
//! microsecond timestamps, booleans `Boolean`; dynamic columns are archived as their canonical JSON text.
//! Each row's key comes from `_Key` and its event time from `_EventTime`.
//!
//! A batch with a column of an Arrow type not mapped here, or of a category whose Log Analytics decoding
//! rebuilds rows (flows, resource diagnostics), gives `None`: the caller decodes that batch the old way
//! (JSON lines, [`model::decode_record`]), which gives the same values for the batches mapped here
//! (tests below and in `hunt.rs`).

use model::codec::ValueRef;
use model::columns::Columns;
use model::{Category, ColumnType, Family};
use store::query::RecordBatch;
use store::query::arrow::array::{
    Array, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, LargeStringArray,
    StringArray, StringViewArray, TimestampMicrosecondArray,
};
use store::query::arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};

/// One Arrow column, typed.
enum Reader<'a> {
    /// The batch has no such column: null in every row.
    Absent,
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    View(&'a StringViewArray),
    Bool(&'a BooleanArray),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F64(&'a Float64Array),
    Micros(&'a TimestampMicrosecondArray),
}

impl<'a> Reader<'a> {
    /// The reader of `array` for a canonical column of type `ty`; `None` when the Arrow type is not mapped.
    fn new(array: &'a dyn Array, ty: ColumnType) -> Option<Reader<'a>> {
        let text = matches!(ty, ColumnType::String | ColumnType::Dynamic);
        Some(match (array.data_type(), ty) {
            (DataType::Utf8, _) if text => Reader::Utf8(array.as_string_opt::<i32>()?),
            (DataType::LargeUtf8, _) if text => Reader::LargeUtf8(array.as_string_opt::<i64>()?),
            (DataType::Utf8View, _) if text => Reader::View(array.as_string_view_opt()?),
            (DataType::Boolean, ColumnType::Bool) => Reader::Bool(array.as_boolean_opt()?),
            (DataType::Int32, ColumnType::Int | ColumnType::Long) => {
                Reader::I32(array.as_primitive_opt::<Int32Type>()?)
            }
            (DataType::Int64, ColumnType::Int | ColumnType::Long) => {
                Reader::I64(array.as_primitive_opt::<Int64Type>()?)
            }
            (DataType::Float64, ColumnType::Real) => {
                Reader::F64(array.as_primitive_opt::<Float64Type>()?)
            }
            (DataType::Timestamp(TimeUnit::Microsecond, _), ColumnType::DateTime) => {
                Reader::Micros(array.as_primitive_opt::<TimestampMicrosecondType>()?)
            }
            (DataType::Null, _) => Reader::Absent,
            _ => return None,
        })
    }

    /// Row `i`'s value; `dynamic` says which text kind a text column holds.
    #[inline]
    fn get(&self, i: usize, dynamic: bool) -> ValueRef<'a> {
        let text = |s: &'a str| {
            if dynamic {
                ValueRef::Dynamic(s)
            } else {
                ValueRef::String(s)
            }
        };
        match self {
            Reader::Absent => ValueRef::Null,
            Reader::Utf8(a) if a.is_valid(i) => text(a.value(i)),
            Reader::LargeUtf8(a) if a.is_valid(i) => text(a.value(i)),
            Reader::View(a) if a.is_valid(i) => text(a.value(i)),
            Reader::Bool(a) if a.is_valid(i) => ValueRef::Bool(a.value(i)),
            Reader::I32(a) if a.is_valid(i) => ValueRef::Int(i64::from(a.value(i))),
            Reader::I64(a) if a.is_valid(i) => ValueRef::Int(a.value(i)),
            Reader::F64(a) if a.is_valid(i) => ValueRef::Real(a.value(i)),
            Reader::Micros(a) if a.is_valid(i) => ValueRef::DateTime(a.value(i)),
            _ => ValueRef::Null,
        }
    }
}

/// Whether archived rows of `category` can be read column-wise (see the module docs).
pub(crate) fn mapped(category: Category) -> bool {
    category.family() != Family::Flow && category != Category::ResourceDiagnostics
}

/// `batch` (rows of `category`'s archive table) as a column-wise batch; `None` when a column's Arrow type
/// is not mapped, the category is not [`mapped`], or a value does not fit (the caller decodes it the old
/// way then).
pub(crate) fn to_columns(batch: &RecordBatch, category: Category) -> Option<Columns> {
    if !mapped(category) {
        return None;
    }
    let schema = model::schema(category);
    let mut readers = Vec::with_capacity(schema.columns.len());
    for c in &schema.columns {
        let reader = match batch.column_by_name(&c.name) {
            Some(a) => Reader::new(a.as_ref(), c.ty)?,
            None => Reader::Absent,
        };
        readers.push((reader, c.ty == ColumnType::Dynamic));
    }
    let keys = batch
        .column_by_name("_Key")
        .map(|a| Reader::new(a.as_ref(), ColumnType::String))?;
    let times = batch
        .column_by_name("_EventTime")
        .map(|a| Reader::new(a.as_ref(), ColumnType::DateTime))??;
    let keys = keys?;
    let mut out = Columns::with_capacity(category, batch.num_rows());
    let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(readers.len());
    for row in 0..batch.num_rows() {
        values.clear();
        values.extend(readers.iter().map(|(r, dynamic)| r.get(row, *dynamic)));
        let key = match keys.get(row, false) {
            ValueRef::String(k) => k,
            _ => "",
        };
        let event_time = match times.get(row, false) {
            ValueRef::DateTime(t) => t,
            _ => 0,
        };
        out.push_row(key, event_time, values.iter().copied()).ok()?;
    }
    Some(out)
}

#[cfg(test)]
#[path = "hunt_columns_tests.rs"]
mod tests;
