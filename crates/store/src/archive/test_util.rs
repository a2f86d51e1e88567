//! Hand-built records for the archive and query tests.
use model::{Category, Record, Shape, Value};

/// 2024-01-01T00:00:00Z in microseconds.
pub(crate) const JAN_1: i64 = 1_704_067_200_000_000;
/// One hour in microseconds.
pub(crate) const HOUR: i64 = 3_600_000_000;
/// One day in microseconds.
pub(crate) const DAY: i64 = 24 * HOUR;

/// A record of `category` with event time `event_time`, key `key`, and a few data columns set:
/// `TimeGenerated`, and where the table has them `OperationName`, `UserPrincipalName`,
/// `ResultType`, `DurationMs` and `Status` (dynamic).
pub(crate) fn record(category: Category, event_time: i64, key: &str) -> Record {
    let schema = model::schema(category);
    let mut values = vec![Value::Null; schema.columns.len()];
    let mut set = |name: &str, v: Value| {
        if let Some(i) = schema.index_of(name)
            && let Some(slot) = values.get_mut(i)
            && v.fits(schema.columns[i].ty)
        {
            *slot = v;
        }
    };
    set("TimeGenerated", Value::DateTime(event_time));
    set("OperationName", Value::String(format!("op {key}")));
    set(
        "UserPrincipalName",
        Value::String(format!("{key}@contoso.com")),
    );
    set("ResultType", Value::String("0".into()));
    set("DurationMs", Value::Int(42));
    set("Status", Value::Dynamic(r#"{"errorCode":0}"#.into()));
    Record {
        category,
        event_time,
        ingest_time: event_time + 1_000_000,
        key: key.to_owned(),
        content_hash: 1,
        revision: 0,
        source: "test".into(),
        shape: Shape::Graph,
        values,
        raw: format!(r#"{{"id":"{key}"}}"#),
    }
}
