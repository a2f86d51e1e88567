//! Elasticsearch sink unit tests: index and data stream names, `_id`s, ECS documents, configuration checks.

use super::*;
use model::{Category, Record, Shape, Value, schema};

fn record(category: Category, columns: &[(&str, &str)]) -> Record {
    let s = schema(category);
    let mut values = vec![Value::Null; s.columns.len()];
    for (name, v) in columns {
        let i = s.index_of(name).unwrap();
        values[i] = if v.starts_with('{') {
            Value::Dynamic((*v).to_owned())
        } else {
            Value::String((*v).to_owned())
        };
    }
    Record {
        category,
        event_time: 1_700_000_000_123_456,
        ingest_time: 1_700_000_001_000_000,
        key: "k1".into(),
        content_hash: 7,
        revision: 2,
        source: "graph".into(),
        shape: Shape::Graph,
        values,
        raw: "{\"raw\":1}".into(),
    }
}

#[test]
fn daily_indices_and_data_streams_are_named_per_category() {
    let r = record(Category::SignInLogs, &[]);
    let mut c = ElasticConfig::new("es", "http://127.0.0.1:9200");
    assert_eq!(target(&c, &r), "entrail-signinlogs-2023.11.14");
    c.mode = IndexMode::DataStream;
    assert_eq!(target(&c, &r), "logs-entrail.signinlogs-default");
    let doc = document(&c, &r);
    assert_eq!(doc["data_stream"]["dataset"], "entrail.signinlogs");
    assert_eq!(doc["event"]["dataset"], "entrail.signinlogs");
    assert_eq!(document_id(&r), "k1.2");
    let mut long = r.clone();
    long.key = "x".repeat(600);
    assert_eq!(document_id(&long), "h00000000000000000000000000000007.2");
}

#[test]
fn sign_ins_map_to_ecs_authentication_events() {
    let r = record(
        Category::SignInLogs,
        &[
            ("UserPrincipalName", "alice@contoso.com"),
            ("UserId", "u-1"),
            ("IPAddress", "203.0.113.7"),
            ("ResultType", "50126"),
            ("UserAgent", "Mozilla/5.0"),
            (
                "LocationDetails",
                r#"{"city":"Oslo","countryOrRegion":"NO","geoCoordinates":{"latitude":59.9,"longitude":10.7}}"#,
            ),
        ],
    );
    let c = ElasticConfig::new("es", "http://127.0.0.1:9200");
    let d = document(&c, &r);
    assert_eq!(d["@timestamp"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(d["event"]["category"][0], "authentication");
    assert_eq!(d["event"]["type"][0], "start");
    assert_eq!(d["event"]["outcome"], "failure");
    assert_eq!(d["user"]["name"], "alice@contoso.com");
    assert_eq!(d["user"]["email"], "alice@contoso.com");
    assert_eq!(d["user"]["id"], "u-1");
    assert_eq!(d["source"]["ip"], "203.0.113.7");
    assert_eq!(d["source"]["geo"]["city_name"], "Oslo");
    assert_eq!(d["source"]["geo"]["location"]["lat"], 59.9);
    assert_eq!(d["user_agent"]["original"], "Mozilla/5.0");
    assert_eq!(d["cloud"]["provider"], "azure");
    assert_eq!(d["related"]["ip"][0], "203.0.113.7");
    assert!(d["related"]["user"].as_array().unwrap().len() == 2);
    assert_eq!(d["entrail"]["UserPrincipalName"], "alice@contoso.com");
    // A value that is not an IP never reaches an `ip` field (it would fail the whole document).
    let r = record(Category::SignInLogs, &[("IPAddress", "not-an-ip")]);
    let d = document(&c, &r);
    assert!(d["source"].get("ip").is_none());
    assert_eq!(d["source"]["address"], "not-an-ip");
}

#[test]
fn audits_derive_the_event_type_from_the_operation() {
    let c = ElasticConfig::new("es", "http://127.0.0.1:9200");
    let d = |op: &str, result: &str| {
        document(
            &c,
            &record(
                Category::AuditLogs,
                &[("OperationName", op), ("Result", result)],
            ),
        )
    };
    assert_eq!(d("Add user", "success")["event"]["type"][0], "creation");
    assert_eq!(d("Delete user", "failure")["event"]["type"][0], "deletion");
    assert_eq!(d("Update user", "failure")["event"]["outcome"], "failure");
    assert_eq!(
        d("Update user", "success")["event"]["action"],
        "Update user"
    );
    let mut raw = c.clone();
    raw.encoding = Encoding::EcsRaw;
    let doc = document(&raw, &record(Category::AuditLogs, &[]));
    assert_eq!(doc["event"]["original"], "{\"raw\":1}");
    assert!(doc.get("entrail").is_none());
    raw.encoding = Encoding::Native;
    let doc = document(&raw, &record(Category::AuditLogs, &[("Result", "ok")]));
    assert_eq!(doc["Result"], "ok");
    assert!(doc.get("event").is_none());
}

#[test]
fn bulk_items_are_action_and_document_lines() {
    let c = ElasticConfig::new("es", "http://127.0.0.1:9200");
    let mut out = Vec::new();
    encode_item(&mut out, &c, &record(Category::AuditLogs, &[])).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 2);
    assert!(text.ends_with('\n'));
    let action: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(action["create"]["_index"], "entrail-auditlogs-2023.11.14");
    assert_eq!(action["create"]["_id"], "k1.2");
}

#[test]
fn validation_reports_every_problem_and_never_a_secret() {
    let toml = r#"
        id = ""
        flavor = "opensearch"
        url = "http://es.example.com:9200"
        index_prefix = "Bad Prefix"
        namespace = "a-b"
        api_key = "sec ret"
        username = "u:x"
        max_batch_bytes = 10
        retry_backoff = "0s"
        categories = ["Nope"]
    "#;
    let config: ElasticConfig = toml::from_str(toml).unwrap();
    let errors = config.validate().unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "url",
        "index_prefix",
        "namespace",
        "api_key",
        "username",
        "password",
        "max_batch_bytes",
        "retry_backoff",
        "categories",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(!format!("{errors:?} {config:?}").contains("sec ret"));
    assert!(toml::from_str::<ElasticConfig>("id='a'\nurl='x'\nbogus=1").is_err());
    let ok: ElasticConfig = toml::from_str(
        "id='a'\nurl='https://es:9200'\napi_key='abc'\nmode='data_stream'\nencoding='ecs_raw'",
    )
    .unwrap();
    ok.validate().unwrap();
}
