//! `_Raw` stored as a residual (`archive.raw = "residual"`): the raw record with every JSON string,
//! object or array that equals one of the row's text columns replaced by a two-byte reference to that
//! column, so the random values (ids, tokens, coordinates) are stored once, in their columns, instead of
//! twice. Lossless and byte-exact: [`decode`] with the row's columns gives back the raw text. `_Key` is stored
//! the same way where it equals the table's id column ([`key_column`]): as a residual that is one reference.
//!
//! # Format
//! A stored `_Raw` that does not start with a NUL byte is the raw text itself (what every file written
//! with `archive.raw = "text"` holds). One that starts with NUL is a residual: after that NUL, the text
//! with `NUL, 0x01` for a literal NUL byte and `NUL, 0x02 + k` for the value of the row's k-th text
//! column ([`text_columns`]: the table's `Utf8` data columns in schema order, at most
//! [`MAX_COLUMNS`]). Raw JSON never holds a NUL byte (JSON escapes control characters), so the marker
//! costs nothing there; raw syslog or CSV text that does is escaped, never mistaken for a reference.
//! Every byte written is ASCII or copied from the raw text at an ASCII boundary, so a residual is
//! valid UTF-8 and stays a plain Parquet `STRING`.
use std::borrow::Cow;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::error::ArrowError;

/// The marker byte: a residual starts with it, and it introduces each reference and escape.
const MARK: u8 = 0;
/// `MARK, LITERAL_NUL` stands for a NUL byte of the raw text.
const LITERAL_NUL: u8 = 1;
/// `MARK, FIRST_COLUMN + k` stands for the value of text column `k`.
const FIRST_COLUMN: u8 = 2;
/// Text columns a residual can refer to (references stay one ASCII byte: `0x02..=0x7f`).
pub(crate) const MAX_COLUMNS: usize = (0x80 - FIRST_COLUMN) as usize;
/// Shortest value worth a reference (which costs two bytes).
const MIN_VALUE_LEN: usize = 3;

/// The columns a residual of this table refers to: indices (into `schema`) of its `Utf8` data columns
/// (the first `data_columns` fields), in order, at most [`MAX_COLUMNS`]. Reference `k` is the k-th.
pub(crate) fn text_columns(schema: &Schema, data_columns: usize) -> Vec<usize> {
    schema
        .fields()
        .iter()
        .take(data_columns)
        .enumerate()
        .filter(|(_, f)| matches!(f.data_type(), DataType::Utf8 | DataType::Utf8View))
        .map(|(i, _)| i)
        .take(MAX_COLUMNS)
        .collect()
}

/// The text column a table's `_Key` usually equals (its first id field, by name: `id` is `Id`), as its
/// index in `schema` and its reference number among [`text_columns`]; `None` for tables keyed by a
/// content hash.
pub(crate) fn key_column(
    category: model::Category,
    schema: &Schema,
    data_columns: usize,
) -> Option<(usize, usize)> {
    let field = category.id_fields().first()?;
    text_columns(schema, data_columns)
        .into_iter()
        .enumerate()
        .find(|(_, i)| schema.field(*i).name().eq_ignore_ascii_case(field))
        .map(|(k, i)| (i, k))
}

/// The stored `_Key` of a row whose key equals its text column `k`: a residual that is one reference
/// (the residual's leading NUL, then the reference).
pub(crate) fn reference(k: usize) -> String {
    let mut s = String::with_capacity(3);
    s.push(char::from(MARK));
    s.push(char::from(MARK));
    s.push(char::from(FIRST_COLUMN + k as u8));
    s
}

/// The stored form of the `_Key` column `key` of a batch: [`reference`]`(k)` where the key equals the
/// row's `Utf8` column `id` (text column `k`), the key itself elsewhere (escaped if it starts with NUL).
pub(crate) fn encode_key_column(
    arrays: &[ArrayRef],
    key: usize,
    (id, k): (usize, usize),
) -> Result<ArrayRef, ArrowError> {
    let (keys, ids) = (utf8(arrays, key)?, utf8(arrays, id)?);
    let same = reference(k);
    let mut out = StringBuilder::with_capacity(keys.len(), same.len() * keys.len());
    let mut escaped = String::new();
    for row in 0..keys.len() {
        if keys.is_null(row) {
            out.append_null();
        } else if ids.is_valid(row) && keys.value(row) == ids.value(row) {
            out.append_value(&same);
        } else if is_residual(keys.value(row)) {
            escaped.clear();
            escaped.push(char::from(MARK));
            push_escaped(&mut escaped, keys.value(row));
            out.append_value(&escaped);
        } else {
            out.append_value(keys.value(row));
        }
    }
    Ok(std::sync::Arc::new(out.finish()))
}

/// What a table's residuals refer to.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    /// [`text_columns`].
    pub(crate) text: Vec<usize>,
    /// [`key_column`].
    pub(crate) key: Option<(usize, usize)>,
}

impl Columns {
    /// The columns of `category`'s table, whose schema is `schema` with `data_columns` data columns.
    pub(crate) fn of(category: model::Category, schema: &Schema, data_columns: usize) -> Self {
        Self {
            text: text_columns(schema, data_columns),
            key: key_column(category, schema, data_columns),
        }
    }
}

/// Replaces the `_Raw` (index `raw`) and `_Key` (index `key`) arrays of a batch of `columns`' table by
/// their stored forms: references to the row's text columns instead of values stored twice.
pub(crate) fn store(
    arrays: &mut [ArrayRef],
    raw: Option<usize>,
    key: Option<usize>,
    columns: &Columns,
) -> Result<(), ArrowError> {
    if let Some(raw) = raw {
        let stored = encode_column(arrays, raw, &columns.text)?;
        if let Some(slot) = arrays.get_mut(raw) {
            *slot = stored;
        }
    }
    if let (Some(key), Some(id)) = (key, columns.key) {
        let stored = encode_key_column(arrays, key, id)?;
        if let Some(slot) = arrays.get_mut(key) {
            *slot = stored;
        }
    }
    Ok(())
}

/// A stored `_Raw` that is not a well-formed residual of the row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ResidualError {
    /// A reference to a column that is null in the row or does not exist.
    #[error("the residual refers to text column {column}, which the row does not have")]
    MissingColumn {
        /// The reference's column number (k).
        column: usize,
    },
    /// A marker byte at the end of the text, or followed by a byte that is no reference.
    #[error("the residual has a malformed marker at byte {at}")]
    Malformed {
        /// Byte offset of the marker.
        at: usize,
    },
}

/// A value a token may be replaced by.
#[derive(Debug, Clone, Copy)]
struct Candidate<'a> {
    /// Its length and first 8 bytes (big-endian, zero-padded): compared before the bytes themselves.
    len: usize,
    prefix: u64,
    k: u8,
    bytes: &'a [u8],
}

/// The bit of [`Encoder::lengths`] for a value of `len` bytes.
fn length_bit(len: usize) -> u128 {
    1 << len.min(127)
}

/// The first 8 bytes of `b` as a big-endian number, zero-padded.
fn prefix(b: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    let n = b.len().min(8);
    if let (Some(dst), Some(src)) = (p.get_mut(..n), b.get(..n)) {
        dst.copy_from_slice(src);
    }
    u64::from_be_bytes(p)
}

/// Reusable state of [`Encoder::encode`]: the row's candidate values, sorted by length, prefix and column.
#[derive(Debug, Default)]
pub(crate) struct Encoder<'a> {
    values: Vec<Candidate<'a>>,
    spans: Vec<(usize, usize, u8)>,
    opens: Vec<usize>,
    has_nested: bool,
    /// Bit `n` set: some value is `n` bytes long (bit 127: some value is 127 bytes or longer).
    lengths: u128,
}

impl<'a> Encoder<'a> {
    /// Starts a row: forgets the previous row's values.
    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.has_nested = false;
        self.lengths = 0;
    }

    /// Adds the value of text column `k` (values shorter than 3 bytes, or with `k` past
    /// [`MAX_COLUMNS`], are not worth a reference and ignored). Call [`Self::encode`] after the last.
    pub(crate) fn add(&mut self, k: usize, value: &'a str) {
        if value.len() < MIN_VALUE_LEN || k >= MAX_COLUMNS {
            return;
        }
        let b = value.as_bytes();
        self.has_nested |= matches!(b.first(), Some(b'{' | b'['));
        self.lengths |= length_bit(b.len());
        self.values.push(Candidate {
            len: b.len(),
            prefix: prefix(b),
            k: k as u8,
            bytes: b,
        });
    }

    /// Appends the stored form of `raw` (a residual, or `raw` itself when nothing is referred to) to
    /// `out`, referring to the values added since [`Self::clear`].
    pub(crate) fn encode(&mut self, raw: &str, out: &mut String) {
        // Of equal values (`Id` and `OriginalRequestId`), the first column is referred to.
        self.values.sort_unstable_by_key(|v| (v.len, v.prefix, v.k));
        self.find_spans(raw.as_bytes());
        let starts_with_mark = raw.as_bytes().first() == Some(&MARK);
        if self.spans.is_empty() && !starts_with_mark {
            out.push_str(raw);
            return;
        }
        out.push(char::from(MARK));
        let mut at = 0;
        for &(start, end, k) in &self.spans {
            push_escaped(out, raw.get(at..start).unwrap_or_default());
            out.push(char::from(MARK));
            out.push(char::from(FIRST_COLUMN + k));
            at = end;
        }
        push_escaped(out, raw.get(at..).unwrap_or_default());
    }

    /// The column whose value equals `token`, if any (the first of equal ones).
    fn lookup(&self, token: &[u8]) -> Option<u8> {
        if token.len() < MIN_VALUE_LEN || self.lengths & length_bit(token.len()) == 0 {
            return None;
        }
        let key = (token.len(), prefix(token));
        let first = self.values.partition_point(|v| (v.len, v.prefix) < key);
        self.values
            .get(first..)?
            .iter()
            .take_while(|v| (v.len, v.prefix) == key)
            .find(|v| v.bytes == token)
            .map(|v| v.k)
    }

    /// Fills `spans` with the non-overlapping byte ranges of `raw` to replace, in order: the contents of
    /// JSON strings and, when some value is an object or array, whole objects and arrays (an outer
    /// match replaces the inner ones). Text that is not JSON is scanned the same way: only quoted or
    /// bracketed ranges that equal a value are replaced, which is always reversible.
    fn find_spans(&mut self, raw: &[u8]) {
        self.spans.clear();
        self.opens.clear();
        if self.values.is_empty() {
            return;
        }
        let mut i = 0;
        while let Some(pos) = next_structural(raw, i, self.has_nested) {
            match raw.get(pos) {
                Some(b'"') => {
                    let Some(end) = string_end(raw, pos + 1) else {
                        return;
                    };
                    // An object's key (a string followed by `:`) is left alone: values are what repeat.
                    let is_key = raw.get(end + 1) == Some(&b':');
                    if !is_key && let Some(k) = raw.get(pos + 1..end).and_then(|t| self.lookup(t)) {
                        self.spans.push((pos + 1, end, k));
                    }
                    i = end + 1;
                }
                Some(b'{' | b'[') => {
                    self.opens.push(pos);
                    i = pos + 1;
                }
                _ => {
                    if let Some(open) = self.opens.pop()
                        && let Some(k) = raw.get(open..=pos).and_then(|t| self.lookup(t))
                    {
                        while self.spans.last().is_some_and(|s| s.0 > open) {
                            self.spans.pop();
                        }
                        self.spans.push((open, pos + 1, k));
                    }
                    i = pos + 1;
                }
            }
        }
    }
}

/// The next `"` (or, when `nested`, bracket) at or after `from`.
fn next_structural(raw: &[u8], from: usize, nested: bool) -> Option<usize> {
    let rest = raw.get(from..)?;
    let found = if nested {
        rest.iter()
            .position(|b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))
    } else {
        memchr::memchr(b'"', rest)
    };
    found.map(|p| from + p)
}

/// The index of the quote closing a string whose contents start at `from` (backslash escapes skipped).
fn string_end(raw: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let p = from + memchr::memchr2(b'"', b'\\', raw.get(from..)?)?;
        if raw.get(p) == Some(&b'"') {
            return Some(p);
        }
        from = p + 2;
    }
}

/// Appends `text` with each NUL byte escaped.
fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(p) = memchr::memchr(MARK, rest.as_bytes()) {
        out.push_str(rest.get(..p).unwrap_or_default());
        out.push(char::from(MARK));
        out.push(char::from(LITERAL_NUL));
        rest = rest.get(p + 1..).unwrap_or_default();
    }
    out.push_str(rest);
}

/// Column `i` of a batch as `Utf8`.
fn utf8(arrays: &[ArrayRef], i: usize) -> Result<&StringArray, ArrowError> {
    arrays
        .get(i)
        .and_then(|a| a.as_string_opt::<i32>())
        .ok_or_else(|| ArrowError::InvalidArgumentError(format!("column {i} is not Utf8")))
}

/// The stored form of the `Utf8` column `raw` of a batch whose `Utf8` text columns are `columns`
/// ([`text_columns`]): each row's raw text with that row's values referred to.
pub(crate) fn encode_column(
    arrays: &[ArrayRef],
    raw: usize,
    columns: &[usize],
) -> Result<ArrayRef, ArrowError> {
    let raws = utf8(arrays, raw)?;
    let texts = columns
        .iter()
        .map(|i| utf8(arrays, *i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = StringBuilder::with_capacity(raws.len(), raws.values().len() / 2);
    let mut encoder = Encoder::default();
    let mut text = String::new();
    for row in 0..raws.len() {
        if raws.is_null(row) {
            out.append_null();
            continue;
        }
        encoder.clear();
        for (k, column) in texts.iter().enumerate() {
            if column.is_valid(row) {
                encoder.add(k, column.value(row));
            }
        }
        text.clear();
        encoder.encode(raws.value(row), &mut text);
        out.append_value(&text);
    }
    Ok(std::sync::Arc::new(out.finish()))
}

/// Whether a stored `_Raw` is a residual (else it is the raw text itself).
pub(crate) fn is_residual(stored: &str) -> bool {
    stored.as_bytes().first() == Some(&MARK)
}

/// The raw text of a stored `_Raw`: itself, or the residual with `column(k)` (the row's k-th text
/// column, `None` when null) put back for each reference.
pub(crate) fn decode<'s>(
    stored: &'s str,
    column: impl Fn(usize) -> Option<&'s str>,
) -> Result<Cow<'s, str>, ResidualError> {
    if !is_residual(stored) {
        return Ok(Cow::Borrowed(stored));
    }
    let mut out = String::with_capacity(stored.len() * 2);
    let mut at = 1;
    while let Some(p) = stored
        .get(at..)
        .and_then(|r| memchr::memchr(MARK, r.as_bytes()))
    {
        let mark = at + p;
        out.push_str(stored.get(at..mark).unwrap_or_default());
        match stored.as_bytes().get(mark + 1) {
            Some(&LITERAL_NUL) => out.push('\0'),
            Some(&b) if (FIRST_COLUMN..0x80).contains(&b) => {
                let k = usize::from(b - FIRST_COLUMN);
                out.push_str(column(k).ok_or(ResidualError::MissingColumn { column: k })?);
            }
            _ => return Err(ResidualError::Malformed { at: mark }),
        }
        at = mark + 2;
    }
    out.push_str(stored.get(at..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

#[cfg(test)]
#[path = "tests_residual.rs"]
mod tests;
