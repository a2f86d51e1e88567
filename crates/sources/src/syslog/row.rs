//! One received message → a Log Analytics `Syslog` row (JSON, `Type` = `Syslog`) → a canonical record through
//! `model::decode_record`, so the key and content hash are computed like for every other input (and a Log
//! Analytics export of the same message hashes alike). `_Raw` is the message as received.

use super::cef;
use super::parse::{self, FACILITIES, SEVERITIES};
use chrono::DateTime;
use model::{Category, DecodeContext, Position, Record, Rejected, Shape, format_micros};
use serde_json::{Map, Value};
use std::net::SocketAddr;

/// Where and when a message was received.
#[derive(Debug, Clone)]
pub struct Received<'a> {
    /// Source id.
    pub source: &'a str,
    /// The listener (`tcp 127.0.0.1:5514`).
    pub listener: &'a str,
    /// The sender.
    pub peer: SocketAddr,
    /// When it was read, microseconds since the epoch (UTC).
    pub at: i64,
    /// `CollectorHostName`.
    pub collector: &'a str,
}

impl Received<'_> {
    /// The quarantine position of input from this peer.
    pub fn position(&self, what: &str) -> Position {
        Position {
            source: self.source.to_owned(),
            location: format!("syslog {} from {}", self.listener, self.peer),
            at: what.to_owned(),
        }
    }

    /// A quarantine entry for bytes that are not a frame.
    pub fn rejected(&self, raw: Vec<u8>, reason: String) -> Rejected {
        Rejected {
            position: self.position(&format!("received {}", format_micros(self.at))),
            raw,
            reason,
            category: Some(Category::Syslog.name().to_owned()),
        }
    }
}

/// Builds the `Syslog` row of one message. `truncated` bytes were cut off its end (marked in
/// `SyslogMessage`).
pub fn row(bytes: &[u8], truncated: usize, r: &Received<'_>) -> Map<String, Value> {
    let text = String::from_utf8_lossy(bytes);
    let now = DateTime::from_timestamp_micros(r.at).unwrap_or_default();
    let m = parse::parse(&text, now);
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            row.insert(k.to_owned(), v);
        }
    };
    let s = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    put("TimeGenerated", format_micros(r.at).into());
    put("Type", "Syslog".into());
    let event_time = m.timestamp.unwrap_or(r.at);
    put("EventTime", format_micros(event_time).into());
    let peer_ip = r.peer.ip().to_string();
    put("Computer", m.hostname.unwrap_or(&peer_ip).into());
    put("HostName", s(m.hostname));
    put("HostIP", peer_ip.clone().into());
    put("CollectorHostName", r.collector.into());
    put(
        "Facility",
        s(m.facility
            .and_then(|f| FACILITIES.get(usize::from(f)).copied())),
    );
    put(
        "SeverityLevel",
        s(m.severity
            .and_then(|v| SEVERITIES.get(usize::from(v)).copied())),
    );
    put("ProcessName", s(m.app_name));
    put(
        "ProcessID",
        m.proc_id
            .and_then(|p| p.parse::<i32>().ok())
            .map_or(Value::Null, Value::from),
    );
    put("MsgId", s(m.msg_id));
    put(
        "StructuredData",
        m.structured_data.clone().unwrap_or(Value::Null),
    );
    let mut msg = m.msg.to_owned();
    if truncated > 0 {
        msg.push_str(&format!("…[truncated {truncated} bytes]"));
    }
    if let Some(c) = cef::parse(m.msg) {
        put("CefVersion", c.version.into());
        put("CefDeviceVendor", c.device_vendor.into());
        put("CefDeviceProduct", c.device_product.into());
        put("CefDeviceVersion", c.device_version.into());
        put("CefSignatureId", c.signature_id.into());
        put("CefName", c.name.into());
        put("CefSeverity", c.severity.into());
        put("CefExtensions", Value::Object(c.extensions));
    }
    put("SyslogMessage", msg.into());
    row
}

/// Decodes one message into its record (the row through `model::decode_record`, `_Raw` = the message text).
/// Fails only if the model rejects the row, which a row built here cannot cause; the caller quarantines it.
#[allow(clippy::result_large_err)]
pub fn record(bytes: &[u8], truncated: usize, r: &Received<'_>) -> Result<Record, Rejected> {
    let row = row(bytes, truncated, r);
    let cx = DecodeContext {
        source: r.source.to_owned(),
        location: r.listener.to_owned(),
        ingest_time: r.at,
        category: Some(Category::Syslog),
        shape: Some(Shape::LogAnalytics),
    };
    let text = Value::Object(row).to_string();
    let decoded = model::decode_record(&text, &cx).map_err(|e| e.to_string());
    match decoded.map(|v| v.into_iter().next()) {
        Ok(Some(mut rec)) => {
            rec.raw = String::from_utf8_lossy(bytes).into_owned();
            Ok(rec)
        }
        Ok(None) => Err(r.rejected(bytes.to_vec(), "the message decoded to no record".into())),
        Err(e) => Err(r.rejected(bytes.to_vec(), e)),
    }
}
