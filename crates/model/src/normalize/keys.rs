//! Dedupe keys and content hashes.
//!
//! - `key`: the first present id field of the category (Log Analytics: the same-named column), so one event
//!   has one key in every shape; where the category has no id, or the record lacks it, `h:` and the content
//!   hash in hex.
//! - `content_hash`: xxh3-128 over the table name and, per hashed column, its name, a type tag and its
//!   canonical bytes (dynamic JSON is already canonical: keys sorted, compact). Categories without an id add
//!   the event time. Which columns are hashed is the engine's rule (event columns only).

use super::engine::Input;
use super::lenient::to_text;
use crate::Category;
use crate::record::{Shape, Value};
use xxhash_rust::xxh3::Xxh3Default;

/// The `h:` key of a record without an id.
pub(crate) fn hash_key(content_hash: u128) -> String {
    format!("h:{content_hash:032x}")
}

/// The record's own id: the first present id field (Log Analytics: the same-named column).
pub(crate) fn id_key(input: &Input<'_>) -> Option<String> {
    input.category.id_fields().iter().find_map(|f| {
        let v = match input.shape {
            Shape::LogAnalytics => input.la(f),
            _ => input.g(f),
        }?;
        to_text(v).filter(|s| !s.trim().is_empty())
    })
}

/// xxh3-128 over the hashed columns' canonical values (and the event time where the category has no id).
/// `cols` gives, aligned with `values`, each column's name, whether it is hashed and whether case-folded.
pub(crate) fn content_hash<'c>(
    category: Category,
    cols: impl Iterator<Item = (&'c str, bool, bool)>,
    values: &[Value],
    event_time: i64,
) -> u128 {
    let mut h = Xxh3Default::new();
    h.update(category.table().as_bytes());
    h.update(&[0xff]);
    for ((name, hashed, folded), v) in cols.zip(values) {
        if hashed {
            hash_value(&mut h, name, v, folded);
        }
    }
    if !category.has_id() {
        h.update(b"\xfe_EventTime");
        h.update(&event_time.to_le_bytes());
    }
    h.digest128()
}

/// Appends one column's canonical bytes to the hash input (nulls add nothing).
fn hash_value(h: &mut Xxh3Default, name: &str, v: &Value, folded: bool) {
    let mut word = [0u8; 8];
    let folded_text: String;
    let (tag, bytes): (u8, &[u8]) = match v {
        Value::Null => return,
        Value::String(s) if folded && s.bytes().any(|b| b.is_ascii_uppercase()) => {
            folded_text = s.to_ascii_lowercase();
            (1, folded_text.as_bytes())
        }
        Value::String(s) => (1, s.as_bytes()),
        Value::Bool(b) => {
            word[0] = u8::from(*b);
            (2, &word[..1])
        }
        Value::Int(i) => {
            word = i.to_le_bytes();
            (3, &word[..])
        }
        Value::Real(f) => {
            word = f.to_le_bytes();
            (4, &word[..])
        }
        Value::DateTime(t) => {
            word = t.to_le_bytes();
            (5, &word[..])
        }
        Value::Dynamic(s) => (6, s.as_bytes()),
    };
    h.update(name.as_bytes());
    h.update(&[0, tag]);
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}
