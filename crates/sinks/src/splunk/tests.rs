//! Splunk HEC unit tests: event encoding, sourcetypes, configuration checks, error classes.

use super::*;
use crate::{ErrorKind, SinkError};
use model::{Category, Record, Shape, Value, schema};

fn record(category: Category, event_time: i64) -> Record {
    Record {
        category,
        event_time,
        ingest_time: 0,
        key: "k1".into(),
        content_hash: 1,
        revision: 0,
        source: "graph".into(),
        shape: Shape::Graph,
        values: vec![Value::Null; schema(category).columns.len()],
        raw: "{}".into(),
    }
}

#[test]
fn event_object_has_the_hec_fields_and_exact_time() {
    let mut out = Vec::new();
    encode_event(
        &mut out,
        &record(Category::AuditLogs, 1_700_000_000_123_456),
        "h",
        "s",
        "azure:monitor:aad",
        Some("main"),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("{\"time\":1700000000.123456,"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["host"], "h");
    assert_eq!(v["source"], "s");
    assert_eq!(v["sourcetype"], "azure:monitor:aad");
    assert_eq!(v["index"], "main");
    assert_eq!(v["event"]["_Key"], "k1");
    let mut out = Vec::new();
    encode_event(
        &mut out,
        &record(Category::AuditLogs, 5),
        "h",
        "s",
        "t",
        None,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v.get("index").is_none());
    assert_eq!(v["time"].as_f64(), Some(0.000005));
}

#[test]
fn sourcetypes_follow_the_microsoft_add_ons() {
    assert_eq!(
        default_sourcetype(Category::SignInLogs),
        "azure:monitor:aad"
    );
    assert_eq!(
        default_sourcetype(Category::UserRiskEvents),
        "azure:monitor:aad"
    );
    assert_eq!(
        default_sourcetype(Category::AzureActivity),
        "azure:monitor:activity"
    );
    assert_eq!(
        default_sourcetype(Category::NsgFlowLogs),
        "mscs:azure:eventhub"
    );
}

#[test]
fn validation_reports_every_problem_and_never_the_token() {
    let toml = r#"
        id = ""
        url = "http://splunk.example.com:8088"
        token = "sec ret"
        max_batch_bytes = 10
        channel = "nope"
        categories = ["SignInLogs", "Nope"]
        sourcetypes = { Bogus = "x" }
        ack_timeout = "0s"
    "#;
    let config: SplunkHecConfig = toml::from_str(toml).unwrap();
    let errors = config.validate().unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "url",
        "token",
        "channel",
        "max_batch_bytes",
        "ack_timeout",
        "sourcetypes.Bogus",
        "categories",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(!format!("{errors:?} {config:?}").contains("sec ret"));
    assert!(toml::from_str::<SplunkHecConfig>("id='a'\nurl='x'\ntoken='t'\nbogus=1").is_err());
    let ok: SplunkHecConfig =
        toml::from_str("id='a'\nurl='https://s:8088'\ntoken='t'\nack_poll_interval='50ms'")
            .unwrap();
    ok.validate().unwrap();
}

#[test]
fn hec_statuses_map_to_error_classes() {
    let status = |status: u16, code: Option<i64>| SinkError::Status {
        target: "/services/collector/event".into(),
        status,
        code,
        text: String::new(),
        retry_after: None,
    };
    assert_eq!(status(403, Some(4)).kind(), ErrorKind::Auth);
    assert_eq!(status(401, Some(2)).kind(), ErrorKind::Auth);
    assert_eq!(status(400, Some(6)).kind(), ErrorKind::Fatal);
    assert_eq!(
        status(503, Some(9)).kind(),
        ErrorKind::Throttled { retry_after: None }
    );
    assert_eq!(
        status(429, None).kind(),
        ErrorKind::Throttled { retry_after: None }
    );
    assert_eq!(status(500, Some(8)).kind(), ErrorKind::Transient);
}
