//! Syslog message parsing, lenient like every receiver has to be: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID
//! MSGID [SD] MSG`), RFC 3164 / BSD (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, no year, also with an RFC 3339
//! timestamp as rsyslog forwards it), and anything else as a message with the whole text. Parsing never fails:
//! what cannot be read stays in the message.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

/// Facility names as Log Analytics writes them in `Facility` (and as Azure Monitor data collection rules name
/// them), indexed by facility code.
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Severity names as Log Analytics writes them in `SeverityLevel`, indexed by severity code.
pub const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// One parsed message; fields borrow from the text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyslogMessage<'a> {
    /// Facility code (0..=23); `None` without a valid PRI.
    pub facility: Option<u8>,
    /// Severity code (0..=7); `None` without a valid PRI.
    pub severity: Option<u8>,
    /// RFC 5424 version (1), `None` for BSD and unparsed messages.
    pub version: Option<u32>,
    /// Event time in microseconds since the epoch, UTC, when the message carries one that parses.
    pub timestamp: Option<i64>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME (RFC 5424) or the TAG's program name (RFC 3164).
    pub app_name: Option<&'a str>,
    /// PROCID (RFC 5424) or the TAG's `[pid]` (RFC 3164).
    pub proc_id: Option<&'a str>,
    /// MSGID (RFC 5424).
    pub msg_id: Option<&'a str>,
    /// STRUCTURED-DATA as `{"sd-id": {"param": "value"}}` (RFC 5424).
    pub structured_data: Option<Value>,
    /// The free-form message (after the header; a UTF-8 BOM removed).
    pub msg: &'a str,
}

/// Parses one message (already cut out of its frame). `now` decides the year of BSD timestamps: the year that
/// puts the time nearest to, and not more than a day after, `now`.
pub fn parse(text: &str, now: DateTime<Utc>) -> SyslogMessage<'_> {
    let text = text.trim_end_matches(['\n', '\r', '\0']);
    let mut m = SyslogMessage {
        msg: text,
        ..SyslogMessage::default()
    };
    let Some((pri, rest)) = pri(text) else {
        return m;
    };
    m.facility = Some(pri / 8);
    m.severity = Some(pri % 8);
    m.msg = rest;
    if let Some(after) = version(rest) {
        rfc5424(after, &mut m);
    } else {
        rfc3164(rest, now, &mut m);
    }
    m
}

/// `<PRI>` at the start: 1-3 digits, 0..=191. Returns the value and the text after `>`.
fn pri(text: &str) -> Option<(u8, &str)> {
    let rest = text.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = digits.parse().ok()?;
    (n <= 191).then(|| (n as u8, &rest[end + 1..]))
}

/// An RFC 5424 `VERSION SP` (a non-zero digit, up to 3 digits) right after the PRI.
fn version(rest: &str) -> Option<(u32, &str)> {
    let (v, after) = rest.split_once(' ')?;
    if v.is_empty() || v.len() > 3 || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((v.parse().ok()?, after))
}

/// The next space-delimited header field and the text after its space; `-` is the nil value.
fn field(s: &str) -> (Option<&str>, &str) {
    let (f, rest) = s.split_once(' ').unwrap_or((s, ""));
    ((!f.is_empty() && f != "-").then_some(f), rest)
}

fn rfc5424<'a>((version, rest): (u32, &'a str), m: &mut SyslogMessage<'a>) {
    m.version = Some(version);
    let (ts, rest) = field(rest);
    m.timestamp = ts.and_then(rfc3339);
    let (host, rest) = field(rest);
    let (app, rest) = field(rest);
    let (proc_id, rest) = field(rest);
    let (msg_id, rest) = field(rest);
    m.hostname = host;
    m.app_name = app;
    m.proc_id = proc_id;
    m.msg_id = msg_id;
    let rest = if let Some(r) = rest.strip_prefix('-') {
        r
    } else if rest.starts_with('[') {
        match structured_data(rest) {
            Some((sd, r)) => {
                m.structured_data = Some(sd);
                r
            }
            // Broken structured data: kept in the message.
            None => rest,
        }
    } else {
        rest
    };
    let msg = rest.strip_prefix(' ').unwrap_or(rest);
    m.msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
}

/// RFC 3339 with the offset, to microseconds UTC.
fn rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}

/// `[id p="v" ...][id2 ...]` → `{"id": {"p": "v"}}` and the rest; `None` when it is not well formed.
fn structured_data(s: &str) -> Option<(Value, &str)> {
    let mut out = Map::new();
    let mut rest = s;
    while let Some(r) = rest.strip_prefix('[') {
        let id_end = r.find([' ', ']'])?;
        let id = &r[..id_end];
        if id.is_empty() {
            return None;
        }
        let mut params = Map::new();
        let mut r = &r[id_end..];
        loop {
            r = r.trim_start_matches(' ');
            if let Some(after) = r.strip_prefix(']') {
                r = after;
                break;
            }
            let eq = r.find('=')?;
            let name = &r[..eq];
            let body = r[eq + 1..].strip_prefix('"')?;
            let (value, after) = sd_value(body)?;
            params.insert(name.to_owned(), Value::String(value));
            r = after;
        }
        match out.get_mut(id) {
            Some(Value::Object(existing)) => existing.extend(params),
            _ => {
                out.insert(id.to_owned(), Value::Object(params));
            }
        }
        rest = r;
    }
    Some((Value::Object(out), rest))
}

/// A PARAM-VALUE after its opening quote: unescapes `\"`, `\\`, `\]`; returns it and the text after the
/// closing quote.
fn sd_value(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\' | ']'))) => out.push(e),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn rfc3164<'a>(rest: &'a str, now: DateTime<Utc>, m: &mut SyslogMessage<'a>) {
    let (ts, mut rest) = match bsd_timestamp(rest, now) {
        Some((t, r)) => (Some(t), r),
        None => match rest
            .split_once(' ')
            .and_then(|(f, r)| Some((rfc3339(f)?, r)))
        {
            Some((t, r)) => (Some(t), r),
            None => (None, rest),
        },
    };
    m.timestamp = ts;
    if ts.is_some() {
        // HOSTNAME, unless the next word is already the tag (`sshd[1]:`, `su:`) or a CEF payload.
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if !word.is_empty() && !word.ends_with(':') && !word.contains('[') && !is_cef(rest) {
            m.hostname = Some(word);
            rest = after;
        }
    }
    if is_cef(rest) {
        m.msg = rest;
        return;
    }
    // A tag without a colon before a CEF payload (`host - CEF:0|…` as rsyslog forwards a nil APP-NAME).
    if let Some((word, after)) = rest.split_once(' ')
        && is_cef(after)
    {
        let word = word.trim_end_matches(':');
        m.app_name = (!word.is_empty() && word != "-").then_some(word);
        m.msg = after.trim_start();
        return;
    }
    // TAG: program name (alphanumerics and `-_./`), optional `[pid]`, then `:`.
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_./@".contains(c)))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(name_end);
    let (pid, after) = match after.strip_prefix('[').and_then(|a| a.split_once(']')) {
        Some((pid, a)) => (Some(pid), a),
        None => (None, after),
    };
    if !name.is_empty() && name.len() <= 48 && (after.starts_with(':') || pid.is_some()) {
        m.app_name = Some(name);
        m.proc_id = pid.filter(|p| !p.is_empty());
        let after = after.strip_prefix(':').unwrap_or(after);
        m.msg = after.strip_prefix(' ').unwrap_or(after);
    } else {
        m.msg = rest;
    }
}

/// Whether a message body is CEF (`CEF:<version>|`).
pub(crate) fn is_cef(s: &str) -> bool {
    s.trim_start().strip_prefix("CEF:").is_some_and(|r| {
        r.split_once('|')
            .is_some_and(|(v, _)| v.parse::<u32>().is_ok())
    })
}

/// `Mmm dd hh:mm:ss[.frac]` (day space- or zero-padded), optionally followed by a year (`Mmm dd yyyy
/// hh:mm:ss`, Cisco style), then a space. Times are taken as UTC.
fn bsd_timestamp(s: &str, now: DateTime<Utc>) -> Option<(i64, &str)> {
    let month = MONTHS.iter().position(|m| s.get(..3) == Some(*m))? as u32 + 1;
    let r = s.get(3..)?.strip_prefix(' ')?;
    let r = r.strip_prefix(' ').unwrap_or(r);
    let (day, r) = r.split_once(' ')?;
    let day: u32 = day.parse().ok()?;
    let (mut word, mut r) = r.split_once(' ').unwrap_or((r, ""));
    let mut year = None;
    if word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()) {
        year = word.parse::<i32>().ok();
        (word, r) = r.split_once(' ').unwrap_or((r, ""));
    }
    let (hms, frac) = word.split_once('.').unwrap_or((word, ""));
    let mut parts = hms.split(':');
    let (h, mi, sec): (u32, u32, u32) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    if parts.next().is_some() || hms.len() != 8 {
        return None;
    }
    let micros: i64 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(6).collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{digits:0<6}").parse().ok()?
    };
    let at = |y: i32| -> Option<i64> {
        let d = NaiveDate::from_ymd_opt(y, month, day)?.and_hms_opt(h, mi, sec)?;
        Some(Utc.from_utc_datetime(&d).timestamp_micros() + micros)
    };
    let t = match year {
        Some(y) => at(y)?,
        None => {
            // The year that is not more than a day ahead of now (December's logs read in January).
            let limit = now.timestamp_micros() + 86_400_000_000;
            let y = now.year();
            match at(y) {
                Some(t) if t <= limit => t,
                _ => at(y - 1)?,
            }
        }
    };
    Some((t, r))
}
