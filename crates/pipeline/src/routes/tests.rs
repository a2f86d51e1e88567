//! Route, sampling, volume and config-validation unit tests.

use super::*;
use crate::config::parse;
use model::{Shape, Value};

fn signin(key: &str, result: &str, app: &str) -> Record {
    let s = model::schema(Category::SignInLogs);
    let mut values = vec![Value::Null; s.columns.len()];
    values[s.index_of("ResultType").unwrap()] = Value::String(result.into());
    values[s.index_of("AppDisplayName").unwrap()] = Value::String(app.into());
    Record {
        category: Category::SignInLogs,
        event_time: 1_700_000_000_000_000,
        ingest_time: 1_700_000_001_000_000,
        key: key.into(),
        content_hash: 1,
        revision: 0,
        source: "graph".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

const SINKS: &str = r#"
[[sinks]]
type = "file"
id = "siem"
path = "out.jsonl"
[[sinks]]
type = "file"
id = "lake"
path = "lake.jsonl"
"#;

fn routes(extra: &str) -> Routes {
    parse(&format!("{SINKS}{extra}"))
        .unwrap()
        .validate()
        .unwrap()
        .routes
}

fn problems(extra: &str) -> Vec<String> {
    parse(&format!("{SINKS}{extra}"))
        .unwrap()
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn a_sink_without_routes_gets_everything() {
    let r = routes("");
    assert_eq!(r.decide("siem", &signin("a", "0", "Teams")), Decision::Send);
}

#[test]
fn conditions_are_anded_and_routes_ored() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
categories = ["SignInLogs"]
where = [
  { field = "ResultType", op = "ne", value = "0" },
  { field = "AppDisplayName", op = "in", value = ["Teams", "Outlook"] },
]
[[routes]]
sink = "siem"
where = [{ field = "appdisplayname", op = "contains", value = "PORTAL" }]
"#,
    );
    assert_eq!(
        r.decide("siem", &signin("a", "50126", "Teams")),
        Decision::Send
    );
    assert_eq!(
        r.decide("siem", &signin("a", "0", "Teams")),
        Decision::Filtered
    );
    assert_eq!(
        r.decide("siem", &signin("a", "50126", "Word")),
        Decision::Filtered
    );
    // The second route: contains, case ignored, with a successful sign-in.
    assert_eq!(
        r.decide("siem", &signin("a", "0", "Azure Portal")),
        Decision::Send
    );
    // Other sinks are not affected.
    assert_eq!(r.decide("lake", &signin("a", "0", "Word")), Decision::Send);
}

#[test]
fn other_categories_are_filtered_by_a_category_route() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
categories = ["AuditLogs"]
"#,
    );
    assert_eq!(r.decide("siem", &signin("a", "0", "x")), Decision::Filtered);
}

#[test]
fn exists_not_in_and_meta_fields() {
    let rec = signin("k1", "0", "Teams");
    let c = |field: &str, op: Op| Condition {
        field: field.into(),
        op,
    };
    assert!(c("ResultType", Op::Exists(true)).matches(&rec));
    assert!(c("UserPrincipalName", Op::Exists(false)).matches(&rec));
    assert!(c("UserPrincipalName", Op::NotIn(vec!["x".into()])).matches(&rec));
    assert!(!c("UserPrincipalName", Op::Eq("x".into())).matches(&rec));
    assert!(c("UserPrincipalName", Op::Ne("x".into())).matches(&rec));
    assert!(!c("ResultType", Op::NotIn(vec!["0".into()])).matches(&rec));
    assert!(c("_Source", Op::Eq("graph".into())).matches(&rec));
    assert!(c("_Category", Op::Eq("SignInLogs".into())).matches(&rec));
    assert!(c("_Revision", Op::Eq("0".into())).matches(&rec));
}

#[test]
fn sampling_is_deterministic_by_key_and_close_to_the_rate() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
sample = 0.25
"#,
    );
    let decide = |k: &str| r.decide("siem", &signin(k, "0", "x"));
    let sent = (0..10_000)
        .filter(|i| decide(&format!("key-{i}")) == Decision::Send)
        .count();
    assert!((2300..2700).contains(&sent), "{sent}");
    for i in 0..100 {
        let k = format!("key-{i}");
        assert_eq!(decide(&k), decide(&k));
        let expected = if sample_position(&k) < 0.25 {
            Decision::Send
        } else {
            Decision::Sampled
        };
        assert_eq!(decide(&k), expected);
    }
    // Stable across versions: a fixed key's position is pinned.
    assert!((sample_position("") - 0.936_769_448_390_44).abs() < 1e-9);
}

#[test]
fn sample_zero_sends_nothing_and_one_everything() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
sample = 0.0
[[routes]]
sink = "lake"
sample = 1.0
"#,
    );
    for i in 0..1000 {
        let rec = signin(&format!("k{i}"), "0", "x");
        assert_eq!(r.decide("siem", &rec), Decision::Sampled);
        assert_eq!(r.decide("lake", &rec), Decision::Send);
    }
}

#[test]
fn every_route_problem_is_reported_at_once() {
    let p = problems(
        r#"
[log]
disk_budget_bytes = 0
[sink_priority]
nosuch = 3
[[routes]]
sink = "missing"
categories = ["SignInLogs", "Bogus"]
sample = 1.5
where = [
  { field = "NoSuchColumn", op = "eq", value = "x" },
  { field = "ResultType", op = "between", value = "x" },
  { field = "ResultType", op = "in", value = "not a list" },
  { field = "ResultType", op = "eq" },
]
[[routes]]
sink = "siem"
categories = ["AuditLogs", "SignInLogs"]
where = [{ field = "AppDisplayName", op = "exists" }]
"#,
    );
    let expect = [
        "routes[0].sink: unknown sink \"missing\"",
        "routes[0].categories[1]: unknown category \"Bogus\"",
        "routes[0].sample: must be 0.0..=1.0, got 1.5",
        "routes[0].where[0].field: unknown column \"NoSuchColumn\"",
        "routes[0].where[1].op: unknown op \"between\"",
        "routes[0].where[2].value: op \"in\" needs a list",
        "routes[0].where[3].value: op \"eq\" needs a text",
        "routes[1].where[0].field: unknown column \"AppDisplayName\" for AuditLogs",
        "sink_priority.nosuch: unknown sink",
        "log.disk_budget_bytes: must be at least 1",
    ];
    for e in expect {
        assert!(p.iter().any(|x| x.starts_with(e)), "{e} not in {p:#?}");
    }
    assert_eq!(p.len(), expect.len(), "{p:#?}");
}

#[test]
fn a_field_of_some_category_is_valid_for_an_all_categories_route() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
where = [{ field = "InitiatedBy.user.userPrincipalName", op = "exists" }]
"#,
    );
    assert_eq!(r.by_sink["siem"].len(), 1);
    // Sign-ins have no InitiatedBy: the condition does not hold.
    assert_eq!(r.decide("siem", &signin("a", "0", "x")), Decision::Filtered);
}

#[test]
fn volume_round_trips_in_the_documented_format() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        volume::load(dir.path()).unwrap(),
        volume::SinkVolume::default()
    );
    let mut v = volume::SinkVolume::default();
    v.add("siem", 1_700_000_000_000_000, true, 100);
    v.add("siem", 1_700_000_000_000_000, false, 40);
    v.add("siem", 1_700_100_000_000_000, true, 7);
    volume::save(dir.path(), &v).unwrap();
    let file = std::fs::File::open(dir.path().join("sinks/volume.json")).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&model::limits::read_capped(file, 1 << 20).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    let day = &json["sinks"]["siem"]["2023-11-14"];
    assert_eq!(day["sent_records"], 1);
    assert_eq!(day["sent_bytes"], 100);
    assert_eq!(day["filtered_records"], 1);
    assert_eq!(day["filtered_bytes"], 40);
    assert_eq!(json["sinks"]["siem"]["2023-11-16"]["sent_bytes"], 7);
    assert_eq!(volume::load(dir.path()).unwrap(), v);
    assert_eq!(v.total("siem").sent_records, 2);
}

#[test]
fn a_corrupt_volume_file_is_an_error_to_load_and_reset_by_the_consumer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sinks")).unwrap();
    std::fs::write(dir.path().join("sinks/volume.json"), "{not json").unwrap();
    assert!(volume::load(dir.path()).is_err());
    assert_eq!(
        volume::load_or_reset(dir.path()),
        volume::SinkVolume::default()
    );
    assert!(dir.path().join("sinks/volume.json.corrupt").exists());
}

#[test]
fn the_docs_example_validates() {
    // docs/sinks.md "Routes", with file sinks standing in for Splunk.
    let text = r#"
[[sinks]]
type = "file"
id = "splunk"
path = "s.jsonl"
[[routes]]
sink = "splunk"
categories = ["SignInLogs"]
where = [
  { field = "ResultType", op = "ne", value = "0" },
  { field = "AppDisplayName", op = "not_in", value = ["Microsoft Teams", "Outlook"] },
]
[[routes]]
sink = "splunk"
categories = ["AuditLogs"]
[[routes]]
sink = "splunk"
categories = ["NonInteractiveUserSignInLogs"]
sample = 0.1
"#;
    let r = parse(text).unwrap().validate().unwrap().routes;
    assert_eq!(r.by_sink["splunk"].len(), 3);
    assert_eq!(
        r.decide("splunk", &signin("a", "50126", "Word")),
        Decision::Send
    );
    assert_eq!(
        r.decide("splunk", &signin("a", "50126", "Outlook")),
        Decision::Filtered
    );
}

#[test]
fn numbers_compare_by_their_text() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
where = [{ field = "ResultType", op = "in", value = [50126, "50053"] }]
"#,
    );
    assert_eq!(r.decide("siem", &signin("a", "50126", "x")), Decision::Send);
    assert_eq!(r.decide("siem", &signin("a", "50053", "x")), Decision::Send);
    assert_eq!(r.decide("siem", &signin("a", "0", "x")), Decision::Filtered);
}

#[test]
fn may_send_only_rules_out_categories_no_route_names() {
    let r = routes(
        r#"
[[routes]]
sink = "siem"
categories = ["AuditLogs"]
"#,
    );
    assert!(r.may_send("siem", Category::AuditLogs));
    assert!(!r.may_send("siem", Category::SignInLogs));
    assert!(r.may_send("lake", Category::SignInLogs));
}
