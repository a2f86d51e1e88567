//! Lenient value parsing: the type sloppiness of wire-formats.md §2.2 and §2.4, in one place.
//!
//! - Timestamps in every observed spelling become Unix microseconds (UTC); see [`parse_timestamp`].
//! - Numbers and booleans may arrive as JSON strings; strings may spell null (`"<null>"`, `""`).
//! - Object keys are matched exactly first (the fast path), then ignoring ASCII case.
//! - Dynamic (nested JSON) values are stored as canonical compact JSON: object keys sorted, no whitespace,
//!   so the same object hashes alike whichever shape (and key order) it arrived in. A string holding a JSON
//!   object or array counts as that object or array.
//!
//! `to_column` turns one JSON value into a [`Value`] that fits a column type; a value that cannot be
//! read as the column's type becomes null (the raw record keeps it).

use super::tree::{Node, Num, write_canonical};
use crate::record::Value;
use crate::schema::ColumnType;
use std::cell::RefCell;

/// Whether a value means "no value": JSON null, `""`, `"<null>"`, or an all-blank string.
pub(crate) fn is_nullish(v: &Node<'_>) -> bool {
    match v {
        Node::Null => true,
        Node::Str(s) => is_null_text(s),
        _ => false,
    }
}

/// Whether text spells "no value" (`""`, blanks, `<null>`).
pub fn is_null_text(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(c) if c.is_ascii_whitespace() || *c == b'<' => {
            let t = s.trim();
            t.is_empty() || t.eq_ignore_ascii_case("<null>")
        }
        Some(_) => false,
    }
}

/// Converts one JSON value to a column value of type `ty`. Null spellings become [`Value::Null`]; so does a
/// value that cannot be read as `ty` (an unparseable timestamp, `"abc"` for a number).
pub(crate) fn to_column(v: &Node<'_>, ty: ColumnType) -> Value {
    if is_nullish(v) {
        return Value::Null;
    }
    match ty {
        ColumnType::String => to_text(v).map_or(Value::Null, Value::String),
        ColumnType::Dynamic => Value::Dynamic(to_dynamic(v)),
        ColumnType::Bool => to_bool(v).map_or(Value::Null, Value::Bool),
        ColumnType::Int | ColumnType::Long => to_i64(v).map_or(Value::Null, Value::Int),
        ColumnType::Real => to_f64(v).map_or(Value::Null, Value::Real),
        ColumnType::DateTime => match v {
            Node::Str(s) => parse_timestamp(s).map_or(Value::Null, Value::DateTime),
            _ => Value::Null,
        },
    }
}

/// The text of a value for a string column: strings as they are (a string holding a JSON object or array is
/// made canonical), numbers and booleans as JSON text, objects and arrays as canonical JSON.
pub(crate) fn to_text(v: &Node<'_>) -> Option<String> {
    match v {
        Node::Null => None,
        Node::Str(s) => Some(canonical_if_json(s).unwrap_or_else(|| s.to_string())),
        Node::Bool(b) => Some(if *b { "true".into() } else { "false".into() }),
        Node::Num(n) => {
            let mut out = String::new();
            n.write(&mut out);
            Some(out)
        }
        Node::Arr(_) | Node::Obj(_) => Some(canonical(v)),
    }
}

/// Canonical JSON text of a value for a dynamic column. A string holding a JSON object or array is parsed;
/// any other string stays a JSON string.
pub(crate) fn to_dynamic(v: &Node<'_>) -> String {
    if let Node::Str(s) = v
        && let Some(c) = canonical_if_json(s)
    {
        return c;
    }
    canonical(v)
}

/// Canonical compact JSON of a value (keys sorted, no whitespace).
///
/// Scalars are written straight into their string; objects and arrays are written into a per-thread scratch
/// buffer first and copied out at their exact size, which saves the growing string's reallocations.
pub(crate) fn canonical(v: &Node<'_>) -> String {
    thread_local! {
        static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
    }
    if !matches!(v, Node::Arr(_) | Node::Obj(_)) {
        let mut out = String::new();
        write_canonical(v, &mut out);
        return out;
    }
    SCRATCH.with(|scratch| {
        let Ok(mut buf) = scratch.try_borrow_mut() else {
            let mut out = String::new();
            write_canonical(v, &mut out);
            return out;
        };
        buf.clear();
        write_canonical(v, &mut buf);
        let out = buf.as_str().to_owned();
        if buf.capacity() > 1 << 20 {
            *buf = String::new();
        }
        out
    })
}

/// If `s` (trimmed) is a JSON object or array, its canonical text.
fn canonical_if_json(s: &str) -> Option<String> {
    // Most strings start with neither a bracket nor (Unicode) white space: skip trimming them.
    let first = *s.as_bytes().first()?;
    if !matches!(first, b'{' | b'[') && first > b' ' && first.is_ascii() {
        return None;
    }
    let t = s.trim();
    if !(t.starts_with('{') && t.ends_with('}') || t.starts_with('[') && t.ends_with(']')) {
        return None;
    }
    Node::parse(t).ok().map(|n| canonical(&n))
}

/// Reads a boolean: JSON booleans, `true`/`false`/`1`/`0`/`yes`/`no` in any case, numbers 0 and 1.
pub(crate) fn to_bool(v: &Node<'_>) -> Option<bool> {
    match v {
        Node::Bool(b) => Some(*b),
        Node::Num(Num::U(0)) => Some(false),
        Node::Num(Num::U(1)) => Some(true),
        Node::Str(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") || t == "1" || t.eq_ignore_ascii_case("yes") {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") || t == "0" || t.eq_ignore_ascii_case("no") {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Reads an integer: JSON integers, floats without a fraction, and strings holding either.
pub(crate) fn to_i64(v: &Node<'_>) -> Option<i64> {
    match v {
        Node::Num(Num::U(n)) => i64::try_from(*n).ok(),
        Node::Num(Num::I(n)) => Some(*n),
        Node::Num(Num::F(f)) => float_to_i64(*f),
        Node::Str(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(float_to_i64))
        }
        Node::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// An integral float as an integer, if it is one and in range.
fn float_to_i64(f: f64) -> Option<i64> {
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
}

/// Reads a float: JSON numbers and numeric strings.
pub(crate) fn to_f64(v: &Node<'_>) -> Option<f64> {
    match v {
        Node::Num(Num::U(n)) => Some(*n as f64),
        Node::Num(Num::I(n)) => Some(*n as f64),
        Node::Num(Num::F(f)) => Some(*f),
        Node::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Parses a timestamp to Unix microseconds (UTC). Accepted, with 0–9 fractional digits (beyond 6 truncated):
///
/// - ISO-8601 `2024-01-02T03:04:05.1234567Z`, `…+02:00`, `…-0500`, no zone (= UTC), `T` or a space between date
///   and time (`2025-01-15 14:20:35.456`), seconds optional;
/// - US locale `1/9/2007 9:41:00 AM`, with an optional ` +01:00` offset, or with a comma and milliseconds as
///   the portal's CSV export writes it (`3/24/2022, 2:42:35.644 PM`);
/// - `01/09/2007 09:41:00` (24-hour, no AM/PM).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' {
        parse_iso(b)
    } else if b.contains(&b'/') {
        parse_us(b)
    } else {
        None
    }
}

/// A small cursor over ASCII bytes.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Reads `min..=max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut n: u32 = 0;
        let mut count = 0;
        while count < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    n = n * 10 + u32::from(d - b'0');
                    self.i += 1;
                    count += 1;
                }
                _ => break,
            }
        }
        (count >= min).then_some(n)
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    /// `:ss` and `.fffffffff` after `hh:mm`: returns (seconds, microseconds).
    fn seconds_and_fraction(&mut self) -> Option<(u32, u32)> {
        let mut sec = 0;
        let mut micros = 0;
        if self.eat(b':') {
            sec = self.digits(2, 2)?;
            if self.eat(b'.') || self.eat(b',') {
                let start = self.i;
                let mut frac: u32 = 0;
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    if self.i - start < 6 {
                        frac = frac * 10 + u32::from(d - b'0');
                    }
                    self.i += 1;
                }
                let n = self.i - start;
                if n == 0 || n > 9 {
                    return None;
                }
                for _ in n..6 {
                    frac *= 10;
                }
                micros = frac;
            }
        }
        Some((sec, micros))
    }
    /// An optional zone: `Z`, `±hh:mm`, `±hhmm`, `±hh`. Returns the offset in seconds east of UTC.
    fn zone(&mut self) -> Option<i64> {
        self.skip_spaces();
        if self.eat(b'Z') || self.eat(b'z') {
            return Some(0);
        }
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            None => return Some(0),
            _ => return None,
        };
        self.i += 1;
        let h = self.digits(2, 2)?;
        self.eat(b':');
        let m = if self.done() { 0 } else { self.digits(2, 2)? };
        if h > 23 || m > 59 {
            return None;
        }
        Some(sign * i64::from(h * 3600 + m * 60))
    }
}

fn parse_iso(b: &[u8]) -> Option<i64> {
    let mut c = Cur { b, i: 0 };
    let y = c.digits(4, 4)?;
    c.eat(b'-').then_some(())?;
    let mo = c.digits(2, 2)?;
    c.eat(b'-').then_some(())?;
    let d = c.digits(2, 2)?;
    if c.done() {
        return to_micros(y, mo, d, 0, 0, 0, 0, 0);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let h = c.digits(2, 2)?;
    c.eat(b':').then_some(())?;
    let mi = c.digits(2, 2)?;
    let (sec, micros) = c.seconds_and_fraction()?;
    let off = c.zone()?;
    c.done().then_some(())?;
    to_micros(y, mo, d, h, mi, sec, micros, off)
}

fn parse_us(b: &[u8]) -> Option<i64> {
    let mut c = Cur { b, i: 0 };
    let mo = c.digits(1, 2)?;
    c.eat(b'/').then_some(())?;
    let d = c.digits(1, 2)?;
    c.eat(b'/').then_some(())?;
    let y = c.digits(4, 4)?;
    if c.done() {
        return to_micros(y, mo, d, 0, 0, 0, 0, 0);
    }
    c.eat(b','); // the portal's CSV export: `3/24/2022, 2:42:35.644 PM`
    c.eat(b' ').then_some(())?;
    c.skip_spaces();
    let mut h = c.digits(1, 2)?;
    c.eat(b':').then_some(())?;
    let mi = c.digits(2, 2)?;
    let (sec, micros) = c.seconds_and_fraction()?;
    c.skip_spaces();
    let rest = &b[c.i..];
    let ampm = rest
        .get(..2)
        .map(|p| [p[0].to_ascii_uppercase(), p[1].to_ascii_uppercase()]);
    match ampm {
        Some([b'A', b'M']) | Some([b'P', b'M']) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            let pm = matches!(ampm, Some([b'P', _]));
            h = match (pm, h) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
            c.i += 2;
        }
        _ => {}
    }
    let off = c.zone()?;
    c.done().then_some(())?;
    to_micros(y, mo, d, h, mi, sec, micros, off)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

#[allow(clippy::too_many_arguments)]
fn to_micros(
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    micros: u32,
    off: i64,
) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let s = s.min(59); // a leap second reads as :59
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s) - off;
    Some(secs * 1_000_000 + i64::from(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: i64 = 1_168_335_660_000_000; // 2007-01-09T09:41:00Z

    #[test]
    fn timestamps_in_every_observed_spelling() {
        let cases: &[(&str, Option<i64>)] = &[
            ("2007-01-09T09:41:00Z", Some(T)),
            ("2007-01-09T09:41:00", Some(T)),
            ("2007-01-09T09:41", Some(T)),
            ("2007-01-09 09:41:00", Some(T)),
            ("2007-01-09T09:41:00.1Z", Some(T + 100_000)),
            ("2007-01-09T09:41:00.12Z", Some(T + 120_000)),
            ("2007-01-09T09:41:00.1234567Z", Some(T + 123_456)),
            ("2007-01-09T09:41:00.123456789Z", Some(T + 123_456)),
            ("2007-01-09T11:41:00+02:00", Some(T)),
            ("2007-01-09T11:41:00.000+0200", Some(T)),
            ("2007-01-09T04:41:00.0000000-05:00", Some(T)),
            ("2007-01-09T09:41:00+00:00", Some(T)),
            ("01/09/2007 09:41:00", Some(T)),
            ("1/9/2007 9:41:00 AM", Some(T)),
            ("1/9/2007 10:41:00 AM +01:00", Some(T)),
            ("1/9/2007 9:41:00 PM", Some(T + 12 * 3_600_000_000)),
            ("1/9/2007 12:41:00 AM", Some(T - 9 * 3_600_000_000)),
            ("3/24/2022 2:42:35 PM", Some(1_648_132_955_000_000)),
            ("12/12/2025 3:03:58 PM", Some(1_765_551_838_000_000)),
            ("3/24/2022, 2:42:35.644 PM", Some(1_648_132_955_644_000)),
            ("2025-01-15 14:20:35.456", Some(1_736_950_835_456_000)),
            ("2023-07-26 22:58:30.983201900", Some(1_690_412_310_983_201)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800_000_000)),
            ("2023-02-29T00:00:00Z", None),
            ("2007-13-09T09:41:00Z", None),
            ("2007-01-09T25:41:00Z", None),
            ("2007-01-09T09:41:00.1234567890Z", None),
            ("13/9/2007 9:41:00 PM", None),
            ("1/9/2007 13:41:00 PM", None),
            ("yesterday", None),
            ("", None),
            ("2007-01-09T09:41:00Zjunk", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_timestamp(s), *want, "{s}");
        }
    }

    fn node(v: serde_json::Value) -> Node<'static> {
        Node::parse(Box::leak(v.to_string().into_boxed_str())).unwrap()
    }

    #[test]
    fn values_coerce_to_column_types() {
        use ColumnType as C;
        assert_eq!(
            to_column(&node(json!("50140")), C::String),
            Value::String("50140".into())
        );
        assert_eq!(
            to_column(&node(json!(50140)), C::String),
            Value::String("50140".into())
        );
        assert_eq!(to_column(&node(json!("<null>")), C::String), Value::Null);
        assert_eq!(to_column(&node(json!("")), C::Long), Value::Null);
        assert_eq!(
            to_column(&node(json!("2693631")), C::Int),
            Value::Int(2_693_631)
        );
        assert_eq!(to_column(&node(json!(4.0)), C::Long), Value::Int(4));
        assert_eq!(to_column(&node(json!("abc")), C::Long), Value::Null);
        assert_eq!(to_column(&node(json!("True")), C::Bool), Value::Bool(true));
        assert_eq!(to_column(&node(json!("0")), C::Bool), Value::Bool(false));
        assert_eq!(to_column(&node(json!(1)), C::Bool), Value::Bool(true));
        assert_eq!(to_column(&node(json!("1.5")), C::Real), Value::Real(1.5));
        assert_eq!(
            to_column(&node(json!({"b":1,"a":[true,null]})), C::Dynamic),
            Value::Dynamic(r#"{"a":[true,null],"b":1}"#.into())
        );
        assert_eq!(
            to_column(&node(json!("{\"b\": 1, \"a\": 2}")), C::Dynamic),
            Value::Dynamic(r#"{"a":2,"b":1}"#.into())
        );
        assert_eq!(
            to_column(&node(json!("not json")), C::Dynamic),
            Value::Dynamic(r#""not json""#.into())
        );
        assert_eq!(
            to_column(&node(json!("[1, 2")), C::Dynamic),
            Value::Dynamic(r#""[1, 2""#.into())
        );
        assert_eq!(
            to_column(&node(json!([{"z":1,"y":"\n\u{1}"}])), C::String),
            Value::String(r#"[{"y":"\n\u0001","z":1}]"#.into())
        );
        assert_eq!(
            to_column(&node(json!("[ \"x\" ]")), C::String),
            Value::String(r#"["x"]"#.into())
        );
        assert_eq!(
            to_column(&node(json!("2024-01-02T03:04:05Z")), C::DateTime),
            Value::DateTime(1_704_164_645_000_000)
        );
        assert_eq!(to_column(&node(json!(12)), C::DateTime), Value::Null);
    }
}
