//! Logs Ingestion sink unit tests: rows, streams, configuration checks.

use super::*;
use model::{Category, Record, Shape, Value, schema};
use secrecy::SecretString;

const DCR: &str = "dcr-0123456789abcdef0123456789abcdef";
const GUID: &str = "11111111-2222-3333-4444-555555555555";

fn record(category: Category, columns: &[(&str, &str)]) -> Record {
    let s = schema(category);
    let mut values = vec![Value::Null; s.columns.len()];
    for (name, v) in columns {
        values[s.index_of(name).unwrap()] = Value::String((*v).to_owned());
    }
    Record {
        category,
        event_time: 1_700_000_000_123_456,
        ingest_time: 1_700_000_001_000_000,
        key: "k1".into(),
        content_hash: 7,
        revision: 1,
        source: "graph".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

#[test]
fn rows_use_la_columns_time_generated_and_entrail_meta() {
    let r = record(
        Category::SignInLogs,
        &[
            ("UserPrincipalName", "a@b.c"),
            ("ResultDescription", &"x".repeat(100_000)),
            ("Type", "SigninLogs"),
        ],
    );
    let row = encode_row(&r, 65_536);
    assert_eq!(row["TimeGenerated"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(row["UserPrincipalName"], "a@b.c");
    assert_eq!(row["EntrailKey"], "k1");
    assert_eq!(row["EntrailRevision"], 1);
    assert_eq!(row["EntrailCategory"], "SignInLogs");
    assert!(row.get("Type").is_none());
    assert!(row.keys().all(|k| !k.starts_with('_')));
    let cut = row["ResultDescription"].as_str().unwrap();
    assert!(cut.len() <= 65_536 && cut.ends_with(crate::TRUNCATION_MARKER));
}

#[test]
fn streams_default_to_custom_table_names_with_overrides() {
    let mut c = SentinelConfig::new(
        "s",
        "https://dce.westeurope-1.ingest.monitor.azure.com",
        DCR,
        GUID,
        GUID,
        SecretString::from("secret"),
    );
    c.streams
        .insert("AuditLogs".into(), "Custom-EntraAudit_CL".into());
    let sink = SentinelSink::new(c).unwrap();
    assert_eq!(sink.stream(Category::SignInLogs), "Custom-SigninLogs");
    assert_eq!(
        sink.stream(Category::NonInteractiveUserSignInLogs),
        "Custom-AADNonInteractiveUserSignInLogs"
    );
    assert_eq!(sink.stream(Category::AuditLogs), "Custom-EntraAudit_CL");
}

#[test]
fn validation_reports_every_problem_and_never_the_secret() {
    let toml = r#"
        id = ""
        endpoint = "http://dce.example.com"
        dcr_immutable_id = "dcr-xyz"
        tenant_id = "contoso"
        client_id = "app"
        client_secret = "sec ret"
        federated_token_file = "/var/run/token"
        max_request_bytes = 2000000
        streams = { SignInLogs = "Bad Stream", Nope = "Custom-X" }
        stream_prefix = "X-"
    "#;
    let config: SentinelConfig = toml::from_str(toml).unwrap();
    let errors = config.validate().unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "endpoint",
        "dcr_immutable_id",
        "tenant_id",
        "client_id",
        "client_secret",
        "max_request_bytes",
        "streams.SignInLogs",
        "streams.Nope",
        "stream_prefix",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(!format!("{errors:?} {config:?}").contains("sec ret"));
    let ok = format!(
        "id='s'\nendpoint='https://dce.example.com'\ndcr_immutable_id='{DCR}'\ntenant_id='{GUID}'\n\
         client_id='{GUID}'\nfederated_token_file='/var/run/token'"
    );
    toml::from_str::<SentinelConfig>(&ok)
        .unwrap()
        .validate()
        .unwrap();
    assert!(toml::from_str::<SentinelConfig>(&format!("{ok}\nbogus=1")).is_err());
}
