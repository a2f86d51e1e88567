//! Message encoders: the RFC 5424 header, and the three bodies (canonical JSON, CEF, LEEF 2.0), with each
//! format's escaping and the size limit.
//!
//! Escaping (see `docs/syslog-mapping.md`): no message ever contains a raw CR, LF or other control
//! character, so neither newline framing nor a receiver's line-based store can be split or forged.
//! - JSON: serde_json's escaping (`\n`, `\u0000`, `\"`), plus DEL and C1 controls as `\u007f`-style escapes.
//! - CEF header fields: `\` → `\\`, `|` → `\|`; extension values: `\` → `\\`, `=` → `\=`; both: CR/LF →
//!   `\r`/`\n`, tab → `\t`, other control characters → `\xHH`.
//! - LEEF: header fields as CEF's; attribute values: `\` → `\\`, the delimiter → `\` + delimiter, CR/LF/tab
//!   → `\r`/`\n`/`\t`, other control characters → `\xHH`. `=` needs no escape (keys end at the first `=`).
//!
//! Size: when a message is longer than the limit, the longest value is cut (on a character boundary, never
//! inside an escape) and ends with [`TRUNCATION_MARKER`], then the next longest, until it fits; only if the
//! header alone does not fit is the whole message cut, again with the marker.

use super::config::{SyslogConfig, SyslogEncoding};
use super::mapping::{self, Mapping};
use crate::TRUNCATION_MARKER;
use crate::ocsf::RecordEncoding;
use crate::util::cut_with_marker;
use model::Record;
use model::record::format_micros;
use std::fmt::Write as _;

/// Longest CEF/LEEF header field (signature id, name), escaped.
const MAX_HEADER_FIELD: usize = 256;

/// Turns records into complete syslog messages (without transport framing).
#[derive(Debug)]
pub(crate) struct Encoder {
    encoding: SyslogEncoding,
    facility: u8,
    hostname: String,
    app_name: String,
    max: usize,
    delimiter: char,
}

impl Encoder {
    pub(crate) fn new(config: &SyslogConfig, hostname: &str) -> Encoder {
        Encoder {
            encoding: config.encoding,
            facility: config.facility,
            hostname: header_token(hostname, 255),
            app_name: header_token(&config.app_name, 48),
            max: config.max_message_bytes(),
            delimiter: config.leef_delimiter,
        }
    }

    /// One message for `record`, at most `max_message_bytes` long, valid UTF-8, no control characters.
    pub(crate) fn encode(&self, record: &Record) -> String {
        let map = mapping::mapping(record.category);
        let sev = mapping::severity(record, map.severity);
        // CEF 0-10 to syslog severity: 9-10 critical, 7-8 warning, 4-6 notice, else informational.
        let syslog_sev = match sev {
            9.. => 2,
            7..=8 => 4,
            4..=6 => 5,
            _ => 6,
        };
        let pri = u16::from(self.facility) * 8 + syslog_sev;
        let ts = rfc3339(record.event_time, 6).unwrap_or_else(|| "-".into());
        let msgid = header_token(record.category.table(), 32);
        let header = format!(
            "<{pri}>1 {ts} {} {} - {msgid} - ",
            self.hostname, self.app_name
        );
        let budget = self.max.saturating_sub(header.len());
        let body = match self.encoding {
            SyslogEncoding::Rfc5424Json => json_body(record.to_json(), budget),
            SyslogEncoding::Raw => json_body(RecordEncoding::Raw.to_json(record), budget),
            SyslogEncoding::Ocsf => json_body(RecordEncoding::Ocsf.to_json(record), budget),
            SyslogEncoding::OcsfRaw => json_body(RecordEncoding::OcsfRaw.to_json(record), budget),
            SyslogEncoding::Cef => self.cef_body(record, map, sev, budget),
            SyslogEncoding::Leef => self.leef_body(record, map, sev, budget),
        };
        let mut message = header;
        message.push_str(&body);
        if message.len() <= self.max {
            message
        } else {
            cut_with_marker(&message, self.max)
        }
    }

    fn cef_body(&self, record: &Record, map: &Mapping, sev: u8, budget: usize) -> String {
        let (sig, name) = signature_and_name(record, map);
        let head = format!(
            "CEF:0|Microsoft|{}|1.0|{}|{}|{sev}|",
            mapping::product(record.category),
            fit_escaped(&sig, MAX_HEADER_FIELD, esc_header),
            fit_escaped(&name, MAX_HEADER_FIELD, esc_header),
        );
        let mut attrs = vec![
            Attr::fixed("rt", (record.event_time.div_euclid(1000)).to_string()),
            Attr::fixed("cat", record.category.table().to_owned()),
        ];
        for f in map.fields {
            if let Some(v) = mapping::first(record, f.columns) {
                if let Some(label) = f.label {
                    attrs.push(Attr::fixed(&format!("{}Label", f.cef), label.to_owned()));
                }
                attrs.push(Attr::value(f.cef, v));
            }
        }
        attrs.push(Attr::fixed("flexString1Label", "EntrailKey".into()));
        attrs.push(Attr::value("flexString1", record.key.clone()));
        if map.full_record {
            attrs.push(Attr::value("msg", record.to_json().to_string()));
        }
        let render = |attrs: &[Attr], out: &mut String| {
            for (i, a) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&a.key);
                out.push('=');
                escape_into(&a.value, out, esc_cef_value, '|');
            }
        };
        fit_attrs(head, attrs, budget, render, esc_cef_value)
    }

    fn leef_body(&self, record: &Record, map: &Mapping, sev: u8, budget: usize) -> String {
        let (sig, _) = signature_and_name(record, map);
        let d = self.delimiter;
        let shown = if d.is_ascii_graphic() {
            d.to_string()
        } else {
            format!("0x{:02X}", u32::from(d))
        };
        let head = format!(
            "LEEF:2.0|Microsoft|{}|1.0|{}|{shown}|",
            mapping::product(record.category),
            fit_escaped(&sig, MAX_HEADER_FIELD, esc_header),
        );
        let micros = record.event_time;
        let dev_time = rfc3339_millis(micros);
        let mut attrs = vec![
            Attr::fixed("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX".into()),
            Attr::fixed("devTime", dev_time),
            Attr::fixed("cat", record.category.table().to_owned()),
            Attr::fixed("sev", sev.max(1).to_string()),
        ];
        for f in map.fields {
            if let Some(v) = mapping::first(record, f.columns) {
                attrs.push(Attr::value(f.leef, v));
            }
        }
        attrs.push(Attr::value("entrailKey", record.key.clone()));
        if map.full_record {
            attrs.push(Attr::value("msg", record.to_json().to_string()));
        }
        let esc = move |c: char, out: &mut String| esc_leef_value(c, d, out);
        let render = |attrs: &[Attr], out: &mut String| {
            for (i, a) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(d);
                }
                out.push_str(&a.key);
                out.push('=');
                escape_into(&a.value, out, esc, d);
            }
        };
        fit_attrs(head, attrs, budget, render, esc)
    }
}

/// One extension attribute; `cuttable` ones may be shortened to fit.
#[derive(Debug)]
struct Attr {
    key: String,
    value: String,
    cuttable: bool,
}

impl Attr {
    fn fixed(key: &str, value: String) -> Attr {
        Attr {
            key: key.to_owned(),
            value,
            cuttable: false,
        }
    }
    fn value(key: &str, value: String) -> Attr {
        Attr {
            key: key.to_owned(),
            value,
            cuttable: true,
        }
    }
}

/// Renders `head` + attributes, cutting the longest cuttable values until the body fits `budget`.
fn fit_attrs(
    head: String,
    mut attrs: Vec<Attr>,
    budget: usize,
    render: impl Fn(&[Attr], &mut String),
    esc: impl Fn(char, &mut String) + Copy,
) -> String {
    for _ in 0..=attrs.len() {
        let mut out = head.clone();
        render(&attrs, &mut out);
        if out.len() <= budget {
            return out;
        }
        let excess = out.len() - budget;
        let longest = attrs
            .iter_mut()
            .filter(|a| a.cuttable)
            .max_by_key(|a| escaped_len(&a.value, esc));
        let Some(a) = longest else { return out };
        let len = escaped_len(&a.value, esc);
        if len <= TRUNCATION_MARKER.len() {
            return out;
        }
        a.value = fit_escaped_raw(&a.value, len.saturating_sub(excess), esc);
        a.cuttable = false;
    }
    let mut out = head;
    render(&attrs, &mut out);
    out
}

/// A JSON body (the canonical record, the record as received, or OCSF), its longest strings cut until it
/// fits `budget`.
///
/// Linear: the escaped length of every string is measured once, one cap is computed so that cutting every
/// longer string to the cap (marker included) saves enough, the strings are cut in one walk and the JSON
/// is written once more. Cutting the longest strings to a common cap is the same as cutting the longest
/// one first, then the next longest, until the body fits.
fn json_body(mut json: serde_json::Value, budget: usize) -> String {
    let text = json_text(&json);
    if text.len() <= budget {
        return text;
    }
    let excess = text.len() - budget;
    let mut lengths = Vec::new();
    string_lengths(&json, &mut lengths);
    let Some(cap) = cut_cap(lengths, excess) else {
        return text;
    };
    cut_strings(&mut json, cap);
    json_text(&json)
}

/// The escaped lengths of every string in `v`.
fn string_lengths(v: &serde_json::Value, out: &mut Vec<usize>) {
    match v {
        serde_json::Value::String(s) => out.push(json_escaped_len(s)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| string_lengths(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| string_lengths(x, out)),
        _ => {}
    }
}

/// The largest cap (at least the marker's length) such that cutting every string longer than it to it
/// saves at least `excess` bytes; `None` when even cutting every string to the marker does not.
fn cut_cap(mut lengths: Vec<usize>, excess: usize) -> Option<usize> {
    let floor = TRUNCATION_MARKER.len() + 1;
    lengths.retain(|&l| l > floor);
    lengths.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0usize;
    for k in 0..lengths.len() {
        sum += lengths[k];
        let n = k + 1;
        // Cutting the n longest to `cap` saves sum - n * cap.
        let Some(cap) = sum.checked_sub(excess).map(|room| room / n) else {
            continue;
        };
        let next = lengths.get(n).copied().unwrap_or(0);
        // A cap below the next length means the next string must be cut too (the cap then grows).
        if cap >= next && cap >= floor {
            return Some(cap.min(lengths[k].saturating_sub(1)));
        }
    }
    None
}

/// Cuts every string whose escaped form is longer than `cap` to at most `cap` escaped bytes (marker
/// included).
fn cut_strings(v: &mut serde_json::Value, cap: usize) {
    match v {
        serde_json::Value::String(s) if json_escaped_len(s) > cap => {
            *s = fit_escaped_raw(s, cap, esc_json);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| cut_strings(x, cap)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|x| cut_strings(x, cap)),
        _ => {}
    }
}

/// The length of `s` as [`json_text`] writes it (without the quotes).
fn json_escaped_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if c.is_control() => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// Compact JSON with DEL and C1 controls escaped too (serde_json leaves them raw, and syslog receivers
/// rewrite raw control characters).
fn json_text(json: &serde_json::Value) -> String {
    let text = json.to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// The signature id (`<table>` or `<table>:<value>`) and the name of a record.
fn signature_and_name(record: &Record, map: &Mapping) -> (String, String) {
    let table = record.category.table();
    let sig = match mapping::first(record, map.signature) {
        Some(v) => format!("{table}:{v}"),
        None => table.to_owned(),
    };
    let name = mapping::first(record, map.name).unwrap_or_else(|| table.to_owned());
    (sig, name)
}

/// RFC 3339 with milliseconds (`2024-01-02T03:04:05.123Z`), for LEEF `devTime`.
fn rfc3339_millis(micros: i64) -> String {
    rfc3339(micros, 3).unwrap_or_else(|| format_micros(micros))
}

/// RFC 3339 UTC with `digits` (3 or 6) fraction digits, written directly (no format-string parsing per
/// message); `None` outside years 0..=9999.
pub(crate) fn rfc3339(micros: i64, digits: u32) -> Option<String> {
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
        return None;
    }
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut out = String::with_capacity(32);
    let _ = write!(out, "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.");
    if digits == 3 {
        let _ = write!(out, "{:03}Z", frac / 1000);
    } else {
        let _ = write!(out, "{frac:06}Z");
    }
    Some(out)
}

/// A printable-ASCII RFC 5424 header token (others become `_`), at most `max` long; `-` when empty.
pub(crate) fn header_token(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if t.is_empty() { "-".into() } else { t }
}

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

/// JSON string content, as [`json_text`] writes it (used for lengths only).
fn esc_json(c: char, out: &mut String) {
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

/// Escapes `s` into `out`: runs of characters no escaper touches are copied as they are, the others (controls,
/// `\\`, `|`, `=`, `"`, the LEEF delimiter `delim`) go through `esc`. Scans bytes: every character an escaper may
/// change is ASCII or a C1 control (lead byte 0xC2), so no continuation byte can match.
fn escape_into(s: &str, out: &mut String, esc: impl Fn(char, &mut String), delim: char) {
    let bytes = s.as_bytes();
    let d = if delim.is_ascii() { delim as u8 } else { b'\\' };
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let special = b < 0x20
            || b == 0x7f
            || b == 0xc2
            || b == b'\\'
            || b == b'|'
            || b == b'='
            || b == b'"'
            || b == d;
        if !special {
            i += 1;
            continue;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        out.push_str(&s[start..i]);
        esc(c, out);
        i += c.len_utf8();
        start = i;
    }
    out.push_str(&s[start..]);
}

fn escaped_len(s: &str, esc: impl Fn(char, &mut String)) -> usize {
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
fn fit_escaped(s: &str, max: usize, esc: impl Fn(char, &mut String) + Copy) -> String {
    let mut out = String::new();
    escape_into(&fit_escaped_raw(s, max, esc), &mut out, esc, '|');
    out
}

/// The unescaped prefix of `s` whose escaped form plus the marker is at most `max` bytes, followed by the
/// marker; `s` itself when its escaped form fits.
fn fit_escaped_raw(s: &str, max: usize, esc: impl Fn(char, &mut String) + Copy) -> String {
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
    format!("{}{TRUNCATION_MARKER}", &s[..end])
}
