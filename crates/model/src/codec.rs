//! Binary encoding of [`Record`] for the durable log: compact, fast, versioned, and strict on decode (a
//! corrupt entry is an error naming what was wrong, never a panic).
//!
//! Layout (little endian): `version u8 = 1`, category name, `event_time i64`, `ingest_time i64`,
//! `content_hash u128`, `revision u32`, key, source, `shape u8`, non-null value count, then per value
//! `column index, tag u8, payload`, then raw. Strings and counts are LEB128-prefixed. Only non-null values are
//! written, by column index of the category's schema.
//!
//! [`decode`] returns an owned [`Record`]; [`decode_ref`] borrows from the entry and decodes values only as
//! they are read (see [`RecordRef`]).

mod borrowed;
#[cfg(test)]
mod borrowed_tests;

pub use borrowed::{
    EncodedValue, EncodedValues, EntryCursor, RecordRef, ValueRef, decode_ref, decode_ref_visiting,
    read_entry,
};

use crate::Category;
use crate::record::{Record, Shape, Value};
use crate::schema::schema;

const VERSION: u8 = 1;

/// Why an encoded record could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// The entry ended before the record did.
    #[error("record entry truncated at byte {at}")]
    Truncated {
        /// Byte position where more was expected.
        at: usize,
    },
    /// A field held an impossible value.
    #[error("record entry invalid at byte {at}: {what}")]
    Invalid {
        /// Byte position of the field.
        at: usize,
        /// What was wrong.
        what: String,
    },
}

/// Appends the encoding of `record` to `out`.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    encode_head(record, record.raw.len(), out);
    out.extend_from_slice(record.raw.as_bytes());
}

/// Appends the encoding of `record` but for the bytes of its raw text, which end it and are `raw_len` long
/// (`record.raw` itself is not read, so the caller may have taken it out): `out` followed by the raw text is
/// exactly what [`encode`] appends. For a caller that writes the raw text from where it is (the log's
/// vectored writes) instead of copying it.
pub fn encode_head(record: &Record, raw_len: usize, out: &mut Vec<u8>) {
    out.push(VERSION);
    put_str(out, record.category.name());
    out.extend_from_slice(&record.event_time.to_le_bytes());
    out.extend_from_slice(&record.ingest_time.to_le_bytes());
    out.extend_from_slice(&record.content_hash.to_le_bytes());
    out.extend_from_slice(&record.revision.to_le_bytes());
    put_str(out, &record.key);
    put_str(out, &record.source);
    out.push(match record.shape {
        Shape::Graph => 0,
        Shape::Diagnostic => 1,
        Shape::LogAnalytics => 2,
    });
    put_varint(
        out,
        record.values.iter().filter(|v| !v.is_null()).count() as u64,
    );
    for (i, v) in record.values.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        put_varint(out, i as u64);
        match v {
            Value::Null => {}
            Value::String(s) => {
                out.push(1);
                put_str(out, s);
            }
            Value::Bool(b) => {
                out.push(2);
                out.push(u8::from(*b));
            }
            Value::Int(n) => {
                out.push(3);
                out.extend_from_slice(&n.to_le_bytes());
            }
            Value::Real(f) => {
                out.push(4);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Value::DateTime(t) => {
                out.push(5);
                out.extend_from_slice(&t.to_le_bytes());
            }
            Value::Dynamic(s) => {
                out.push(6);
                put_str(out, s);
            }
        }
    }
    put_varint(out, raw_len as u64);
}

/// Encodes `record` into a new buffer.
pub fn encode_to_vec(record: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.raw.len() * 2 + 256);
    encode(record, &mut out);
    out
}

/// The fixed fields every entry starts with.
struct Header<'a> {
    category: Category,
    event_time: i64,
    ingest_time: i64,
    content_hash: u128,
    revision: u32,
    key: &'a str,
    source: &'a str,
    shape: Shape,
}

/// Reads an entry's version and [`Header`].
fn header<'a>(r: &mut Reader<'a>) -> Result<Header<'a>, CodecError> {
    let version = r.u8()?;
    if version != VERSION {
        return Err(r.invalid(format!("unknown version {version}")));
    }
    let name = r.str()?;
    let category =
        Category::from_name(name).ok_or_else(|| r.invalid(format!("unknown category {name:?}")))?;
    Ok(Header {
        category,
        event_time: i64::from_le_bytes(r.array()?),
        ingest_time: i64::from_le_bytes(r.array()?),
        content_hash: u128::from_le_bytes(r.array()?),
        revision: u32::from_le_bytes(r.array()?),
        key: r.str()?,
        source: r.str()?,
        shape: match r.u8()? {
            0 => Shape::Graph,
            1 => Shape::Diagnostic,
            2 => Shape::LogAnalytics,
            other => return Err(r.invalid(format!("unknown shape {other}"))),
        },
    })
}

/// Decodes one record encoded by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Record, CodecError> {
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
    let (key, source) = (key.to_owned(), source.to_owned());
    let columns = schema(category).columns.len();
    let mut values = vec![Value::Null; columns];
    let count = r.varint()?;
    for _ in 0..count {
        let index = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
        if index >= columns {
            return Err(r.invalid(format!(
                "column {index} out of range for {}",
                category.table()
            )));
        }
        values[index] = match r.u8()? {
            1 => Value::String(r.str()?.to_owned()),
            2 => Value::Bool(r.u8()? != 0),
            3 => Value::Int(i64::from_le_bytes(r.array()?)),
            4 => Value::Real(f64::from_le_bytes(r.array()?)),
            5 => Value::DateTime(i64::from_le_bytes(r.array()?)),
            6 => Value::Dynamic(r.str()?.to_owned()),
            other => return Err(r.invalid(format!("unknown value tag {other}"))),
        };
    }
    let raw = r.str()?.to_owned();
    if r.at != bytes.len() {
        return Err(r.invalid(format!("{} trailing bytes", bytes.len() - r.at)));
    }
    Ok(Record {
        category,
        event_time,
        ingest_time,
        key,
        content_hash,
        revision,
        source,
        shape,
        values,
        raw,
    })
}

/// Reads only the fields the dedupe index needs (category, key, content hash, ingest time) without
/// decoding the values.
pub fn decode_key(bytes: &[u8]) -> Result<(Category, String, u128, i64), CodecError> {
    let mut r = Reader { bytes, at: 0 };
    if r.u8()? != VERSION {
        return Err(r.invalid("unknown version".into()));
    }
    let name = r.str()?;
    let category =
        Category::from_name(name).ok_or_else(|| r.invalid(format!("unknown category {name:?}")))?;
    let _event_time: [u8; 8] = r.array()?;
    let ingest_time = i64::from_le_bytes(r.array()?);
    let content_hash = u128::from_le_bytes(r.array()?);
    let _revision: [u8; 4] = r.array()?;
    let key = r.str()?.to_owned();
    Ok((category, key, content_hash, ingest_time))
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[derive(Debug, Clone)]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn invalid(&self, what: String) -> CodecError {
        CodecError::Invalid { at: self.at, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or(CodecError::Truncated { at: self.at })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.invalid("varint too long".into()))
    }

    fn str(&mut self) -> Result<&'a str, CodecError> {
        let len =
            usize::try_from(self.varint()?).map_err(|_| self.invalid("length too large".into()))?;
        let at = self.at;
        let s = self.take(len)?;
        std::str::from_utf8(s).map_err(|e| CodecError::Invalid {
            at,
            what: format!("invalid UTF-8: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(values: Vec<Value>) -> Record {
        Record {
            category: Category::SignInLogs,
            event_time: -5,
            ingest_time: 1_700_000_000_000_000,
            key: "k".into(),
            content_hash: u128::MAX - 3,
            revision: 2,
            source: "src".into(),
            shape: Shape::LogAnalytics,
            values,
            raw: "{\"a\":1}".into(),
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            ".{0,20}".prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("NaN never equals itself", |f| !f.is_nan())
                .prop_map(Value::Real),
            any::<i64>().prop_map(Value::DateTime),
            ".{0,20}".prop_map(Value::Dynamic),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(values in proptest::collection::vec(value(), 77)) {
            let r = record(values);
            let bytes = encode_to_vec(&r);
            prop_assert_eq!(decode(&bytes), Ok(r.clone()));
            let mut head = Vec::new();
            encode_head(&r, r.raw.len(), &mut head);
            head.extend_from_slice(r.raw.as_bytes());
            prop_assert_eq!(&head, &bytes);
            prop_assert_eq!(decode_key(&bytes), Ok((r.category, r.key.clone(), r.content_hash, r.ingest_time)));
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn every_truncation_is_an_error(cut in 0usize..1000) {
            let bytes = encode_to_vec(&record(vec![Value::String("x".repeat(50)); 77]));
            let cut = cut % bytes.len();
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }
}
