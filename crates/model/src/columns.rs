//! Canonical records of one category held column-wise, as the Parquet archive and Arrow hold them: each
//! column's values contiguous (text dictionary-encoded: the batch's distinct values in one byte buffer with
//! `u32` end offsets, and a `u32` per row; numbers, times and booleans as plain vectors with a validity
//! bitmap), with each row's key and event time beside. Reading row `i` of a column is O(1)
//! ([`Columns::value`]) and reading a few columns over consecutive rows reads a few sequential streams,
//! which the CPU's prefetcher follows, instead of each record's scattered heap strings.
//!
//! A batch is filled record by record ([`Columns::push`]) or from a slice ([`Columns::from_records`],
//! [`by_category`] for a mix of categories). Values must fit their column's type ([`Value::fits`], which
//! every decoded record does); the record's meta fields other than key and event time are not kept.

use crate::Category;
use crate::codec::ValueRef;
use crate::record::{Record, Shape, Value};
use crate::schema::{ColumnType, schema};
use parts::{Dict, Fixed, NULL_ID, Text};

mod parts;

/// The dictionary number of a null in [`Columns::dict_ids`].
pub const NULL_DICT_ID: u32 = NULL_ID;

/// The most text bytes one column of a batch holds (offsets are 31-bit).
pub const MAX_TEXT_BYTES: usize = parts::MAX_TEXT_BYTES;

/// Why a record could not be added to a batch (the batch is unchanged then).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ColumnsError {
    /// The record's category is not the batch's.
    #[error("record of {got} in a batch of {want}")]
    Category {
        /// The batch's category.
        want: &'static str,
        /// The record's.
        got: &'static str,
    },
    /// A value does not fit its column's type, or lies beyond the schema.
    #[error("value of column {column} does not fit the {table} schema")]
    Misfit {
        /// The table.
        table: &'static str,
        /// Column index.
        column: usize,
    },
    /// A text column (or the keys) would exceed [`MAX_TEXT_BYTES`] in this batch.
    #[error("batch text column full")]
    Full,
}

/// One column of a batch, typed by the schema.
#[derive(Debug, Clone)]
enum Column {
    /// `string` (`dynamic` = false) or `dynamic` text.
    Text {
        dynamic: bool,
        text: Dict,
    },
    /// 0 false, 1 true, 2 null.
    Bool(Vec<u8>),
    /// `int` and `long`.
    Int(Fixed<i64>),
    Real(Fixed<f64>),
    DateTime(Fixed<i64>),
}

impl Column {
    fn new(ty: ColumnType, rows: usize) -> Column {
        match ty {
            ColumnType::String | ColumnType::Dynamic => Column::Text {
                dynamic: ty == ColumnType::Dynamic,
                text: Dict::new(rows),
            },
            ColumnType::Bool => Column::Bool(Vec::with_capacity(rows)),
            ColumnType::Int | ColumnType::Long => Column::Int(Fixed::new(rows)),
            ColumnType::Real => Column::Real(Fixed::new(rows)),
            ColumnType::DateTime => Column::DateTime(Fixed::new(rows)),
        }
    }

    /// Whether `v` fits this column (nulls fit all).
    fn fits(&self, v: ValueRef<'_>) -> bool {
        matches!(
            (self, v),
            (_, ValueRef::Null)
                | (Column::Text { dynamic: false, .. }, ValueRef::String(_))
                | (Column::Text { dynamic: true, .. }, ValueRef::Dynamic(_))
                | (Column::Bool(_), ValueRef::Bool(_))
                | (Column::Int(_), ValueRef::Int(_))
                | (Column::Real(_), ValueRef::Real(_))
                | (Column::DateTime(_), ValueRef::DateTime(_))
        )
    }

    /// Appends `v`, which [`Column::fits`].
    fn push(&mut self, v: ValueRef<'_>) {
        match (self, v) {
            (Column::Text { text, .. }, ValueRef::String(s) | ValueRef::Dynamic(s)) => {
                text.push(Some(s))
            }
            (Column::Text { text, .. }, _) => text.push(None),
            (Column::Bool(b), ValueRef::Bool(x)) => b.push(u8::from(x)),
            (Column::Bool(b), _) => b.push(2),
            (Column::Int(f), ValueRef::Int(x)) => f.push(Some(x)),
            (Column::Int(f), _) => f.push(None),
            (Column::Real(f), ValueRef::Real(x)) => f.push(Some(x)),
            (Column::Real(f), _) => f.push(None),
            (Column::DateTime(f), ValueRef::DateTime(x)) => f.push(Some(x)),
            (Column::DateTime(f), _) => f.push(None),
        }
    }

    #[inline]
    fn get(&self, row: usize) -> Option<ValueRef<'_>> {
        Some(match self {
            Column::Text { dynamic, text } => match text.get(row)? {
                None => ValueRef::Null,
                Some(s) if *dynamic => ValueRef::Dynamic(s),
                Some(s) => ValueRef::String(s),
            },
            Column::Bool(b) => match *b.get(row)? {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                _ => ValueRef::Null,
            },
            Column::Int(f) => f.get(row)?.map_or(ValueRef::Null, ValueRef::Int),
            Column::Real(f) => f.get(row)?.map_or(ValueRef::Null, ValueRef::Real),
            Column::DateTime(f) => f.get(row)?.map_or(ValueRef::Null, ValueRef::DateTime),
        })
    }

    fn text_len(&self) -> usize {
        match self {
            Column::Text { text, .. } => text.values.bytes.len(),
            _ => 0,
        }
    }

    fn truncate(&mut self, rows: usize) {
        match self {
            Column::Text { text, .. } => text.truncate(rows),
            Column::Bool(b) => b.truncate(rows),
            Column::Int(f) | Column::DateTime(f) => f.truncate(rows),
            Column::Real(f) => f.truncate(rows),
        }
    }
}

/// A batch of canonical records of one category, column-wise; see the module docs.
#[derive(Debug, Clone)]
pub struct Columns {
    category: Category,
    rows: usize,
    keys: Text,
    event_times: Vec<i64>,
    columns: Vec<Column>,
}

impl Columns {
    /// An empty batch of `category`, with room for `rows` rows.
    pub fn with_capacity(category: Category, rows: usize) -> Columns {
        Columns {
            category,
            rows: 0,
            keys: Text::new(rows),
            event_times: Vec::with_capacity(rows),
            columns: schema(category)
                .columns
                .iter()
                .map(|c| Column::new(c.ty, rows))
                .collect(),
        }
    }

    /// A batch holding `records`, all of `category`.
    pub fn from_records(category: Category, records: &[Record]) -> Result<Columns, ColumnsError> {
        let mut out = Columns::with_capacity(category, records.len());
        for r in records {
            out.push(r)?;
        }
        Ok(out)
    }

    /// The category of every row.
    pub fn category(&self) -> Category {
        self.category
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Number of columns (the category's schema columns).
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Appends one record as a row.
    pub fn push(&mut self, record: &Record) -> Result<(), ColumnsError> {
        if record.category != self.category {
            return Err(ColumnsError::Category {
                want: self.category.table(),
                got: record.category.table(),
            });
        }
        self.push_row(
            &record.key,
            record.event_time,
            record.values.iter().map(ValueRef::from),
        )
    }

    /// Appends one row: its key, event time and values in schema order (missing trailing values are null).
    pub fn push_row<'v>(
        &mut self,
        key: &str,
        event_time: i64,
        values: impl IntoIterator<Item = ValueRef<'v>> + Clone,
    ) -> Result<(), ColumnsError> {
        let table = self.category.table();
        let mut n = 0;
        for (column, v) in values.clone().into_iter().enumerate() {
            let extra = match v {
                ValueRef::String(s) | ValueRef::Dynamic(s) => s.len(),
                _ => 0,
            };
            match self.columns.get(column) {
                Some(c) if c.fits(v) => {
                    if !c.fits_text(extra) {
                        return Err(ColumnsError::Full);
                    }
                }
                _ => return Err(ColumnsError::Misfit { table, column }),
            }
            n = column + 1;
        }
        if !self.keys.fits(key.len()) {
            return Err(ColumnsError::Full);
        }
        for (c, v) in self.columns.iter_mut().zip(values) {
            c.push(v);
        }
        for c in self.columns.iter_mut().skip(n) {
            c.push(ValueRef::Null);
        }
        self.keys.push(Some(key));
        self.event_times.push(event_time);
        self.rows += 1;
        Ok(())
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        if rows >= self.rows {
            return;
        }
        for c in &mut self.columns {
            c.truncate(rows);
        }
        self.keys.truncate(rows);
        self.event_times.truncate(rows);
        self.rows = rows;
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// The value of `column` in `row`; `None` when either is out of range.
    #[inline]
    pub fn get(&self, row: usize, column: usize) -> Option<ValueRef<'_>> {
        self.columns.get(column)?.get(row)
    }

    /// The value of `column` in `row`, [`ValueRef::Null`] when either is out of range.
    #[inline]
    pub fn value(&self, row: usize, column: usize) -> ValueRef<'_> {
        self.get(row, column).unwrap_or(ValueRef::Null)
    }

    /// The dedupe key of `row` (empty when out of range).
    #[inline]
    pub fn key(&self, row: usize) -> &str {
        self.keys.get(row).flatten().unwrap_or_default()
    }

    /// The event time of `row` (0 when out of range).
    #[inline]
    pub fn event_time(&self, row: usize) -> i64 {
        self.event_times.get(row).copied().unwrap_or_default()
    }

    /// Where `row`'s value of text column `column` is in the column's dictionary of distinct values of
    /// this batch (`0..dict_len(column)`): two rows have the same number exactly when their values are the
    /// same text (but for hash collisions, which only give a text two numbers). `None` for a null, a
    /// column that is not text, or either out of range.
    #[inline]
    pub fn dict_id(&self, row: usize, column: usize) -> Option<u32> {
        match self.columns.get(column)? {
            Column::Text { text, .. } => text.ids.get(row).copied().filter(|id| *id != NULL_ID),
            _ => None,
        }
    }

    /// The dictionary numbers of text column `column`, one per row ([`Columns::dict_id`]; a null is
    /// [`NULL_DICT_ID`]); `None` for a column that is not text or out of range.
    #[inline]
    pub fn dict_ids(&self, column: usize) -> Option<&[u32]> {
        match self.columns.get(column)? {
            Column::Text { text, .. } => text.ids.get(..self.rows),
            _ => None,
        }
    }

    /// Number of distinct values of text column `column` in this batch (0 for other columns).
    pub fn dict_len(&self, column: usize) -> usize {
        match self.columns.get(column) {
            Some(Column::Text { text, .. }) => text.entries(),
            _ => 0,
        }
    }

    /// Text bytes held (every text column's distinct values and the keys).
    pub fn text_bytes(&self) -> usize {
        self.keys.bytes.len() + self.columns.iter().map(Column::text_len).sum::<usize>()
    }

    /// `row` as an owned record: category, key, event time and values; the other meta fields are not kept
    /// (times and hash 0, revision 0, source and raw empty, shape Log Analytics).
    pub fn record(&self, row: usize) -> Record {
        Record {
            category: self.category,
            event_time: self.event_time(row),
            ingest_time: 0,
            key: self.key(row).to_owned(),
            content_hash: 0,
            revision: 0,
            source: String::new(),
            shape: Shape::LogAnalytics,
            values: (0..self.columns.len())
                .map(|c| self.value(row, c).to_value())
                .collect::<Vec<Value>>(),
            raw: String::new(),
        }
    }
}

impl Column {
    /// Whether `extra` more text bytes fit (always for non-text columns).
    fn fits_text(&self, extra: usize) -> bool {
        match self {
            Column::Text { text, .. } => text.values.fits(extra),
            _ => true,
        }
    }
}

/// `records` split into batches of one category and at most `max_rows` rows, each with the position in
/// `records` of each of its rows. Rows keep their order within a category; a batch is closed when full, so
/// batches of different categories interleave roughly as the records do.
pub fn by_category(
    records: &[Record],
    max_rows: usize,
) -> Result<Vec<(Columns, Vec<usize>)>, ColumnsError> {
    let max_rows = max_rows.max(1);
    let mut open: Vec<Option<(Columns, Vec<usize>)>> = vec![None; Category::ALL.len()];
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let slot = &mut open[r.category as usize];
        let (batch, rows) =
            slot.get_or_insert_with(|| (Columns::with_capacity(r.category, max_rows), Vec::new()));
        match batch.push(r) {
            Ok(()) => rows.push(i),
            Err(ColumnsError::Full) if !batch.is_empty() => {
                // Close the full batch and start the record on a fresh one.
                let mut fresh = Columns::with_capacity(r.category, max_rows);
                fresh.push(r)?;
                if let Some(done) = slot.replace((fresh, vec![i])) {
                    out.push(done);
                }
                continue;
            }
            Err(e) => return Err(e),
        }
        if batch.len() >= max_rows
            && let Some(done) = slot.take()
        {
            out.push(done);
        }
    }
    out.extend(open.into_iter().flatten().filter(|(b, _)| !b.is_empty()));
    Ok(out)
}

#[cfg(test)]
mod tests;
