//! The buffer of one partition (table, day): the log entries of its rows, kept encoded ([`model::codec`])
//! in a spill file or in memory ([`entries`]) until the buffer is written out as a Parquet file, each row
//! with its sort keys (their positions in the entry, or a copy when the entry is spilled;
//! [`super::sortkey`]). Writing out sorts the row indices by those keys, then decodes the rows, borrowed and each in a single pass, straight into Arrow columns one slice of sorted rows at a
//! time: no owned record, no batch of the whole buffer and no sorted copy of it.
use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use model::Category;
use model::codec::{self, CodecError, RecordRef, ValueRef};

use super::ArchiveError;
use super::file::{FileWriter, sort_indices};
use super::residual;
use super::schema::{ColumnBuilder, arrow_schema};
use super::sortkey::{self, KeySource, SortKey, SortPlan, TEXT_KEYS};

pub(crate) mod entries;
use entries::{Entries, Loc, SPILL_AFTER_BYTES};

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

/// Bytes a buffered row costs besides its encoded entry: its [`Row`] (48 bytes, with its sort keys'
/// positions) and chunk slack. (A spilled row costs this and its sort keys' bytes in memory.)
pub(crate) const ROW_OVERHEAD_BYTES: u64 = 64;

/// Bytes an encoded entry adds to a partition buffer, by the archive's own accounting (what
/// [`ArchiveConfig::max_buffered_bytes`](super::ArchiveConfig::max_buffered_bytes) bounds): the entry and
/// [`ROW_OVERHEAD_BYTES`].
pub(crate) fn row_bytes(entry: &[u8]) -> u64 {
    entry.len() as u64 + ROW_OVERHEAD_BYTES
}

/// Rows decoded into Arrow columns at a time while a buffer is written out: with ~6 KB entries one slice is
/// ~6 MB of Arrow arrays.
pub(crate) const WRITE_SLICE_ROWS: usize = 1024;

/// A row's text sort key: bytes `start..start + len` of its entry, [`KEY_NULL`], [`KEY_OWNED`] (then
/// `start` indexes [`PartitionBuffer::owned_keys`]) or, with [`KEY_COPIED`] set in `len`, bytes of
/// [`PartitionBuffer::copied_keys`] (the entry is spilled).
#[derive(Debug, Clone, Copy)]
struct KeyText {
    start: u32,
    len: u32,
}

const KEY_NULL: u32 = u32::MAX;
const KEY_OWNED: u32 = u32::MAX - 1;
const KEY_COPIED: u32 = 1 << 31;

/// Appends a sort key's `text` to `copied` (a buffer's [`PartitionBuffer::copied_keys`]); returns the key.
fn copy_key(copied: &mut Vec<u8>, text: &[u8]) -> KeyText {
    let key = KeyText {
        start: copied.len() as u32,
        len: text.len() as u32 | KEY_COPIED,
    };
    copied.extend_from_slice(text);
    key
}

/// Where a buffered row's entry is, and its sort keys.
#[derive(Debug, Clone, Copy)]
struct Row {
    offset: u64,
    event_time: i64,
    loc: Loc,
    /// Columns in ascending order, each at most once (always so for entries of [`codec::encode`]): the
    /// values go to their columns in one pass.
    ordered: bool,
    keys: [KeyText; TEXT_KEYS],
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

/// The meta values of one row.
struct MetaRow<'a> {
    event_time: i64,
    ingest_time: i64,
    key: &'a str,
    revision: u32,
    source: &'a str,
    shape: model::Shape,
    raw: &'a str,
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

    fn append(self, column: &mut ColumnBuilder, r: &MetaRow<'_>) {
        match self {
            Self::EventTime => column.append_ref(ValueRef::DateTime(r.event_time)),
            Self::IngestTime => column.append_ref(ValueRef::DateTime(r.ingest_time)),
            Self::Key => column.append_str(r.key),
            Self::Revision => column.append_ref(ValueRef::Int(i64::from(r.revision))),
            Self::Source => column.append_str(r.source),
            Self::Shape => column.append_str(r.shape.as_str()),
            Self::Raw => column.append_str(r.raw),
            Self::Unknown => {
                column.append_null();
                0
            }
        };
    }
}

/// Rows of one partition not yet written to a file.
pub(crate) struct PartitionBuffer {
    pub(crate) category: Category,
    pub(crate) day: NaiveDate,
    schema: SchemaRef,
    data_columns: usize,
    meta: Vec<Meta>,
    plan: Option<&'static SortPlan>,
    entries: Entries,
    /// The archive directory, when entries move to a spill file past [`SPILL_AFTER_BYTES`].
    spill_to: Option<std::sync::Arc<std::path::Path>>,
    rows: Vec<Row>,
    /// Sort keys that are not text in their entry (a value of another type in a text column), converted.
    owned_keys: Vec<String>,
    /// The text sort keys of spilled entries, copied.
    copied_keys: Vec<u8>,
    /// With `archive.raw = "residual"`: the text columns a row's `_Raw` refers to ([`residual`]), and
    /// the column (index, reference number) its `_Key` usually equals.
    residual: Option<residual::Columns>,
    /// Bytes of the buffered rows, by [`row_bytes`] (plus their converted sort keys).
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
    /// An empty buffer keeping its entries in memory; with `spill_to` (the archive directory) they move to a
    /// spill file there once they pass [`SPILL_AFTER_BYTES`].
    pub(crate) fn new(
        category: Category,
        day: NaiveDate,
        spill_to: Option<std::sync::Arc<std::path::Path>>,
    ) -> Self {
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
            plan: sortkey::plan(category),
            schema,
            entries: Entries::memory(),
            spill_to,
            rows: Vec::new(),
            owned_keys: Vec::new(),
            copied_keys: Vec::new(),
            residual: None,
            bytes: 0,
            first_offset: u64::MAX,
            last_offset: 0,
        }
    }

    /// Writes `_Raw` as residuals ([`residual`]) when `on`.
    pub(crate) fn with_residual(mut self, on: bool) -> Self {
        self.residual =
            on.then(|| residual::Columns::of(self.category, &self.schema, self.data_columns));
        self
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
    /// [`codec::decode_ref`]) taken from log `offset`, counting `bytes` for it (its [`row_bytes`] plus
    /// [`sortkey::owned_bytes`] of `keys`). `event_time`, `ordered` and `keys` are what decoding it said
    /// ([`sortkey::decode_with_keys`]). Fails only when a spill file cannot be written.
    pub(crate) fn push(
        &mut self,
        offset: u64,
        entry: &[u8],
        bytes: u64,
        event_time: i64,
        ordered: bool,
        keys: [KeySource; TEXT_KEYS],
    ) -> Result<(), ArchiveError> {
        if self.spill_to.is_some()
            && !self.entries.is_spilled()
            && self.entries.memory_bytes() + entry.len() > SPILL_AFTER_BYTES
        {
            self.start_spilling()?;
        }
        let loc = self.entries.push(entry)?;
        let spilled = self.entries.is_spilled();
        let keys = keys.map(|k| match k {
            KeySource::Null => KeyText {
                start: 0,
                len: KEY_NULL,
            },
            KeySource::InEntry { start, len } if spilled => copy_key(
                &mut self.copied_keys,
                entry
                    .get(start as usize..(start + len) as usize)
                    .unwrap_or_default(),
            ),
            KeySource::InEntry { start, len } => KeyText { start, len },
            KeySource::Owned(text) => {
                self.owned_keys.push(text);
                KeyText {
                    start: (self.owned_keys.len() - 1) as u32,
                    len: KEY_OWNED,
                }
            }
        });
        self.rows.push(Row {
            offset,
            event_time,
            loc,
            ordered,
            keys,
        });
        self.bytes += bytes;
        self.first_offset = self.first_offset.min(offset);
        self.last_offset = self.last_offset.max(offset);
        Ok(())
    }

    /// Moves the entries to a spill file in [`Self::spill_to`] (nothing without one): first copies the
    /// rows' sort keys out of their entries, then writes the entries and moves each row's position to the
    /// file.
    fn start_spilling(&mut self) -> Result<(), ArchiveError> {
        let Some(dir) = self.spill_to.as_deref() else {
            return Ok(());
        };
        for row in &mut self.rows {
            for key in &mut row.keys {
                if key.len == KEY_NULL || key.len == KEY_OWNED || key.len & KEY_COPIED != 0 {
                    continue;
                }
                let start = key.start as usize;
                let text = self
                    .entries
                    .borrowed(row.loc)
                    .and_then(|e| e.get(start..start + key.len as usize))
                    .unwrap_or_default();
                *key = copy_key(&mut self.copied_keys, text);
            }
        }
        let bases = self.entries.spill_to(dir)?;
        for row in &mut self.rows {
            let (chunk, start) = ((row.loc.pos >> 32) as usize, u64::from(row.loc.pos as u32));
            row.loc.pos = bases.get(chunk).copied().unwrap_or(0) + start;
        }
        Ok(())
    }

    /// A row's entry: borrowed from memory, or read from the spill file into `scratch`.
    fn entry<'a>(&'a self, row: &Row, scratch: &'a mut Vec<u8>) -> Result<&'a [u8], ArchiveError> {
        self.entries.get(row.loc, scratch)
    }

    /// The text of a row's key in `slot`, `None` for null.
    fn key_text(&self, row: &Row, slot: usize) -> Option<&[u8]> {
        let key = row.keys.get(slot)?;
        match key.len {
            KEY_NULL => None,
            KEY_OWNED => self
                .owned_keys
                .get(key.start as usize)
                .map(|s| s.as_bytes()),
            len if len & KEY_COPIED != 0 => {
                let start = key.start as usize;
                self.copied_keys
                    .get(start..start + (len & !KEY_COPIED) as usize)
            }
            len => {
                // Only entries kept in memory have keys in their entry.
                let start = key.start as usize;
                self.entries
                    .borrowed(row.loc)?
                    .get(start..start + len as usize)
            }
        }
    }

    fn decode<'a>(
        &'a self,
        row: &Row,
        scratch: &'a mut Vec<u8>,
    ) -> Result<RecordRef<'a>, ArchiveError> {
        let entry = self.entry(row, scratch)?;
        codec::decode_ref(entry).map_err(|source| {
            self.bad(BadEntry {
                offset: row.offset,
                source,
            })
        })
    }

    /// Writes every row to `writer`, sorted by the columns `sort` (indices into the table's schema,
    /// ascending, nulls first, as [`sort_indices`] orders them; rows with equal keys in buffer order).
    pub(crate) fn write_to(
        &mut self,
        writer: &mut FileWriter,
        sort: &[usize],
    ) -> Result<(), ArchiveError> {
        self.entries.finish_writes()?;
        let order = self.sort_order(sort)?;
        let mut hints = vec![0usize; self.schema.fields().len()];
        for slice in order.chunks(WRITE_SLICE_ROWS) {
            let batch = self.batch(slice, &mut hints)?;
            writer.write(&batch)?;
        }
        Ok(())
    }

    /// The order to write the rows in: the permutation sorting them by `sort`.
    fn sort_order(&self, sort: &[usize]) -> Result<Vec<u32>, ArchiveError> {
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        if sort.is_empty() {
            return Ok(order);
        }
        let Some(plan) = self.plan.filter(|p| p.keys.len() == sort.len()) else {
            return self.sort_order_arrow(sort);
        };
        let rows = &self.rows;
        order.sort_unstable_by(|a, b| {
            let (Some(ra), Some(rb)) = (rows.get(*a as usize), rows.get(*b as usize)) else {
                return a.cmp(b);
            };
            for key in &plan.keys {
                let o = match key {
                    SortKey::Text(slot) => self.key_text(ra, *slot).cmp(&self.key_text(rb, *slot)),
                    SortKey::EventTime => ra.event_time.cmp(&rb.event_time),
                };
                if o.is_ne() {
                    return o;
                }
            }
            a.cmp(b)
        });
        Ok(order)
    }

    /// [`Self::sort_order`] through Arrow, for a table whose sort columns a row does not carry as keys.
    fn sort_order_arrow(&self, sort: &[usize]) -> Result<Vec<u32>, ArchiveError> {
        let mut keys: Vec<ColumnBuilder> = sort
            .iter()
            .map(|i| ColumnBuilder::new(self.schema.field(*i).data_type(), self.rows.len()))
            .collect();
        let mut scratch = Vec::new();
        for row in &self.rows {
            let r = self.decode(row, &mut scratch)?;
            let fail = |source| {
                self.bad(BadEntry {
                    offset: row.offset,
                    source,
                })
            };
            let raw = r.raw().map_err(fail)?;
            let meta = meta_row(&r, raw);
            for (column, i) in keys.iter_mut().zip(sort) {
                match i.checked_sub(self.data_columns) {
                    None => {
                        column.append_ref(r.value(*i).map_err(fail)?);
                    }
                    Some(m) => self
                        .meta
                        .get(m)
                        .copied()
                        .unwrap_or(Meta::Unknown)
                        .append(column, &meta),
                }
            }
        }
        let schema = self.schema.project(sort).map_err(|e| self.arrow(e))?;
        let columns = keys.iter_mut().map(ColumnBuilder::finish).collect();
        let batch = RecordBatch::try_new(schema.into(), columns).map_err(|e| self.arrow(e))?;
        let all: Vec<usize> = (0..sort.len()).collect();
        Ok(
            match sort_indices(&batch, &all).map_err(|e| self.arrow(e))? {
                Some(indices) => indices.values().to_vec(),
                None => (0..self.rows.len() as u32).collect(),
            },
        )
    }

    /// Decodes the rows `slice` (indices into the buffer) into one batch, each entry in one pass. `hints`
    /// holds the text bytes of each column in the previous slice (to size the builders) and is updated.
    fn batch(&self, slice: &[u32], hints: &mut [usize]) -> Result<RecordBatch, ArchiveError> {
        let mut rows = Vec::with_capacity(slice.len());
        for i in slice {
            rows.push(self.rows.get(*i as usize).ok_or_else(|| self.arrow_bug())?);
        }
        // The first slice has no hint for the raw column: the entries' bytes bound it.
        let entry_bytes: usize = rows.iter().map(|r| r.loc.len as usize).sum();
        let mut columns: Vec<ColumnBuilder> = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let meta = i
                    .checked_sub(self.data_columns)
                    .and_then(|m| self.meta.get(m));
                let text = match (meta, hints.get(i).copied().unwrap_or(0)) {
                    (Some(Meta::Raw), 0) => entry_bytes,
                    (_, h) => h + h / 8,
                };
                ColumnBuilder::with_text_capacity(f.data_type(), rows.len(), text)
            })
            .collect();
        let split = self.data_columns.min(columns.len());
        let mut scratch = Vec::new();
        for row in rows {
            let (data, meta) = columns.split_at_mut(split);
            let fail = |source| {
                self.bad(BadEntry {
                    offset: row.offset,
                    source,
                })
            };
            let entry = self.entry(row, &mut scratch)?;
            if row.ordered {
                let mut c = codec::read_entry(entry).map_err(fail)?;
                let mut next = 0;
                while let Some(v) = c.next_value() {
                    let v = v.map_err(fail)?;
                    for skipped in data.get_mut(next..v.index).into_iter().flatten() {
                        skipped.append_null();
                    }
                    if let Some(column) = data.get_mut(v.index) {
                        column.append_ref(v.get().map_err(fail)?);
                    }
                    next = v.index + 1;
                }
                for rest in data.get_mut(next..).into_iter().flatten() {
                    rest.append_null();
                }
                let (event_time, ingest_time, key, revision, source, shape) = (
                    c.event_time,
                    c.ingest_time,
                    c.key,
                    c.revision,
                    c.source,
                    c.shape,
                );
                let raw = c.finish().map_err(fail)?;
                let m = MetaRow {
                    event_time,
                    ingest_time,
                    key,
                    revision,
                    source,
                    shape,
                    raw,
                };
                for (column, kind) in meta.iter_mut().zip(&self.meta) {
                    kind.append(column, &m);
                }
            } else {
                let r = codec::decode_ref(entry).map_err(fail)?;
                append_dense(data, &r).map_err(fail)?;
                let m = meta_row(&r, r.raw().map_err(fail)?);
                for (column, kind) in meta.iter_mut().zip(&self.meta) {
                    kind.append(column, &m);
                }
            }
        }
        let mut arrays: Vec<_> = columns.iter_mut().map(ColumnBuilder::finish).collect();
        for (hint, array) in hints.iter_mut().zip(&arrays) {
            if matches!(array.data_type(), DataType::Utf8) {
                *hint = array.as_string::<i32>().values().len();
            }
        }
        // After the hints: they size the next slice's builders for the raw text.
        if let Some(columns) = &self.residual {
            let at = |kind: fn(&Meta) -> bool| {
                let m = self.meta.iter().position(kind)?;
                Some(self.data_columns + m)
            };
            let (raw, key) = (
                at(|m| matches!(m, Meta::Raw)),
                at(|m| matches!(m, Meta::Key)),
            );
            residual::store(&mut arrays, raw, key, columns).map_err(|e| self.arrow(e))?;
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

fn meta_row<'a>(r: &RecordRef<'a>, raw: &'a str) -> MetaRow<'a> {
    MetaRow {
        event_time: r.event_time,
        ingest_time: r.ingest_time,
        key: r.key,
        revision: r.revision,
        source: r.source,
        shape: r.shape,
        raw,
    }
}

/// Appends the data columns of an entry whose columns are not in order (the last value of a column
/// counts): its values in column order, null where it has none.
fn append_dense(data: &mut [ColumnBuilder], r: &RecordRef<'_>) -> Result<(), CodecError> {
    let values = r.dense_values()?;
    for (i, column) in data.iter_mut().enumerate() {
        column.append_ref(values.get(i).copied().unwrap_or(ValueRef::Null));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
