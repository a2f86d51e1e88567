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
use std::cell::RefCell;
use xxhash_rust::xxh3::xxh3_128;

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
///
/// The hash input is laid out in one per-thread buffer and hashed in one call: the same bytes as feeding
/// each piece to a streaming hasher (so the same hash), without the streaming hasher's cost per small piece.
pub(crate) fn content_hash<'c>(
    category: Category,
    cols: impl Iterator<Item = (&'c str, bool, bool)>,
    values: &[Value],
    event_time: i64,
) -> u128 {
    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| {
        let Ok(mut buf) = buf.try_borrow_mut() else {
            // Never re-entered; a fresh buffer keeps the function total anyway.
            return hash_into(&mut Vec::new(), category, cols, values, event_time);
        };
        let h = hash_into(&mut buf, category, cols, values, event_time);
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
        h
    })
}

fn hash_into<'c>(
    buf: &mut Vec<u8>,
    category: Category,
    cols: impl Iterator<Item = (&'c str, bool, bool)>,
    values: &[Value],
    event_time: i64,
) -> u128 {
    buf.clear();
    buf.extend_from_slice(category.table().as_bytes());
    buf.push(0xff);
    for ((name, hashed, folded), v) in cols.zip(values) {
        if hashed {
            hash_value(buf, name, v, folded);
        }
    }
    if !category.has_id() {
        buf.extend_from_slice(b"\xfe_EventTime");
        buf.extend_from_slice(&event_time.to_le_bytes());
    }
    xxh3_128(buf)
}

/// Appends one column's canonical bytes to the hash input (nulls add nothing).
fn hash_value(buf: &mut Vec<u8>, name: &str, v: &Value, folded: bool) {
    let mut word = [0u8; 8];
    let (tag, bytes): (u8, &[u8]) = match v {
        Value::Null => return,
        Value::String(s) if folded => {
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(&[0, 1]);
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            buf.extend(s.bytes().map(|b| b.to_ascii_lowercase()));
            return;
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
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(&[0, tag]);
    buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    buf.extend_from_slice(bytes);
}
