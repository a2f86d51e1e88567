//! The canonical record: a category, its table's column values, the meta fields every record has, and the
//! raw record as received.

use crate::Category;
use crate::schema::{ColumnType, TableSchema, schema};
use serde::{Deserialize, Serialize};

/// The wire shape a record arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A Microsoft Graph object (camelCase).
    Graph,
    /// A diagnostic-settings record (Event Hubs, Storage): envelope with the Graph object in `properties`.
    Diagnostic,
    /// A Log Analytics / Sentinel row (PascalCase columns).
    LogAnalytics,
}

impl Shape {
    /// Stable lower-case name (`graph`, `diagnostic`, `log_analytics`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::Graph => "graph",
            Shape::Diagnostic => "diagnostic",
            Shape::LogAnalytics => "log_analytics",
        }
    }

    /// Parses [`Shape::as_str`] (and `la` for Log Analytics).
    pub fn parse(s: &str) -> Option<Shape> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "graph" => Some(Shape::Graph),
            "diagnostic" | "diag" | "envelope" => Some(Shape::Diagnostic),
            "log_analytics" | "la" | "loganalytics" => Some(Shape::LogAnalytics),
            _ => None,
        }
    }
}

/// A column value. Timestamps are microseconds since the Unix epoch, UTC; `Dynamic` is compact JSON text.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// Text.
    String(String),
    /// Boolean.
    Bool(bool),
    /// Integer (`int` and `long` columns).
    Int(i64),
    /// Float.
    Real(f64),
    /// UTC timestamp in microseconds.
    DateTime(i64),
    /// Nested JSON as compact text.
    Dynamic(String),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub const fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as text, if it is text or JSON.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Dynamic(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer, if it is one.
    pub const fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::DateTime(i) => Some(*i),
            _ => None,
        }
    }

    /// Renders the value as a JSON value (timestamps as RFC 3339 text, dynamic parsed back to JSON).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Real(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::DateTime(t) => serde_json::Value::String(format_micros(*t)),
            Value::Dynamic(s) => {
                serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.clone()))
            }
        }
    }

    /// Whether the value fits a column of type `ty` (nulls fit every column).
    pub const fn fits(&self, ty: ColumnType) -> bool {
        matches!(
            (self, ty),
            (Value::Null, _)
                | (Value::String(_), ColumnType::String)
                | (Value::Bool(_), ColumnType::Bool)
                | (Value::Int(_), ColumnType::Int | ColumnType::Long)
                | (Value::Real(_), ColumnType::Real)
                | (Value::DateTime(_), ColumnType::DateTime)
                | (Value::Dynamic(_), ColumnType::Dynamic)
        )
    }
}

/// Formats microseconds since the epoch as RFC 3339 UTC with microseconds (`2024-01-02T03:04:05.123456Z`).
pub fn format_micros(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    )
}

/// One canonical record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Category (decides the table and the schema of `values`).
    pub category: Category,
    /// Event time, microseconds since the epoch (UTC).
    pub event_time: i64,
    /// When entrail accepted the record, microseconds since the epoch (UTC).
    pub ingest_time: i64,
    /// Dedupe key: the category's id, or `h:` and a content hash where the category has no id.
    pub key: String,
    /// Hash of the canonical content (not of the shape): two shapes of one event hash alike.
    pub content_hash: u128,
    /// Revision under `key`: 0 for the first content, set by the store when it sees a new content for a key.
    pub revision: u32,
    /// Name of the source that delivered it.
    pub source: String,
    /// Wire shape it arrived in.
    pub shape: Shape,
    /// Column values, aligned with `schema(category).columns`.
    pub values: Vec<Value>,
    /// The record as received (one record, JSON text).
    pub raw: String,
}

impl Record {
    /// The canonical schema of this record's category.
    pub fn schema(&self) -> &'static TableSchema {
        schema(self.category)
    }

    /// The value of a column by name (ASCII case ignored).
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.schema()
            .index_of(column)
            .and_then(|i| self.values.get(i))
    }

    /// The canonical record as one JSON object: data columns that are not null, then the meta columns.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (col, v) in self.schema().columns.iter().zip(&self.values) {
            if !v.is_null() {
                map.insert(col.name.clone(), v.to_json());
            }
        }
        map.insert("_Category".into(), self.category.name().into());
        map.insert("_EventTime".into(), format_micros(self.event_time).into());
        map.insert("_IngestTime".into(), format_micros(self.ingest_time).into());
        map.insert("_Key".into(), self.key.clone().into());
        map.insert("_Revision".into(), self.revision.into());
        map.insert("_Source".into(), self.source.clone().into());
        map.insert("_Shape".into(), self.shape.as_str().into());
        serde_json::Value::Object(map)
    }
}

/// Read access to a record's fields by name, for detection rules and filters that must not see the
/// record's layout. Names are column names (case ignored); `Column.path.inside` reaches into dynamic columns.
pub trait FieldLookup {
    /// The value of `field`, rendered as JSON, or `None` when the record has no such field.
    fn lookup(&self, field: &str) -> Option<serde_json::Value>;
}

impl FieldLookup for Record {
    fn lookup(&self, field: &str) -> Option<serde_json::Value> {
        if let Some(v) = self.get(field) {
            return (!v.is_null()).then(|| v.to_json());
        }
        let (column, path) = field.split_once('.')?;
        let root = self.get(column)?.to_json();
        path.split('.').try_fold(root, |v, part| match v {
            serde_json::Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v.clone()),
            serde_json::Value::String(s) => {
                let parsed: serde_json::Value = serde_json::from_str(&s).ok()?;
                parsed
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(part))
                    .map(|(_, v)| v.clone())
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit() -> Record {
        let s = schema(Category::AuditLogs);
        let mut values = vec![Value::Null; s.columns.len()];
        values[s.index_of("OperationName").unwrap()] = Value::String("Add user".into());
        values[s.index_of("InitiatedBy").unwrap()] =
            Value::Dynamic(r#"{"user":{"userPrincipalName":"a@b.c"}}"#.into());
        Record {
            category: Category::AuditLogs,
            event_time: 1_700_000_000_000_000,
            ingest_time: 1_700_000_001_000_000,
            key: "Directory_1".into(),
            content_hash: 7,
            revision: 0,
            source: "test".into(),
            shape: Shape::Graph,
            values,
            raw: "{}".into(),
        }
    }

    #[test]
    fn lookup_columns_and_paths_ignoring_case() {
        let r = audit();
        assert_eq!(r.lookup("operationname"), Some("Add user".into()));
        assert_eq!(
            r.lookup("InitiatedBy.User.UserPrincipalName"),
            Some("a@b.c".into())
        );
        assert_eq!(r.lookup("Nope"), None);
        assert_eq!(r.lookup("Category"), None);
    }

    #[test]
    fn json_has_meta_columns() {
        let j = audit().to_json();
        assert_eq!(j["_Key"], "Directory_1");
        assert_eq!(j["_EventTime"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(j["InitiatedBy"]["user"]["userPrincipalName"], "a@b.c");
    }
}
