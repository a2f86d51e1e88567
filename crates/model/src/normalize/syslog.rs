//! Syslog messages → Syslog (the Log Analytics `Syslog` table plus entrail's `MsgId`, `StructuredData` and
//! `Cef*` columns). The syslog source parses each message into a Log Analytics row (`Type` = `Syslog`), so
//! rows from the source and rows exported from Log Analytics decode, and hash, alike.
//!
//! There is no id: the key is a content hash over the message's own fields and the event time. The
//! receiving side (`HostIP`: the sender's address, `CollectorHostName`, `TenantId`, `MG`, `_ResourceId`) is
//! not hashed, so one message relayed through two collectors dedupes to one record.

use super::engine::{Mapping, Src};
use Src::G;

/// Canonical column ← sources, in order of preference (paths address the row itself).
const COLUMNS: &[(&str, &[Src])] = &[
    ("Computer", &[G("Computer")]),
    ("EventTime", &[G("EventTime")]),
    ("Facility", &[G("Facility")]),
    ("HostName", &[G("HostName")]),
    ("SeverityLevel", &[G("SeverityLevel")]),
    ("SyslogMessage", &[G("SyslogMessage")]),
    ("ProcessID", &[G("ProcessID")]),
    ("ProcessName", &[G("ProcessName")]),
    ("MsgId", &[G("MsgId")]),
    ("StructuredData", &[G("StructuredData")]),
    ("CefVersion", &[G("CefVersion")]),
    ("CefDeviceVendor", &[G("CefDeviceVendor")]),
    ("CefDeviceProduct", &[G("CefDeviceProduct")]),
    ("CefDeviceVersion", &[G("CefDeviceVersion")]),
    ("CefSignatureId", &[G("CefSignatureId")]),
    ("CefName", &[G("CefName")]),
    ("CefSeverity", &[G("CefSeverity")]),
    ("CefExtensions", &[G("CefExtensions")]),
];

/// The syslog mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &[],
    // Filled by the receiving side only (Log Analytics rows carry them; the syslog source sets HostIP and
    // CollectorHostName), never part of the message.
    not_derived: &[
        "TenantId",
        "HostIP",
        "MG",
        "CollectorHostName",
        "_ResourceId",
    ],
    whole_record: true,
    ..Mapping::EMPTY
};
