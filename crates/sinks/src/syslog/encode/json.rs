//! The fast path of the RFC 5424 JSON body: the canonical record written as JSON straight from its
//! columns, without building a `serde_json::Value` tree first. It writes exactly what the general path
//! writes (`json_text(&record.to_json())`: compact, keys in `serde_json::Map`'s sorted order, serde_json's
//! string escapes, DEL and C1 controls as `\u007f`-style escapes), and gives up when the body is over its
//! budget (the general path cuts) or when the category's keys are not unique.
//!
//! Only dynamic columns still go through `serde_json::Value` (parsed and written again, as
//! `Record::to_json` does, so their keys come out sorted and their numbers normalized).

use super::escape::{push_i64, push_rfc3339, push_u64};
use super::plan::Plan;
use super::{Encoder, control_escape};
use model::{Category, Record, Value};
use std::sync::atomic::Ordering;

/// What one key of the canonical JSON object is filled from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    /// The column at this index (left out when null).
    Column(usize),
    /// `_Category`.
    Category,
    /// `_EventTime`.
    EventTime,
    /// `_IngestTime`.
    IngestTime,
    /// `_Key`.
    Key,
    /// `_Revision`.
    Revision,
    /// `_Source`.
    Source,
    /// `_Shape`.
    Shape,
}

/// The keys of a category's canonical JSON object in the order `serde_json::Map` writes them, each as
/// `"name":`; `None` when two keys would collide (the general path handles that).
pub(super) fn keys(category: Category) -> Option<Vec<(String, Slot)>> {
    let schema = model::schema(category);
    let mut keys: Vec<(String, Slot)> = schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), Slot::Column(i)))
        .collect();
    keys.extend([
        ("_Category".to_owned(), Slot::Category),
        ("_EventTime".to_owned(), Slot::EventTime),
        ("_IngestTime".to_owned(), Slot::IngestTime),
        ("_Key".to_owned(), Slot::Key),
        ("_Revision".to_owned(), Slot::Revision),
        ("_Source".to_owned(), Slot::Source),
        ("_Shape".to_owned(), Slot::Shape),
    ]);
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    if keys.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(
        keys.into_iter()
            .map(|(name, source)| {
                let mut key = String::with_capacity(name.len() + 3);
                push_json_str(&name, &mut key);
                key.push(':');
                (key, source)
            })
            .collect(),
    )
}

impl Encoder {
    /// The RFC 5424 message with the canonical record as JSON, or `None` when the fast path does not apply.
    pub(super) fn json(&self, record: &Record, plan: &Plan) -> Option<String> {
        let keys = plan.json.as_ref()?;
        let mut view = super::plan::View::new(record);
        let sev = plan.severity(&mut view);
        let hint = self.size_hint.load(Ordering::Relaxed);
        let mut out = String::with_capacity(hint.min(self.max) + 256);
        self.push_header(&mut out, record, plan, sev);
        out.push('{');
        let mut first = true;
        for (key, source) in keys {
            if let Slot::Column(i) = source
                && record.values.get(*i).is_none_or(Value::is_null)
            {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(key);
            match *source {
                Slot::Column(i) => push_value(record.values.get(i)?, &mut out),
                Slot::Category => push_json_str(record.category.name(), &mut out),
                Slot::EventTime => push_time(record.event_time, &mut out),
                Slot::IngestTime => push_time(record.ingest_time, &mut out),
                Slot::Key => push_json_str(&record.key, &mut out),
                Slot::Revision => push_u64(&mut out, u64::from(record.revision)),
                Slot::Source => push_json_str(&record.source, &mut out),
                Slot::Shape => push_json_str(record.shape.as_str(), &mut out),
            }
            // Over the limit already: the general path cuts (stop writing what it would throw away).
            if out.len() > self.max {
                return None;
            }
        }
        out.push('}');
        if out.len() > self.max {
            return None;
        }
        self.size_hint.store(out.len(), Ordering::Relaxed);
        Some(out)
    }
}

/// A column value as `Value::to_json` renders it, written as JSON.
fn push_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::String(s) => push_json_str(s, out),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => push_i64(out, *i),
        Value::DateTime(t) => push_time(*t, out),
        Value::Real(_) | Value::Dynamic(_) => {
            // Rare or nested: through serde_json, then the control-character rewrite of the general path.
            let text = serde_json::to_string(&v.to_json()).unwrap_or_default();
            control_escape(&text, out);
        }
    }
}

/// A timestamp as `format_micros` writes it, as a JSON string.
fn push_time(micros: i64, out: &mut String) {
    out.push('"');
    if !push_rfc3339(out, micros, 6) {
        let text = model::format_micros(micros);
        push_json_str_contents(&text, out);
    }
    out.push('"');
}

/// `s` as a JSON string: serde_json's escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls
/// below 0x20 as `\u00xx`), and DEL and the C1 controls as `\u007f`-style escapes.
pub(super) fn push_json_str(s: &str, out: &mut String) {
    out.push('"');
    push_json_str_contents(s, out);
    out.push('"');
}

/// Bytes that start a character [`push_json_str`] escapes (0xC2: the C1 controls' lead byte).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0x7f] = true;
    t[0xc2] = true;
    t
};

fn push_json_str_contents(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if !SPECIAL[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let n = u32::from(c);
                out.push_str("\\u00");
                out.push(char::from(HEX[(n >> 4 & 0xf) as usize]));
                out.push(char::from(HEX[(n & 0xf) as usize]));
            }
            c => out.push(c),
        }
        i += c.len_utf8();
        start = i;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}
