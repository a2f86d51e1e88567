//! The in-memory buffer of one partition (table, day): Arrow column builders that records are
//! appended to until the buffer is written out as a Parquet file.
use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use model::schema::META_COLUMNS;
use model::{Category, Record, Value};

use super::schema::{ColumnBuilder, arrow_schema};

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// The partition day of a record: the UTC day of its event time, or of its ingest time when the
/// event time is outside years 1..=9999 (so the `day=` directory name stays `YYYY-MM-DD`).
pub(crate) fn day_of(record: &Record) -> NaiveDate {
    day_of_micros(record.event_time)
        .or_else(|| day_of_micros(record.ingest_time))
        .unwrap_or(chrono::DateTime::UNIX_EPOCH.date_naive())
}

fn day_of_micros(micros: i64) -> Option<NaiveDate> {
    let days = micros.div_euclid(DAY_US);
    let date = chrono::DateTime::from_timestamp(days.checked_mul(86_400)?, 0)?.date_naive();
    (1..=9999)
        .contains(&chrono::Datelike::year(&date))
        .then_some(date)
}

/// Formats a partition day as `YYYY-MM-DD`.
pub(crate) fn day_string(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Bytes per column and row besides the text: offsets, null bits and fixed-width values.
const PER_COLUMN_BYTES: u64 = 6;

/// Bytes `record` adds to a partition buffer, by the archive's own accounting (what
/// [`ArchiveConfig::max_buffered_bytes`](super::ArchiveConfig::max_buffered_bytes) bounds): the text of its
/// values and meta columns, 8 bytes for every other value, and [`PER_COLUMN_BYTES`] per column.
pub(crate) fn row_bytes(record: &Record) -> u64 {
    let values: usize = record
        .values
        .iter()
        .map(|v| match v {
            Value::String(s) | Value::Dynamic(s) => s.len(),
            Value::Null => 0,
            _ => 8,
        })
        .sum();
    let meta = record.key.len() + record.source.len() + record.raw.len() + 32;
    let columns = model::schema(record.category).columns.len() + META_COLUMNS.len();
    (values + meta) as u64 + columns as u64 * PER_COLUMN_BYTES
}

/// Rows of one partition not yet written to a file.
pub(crate) struct PartitionBuffer {
    pub(crate) category: Category,
    pub(crate) day: NaiveDate,
    schema: SchemaRef,
    data_columns: usize,
    columns: Vec<ColumnBuilder>,
    /// Bytes of the buffered rows, by [`row_bytes`].
    pub(crate) bytes: u64,
    pub(crate) first_offset: u64,
    pub(crate) last_offset: u64,
}

impl PartitionBuffer {
    pub(crate) fn new(category: Category, day: NaiveDate) -> Self {
        let schema = arrow_schema(category);
        let columns = schema
            .fields()
            .iter()
            .map(|f| ColumnBuilder::new(f.data_type(), 1024))
            .collect();
        Self {
            category,
            day,
            data_columns: model::schema(category).columns.len(),
            schema,
            columns,
            bytes: 0,
            first_offset: u64::MAX,
            last_offset: 0,
        }
    }

    /// Rows buffered.
    pub(crate) fn rows(&self) -> usize {
        self.columns.first().map_or(0, ColumnBuilder::len)
    }

    /// Appends one record taken from log `offset`, counting `bytes` for it (its [`row_bytes`]). Values
    /// missing from `record.values` are null; extra values are ignored.
    pub(crate) fn push(&mut self, offset: u64, record: &Record, bytes: u64) {
        let split = self.data_columns.min(self.columns.len());
        let (data, meta) = self.columns.split_at_mut(split);
        for (i, column) in data.iter_mut().enumerate() {
            column.append(record.values.get(i).unwrap_or(&Value::Null));
        }
        for (column, meta) in meta.iter_mut().zip(META_COLUMNS) {
            match meta.name {
                "_EventTime" => column.append(&Value::DateTime(record.event_time)),
                "_IngestTime" => column.append(&Value::DateTime(record.ingest_time)),
                "_Key" => column.append_str(&record.key),
                "_Revision" => column.append(&Value::Int(i64::from(record.revision))),
                "_Source" => column.append_str(&record.source),
                "_Shape" => column.append_str(record.shape.as_str()),
                "_Raw" => column.append_str(&record.raw),
                _ => column.append(&Value::Null),
            };
        }
        self.bytes += bytes;
        self.first_offset = self.first_offset.min(offset);
        self.last_offset = self.last_offset.max(offset);
    }

    /// Builds the buffered rows into one batch.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let columns = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_is_the_utc_day_of_event_time() {
        let mut r = crate::archive::test_util::record(Category::AuditLogs, 0, "k");
        r.event_time = 1_704_153_599_999_999; // 2024-01-01T23:59:59.999999Z
        assert_eq!(day_string(day_of(&r)), "2024-01-01");
        r.event_time += 1;
        assert_eq!(day_string(day_of(&r)), "2024-01-02");
        r.event_time = -1;
        assert_eq!(day_string(day_of(&r)), "1969-12-31");
        r.event_time = i64::MAX;
        r.ingest_time = 0;
        assert_eq!(day_string(day_of(&r)), "1970-01-01");
    }
}
