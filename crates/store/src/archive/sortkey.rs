//! Sort keys of buffered rows. A written file is sorted by its table's sort columns ([`sort_columns`]: up
//! to two text columns, then `_EventTime`). A row's keys are taken when its entry is buffered, from the walk
//! that checks the entry anyway ([`codec::decode_ref_visiting`]): where each key's text lies in the entry
//! (or, rarely, its converted text), so writing a buffer out sorts row indices by comparing those bytes,
//! with no second walk over the entries and no Arrow key columns.
use std::sync::OnceLock;

use datafusion::arrow::datatypes::DataType;
use model::Category;
use model::codec::{self, CodecError, EncodedValue};

use super::file::sort_columns;
use super::schema::{EVENT_TIME_COLUMN, arrow_schema, utf8_text};

/// Text sort keys a row carries at most.
pub(crate) const TEXT_KEYS: usize = 2;

/// One key of a table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// The row's text key in this slot (a `Utf8` data column; nulls first, bytewise ascending).
    Text(usize),
    /// The row's event time.
    EventTime,
}

/// A table's order as keys a buffered row carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortPlan {
    /// The keys, most significant first (the order of [`sort_columns`]).
    pub(crate) keys: Vec<SortKey>,
    /// The data column (schema index) of each text slot.
    pub(crate) text_columns: [Option<usize>; TEXT_KEYS],
}

/// The sort plan of `category`'s table; `None` when a sort column is neither a text data column nor
/// `_EventTime` (such a buffer is sorted through Arrow instead, see `buffer.rs`).
pub(crate) fn plan(category: Category) -> Option<&'static SortPlan> {
    static PLANS: OnceLock<Vec<Option<SortPlan>>> = OnceLock::new();
    let all = PLANS.get_or_init(|| Category::ALL.iter().map(|c| build_plan(*c)).collect());
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .and_then(|i| all.get(i))
        .and_then(Option::as_ref)
}

fn build_plan(category: Category) -> Option<SortPlan> {
    let schema = arrow_schema(category);
    let data = model::schema(category).columns.len();
    let mut plan = SortPlan {
        keys: Vec::new(),
        text_columns: [None; TEXT_KEYS],
    };
    let mut texts = 0;
    for i in sort_columns(&schema) {
        let field = schema.field(i);
        if i < data && field.data_type() == &DataType::Utf8 {
            *plan.text_columns.get_mut(texts)? = Some(i);
            plan.keys.push(SortKey::Text(texts));
            texts += 1;
        } else if i >= data && field.name() == EVENT_TIME_COLUMN {
            plan.keys.push(SortKey::EventTime);
        } else {
            return None;
        }
    }
    Some(plan)
}

/// A row's text key: its bytes in the entry, a converted text, or null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// No value (null sorts first).
    Null,
    /// The text is bytes `start..start + len` of the entry.
    InEntry { start: u32, len: u32 },
    /// A value of another type in a text column, as the column stores it.
    Owned(String),
}

/// The sort-key values of one entry, picked up while [`codec::decode_ref_visiting`] walks it.
#[derive(Debug, Default)]
pub(crate) struct Capture<'a> {
    plan: Option<Option<&'static SortPlan>>,
    values: [Option<EncodedValue<'a>>; TEXT_KEYS],
}

impl<'a> Capture<'a> {
    /// Looks at one value of an entry of `category` (the last value of a column counts, as in decoding).
    pub(crate) fn visit(&mut self, category: Category, v: &EncodedValue<'a>) {
        let Some(plan) = *self.plan.get_or_insert_with(|| plan(category)) else {
            return;
        };
        for (slot, column) in self.values.iter_mut().zip(plan.text_columns) {
            if column == Some(v.index) {
                *slot = Some(*v);
            }
        }
    }

    /// The captured keys, text values located in the entry, others converted.
    pub(crate) fn keys(&self) -> Result<[KeySource; TEXT_KEYS], CodecError> {
        let mut keys = [KeySource::Null, KeySource::Null];
        for (key, value) in keys.iter_mut().zip(&self.values) {
            let Some(v) = value else { continue };
            *key = if v.is_text() {
                match (
                    u32::try_from(v.position()),
                    u32::try_from(v.payload().len()),
                ) {
                    (Ok(start), Ok(len)) => KeySource::InEntry { start, len },
                    _ => owned(v)?,
                }
            } else {
                owned(v)?
            };
        }
        Ok(keys)
    }
}

fn owned(v: &EncodedValue<'_>) -> Result<KeySource, CodecError> {
    Ok(match utf8_text(v.get()?) {
        None => KeySource::Null,
        Some(text) => KeySource::Owned(text.into_owned()),
    })
}

/// Bytes the keys hold outside the entry (for the buffer's accounting).
pub(crate) fn owned_bytes(keys: &[KeySource]) -> u64 {
    keys.iter()
        .map(|k| match k {
            KeySource::Owned(s) => s.len() as u64,
            _ => 0,
        })
        .sum()
}

/// Decodes an entry's header and structure ([`codec::decode_ref`]) and captures its sort keys in the same
/// walk.
pub(crate) fn decode_with_keys(
    entry: &[u8],
) -> Result<(codec::RecordRef<'_>, [KeySource; TEXT_KEYS]), CodecError> {
    let mut capture = Capture::default();
    let record = codec::decode_ref_visiting(entry, |category, v| capture.visit(category, v))?;
    let keys = capture.keys()?;
    Ok((record, keys))
}
