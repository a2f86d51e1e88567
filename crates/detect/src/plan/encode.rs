//! Value transformations applied at compile time: `expand` placeholders, `windash` variants, UTF-16
//! encodings, `base64` and `base64offset`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::HashMap;

/// The dash characters `windash` substitutes (pySigma's list).
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Replaces `%name%` placeholders with each configured value (every combination). `Err(name)` names the
/// first placeholder without a value.
pub(crate) fn expand(
    text: &str,
    placeholders: &HashMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let Some(len) = rest[start + 1..].find('%') else {
            break;
        };
        let name = &rest[start + 1..start + 1 + len];
        if name.is_empty() || name.contains(char::is_whitespace) {
            for o in &mut out {
                o.push_str(&rest[..start + 1]);
            }
            rest = &rest[start + 1..];
            continue;
        }
        let values = placeholders
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .ok_or_else(|| name.to_owned())?;
        let prefix = &rest[..start];
        out = out
            .iter()
            .flat_map(|o| values.iter().map(move |v| format!("{o}{prefix}{v}")))
            .collect();
        rest = &rest[start + len + 2..];
    }
    for o in &mut out {
        o.push_str(rest);
    }
    Ok(out)
}

/// Every `windash` variant: each `-` or `/` that starts a word (`\B[-/]\b`) becomes each of five dashes.
pub(crate) fn windash(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            (chars[i] == '-' || chars[i] == '/')
                && !word(i.checked_sub(1).and_then(|j| chars.get(j)))
                && word(chars.get(i + 1))
        })
        .take(4)
        .collect();
    let mut out = vec![chars.clone()];
    for &i in &spots {
        out = out
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |d| {
                    let mut w = v.clone();
                    w[i] = *d;
                    w
                })
            })
            .collect();
    }
    let mut out: Vec<String> = out.into_iter().map(|v| v.into_iter().collect()).collect();
    out.dedup();
    out
}

/// A UTF-16 encoding of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Utf16 {
    /// Little endian (`utf16le`, `wide`).
    Le,
    /// Big endian.
    Be,
    /// Little endian with a byte-order mark (`utf16`).
    Bom,
}

/// Encodes text as UTF-16 bytes.
pub(crate) fn utf16(text: &str, kind: Utf16) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if kind == Utf16::Bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in text.encode_utf16() {
        match kind {
            Utf16::Be => out.extend_from_slice(&u.to_be_bytes()),
            Utf16::Le | Utf16::Bom => out.extend_from_slice(&u.to_le_bytes()),
        }
    }
    out
}

/// Standard base64 of the bytes.
pub(crate) fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The three `base64offset` variants: what the value looks like inside a longer base64 text, whatever its
/// byte offset (pySigma's algorithm: pad with 0–2 spaces, encode, cut the characters the padding and the
/// unaligned end touch).
pub(crate) fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let enc = STANDARD.encode(&padded);
            let cut_end = END[(bytes.len() + i) % 3];
            let end = enc.len().saturating_sub(cut_end);
            enc.get(START[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expand_placeholders() {
        let mut p = HashMap::new();
        p.insert(
            "Countries".to_owned(),
            vec!["GB".to_owned(), "FR".to_owned()],
        );
        assert_eq!(expand("%countries%", &p).unwrap(), ["GB", "FR"]);
        assert_eq!(expand("x-%Countries%-y", &p).unwrap(), ["x-GB-y", "x-FR-y"]);
        assert_eq!(expand("100%", &p).unwrap(), ["100%"]);
        assert_eq!(expand("%Missing%", &p).unwrap_err(), "Missing");
    }

    #[test]
    fn windash_variants() {
        let v = windash("cmd -enc x");
        assert_eq!(v.len(), 5);
        assert!(v.contains(&"cmd /enc x".to_owned()));
        assert!(v.contains(&"cmd \u{2013}enc x".to_owned()));
        // A dash inside a word is left alone.
        assert_eq!(windash("a-b"), ["a-b"]);
        assert_eq!(windash("-a /b").len(), 25);
    }

    #[test]
    fn utf16_and_base64() {
        assert_eq!(utf16("ab", Utf16::Le), b"a\0b\0");
        assert_eq!(utf16("ab", Utf16::Be), b"\0a\0b");
        assert_eq!(utf16("a", Utf16::Bom), [0xFF, 0xFE, b'a', 0]);
        assert_eq!(base64(b"ping"), "cGluZw==");
        // pySigma's documented example for base64offset of "/bin/bash".
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }
}
