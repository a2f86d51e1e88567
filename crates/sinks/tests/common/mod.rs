//! Shared by the sink integration tests: record builders, the hostile-values corpus, and CEF / LEEF
//! parsers written from the formats' rules (independent of the encoders under test).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use model::{Category, Record, Shape, Value, schema};
use std::collections::BTreeMap;

/// The marker a cut value ends with (kept literal here so a change in the crate fails the tests).
pub const MARKER: &str = "...[truncated by entrail]";

/// A record of `category` with `columns` set (strings; `{`-prefixed values become dynamic JSON).
pub fn record(category: Category, key: &str, columns: &[(&str, &str)]) -> Record {
    let s = schema(category);
    let mut values = vec![Value::Null; s.columns.len()];
    for (name, v) in columns {
        let i = s
            .index_of(name)
            .unwrap_or_else(|| panic!("{name} not in {category}"));
        values[i] = if v.starts_with('{') {
            Value::Dynamic((*v).to_owned())
        } else {
            Value::String((*v).to_owned())
        };
    }
    Record {
        category,
        event_time: 1_700_000_000_123_456,
        ingest_time: 1_700_000_001_000_000,
        key: key.to_owned(),
        content_hash: 1,
        revision: 0,
        source: "test".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

/// Values that try to forge messages or fields, plus a 1 MiB value.
pub fn hostile_corpus() -> Vec<String> {
    vec![
        "alice@contoso.com".into(),
        "evil\r\n<13>1 2024-01-01T00:00:00Z forged app - - - CEF:0|x|y|1|2|3|4|suser=forged".into(),
        "a|b|c\\|d|".into(),
        "key=value x=y \\= cs1=forged flexString1=k0".into(),
        "trailing backslash\\".into(),
        "caret^usrName=forged^entrailKey=k0".into(),
        "tab\there nul\u{0}del\u{7f}bell\u{7}".into(),
        "unicode ✓ 日本語 \u{FFFD}\u{FFFD} (invalid UTF-8, replaced)".into(),
        "{\"json\":\"in a value\"} ]\"'<>&".into(),
        "120 <13>1 octet counting forgery".into(),
        "A".repeat(1 << 20),
    ]
}

/// Sign-in records, one per corpus entry (`k0`, `k1`, ...), the value in the user, description and
/// user agent columns.
pub fn hostile_records() -> Vec<Record> {
    hostile_corpus()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            record(
                Category::SignInLogs,
                &format!("k{i}"),
                &[
                    ("UserPrincipalName", v),
                    ("ResultDescription", v),
                    ("UserAgent", v),
                    ("ResultType", "50126"),
                ],
            )
        })
        .collect()
}

/// Checks a received value against the sent one: equal, or (when cut) a prefix plus the marker.
pub fn assert_intact_or_cut(sent: &str, got: &str, must_cut: bool) {
    if got == sent {
        assert!(!must_cut, "expected a cut for a {}-byte value", sent.len());
        return;
    }
    let prefix = got.strip_suffix(MARKER).unwrap_or_else(|| {
        panic!(
            "value changed without marker: sent {:?} got {:?}",
            &sent[..sent.len().min(200)],
            &got[..got.len().min(200)]
        )
    });
    assert!(sent.starts_with(prefix), "cut value is not a prefix");
}

fn unescape(s: &str, extra: &[char]) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            Some(c) if extra.contains(&c) => out.push(c),
            other => panic!("bad escape \\{other:?} in {:?}", &s[..s.len().min(200)]),
        }
    }
    out
}

/// Splits at unescaped `sep`, at most `n` parts (the last takes the rest).
fn split_unescaped(s: &str, sep: char, n: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if parts.len() + 1 == n {
            break;
        }
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A parsed CEF or LEEF message.
#[derive(Debug)]
pub struct Parsed {
    /// Header fields after the format tag (vendor, product, version, id, ...).
    pub header: Vec<String>,
    /// Extension / attributes.
    pub fields: BTreeMap<String, String>,
}

/// Parses `CEF:0|vendor|product|version|sig|name|sev|ext` per the ArcSight rules.
pub fn parse_cef(msg: &str) -> Parsed {
    let rest = msg
        .strip_prefix("CEF:0|")
        .unwrap_or_else(|| panic!("not CEF: {msg:.200}"));
    let parts = split_unescaped(rest, '|', 7);
    assert_eq!(parts.len(), 7, "CEF header: {msg:.300}");
    let header = parts[..6].iter().map(|p| unescape(p, &['|'])).collect();
    let ext = parts[6];
    // Every unescaped '=' ends a key; the key starts after the last space before it.
    let mut eqs = Vec::new();
    let mut escaped = false;
    for (i, c) in ext.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' {
            eqs.push(i);
        }
    }
    let mut fields = BTreeMap::new();
    let key_start = |eq: usize| ext[..eq].rfind(' ').map_or(0, |s| s + 1);
    for (n, &eq) in eqs.iter().enumerate() {
        let key = &ext[key_start(eq)..eq];
        assert!(
            key.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad CEF key {key:?}"
        );
        let end = eqs
            .get(n + 1)
            .map_or(ext.len(), |&next| key_start(next) - 1);
        let value = unescape(&ext[eq + 1..end], &['=']);
        assert!(
            fields.insert(key.to_owned(), value).is_none(),
            "key {key} twice"
        );
    }
    Parsed { header, fields }
}

/// Parses `LEEF:2.0|vendor|product|version|id|delim|attrs`.
pub fn parse_leef(msg: &str) -> Parsed {
    let rest = msg
        .strip_prefix("LEEF:2.0|")
        .unwrap_or_else(|| panic!("not LEEF: {msg:.200}"));
    let parts = split_unescaped(rest, '|', 6);
    assert_eq!(parts.len(), 6, "LEEF header: {msg:.300}");
    let header: Vec<String> = parts[..5].iter().map(|p| unescape(p, &['|'])).collect();
    let d = match header[4].as_str() {
        h if h.starts_with("0x") => {
            char::from_u32(u32::from_str_radix(&h[2..], 16).unwrap()).unwrap()
        }
        h => {
            assert_eq!(h.chars().count(), 1, "delimiter {h:?}");
            h.chars().next().unwrap()
        }
    };
    let mut fields = BTreeMap::new();
    for attr in split_unescaped(parts[5], d, usize::MAX) {
        let (k, v) = attr
            .split_once('=')
            .unwrap_or_else(|| panic!("attr {attr:.100}"));
        assert!(
            k.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad LEEF key {k:?}"
        );
        assert!(
            fields.insert(k.to_owned(), unescape(v, &[d])).is_none(),
            "key {k} twice"
        );
    }
    Parsed { header, fields }
}
