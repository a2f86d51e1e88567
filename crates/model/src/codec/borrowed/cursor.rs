//! [`EntryCursor`]: an encoded entry read front to back in one pass, for consumers that read every value of
//! every entry once (the archive writing columns) or a chosen few (the Sigma engine).

use super::{EncodedValue, EncodedValues, ValueRef, select, utf8};
use crate::Category;
use crate::codec::{CodecError, Reader, header};
use crate::record::Shape;
use crate::schema::schema;

/// An entry read front to back in a single pass ([`read_entry`]): the header decoded, then the values one
/// by one ([`EntryCursor::next_value`]), then the raw record ([`EntryCursor::finish`]). For a consumer that
/// reads every value of every entry once (the archive writing columns); it gets the same values and the
/// same verdict on a damaged entry as [`super::decode_ref`] followed by reading every value and the raw text.
#[derive(Debug, Clone)]
pub struct EntryCursor<'a> {
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
    values: EncodedValues<'a>,
    len: usize,
    /// Where the value [`EntryCursor::next_value`] failed on is, if it did.
    broken: Option<usize>,
}

/// Decodes the header of an entry encoded by [`crate::codec::encode`] and returns a cursor over the rest; see
/// [`EntryCursor`].
pub fn read_entry(bytes: &[u8]) -> Result<EntryCursor<'_>, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    let h = header(&mut r)?;
    let count = r.varint()?;
    Ok(EntryCursor {
        category: h.category,
        event_time: h.event_time,
        ingest_time: h.ingest_time,
        key: h.key,
        content_hash: h.content_hash,
        revision: h.revision,
        source: h.source,
        shape: h.shape,
        values: EncodedValues {
            r,
            remaining: count,
            columns: schema(h.category).columns.len(),
            category: h.category,
        },
        len: bytes.len(),
        broken: None,
    })
}

impl<'a> EntryCursor<'a> {
    /// The next value in encoded order (its column index checked to be in range), undecoded; `None` after
    /// the last one or after an error.
    pub fn next_value(&mut self) -> Option<Result<EncodedValue<'a>, CodecError>> {
        let v = self.values.next();
        if let Some(Err(CodecError::Invalid { at, .. } | CodecError::Truncated { at })) = &v {
            self.broken = Some(*at);
        }
        v
    }

    /// Skips the values not read yet, then reads the raw record (its UTF-8 checked) and checks that
    /// nothing follows it.
    pub fn finish(mut self) -> Result<&'a str, CodecError> {
        if let Some(at) = self.broken {
            return Err(CodecError::Invalid {
                at,
                what: "a value before the raw record is damaged".into(),
            });
        }
        for v in self.values.by_ref() {
            v?;
        }
        let r = &mut self.values.r;
        let len = usize::try_from(r.varint()?).map_err(|_| r.invalid("length too large".into()))?;
        let raw_at = r.at;
        let raw = r.take(len)?;
        if r.at != self.len {
            return Err(r.invalid(format!("{} trailing bytes", self.len - r.at)));
        }
        utf8(raw, raw_at)
    }
}

impl<'a> EntryCursor<'a> {
    /// [`super::RecordRef::select_values`] over the values this cursor has not read yet: a single pass from the
    /// header, without [`super::decode_ref`]'s structure walk. Values not wanted are skipped, not decoded (nor
    /// their column index checked); the raw record and trailing bytes are not checked.
    pub fn select_values(
        self,
        wanted: &[bool],
        mut f: impl FnMut(usize, ValueRef<'a>),
    ) -> Result<(), CodecError> {
        select(
            self.values.r.bytes,
            self.values.r.at,
            self.values.remaining,
            wanted,
            &mut f,
        )
    }
}
