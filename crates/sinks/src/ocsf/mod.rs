//! OCSF encoding: a canonical record as an event of the Open Cybersecurity Schema Framework
//! ([`OCSF_VERSION`]), one class per category (sign-ins -> Authentication 3002, user/role/credential audits
//! -> Account Change 3001, other audits -> Entity Management 3004, Azure Activity and Graph activity -> API
//! Activity 6003, flow logs and Global Secure Access traffic -> Network Activity 4001, risk categories ->
//! Detection Finding 2004, anything else -> Base Event 0 with the canonical record in `unmapped`), and the
//! record encodings every JSON-bodied sink offers ([`RecordEncoding`]: native, raw, ocsf, ocsf_raw).
//!
//! The mapping is data (`classes.rs`); `docs/ocsf.md` documents it per category.
mod build;
mod classes;

use model::{Record, format_micros};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

/// The OCSF schema version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.3.0";

/// How a JSON-bodied sink renders a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordEncoding {
    /// The canonical record (`Record::to_json`: the table's columns and entrail's `_` meta columns).
    #[default]
    Native,
    /// The record as received from the source (one JSON object; text that is not JSON becomes a JSON string).
    Raw,
    /// An OCSF event (see the module docs).
    Ocsf,
    /// An OCSF event with the record as received in `raw_data`.
    OcsfRaw,
}

impl RecordEncoding {
    /// The record in this encoding, as a JSON value.
    pub fn to_json(self, record: &Record) -> Json {
        match self {
            RecordEncoding::Native => record.to_json(),
            RecordEncoding::Raw => raw_json(record),
            RecordEncoding::Ocsf => to_ocsf(record, false),
            RecordEncoding::OcsfRaw => to_ocsf(record, true),
        }
    }

    /// Appends the record in this encoding to `out` as compact JSON (no newline).
    pub fn write_json(self, record: &Record, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &self.to_json(record))
    }

    /// The configuration name (`native`, `raw`, `ocsf`, `ocsf_raw`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordEncoding::Native => "native",
            RecordEncoding::Raw => "raw",
            RecordEncoding::Ocsf => "ocsf",
            RecordEncoding::OcsfRaw => "ocsf_raw",
        }
    }
}

/// The record as received: its JSON, or the text as a JSON string when it is not JSON.
pub fn raw_json(record: &Record) -> Json {
    serde_json::from_str(&record.raw).unwrap_or_else(|_| Json::String(record.raw.clone()))
}

/// The OCSF event of `record`; with `raw_data`, the record as received goes into `raw_data`.
pub fn to_ocsf(record: &Record, raw_data: bool) -> Json {
    let (candidates, with_unmapped) = classes::classes(record.category);
    let class = candidates
        .iter()
        .find(|c| build::selected(record, c))
        .unwrap_or(&classes::BASE);
    let mut out = Map::new();
    let (activity_id, activity) = build::eval(record, class.activity, class.activity_default);
    let (severity_id, severity) = build::eval(record, class.severity, (1, "Informational"));
    out.insert("class_uid".into(), class.uid.into());
    out.insert("class_name".into(), class.name.into());
    out.insert("category_uid".into(), (class.uid / 1000).into());
    out.insert("category_name".into(), class.category_name.into());
    out.insert("activity_id".into(), activity_id.into());
    out.insert("activity_name".into(), activity.into());
    out.insert("type_uid".into(), (class.uid * 100 + activity_id).into());
    out.insert(
        "type_name".into(),
        format!("{}: {activity}", class.name).into(),
    );
    out.insert("severity_id".into(), severity_id.into());
    out.insert("severity".into(), severity.into());
    out.insert("time".into(), record.event_time.div_euclid(1000).into());
    out.insert("time_dt".into(), format_micros(record.event_time).into());
    if !class.status.is_empty() {
        let (status_id, status) = build::eval(record, class.status, (0, "Unknown"));
        out.insert("status_id".into(), status_id.into());
        out.insert("status".into(), status.into());
    }
    let (vendor, product) = classes::product(record.category);
    let metadata = serde_json::json!({
        "version": OCSF_VERSION,
        "product": {"vendor_name": vendor, "name": product},
        "uid": record.key,
        "log_name": record.category.table(),
        "logged_time": record.ingest_time.div_euclid(1000),
        "processed_time": record.ingest_time.div_euclid(1000),
    });
    out.insert("metadata".into(), metadata);
    if record.category.family() != model::Family::Syslog {
        build::set_path(&mut out, "cloud.provider", "Azure".into());
        if let Some(t) = build::lookup_first(record, &["TenantId", "AADTenantId"]) {
            build::set_path(&mut out, "cloud.account.uid", t);
        }
    }
    build::apply_fields(record, class.fields, &mut out);
    if with_unmapped {
        out.insert("unmapped".into(), record.to_json());
    }
    if raw_data {
        out.insert("raw_data".into(), record.raw.clone().into());
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests;
