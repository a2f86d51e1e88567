//! Borrowed decoding of the log encoding ([`super::encode`]): [`decode_ref`] checks an entry's structure and
//! decodes its header, leaving the values and the raw record encoded until they are read; every string is
//! borrowed from the entry, nothing is allocated. A consumer that turns entries straight into columns (the
//! Parquet archive) reads each value once, with no owned [`Record`] in between.
//!
//! Reading an entry through [`RecordRef`] yields exactly what [`super::decode`] yields ([`RecordRef::to_record`]),
//! and an entry [`super::decode`] rejects is rejected here too: by [`decode_ref`] when its structure is
//! wrong, or when the value or raw text holding invalid UTF-8 is read.

use crate::Category;
use crate::record::{Record, Shape, Value};
use crate::schema::schema;

use super::{CodecError, Header, Reader, header};

mod cursor;
pub use cursor::{EntryCursor, read_entry};

/// A column value borrowed from an encoded entry; see [`Value`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// No value.
    Null,
    /// Text.
    String(&'a str),
    /// Boolean.
    Bool(bool),
    /// Integer (`int` and `long` columns).
    Int(i64),
    /// Float.
    Real(f64),
    /// UTC timestamp in microseconds.
    DateTime(i64),
    /// Nested JSON as compact text.
    Dynamic(&'a str),
}

impl ValueRef<'_> {
    /// The owned [`Value`].
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::String(s) => Value::String(s.to_owned()),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(n) => Value::Int(n),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::DateTime(t) => Value::DateTime(t),
            ValueRef::Dynamic(s) => Value::Dynamic(s.to_owned()),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => ValueRef::Null,
            Value::String(s) => ValueRef::String(s),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(n) => ValueRef::Int(*n),
            Value::Real(f) => ValueRef::Real(*f),
            Value::DateTime(t) => ValueRef::DateTime(*t),
            Value::Dynamic(s) => ValueRef::Dynamic(s),
        }
    }
}

/// One value of an entry as encoded: its column index and undecoded payload. [`EncodedValue::get`] decodes
/// it (checking UTF-8 of text).
#[derive(Debug, Clone, Copy)]
pub struct EncodedValue<'a> {
    /// Column index in the category's schema (checked to be in range).
    pub index: usize,
    tag: u8,
    payload: &'a [u8],
    /// Byte position of the payload in the entry (for errors).
    at: usize,
}

impl<'a> EncodedValue<'a> {
    /// The payload as encoded: the text's bytes for a text value (unchecked UTF-8), 1 or 8 bytes otherwise.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Byte position of the payload in the entry.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Whether the value is text ([`ValueRef::String`] or [`ValueRef::Dynamic`]), its payload the text.
    pub fn is_text(&self) -> bool {
        matches!(self.tag, 1 | 6)
    }

    /// The decoded value.
    pub fn get(&self) -> Result<ValueRef<'a>, CodecError> {
        let fixed = |n: usize| -> Result<[u8; 8], CodecError> {
            let mut a = [0u8; 8];
            let s = self
                .payload
                .get(..n)
                .ok_or(CodecError::Truncated { at: self.at })?;
            a.get_mut(..n)
                .ok_or(CodecError::Truncated { at: self.at })?
                .copy_from_slice(s);
            Ok(a)
        };
        Ok(match self.tag {
            1 => ValueRef::String(utf8(self.payload, self.at)?),
            2 => ValueRef::Bool(fixed(1)?[0] != 0),
            3 => ValueRef::Int(i64::from_le_bytes(fixed(8)?)),
            4 => ValueRef::Real(f64::from_le_bytes(fixed(8)?)),
            5 => ValueRef::DateTime(i64::from_le_bytes(fixed(8)?)),
            6 => ValueRef::Dynamic(utf8(self.payload, self.at)?),
            other => {
                return Err(CodecError::Invalid {
                    at: self.at,
                    what: format!("unknown value tag {other}"),
                });
            }
        })
    }
}

fn utf8(bytes: &[u8], at: usize) -> Result<&str, CodecError> {
    std::str::from_utf8(bytes).map_err(|e| CodecError::Invalid {
        at,
        what: format!("invalid UTF-8: {e}"),
    })
}

/// An encoded record with its header decoded and its values and raw text borrowed, still encoded; see the
/// module docs.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// Category (decides the table and the schema of the values).
    pub category: Category,
    /// Event time, microseconds since the epoch (UTC).
    pub event_time: i64,
    /// When entrail accepted the record, microseconds since the epoch (UTC).
    pub ingest_time: i64,
    /// Dedupe key.
    pub key: &'a str,
    /// Hash of the canonical content.
    pub content_hash: u128,
    /// Revision under `key`.
    pub revision: u32,
    /// Name of the source that delivered it.
    pub source: &'a str,
    /// Wire shape it arrived in.
    pub shape: Shape,
    /// The entry.
    bytes: &'a [u8],
    /// Position of the first value in `bytes`.
    values_at: usize,
    /// Values encoded.
    count: u64,
    /// Whether the column indices are strictly ascending (each column at most once).
    ordered: bool,
    /// The raw record's bytes and their position.
    raw: &'a [u8],
    raw_at: usize,
}

/// Decodes the header of an entry encoded by [`super::encode`] and checks its structure (lengths, tags,
/// column indices, trailing bytes); the UTF-8 of the values and of the raw text is checked when they are
/// read.
pub fn decode_ref(bytes: &[u8]) -> Result<RecordRef<'_>, CodecError> {
    decode_ref_visiting(bytes, |_, _| {})
}

/// [`decode_ref`] that also shows `visit` every value (with the entry's category) as the structure check
/// walks past it, undecoded: a consumer that needs a few values of every entry (the archive's sort keys)
/// takes them from the walk [`decode_ref`] makes anyway.
pub fn decode_ref_visiting<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(Category, &EncodedValue<'a>),
) -> Result<RecordRef<'a>, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    let Header {
        category,
        event_time,
        ingest_time,
        content_hash,
        revision,
        key,
        source,
        shape,
    } = header(&mut r)?;
    let columns = schema(category).columns.len();
    let count = r.varint()?;
    let values_at = r.at;
    let mut ordered = true;
    let mut previous: Option<usize> = None;
    for _ in 0..count {
        let v = next_encoded(&mut r, columns, category)?;
        visit(category, &v);
        ordered &= previous.is_none_or(|p| v.index > p);
        previous = Some(v.index);
    }
    let len = usize::try_from(r.varint()?).map_err(|_| r.invalid("length too large".into()))?;
    let raw_at = r.at;
    let raw = r.take(len)?;
    if r.at != bytes.len() {
        return Err(r.invalid(format!("{} trailing bytes", bytes.len() - r.at)));
    }
    Ok(RecordRef {
        category,
        event_time,
        ingest_time,
        key,
        content_hash,
        revision,
        source,
        shape,
        bytes,
        values_at,
        count,
        ordered,
        raw,
        raw_at,
    })
}

/// Reads the next value's index, tag and payload without decoding the payload.
fn next_encoded<'a>(
    r: &mut Reader<'a>,
    columns: usize,
    category: Category,
) -> Result<EncodedValue<'a>, CodecError> {
    let index = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
    if index >= columns {
        return Err(r.invalid(format!(
            "column {index} out of range for {}",
            category.table()
        )));
    }
    let tag = r.u8()?;
    let len = match tag {
        1 | 6 => usize::try_from(r.varint()?).map_err(|_| r.invalid("length too large".into()))?,
        2 => 1,
        3..=5 => 8,
        other => return Err(r.invalid(format!("unknown value tag {other}"))),
    };
    let at = r.at;
    let payload = r.take(len)?;
    Ok(EncodedValue {
        index,
        tag,
        payload,
        at,
    })
}

impl<'a> RecordRef<'a> {
    /// The raw record as received (its UTF-8 checked now).
    pub fn raw(&self) -> Result<&'a str, CodecError> {
        utf8(self.raw, self.raw_at)
    }

    /// Length in bytes of the raw record.
    pub fn raw_len(&self) -> usize {
        self.raw.len()
    }

    /// Whether every column appears at most once, in ascending order (always so for entries written by
    /// [`super::encode`]); otherwise the last occurrence of a column counts, as in [`super::decode`].
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// The non-null values in encoded order, undecoded.
    pub fn encoded_values(&self) -> EncodedValues<'a> {
        EncodedValues {
            r: Reader {
                bytes: self.bytes,
                at: self.values_at,
            },
            remaining: self.count,
            columns: schema(self.category).columns.len(),
            category: self.category,
        }
    }

    /// The non-null values in encoded order, decoded: `(column index, value)`.
    pub fn values(
        &self,
    ) -> impl Iterator<Item = Result<(usize, ValueRef<'a>), CodecError>> + use<'a> {
        self.encoded_values()
            .map(|v| v.and_then(|v| Ok((v.index, v.get()?))))
    }

    /// Calls `f` with the column index and value of every value whose column `wanted` marks
    /// (`wanted[index]`; columns past its end are not wanted), in encoded order; only those values are
    /// decoded (their UTF-8 checked). One tight pass over the entry, for readers that want a few columns
    /// of many entries (detection).
    pub fn select_values(
        &self,
        wanted: &[bool],
        mut f: impl FnMut(usize, ValueRef<'a>),
    ) -> Result<(), CodecError> {
        select(self.bytes, self.values_at, self.count, wanted, &mut f)
    }

    /// The value of column `index` ([`ValueRef::Null`] when absent); only that value is decoded.
    pub fn value(&self, index: usize) -> Result<ValueRef<'a>, CodecError> {
        let mut found = None;
        for v in self.encoded_values() {
            let v = v?;
            if v.index == index {
                found = Some(v);
                if self.ordered {
                    break;
                }
            }
        }
        found.map_or(Ok(ValueRef::Null), |v| v.get())
    }

    /// Every column's value, aligned with the category's schema.
    pub fn dense_values(&self) -> Result<Vec<ValueRef<'a>>, CodecError> {
        let mut values = vec![ValueRef::Null; schema(self.category).columns.len()];
        for v in self.values() {
            let (index, value) = v?;
            if let Some(slot) = values.get_mut(index) {
                *slot = value;
            }
        }
        Ok(values)
    }

    /// The owned record, equal to what [`super::decode`] returns for the entry.
    pub fn to_record(&self) -> Result<Record, CodecError> {
        Ok(Record {
            category: self.category,
            event_time: self.event_time,
            ingest_time: self.ingest_time,
            key: self.key.to_owned(),
            content_hash: self.content_hash,
            revision: self.revision,
            source: self.source.to_owned(),
            shape: self.shape,
            values: self
                .dense_values()?
                .into_iter()
                .map(ValueRef::to_value)
                .collect(),
            raw: self.raw()?.to_owned(),
        })
    }
}

/// The loop of [`RecordRef::select_values`] over `count` values starting at byte `at` of `b`.
fn select<'a>(
    b: &'a [u8],
    at: usize,
    count: u64,
    wanted: &[bool],
    f: &mut impl FnMut(usize, ValueRef<'a>),
) -> Result<(), CodecError> {
    let mut at = at;
    for _ in 0..count {
        let index = quick_varint(b, &mut at)?;
        let tag = *b.get(at).ok_or(CodecError::Truncated { at })?;
        at += 1;
        let len = match tag {
            1 | 6 => quick_varint(b, &mut at)?,
            2 => 1,
            3..=5 => 8,
            other => {
                return Err(CodecError::Invalid {
                    at,
                    what: format!("unknown value tag {other}"),
                });
            }
        };
        let payload = usize::try_from(len)
            .ok()
            .and_then(|n| b.get(at..at.checked_add(n)?))
            .ok_or(CodecError::Truncated { at })?;
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        if wanted.get(index).copied().unwrap_or(false) {
            let v = EncodedValue {
                index,
                tag,
                payload,
                at,
            };
            f(index, v.get()?);
        }
        at += payload.len();
    }
    Ok(())
}

/// A varint at `*at` (one byte in the common case), advancing `at`.
#[inline]
fn quick_varint(b: &[u8], at: &mut usize) -> Result<u64, CodecError> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let x = *b.get(*at).ok_or(CodecError::Truncated { at: *at })?;
        *at += 1;
        n |= u64::from(x & 0x7f) << shift;
        if x & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err(CodecError::Invalid {
        at: *at,
        what: "varint too long".into(),
    })
}

/// Iterator over an entry's encoded values; see [`RecordRef::encoded_values`].
#[derive(Debug, Clone)]
pub struct EncodedValues<'a> {
    r: Reader<'a>,
    remaining: u64,
    columns: usize,
    category: Category,
}

impl<'a> Iterator for EncodedValues<'a> {
    type Item = Result<EncodedValue<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let v = next_encoded(&mut self.r, self.columns, self.category);
        if v.is_err() {
            self.remaining = 0;
        }
        Some(v)
    }
}
