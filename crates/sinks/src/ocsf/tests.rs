//! OCSF mapping tests: golden events per category (from the model's golden inputs; rewritten with
//! `UPDATE_GOLDEN=1`), the class per category, required attributes, and the activity and status rules.

use super::*;
use model::{Category, DecodeContext, Shape, Value, decode_stream, detect_format, schema};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Records per category in a golden file.
const PER_CATEGORY: usize = 2;

fn inputs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/testdata/normalize")
}

fn goldens() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ocsf")
}

/// The first records of a category's golden input (Graph shape first, then diagnostic, then Log Analytics).
fn sample(category: Category) -> Vec<Record> {
    let dir = inputs().join(category.name());
    for shape in ["graph", "diagnostic", "log_analytics"] {
        let path = dir.join(format!("{shape}.input.jsonl"));
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let mut reader = BufReader::new(file);
        let format = detect_format(reader.fill_buf().unwrap());
        let cx = DecodeContext {
            source: "golden".into(),
            location: path.display().to_string(),
            ingest_time: 1_709_600_000_000_000,
            category: Some(category),
            shape: None,
        };
        let records: Vec<Record> = decode_stream(reader, format, cx)
            .filter_map(Result::ok)
            .take(PER_CATEGORY)
            .collect();
        if !records.is_empty() {
            return records;
        }
    }
    panic!("no golden input for {}", category.name());
}

fn record(category: Category, columns: &[(&str, Value)]) -> Record {
    let s = schema(category);
    let mut values = vec![Value::Null; s.columns.len()];
    for (name, v) in columns {
        values[s.index_of(name).unwrap()] = v.clone();
    }
    Record {
        category,
        event_time: 1_700_000_000_123_456,
        ingest_time: 1_700_000_001_000_000,
        key: "k1".into(),
        content_hash: 1,
        revision: 0,
        source: "test".into(),
        shape: Shape::Graph,
        values,
        raw: r#"{"id":"k1"}"#.into(),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn golden_events_per_category() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for &category in Category::ALL {
        let events: Vec<Json> = sample(category).iter().map(|r| to_ocsf(r, false)).collect();
        let text = serde_json::to_string_pretty(&events).unwrap() + "\n";
        let path = goldens().join(format!("{}.json", category.name()));
        if update {
            std::fs::create_dir_all(goldens()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let expected = std::fs::File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| model::limits::read_capped(f, 16 << 20).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        if expected != text.as_bytes() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "OCSF output differs from the golden files (review, then UPDATE_GOLDEN=1): {failures:?}"
    );
}

#[test]
fn every_category_has_the_required_attributes() {
    let mut missing = Vec::new();
    for &category in Category::ALL {
        for r in sample(category) {
            let e = to_ocsf(&r, true);
            let class = e["class_uid"].as_i64().unwrap();
            let activity = e["activity_id"].as_i64().unwrap();
            assert_eq!(e["type_uid"].as_i64(), Some(class * 100 + activity), "{e}");
            assert_eq!(e["category_uid"].as_i64(), Some(class / 1000));
            assert_eq!(e["time"].as_i64(), Some(r.event_time / 1000));
            assert!(e["severity_id"].is_i64());
            assert_eq!(e["metadata"]["version"], OCSF_VERSION);
            assert!(e["metadata"]["product"]["name"].is_string());
            assert_eq!(e["raw_data"], r.raw.as_str());
            let want: &[&str] = match class {
                3002 => &["user", "status_id", "service"],
                3001 => &["user", "actor", "status_id"],
                3004 => &["entity", "actor", "status_id"],
                6003 => &["api", "actor", "src_endpoint", "status_id"],
                4001 => &["src_endpoint", "dst_endpoint"],
                2004 => &["finding_info", "status_id"],
                0 => &["unmapped"],
                other => panic!("unexpected class {other}"),
            };
            for attr in want {
                if e[*attr].is_null() {
                    missing.push(format!("{}: {attr}", category.name()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn class_per_category_family() {
    let class = |c: Category| to_ocsf(&sample(c)[0], false)["class_uid"].as_i64();
    assert_eq!(class(Category::SignInLogs), Some(3002));
    assert_eq!(class(Category::ServicePrincipalSignInLogs), Some(3002));
    assert_eq!(class(Category::AzureActivity), Some(6003));
    assert_eq!(class(Category::MicrosoftGraphActivityLogs), Some(6003));
    assert_eq!(class(Category::NsgFlowLogs), Some(4001));
    assert_eq!(class(Category::VnetFlowLogs), Some(4001));
    assert_eq!(class(Category::NetworkAccessTrafficLogs), Some(4001));
    assert_eq!(class(Category::UserRiskEvents), Some(2004));
    assert_eq!(class(Category::RiskyUsers), Some(2004));
    assert_eq!(class(Category::Syslog), Some(0));
    assert_eq!(class(Category::ResourceDiagnostics), Some(0));
    assert_eq!(class(Category::ProvisioningLogs), Some(0));
}

#[test]
fn audits_split_into_account_change_and_entity_management() {
    let audit = |category: &str, op: &str, ty: &str| {
        to_ocsf(
            &record(
                Category::AuditLogs,
                &[
                    ("Category", s(category)),
                    ("OperationName", s(op)),
                    ("AADOperationType", s(ty)),
                    ("Result", s("success")),
                    (
                        "TargetResources",
                        Value::Dynamic(
                            r#"[{"id":"u1","userPrincipalName":"bob@contoso.com","type":"User"}]"#
                                .into(),
                        ),
                    ),
                    (
                        "InitiatedBy",
                        Value::Dynamic(r#"{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"192.0.2.1"}}"#.into()),
                    ),
                ],
            ),
            false,
        )
    };
    let e = audit("UserManagement", "Reset user password", "Update");
    assert_eq!(e["class_uid"], 3001);
    assert_eq!(e["activity_id"], 4);
    assert_eq!(e["type_uid"], 300_104);
    assert_eq!(e["user"]["name"], "bob@contoso.com");
    assert_eq!(e["actor"]["user"]["name"], "admin@contoso.com");
    assert_eq!(e["src_endpoint"]["ip"], "192.0.2.1");
    assert_eq!(e["status_id"], 1);
    let e = audit("RoleManagement", "Add member to role", "Assign");
    assert_eq!(
        (e["class_uid"].as_i64(), e["activity_id"].as_i64()),
        (Some(3001), Some(7))
    );
    let e = audit(
        "ApplicationManagement",
        "Add service principal credentials",
        "Update",
    );
    assert_eq!(
        e["class_uid"], 3001,
        "credential operations are account changes"
    );
    let e = audit("ApplicationManagement", "Add application", "Add");
    assert_eq!(
        (e["class_uid"].as_i64(), e["activity_id"].as_i64()),
        (Some(3004), Some(1))
    );
    assert_eq!(e["entity"]["uid"], "u1");
    let e = audit("GroupManagement", "Delete group", "Delete");
    assert_eq!(
        (e["class_uid"].as_i64(), e["type_uid"].as_i64()),
        (Some(3004), Some(300_404))
    );
}

#[test]
fn sign_in_status_severity_and_types() {
    let e = to_ocsf(
        &record(
            Category::SignInLogs,
            &[
                ("ResultType", s("50126")),
                ("UserPrincipalName", s("a@b.c")),
                ("IPAddress", s("198.51.100.7")),
                ("RiskLevelDuringSignIn", s("high")),
                ("AuthenticationRequirement", s("multiFactorAuthentication")),
            ],
        ),
        false,
    );
    assert_eq!(e["type_uid"], 300_201);
    assert_eq!(
        (e["status_id"].as_i64(), e["status_code"].as_str()),
        (Some(2), Some("50126"))
    );
    assert_eq!(e["severity_id"], 4);
    assert_eq!(e["is_mfa"], true);
    assert_eq!(e["time"], 1_700_000_000_123_i64);
    assert!(e.get("raw_data").is_none());
}

#[test]
fn flows_have_typed_endpoints_and_refusals() {
    let e = to_ocsf(
        &record(
            Category::NsgFlowLogs,
            &[
                ("SrcIp", s("10.0.0.4")),
                ("SrcPort", Value::Int(50000)),
                ("DestIp", s("192.0.2.9")),
                ("DestPort", Value::Int(22)),
                ("L4Protocol", s("T")),
                ("FlowDirection", s("I")),
                ("FlowStatus", s("D")),
                ("FlowState", s("B")),
            ],
        ),
        false,
    );
    assert_eq!(e["type_uid"], 400_105);
    assert_eq!(e["dst_endpoint"]["port"], 22);
    assert_eq!(e["connection_info"]["protocol_num"], 6);
    assert_eq!(e["connection_info"]["direction_id"], 1);
    assert_eq!(e["action_id"], 2);
}

#[test]
fn encodings_render_native_raw_and_ocsf() {
    let r = record(Category::SignInLogs, &[("ResultType", s("0"))]);
    assert_eq!(RecordEncoding::Native.to_json(&r), r.to_json());
    assert_eq!(
        RecordEncoding::Raw.to_json(&r),
        serde_json::json!({"id": "k1"})
    );
    let mut not_json = r.clone();
    not_json.raw = "<13>1 plain text".into();
    assert_eq!(RecordEncoding::Raw.to_json(&not_json), "<13>1 plain text");
    assert_eq!(RecordEncoding::Ocsf.to_json(&r)["class_uid"], 3002);
    assert_eq!(
        RecordEncoding::OcsfRaw.to_json(&r)["raw_data"],
        r.raw.as_str()
    );
    let mut out = Vec::new();
    RecordEncoding::Ocsf.write_json(&r, &mut out).unwrap();
    assert!(!out.contains(&b'\n'));
}
