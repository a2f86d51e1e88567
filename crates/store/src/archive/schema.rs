//! The Arrow schema of each archived table, and the conversion of [`model::Value`]s into Arrow
//! columns.
//!
//! A table's columns are its canonical data columns ([`model::schema`]) in order, then the meta
//! columns ([`model::schema::META_COLUMNS`]). Types: `string` and `dynamic` (JSON text) are
//! `Utf8`, `bool` is `Boolean`, `int` `Int32`, `long` `Int64`, `real` `Float64`, `datetime`
//! `Timestamp(Microsecond, "UTC")`. Every column is nullable. The `day` partition column lives
//! in the directory name only.
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use model::codec::ValueRef;
use model::schema::META_COLUMNS;
use model::{Category, ColumnType, format_micros};

/// Name of the partition column (directory `day=YYYY-MM-DD`, the UTC day of `_EventTime`).
pub const DAY_COLUMN: &str = "day";
/// Name of the event-time meta column.
pub const EVENT_TIME_COLUMN: &str = "_EventTime";
/// Name of the dedupe-key meta column.
pub const KEY_COLUMN: &str = "_Key";
/// Name of the revision meta column.
pub const REVISION_COLUMN: &str = "_Revision";

/// The Arrow type of a Log Analytics column type.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::String | ColumnType::Dynamic => DataType::Utf8,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Int => DataType::Int32,
        ColumnType::Long => DataType::Int64,
        ColumnType::Real => DataType::Float64,
        ColumnType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

/// The Arrow schema of `category`'s table as stored in Parquet: data columns, then meta columns.
pub fn arrow_schema(category: Category) -> SchemaRef {
    static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| Category::ALL.iter().map(|c| build_schema(*c)).collect());
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .and_then(|i| all.get(i))
        .cloned()
        .unwrap_or_else(|| build_schema(category))
}

fn build_schema(category: Category) -> SchemaRef {
    let table = model::schema(category);
    let data = table
        .columns
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(c.ty), true));
    let meta = META_COLUMNS
        .iter()
        .map(|m| Field::new(m.name, arrow_type(m.ty), true));
    Arc::new(Schema::new(data.chain(meta).collect::<Vec<_>>()))
}

/// One column being built.
pub(crate) enum ColumnBuilder {
    Utf8(StringBuilder),
    Bool(BooleanBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    pub(crate) fn new(ty: &DataType, capacity: usize) -> Self {
        match ty {
            DataType::Boolean => Self::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Int32 => Self::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => Self::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float64 => Self::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Timestamp(..) => {
                Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            _ => Self::Utf8(StringBuilder::new()),
        }
    }

    /// A builder for `capacity` rows that, for a text column, reserves `text` bytes of text (at least 1 KiB).
    pub(crate) fn with_text_capacity(ty: &DataType, capacity: usize, text: usize) -> Self {
        match Self::new(ty, capacity) {
            Self::Utf8(_) => Self::Utf8(StringBuilder::with_capacity(capacity, text.max(1024))),
            other => other,
        }
    }

    /// Appends `value`, converting it to the column type where that loses nothing (an integer
    /// into a real column, a number into a text column, RFC 3339 text into a timestamp); a value
    /// that cannot be converted is stored as null. Returns the bytes appended (for buffer sizing).
    #[cfg(test)]
    pub(crate) fn append(&mut self, value: &model::Value) -> usize {
        self.append_ref(ValueRef::from(value))
    }

    /// [`Self::append`] for a value borrowed from an encoded log entry.
    pub(crate) fn append_ref(&mut self, value: ValueRef<'_>) -> usize {
        match self {
            Self::Utf8(b) => match value {
                ValueRef::Null => {
                    b.append_null();
                    0
                }
                ValueRef::String(s) | ValueRef::Dynamic(s) => push_str(b, s),
                other => push_str(b, &utf8_text(other).unwrap_or_default()),
            },
            Self::Bool(b) => {
                b.append_option(match value {
                    ValueRef::Bool(v) => Some(v),
                    ValueRef::String(s) => s.trim().to_ascii_lowercase().parse().ok(),
                    _ => None,
                });
                1
            }
            Self::Int32(b) => {
                b.append_option(as_i64(value).and_then(|v| i32::try_from(v).ok()));
                4
            }
            Self::Int64(b) => {
                b.append_option(as_i64(value));
                8
            }
            Self::Float64(b) => {
                b.append_option(match value {
                    ValueRef::Real(v) => Some(v),
                    ValueRef::Int(v) => Some(v as f64),
                    ValueRef::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
                8
            }
            Self::Timestamp(b) => {
                b.append_option(match value {
                    ValueRef::DateTime(t) => Some(t),
                    ValueRef::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
                        .ok()
                        .map(|t| t.timestamp_micros()),
                    _ => None,
                });
                8
            }
        }
    }

    /// Appends a null.
    pub(crate) fn append_null(&mut self) {
        match self {
            Self::Utf8(b) => b.append_null(),
            Self::Bool(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
        }
    }

    /// Appends text (meta columns); into a non-text column it converts like [`Self::append`].
    pub(crate) fn append_str(&mut self, value: &str) -> usize {
        self.append_ref(ValueRef::String(value))
    }

    /// Finishes the column (timestamps in UTC).
    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Utf8(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }
}

/// The text a `Utf8` column stores for `value` (`None`: null): text as is, a timestamp in RFC 3339, anything
/// else as JSON.
pub(crate) fn utf8_text(value: ValueRef<'_>) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        ValueRef::Null => None,
        ValueRef::String(s) | ValueRef::Dynamic(s) => Some(s.into()),
        ValueRef::DateTime(t) => Some(format_micros(t).into()),
        other => Some(other.to_value().to_json().to_string().into()),
    }
}

fn push_str(b: &mut StringBuilder, s: &str) -> usize {
    b.append_value(s);
    s.len()
}

fn as_i64(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Int(v) => Some(v),
        ValueRef::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Float64Type, Int32Type, TimestampMicrosecondType};
    use model::Value;

    #[test]
    fn every_table_has_data_then_meta_columns_without_clashes() {
        for c in Category::ALL {
            let s = arrow_schema(*c);
            let data = model::schema(*c).columns.len();
            assert_eq!(s.fields().len(), data + META_COLUMNS.len(), "{}", c.table());
            assert_eq!(s.field(data).name(), EVENT_TIME_COLUMN);
            let mut names: Vec<_> = s
                .fields()
                .iter()
                .map(|f| f.name().to_ascii_lowercase())
                .collect();
            names.push(DAY_COLUMN.to_owned());
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n, "{} has clashing column names", c.table());
        }
        let s = arrow_schema(Category::SignInLogs);
        let ty = |n: &str| s.field_with_name(n).unwrap().data_type().clone();
        assert_eq!(ty("Status"), DataType::Utf8);
        assert_eq!(ty("DurationMs"), DataType::Int64);
        assert_eq!(
            ty("TimeGenerated"),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(ty("_Revision"), DataType::Int32);
    }

    #[test]
    fn values_are_converted_without_loss_or_nulled() {
        let mut i = ColumnBuilder::new(&DataType::Int32, 4);
        i.append(&Value::Int(7));
        i.append(&Value::Int(i64::MAX));
        i.append(&Value::String(" 12 ".into()));
        let a = i.finish();
        let a = a.as_primitive::<Int32Type>();
        assert_eq!((a.value(0), a.is_null(1), a.value(2)), (7, true, 12));

        let mut f = ColumnBuilder::new(&DataType::Float64, 2);
        f.append(&Value::Int(3));
        f.append(&Value::Bool(true));
        let a = f.finish();
        let a = a.as_primitive::<Float64Type>();
        assert_eq!((a.value(0), a.is_null(1)), (3.0, true));

        let mut t = ColumnBuilder::new(&arrow_type(ColumnType::DateTime), 2);
        t.append(&Value::String("2024-01-02T03:04:05Z".into()));
        t.append(&Value::DateTime(5));
        let a = t.finish();
        let a = a.as_primitive::<TimestampMicrosecondType>();
        assert_eq!((a.value(0), a.value(1)), (1_704_164_645_000_000, 5));

        let mut s = ColumnBuilder::new(&DataType::Utf8, 3);
        s.append(&Value::Int(5));
        s.append(&Value::DateTime(0));
        s.append(&Value::Dynamic("{\"a\":1}".into()));
        let a = s.finish();
        let a = a.as_string::<i32>();
        assert_eq!(
            (a.value(0), a.value(1), a.value(2)),
            ("5", "1970-01-01T00:00:00.000000Z", "{\"a\":1}")
        );
    }
}
