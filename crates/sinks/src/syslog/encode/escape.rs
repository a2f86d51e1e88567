//! The escaping rules of CEF and LEEF (one function per rule, char by char: the definition) and a
//! table-driven escaper that applies the same rules fast: it scans bytes against a 256-entry table of the
//! few bytes a rule may change and copies the clean runs between them whole. Also the integer and
//! timestamp writers that append straight into a message (no `format!` machinery per field).

use crate::TRUNCATION_MARKER;
use std::fmt::Write as _;

/// CR/LF/tab as `\r`/`\n`/`\t`, other control characters as `\xHH`; `false` when `c` is no control.
fn control(c: char, out: &mut String) -> bool {
    match c {
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let _ = write!(out, "\\x{:02X}", u32::from(c));
        }
        _ => return false,
    }
    true
}

/// CEF and LEEF header fields.
pub(crate) fn esc_header(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '|' => out.push_str("\\|"),
        c if control(c, out) => {}
        c => out.push(c),
    }
}

/// CEF extension values.
pub(crate) fn esc_cef_value(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '=' => out.push_str("\\="),
        c if control(c, out) => {}
        c => out.push(c),
    }
}

/// LEEF attribute values with delimiter `d`.
pub(crate) fn esc_leef_value(c: char, d: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if control(c, out) => {}
        c if c == d => {
            out.push('\\');
            out.push(c);
        }
        c => out.push(c),
    }
}

/// JSON string content, as the JSON body writes it (used for lengths only).
pub(super) fn esc_json(c: char, out: &mut String) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => out.push_str("\\n"),
        c if c.is_control() => out.push_str("\\u0000"),
        c => out.push(c),
    }
}

/// Which rule an [`Escaper`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// [`esc_header`].
    Header,
    /// [`esc_cef_value`].
    CefValue,
    /// [`esc_leef_value`] with this delimiter.
    LeefValue(char),
}

/// Applies one [`Rule`] to whole strings: bytes the rule never changes are copied in runs.
#[derive(Clone)]
pub(super) struct Escaper {
    rule: Rule,
    /// The bytes that may start a character the rule changes: every ASCII control, DEL, the rule's
    /// metacharacters, and 0xC2 (the lead byte of the C1 controls U+0080..U+009F). No UTF-8 continuation
    /// byte is ever marked, so a marked byte always starts a character.
    special: [bool; 256],
}

impl std::fmt::Debug for Escaper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Escaper").field("rule", &self.rule).finish()
    }
}

impl Escaper {
    /// The escaper of `rule`.
    pub(super) fn new(rule: Rule) -> Escaper {
        let mut special = [false; 256];
        special[..0x20].fill(true);
        special[0x7f] = true;
        special[0xc2] = true;
        special[usize::from(b'\\')] = true;
        match rule {
            Rule::Header => special[usize::from(b'|')] = true,
            Rule::CefValue => special[usize::from(b'=')] = true,
            Rule::LeefValue(d) => match u8::try_from(d) {
                Ok(b) if b.is_ascii() => special[usize::from(b)] = true,
                // A non-ASCII delimiter (configuration rejects it): check every non-ASCII character.
                _ => special[0xc0..].fill(true),
            },
        }
        Escaper { rule, special }
    }

    /// Escapes one character (the rule's definition).
    pub(super) fn char(&self, c: char, out: &mut String) {
        match self.rule {
            Rule::Header => esc_header(c, out),
            Rule::CefValue => esc_cef_value(c, out),
            Rule::LeefValue(d) => esc_leef_value(c, d, out),
        }
    }

    /// Appends `s` escaped to `out`.
    pub(super) fn push(&self, s: &str, out: &mut String) {
        let bytes = s.as_bytes();
        let (mut start, mut i) = (0, 0);
        while i < bytes.len() {
            if !self.special[usize::from(bytes[i])] {
                i += 1;
                continue;
            }
            let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            out.push_str(s.get(start..i).unwrap_or_default());
            self.char(c, out);
            i += c.len_utf8();
            start = i;
        }
        out.push_str(s.get(start..).unwrap_or_default());
    }

    /// Whether `s` has no byte the rule may change (then it is its own escaped form).
    pub(super) fn is_clean(&self, s: &str) -> bool {
        s.bytes().all(|b| !self.special[usize::from(b)])
    }

    /// Escapes in place what was appended to `out` since `mark` (for text written straight into a message,
    /// such as numbers and timestamps, which almost never need it).
    pub(super) fn fix_tail(&self, out: &mut String, mark: usize) {
        if out.get(mark..).is_some_and(|t| !self.is_clean(t)) {
            let tail = out.split_off(mark);
            self.push(&tail, out);
        }
    }

    /// The per-character function of the rule, for the cutting helpers.
    pub(super) fn as_fn(&self) -> impl Fn(char, &mut String) + Copy + use<> {
        let rule = self.rule;
        move |c: char, out: &mut String| match rule {
            Rule::Header => esc_header(c, out),
            Rule::CefValue => esc_cef_value(c, out),
            Rule::LeefValue(d) => esc_leef_value(c, d, out),
        }
    }
}

/// The length of `s` escaped by `esc`.
pub(super) fn escaped_len(s: &str, esc: impl Fn(char, &mut String)) -> usize {
    let mut buf = String::with_capacity(8);
    s.chars()
        .map(|c| {
            buf.clear();
            esc(c, &mut buf);
            buf.len()
        })
        .sum()
}

/// Escapes `s`; cut (with the marker) to at most `max` escaped bytes.
pub(super) fn fit_escaped(s: &str, max: usize, esc: &Escaper) -> String {
    let mut out = String::new();
    esc.push(&fit_escaped_raw(s, max, esc.as_fn()), &mut out);
    out
}

/// The unescaped prefix of `s` whose escaped form plus the marker is at most `max` bytes, followed by the
/// marker; `s` itself when its escaped form fits.
pub(super) fn fit_escaped_raw(
    s: &str,
    max: usize,
    esc: impl Fn(char, &mut String) + Copy,
) -> String {
    if escaped_len(s, esc) <= max {
        return s.to_owned();
    }
    let room = max.saturating_sub(TRUNCATION_MARKER.len());
    let mut used = 0;
    let mut end = 0;
    let mut buf = String::with_capacity(8);
    for (i, c) in s.char_indices() {
        buf.clear();
        esc(c, &mut buf);
        if used + buf.len() > room {
            break;
        }
        used += buf.len();
        end = i + c.len_utf8();
    }
    format!("{}{TRUNCATION_MARKER}", s.get(..end).unwrap_or_default())
}

/// Appends the decimal digits of `n`.
pub(super) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Appends `n` in decimal (with `-` when negative), as `n.to_string()` writes it.
pub(super) fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends `n` zero-padded to `width` digits (`n` below `10^width`).
fn push_padded(out: &mut String, n: i64, width: u32) {
    let mut div = 10i64.pow(width.saturating_sub(1));
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

/// Appends RFC 3339 UTC with `digits` (3 or 6) fraction digits (`2024-01-02T03:04:05.123456Z`); appends
/// nothing and returns `false` outside years 0..=9999.
pub(super) fn push_rfc3339(out: &mut String, micros: i64, digits: u32) -> bool {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return false;
    }
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    push_padded(out, year, 4);
    out.push('-');
    push_padded(out, month, 2);
    out.push('-');
    push_padded(out, day, 2);
    out.push('T');
    push_padded(out, h, 2);
    out.push(':');
    push_padded(out, m, 2);
    out.push(':');
    push_padded(out, s, 2);
    out.push('.');
    if digits == 3 {
        push_padded(out, frac / 1000, 3);
    } else {
        push_padded(out, frac, 6);
    }
    out.push('Z');
    true
}
