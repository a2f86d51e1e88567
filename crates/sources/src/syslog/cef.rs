//! ArcSight CEF (`CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`)
//! as it arrives in a syslog message body.
//!
//! Header fields unescape `\|` and `\\`. The extension is `key=value` pairs separated by spaces; a value runs
//! up to the space before the next `key=` and unescapes `\=`, `\\`, `\n`, `\r` (other `\x` are kept as
//! written). An `=` that does not follow a key (an unescaped `=` inside a value, as some devices send) stays
//! in the value. The escaping rules are the ones our syslog sink writes (`crates/sinks/src/syslog/encode.rs`).

use serde_json::{Map, Value};

/// A parsed CEF message.
#[derive(Debug, Clone, PartialEq)]
pub struct Cef {
    /// CEF format version (`0`, `1`).
    pub version: u32,
    /// Device Vendor.
    pub device_vendor: String,
    /// Device Product.
    pub device_product: String,
    /// Device Version.
    pub device_version: String,
    /// Signature ID (Device Event Class ID).
    pub signature_id: String,
    /// Name.
    pub name: String,
    /// Severity (`0`..`10`, or `Low`, `Medium`, `High`, `Very-High`), as written.
    pub severity: String,
    /// Extension key/value pairs, unescaped.
    pub extensions: Map<String, Value>,
}

/// Parses a CEF body (leading spaces allowed); `None` when it is not CEF (no `CEF:<n>|` prefix or fewer than
/// seven header fields).
pub fn parse(text: &str) -> Option<Cef> {
    let body = text.trim_start().strip_prefix("CEF:")?;
    let mut fields: Vec<String> = Vec::with_capacity(7);
    let mut cur = String::new();
    let mut chars = body.char_indices();
    let mut ext_start = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('|' | '\\'))) => cur.push(e),
                Some((_, other)) => {
                    cur.push('\\');
                    cur.push(other);
                }
                None => cur.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut cur));
                if fields.len() == 7 {
                    ext_start = Some(i + 1);
                    break;
                }
            }
            c => cur.push(c),
        }
    }
    let ext_start = ext_start?;
    let version: u32 = fields[0].trim().parse().ok()?;
    let mut it = fields.into_iter().skip(1);
    let mut next = || it.next().unwrap_or_default();
    Some(Cef {
        version,
        device_vendor: next(),
        device_product: next(),
        device_version: next(),
        signature_id: next(),
        name: next(),
        severity: next(),
        extensions: extensions(&body[ext_start..]),
    })
}

/// Whether `s` is a valid extension key (letters, digits, `_`, `.`, `[`, `]`, `-`).
fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.[]-".contains(&b))
}

/// The extension's pairs, in order (a repeated key keeps its last value).
fn extensions(ext: &str) -> Map<String, Value> {
    let bytes = ext.as_bytes();
    // (key start, index of its `=`) for every `=` that is unescaped and follows a key.
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' => {
                let start = ext[..i].rfind(' ').map_or(0, |s| s + 1);
                let after_prev_value = keys.last().is_none_or(|(_, eq)| start > *eq);
                if after_prev_value && is_key(&ext[start..i]) {
                    keys.push((start, i));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut out = Map::new();
    for (n, (start, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(ext.len(), |(s, _)| *s);
        let raw = ext[eq + 1..end].trim_end_matches(' ');
        out.insert(ext[*start..*eq].to_owned(), Value::String(unescape(raw)));
    }
    out
}

/// Unescapes an extension value.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('=') => out.push('='),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
