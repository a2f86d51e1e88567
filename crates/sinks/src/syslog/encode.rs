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

mod escape;
mod flat;
mod json;
mod plan;
#[cfg(test)]
mod tests;

use super::config::{SyslogConfig, SyslogEncoding};
use super::mapping::{self, Mapping};
use crate::TRUNCATION_MARKER;
use crate::ocsf::RecordEncoding;
use crate::util::cut_with_marker;
use escape::{Escaper, Rule, esc_json, escaped_len, fit_escaped, fit_escaped_raw};
use model::Record;
use model::record::format_micros;
use plan::Plan;
use std::fmt::Write as _;
use std::sync::atomic::AtomicUsize;

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
    /// The LEEF delimiter as the header shows it (`^`, or `0x09` when not printable).
    leef_shown: String,
    /// The compiled mapping (CEF/LEEF fields, severity, JSON keys) of every category, by `Category as usize`;
    /// empty for the encodings without a fast path.
    plans: Vec<Plan>,
    header_esc: Escaper,
    cef_esc: Escaper,
    leef_esc: Escaper,
    /// The length of the last message (the next one's buffer capacity).
    size_hint: AtomicUsize,
}

impl Encoder {
    pub(crate) fn new(config: &SyslogConfig, hostname: &str) -> Encoder {
        let d = config.leef_delimiter;
        let leef_shown = if d.is_ascii_graphic() {
            d.to_string()
        } else {
            format!("0x{:02X}", u32::from(d))
        };
        let fast = matches!(
            config.encoding,
            SyslogEncoding::Cef | SyslogEncoding::Leef | SyslogEncoding::Rfc5424Json
        );
        Encoder {
            encoding: config.encoding,
            facility: config.facility,
            hostname: header_token(hostname, 255),
            app_name: header_token(&config.app_name, 48),
            max: config.max_message_bytes(),
            delimiter: d,
            leef_shown,
            plans: if fast {
                model::Category::ALL.iter().map(|&c| Plan::new(c)).collect()
            } else {
                Vec::new()
            },
            header_esc: Escaper::new(Rule::Header),
            cef_esc: Escaper::new(Rule::CefValue),
            leef_esc: Escaper::new(Rule::LeefValue(d)),
            size_hint: AtomicUsize::new(512),
        }
    }

    /// The syslog PRI of a record of CEF severity `sev`.
    fn pri(&self, sev: u8) -> u16 {
        // CEF 0-10 to syslog severity: 9-10 critical, 7-8 warning, 4-6 notice, else informational.
        let syslog_sev = match sev {
            9.. => 2,
            7..=8 => 4,
            4..=6 => 5,
            _ => 6,
        };
        u16::from(self.facility) * 8 + syslog_sev
    }

    /// One message for `record`, at most `max_message_bytes` long, valid UTF-8, no control characters.
    pub(crate) fn encode(&self, record: &Record) -> String {
        if let Some(plan) = self.plans.get(record.category as usize)
            && plan.category == record.category
        {
            let fast = match self.encoding {
                SyslogEncoding::Cef => self.flat(record, plan, true),
                SyslogEncoding::Leef => self.flat(record, plan, false),
                SyslogEncoding::Rfc5424Json => self.json(record, plan),
                _ => None,
            };
            if let Some(message) = fast {
                return message;
            }
        }
        self.encode_general(record)
    }

    /// [`Encoder::encode`] by the general path: fields looked up by name, every attribute collected before
    /// it is written (the record as a `serde_json::Value` for JSON), values cut to fit. The fast paths
    /// (`flat.rs` for CEF/LEEF, `json.rs` for RFC 5424 JSON) write the same bytes when nothing has to be cut.
    fn encode_general(&self, record: &Record) -> String {
        let map = mapping::mapping(record.category);
        let sev = mapping::severity(record, map.severity);
        let pri = self.pri(sev);
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
            fit_escaped(&sig, MAX_HEADER_FIELD, &self.header_esc),
            fit_escaped(&name, MAX_HEADER_FIELD, &self.header_esc),
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
                self.cef_esc.push(&a.value, out);
            }
        };
        fit_attrs(head, attrs, budget, render, self.cef_esc.as_fn())
    }

    fn leef_body(&self, record: &Record, map: &Mapping, sev: u8, budget: usize) -> String {
        let (sig, _) = signature_and_name(record, map);
        let d = self.delimiter;
        let head = format!(
            "LEEF:2.0|Microsoft|{}|1.0|{}|{}|",
            mapping::product(record.category),
            fit_escaped(&sig, MAX_HEADER_FIELD, &self.header_esc),
            self.leef_shown,
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
        let render = |attrs: &[Attr], out: &mut String| {
            for (i, a) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(d);
                }
                out.push_str(&a.key);
                out.push('=');
                self.leef_esc.push(&a.value, out);
            }
        };
        fit_attrs(head, attrs, budget, render, self.leef_esc.as_fn())
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
    let text = serde_json::to_string(json).unwrap_or_default();
    if !may_have_control(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    control_escape(&text, &mut out);
    out
}

/// Whether `s` may hold a DEL or C1 control (compact JSON holds no other control characters): a byte
/// scan for DEL and the C1 lead byte 0xC2.
fn may_have_control(s: &str) -> bool {
    s.bytes().any(|b| b == 0x7f || b == 0xc2 || b < 0x20)
}

/// Appends `s` with every control character as a `\u00xx` escape.
fn control_escape(s: &str, out: &mut String) {
    if !may_have_control(s) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
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

/// RFC 3339 UTC with `digits` (3 or 6) fraction digits; `None` outside years 0..=9999.
pub(crate) fn rfc3339(micros: i64, digits: u32) -> Option<String> {
    let mut out = String::with_capacity(32);
    escape::push_rfc3339(&mut out, micros, digits).then_some(out)
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
