//! The in-memory buffer of one partition (table, day): the log entries of its rows, kept encoded
//! ([`model::codec`]) in large chunks until the buffer is written out as a Parquet file. Writing out sorts
//! the rows by the file's sort columns and decodes them, borrowed, straight into Arrow columns one slice of
//! sorted rows at a time: no owned record, no batch of the whole buffer and no sorted copy of it.
use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use model::Category;
use model::codec::{self, CodecError, RecordRef, ValueRef};

use super::ArchiveError;
use super::file::{FileWriter, sort_indices};
use super::schema::{ColumnBuilder, arrow_schema};

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// The partition day of a record with these times: the UTC day of its event time, or of its ingest time
/// when the event time is outside years 1..=9999 (so the `day=` directory name stays `YYYY-MM-DD`).
pub(crate) fn day_of(event_time: i64, ingest_time: i64) -> NaiveDate {
    day_of_micros(event_time)
        .or_else(|| day_of_micros(ingest_time))
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

/// Bytes a buffered row costs besides its encoded entry: its [`Row`] and chunk slack.
pub(crate) const ROW_OVERHEAD_BYTES: u64 = 32;

/// Bytes an encoded entry adds to a partition buffer, by the archive's own accounting (what
/// [`ArchiveConfig::max_buffered_bytes`](super::ArchiveConfig::max_buffered_bytes) bounds): the entry and
/// [`ROW_OVERHEAD_BYTES`].
pub(crate) fn row_bytes(entry: &[u8]) -> u64 {
    entry.len() as u64 + ROW_OVERHEAD_BYTES
}

/// Size of the chunks entries are copied into (an entry larger than this gets a chunk of its own).
const CHUNK_BYTES: usize = 1 << 20;

/// Rows decoded into Arrow columns at a time while a buffer is written out.
const WRITE_SLICE_ROWS: usize = 2048;

/// Where a buffered row's entry is.
#[derive(Debug, Clone, Copy)]
struct Row {
    offset: u64,
    chunk: u32,
    start: u32,
    len: u32,
}

/// What fills a meta column, resolved once per table instead of by name per row.
#[derive(Debug, Clone, Copy)]
enum Meta {
    EventTime,
    IngestTime,
    Key,
    Revision,
    Source,
    Shape,
    Raw,
    Unknown,
}

impl Meta {
    fn of(name: &str) -> Self {
        match name {
            "_EventTime" => Self::EventTime,
            "_IngestTime" => Self::IngestTime,
            "_Key" => Self::Key,
            "_Revision" => Self::Revision,
            "_Source" => Self::Source,
            "_Shape" => Self::Shape,
            "_Raw" => Self::Raw,
            _ => Self::Unknown,
        }
    }

    fn append(self, column: &mut ColumnBuilder, r: &RecordRef<'_>) -> Result<(), CodecError> {
        match self {
            Self::EventTime => column.append_ref(ValueRef::DateTime(r.event_time)),
            Self::IngestTime => column.append_ref(ValueRef::DateTime(r.ingest_time)),
            Self::Key => column.append_str(r.key),
            Self::Revision => column.append_ref(ValueRef::Int(i64::from(r.revision))),
            Self::Source => column.append_str(r.source),
            Self::Shape => column.append_str(r.shape.as_str()),
            Self::Raw => column.append_str(r.raw()?),
            Self::Unknown => {
                column.append_null();
                0
            }
        };
        Ok(())
    }
}

/// Rows of one partition not yet written to a file.
pub(crate) struct PartitionBuffer {
    pub(crate) category: Category,
    pub(crate) day: NaiveDate,
    schema: SchemaRef,
    data_columns: usize,
    meta: Vec<Meta>,
    chunks: Vec<Vec<u8>>,
    rows: Vec<Row>,
    /// Bytes of the buffered rows, by [`row_bytes`].
    pub(crate) bytes: u64,
    pub(crate) first_offset: u64,
    pub(crate) last_offset: u64,
}

/// A row's entry could not be decoded.
pub(crate) struct BadEntry {
    pub(crate) offset: u64,
    pub(crate) source: CodecError,
}

impl PartitionBuffer {
    pub(crate) fn new(category: Category, day: NaiveDate) -> Self {
        let schema = arrow_schema(category);
        let data_columns = model::schema(category).columns.len();
        let meta = schema
            .fields()
            .iter()
            .skip(data_columns)
            .map(|f| Meta::of(f.name()))
            .collect();
        Self {
            category,
            day,
            data_columns,
            meta,
            schema,
            chunks: Vec::new(),
            rows: Vec::new(),
            bytes: 0,
            first_offset: u64::MAX,
            last_offset: 0,
        }
    }

    /// The Arrow schema of the table.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows buffered.
    pub(crate) fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Appends one encoded entry (of this buffer's category, its structure checked by
    /// [`codec::decode_ref`]) taken from log `offset`, counting `bytes` for it (its [`row_bytes`]).
    pub(crate) fn push(&mut self, offset: u64, entry: &[u8], bytes: u64) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= entry.len());
        if !fits {
            self.chunks
                .push(Vec::with_capacity(CHUNK_BYTES.max(entry.len())));
        }
        let chunk = self.chunks.len() - 1;
        if let Some(c) = self.chunks.last_mut() {
            self.rows.push(Row {
                offset,
                chunk: chunk as u32,
                start: c.len() as u32,
                len: entry.len() as u32,
            });
            c.extend_from_slice(entry);
        }
        self.bytes += bytes;
        self.first_offset = self.first_offset.min(offset);
        self.last_offset = self.last_offset.max(offset);
    }

    fn entry(&self, row: &Row) -> &[u8] {
        let start = row.start as usize;
        self.chunks
            .get(row.chunk as usize)
            .and_then(|c| c.get(start..start + row.len as usize))
            .unwrap_or_default()
    }

    fn decode(&self, row: &Row) -> Result<RecordRef<'_>, BadEntry> {
        codec::decode_ref(self.entry(row)).map_err(|source| BadEntry {
            offset: row.offset,
            source,
        })
    }

    /// Writes every row to `writer`, sorted by the columns `sort` (indices into the table's schema,
    /// ascending, nulls first, as [`sort_indices`] orders them).
    pub(crate) fn write_to(
        &self,
        writer: &mut FileWriter,
        sort: &[usize],
    ) -> Result<(), ArchiveError> {
        let order = self.sort_order(sort)?;
        let mut hints = vec![0usize; self.schema.fields().len()];
        let mut refs = Vec::with_capacity(WRITE_SLICE_ROWS.min(order.len()));
        for slice in order.chunks(WRITE_SLICE_ROWS) {
            refs.clear();
            for i in slice {
                let row = self.rows.get(*i as usize).ok_or_else(|| self.arrow_bug())?;
                refs.push((row.offset, self.decode(row).map_err(|e| self.bad(e))?));
            }
            let batch = self.batch(&refs, &mut hints)?;
            writer.write(&batch)?;
        }
        Ok(())
    }

    /// The order to write the rows in: the permutation sorting them by `sort`.
    fn sort_order(&self, sort: &[usize]) -> Result<Vec<u32>, ArchiveError> {
        let identity = || (0..self.rows.len() as u32).collect();
        if sort.is_empty() {
            return Ok(identity());
        }
        let mut keys: Vec<ColumnBuilder> = sort
            .iter()
            .map(|i| ColumnBuilder::new(self.schema.field(*i).data_type(), self.rows.len()))
            .collect();
        for row in &self.rows {
            let r = self.decode(row).map_err(|e| self.bad(e))?;
            for (column, i) in keys.iter_mut().zip(sort) {
                self.append_column(column, *i, &r).map_err(|source| {
                    self.bad(BadEntry {
                        offset: row.offset,
                        source,
                    })
                })?;
            }
        }
        let schema = self.schema.project(sort).map_err(|e| self.arrow(e))?;
        let columns = keys.iter_mut().map(ColumnBuilder::finish).collect();
        let batch = RecordBatch::try_new(schema.into(), columns).map_err(|e| self.arrow(e))?;
        let all: Vec<usize> = (0..sort.len()).collect();
        Ok(
            match sort_indices(&batch, &all).map_err(|e| self.arrow(e))? {
                Some(indices) => indices.values().to_vec(),
                None => identity(),
            },
        )
    }

    /// Appends column `index` (of the table's schema) of `r` to `column`.
    fn append_column(
        &self,
        column: &mut ColumnBuilder,
        index: usize,
        r: &RecordRef<'_>,
    ) -> Result<(), CodecError> {
        match index.checked_sub(self.data_columns) {
            None => {
                column.append_ref(r.value(index)?);
                Ok(())
            }
            Some(m) => self
                .meta
                .get(m)
                .copied()
                .unwrap_or(Meta::Unknown)
                .append(column, r),
        }
    }

    /// Decodes `rows` into one batch. `hints` holds the text bytes of each column in the previous slice (to
    /// size the builders) and is updated.
    fn batch(
        &self,
        rows: &[(u64, RecordRef<'_>)],
        hints: &mut [usize],
    ) -> Result<RecordBatch, ArchiveError> {
        let raw_bytes: usize = rows.iter().map(|(_, r)| r.raw_len()).sum();
        let mut columns: Vec<ColumnBuilder> = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let meta = i
                    .checked_sub(self.data_columns)
                    .and_then(|m| self.meta.get(m));
                let text = match meta {
                    Some(Meta::Raw) => raw_bytes,
                    _ => hints.get(i).map_or(0, |h| h + h / 8),
                };
                ColumnBuilder::with_text_capacity(f.data_type(), rows.len(), text)
            })
            .collect();
        let split = self.data_columns.min(columns.len());
        for (offset, r) in rows {
            let (data, meta) = columns.split_at_mut(split);
            let fail = |source| {
                self.bad(BadEntry {
                    offset: *offset,
                    source,
                })
            };
            append_values(data, r).map_err(fail)?;
            for (column, m) in meta.iter_mut().zip(&self.meta) {
                m.append(column, r).map_err(fail)?;
            }
        }
        let arrays: Vec<_> = columns.iter_mut().map(ColumnBuilder::finish).collect();
        for (hint, array) in hints.iter_mut().zip(&arrays) {
            if matches!(array.data_type(), DataType::Utf8) {
                *hint = array.as_string::<i32>().values().len();
            }
        }
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| self.arrow(e))
    }

    fn bad(&self, e: BadEntry) -> ArchiveError {
        ArchiveError::Entry {
            offset: e.offset,
            source: e.source,
        }
    }

    fn arrow(&self, source: ArrowError) -> ArchiveError {
        ArchiveError::Arrow {
            table: self.category.table().to_owned(),
            source,
        }
    }

    fn arrow_bug(&self) -> ArchiveError {
        self.arrow(ArrowError::ComputeError("sort index out of range".into()))
    }
}

/// Appends the data columns of `r`: its values in column order, null where it has none.
fn append_values(data: &mut [ColumnBuilder], r: &RecordRef<'_>) -> Result<(), CodecError> {
    if !r.is_ordered() {
        let values = r.dense_values()?;
        for (i, column) in data.iter_mut().enumerate() {
            column.append_ref(values.get(i).copied().unwrap_or(ValueRef::Null));
        }
        return Ok(());
    }
    let mut next = 0;
    for v in r.values() {
        let (index, value) = v?;
        if index >= data.len() {
            continue;
        }
        for skipped in data.get_mut(next..index).into_iter().flatten() {
            skipped.append_null();
        }
        if let Some(column) = data.get_mut(index) {
            column.append_ref(value);
        }
        next = index + 1;
    }
    for rest in data.get_mut(next..).into_iter().flatten() {
        rest.append_null();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_is_the_utc_day_of_event_time() {
        let t = 1_704_153_599_999_999; // 2024-01-01T23:59:59.999999Z
        assert_eq!(day_string(day_of(t, 0)), "2024-01-01");
        assert_eq!(day_string(day_of(t + 1, 0)), "2024-01-02");
        assert_eq!(day_string(day_of(-1, 0)), "1969-12-31");
        assert_eq!(day_string(day_of(i64::MAX, 0)), "1970-01-01");
    }
}
