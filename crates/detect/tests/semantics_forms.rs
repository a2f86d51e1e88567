//! Sigma semantics, continued: null/exists, numbers, booleans, timestamp parts, field references,
//! placeholders, condition forms, keywords, paths into JSON, match metadata and the literal index.
#![allow(clippy::unwrap_used)]

mod common;

use common::rules::{audit, engine_for, hit, rec};
use detect::{Engine, EngineConfig, RuleSet};
use model::{Category, Value};

#[test]
fn exists_null_and_empty() {
    let mut e = audit("    sel:\n        ResultReason|exists: true\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("ResultReason", "")])));
    assert!(!hit(&mut e, &rec(&[])));
    let mut e = audit("    sel:\n        ResultReason|exists: false\n    condition: sel");
    assert!(hit(&mut e, &rec(&[])));
    let mut e = audit("    sel:\n        ResultReason: null\n    condition: sel");
    assert!(hit(&mut e, &rec(&[])));
    assert!(!hit(&mut e, &rec(&[("ResultReason", "x")])));
    let mut e = audit("    sel:\n        ResultReason: ''\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("ResultReason", "")])));
    assert!(!hit(&mut e, &rec(&[])));
    assert!(!hit(&mut e, &rec(&[("ResultReason", "x")])));
    // JSON null inside a dynamic column is null too.
    let mut e = audit("    sel:\n        InitiatedBy.user.ipAddress: null\n    condition: sel");
    assert!(hit(
        &mut e,
        &rec(&[("InitiatedBy", r#"{"user":{"ipAddress":null}}"#)])
    ));
    assert!(!hit(
        &mut e,
        &rec(&[("InitiatedBy", r#"{"user":{"ipAddress":"1.2.3.4"}}"#)])
    ));
}

#[test]
fn numbers_compare_and_integers_match_strings() {
    let mut e = audit("    sel:\n        DurationMs|gt: 100\n    condition: sel");
    let mut r = rec(&[]);
    common::set(&mut r, "DurationMs", Value::Int(101));
    assert!(hit(&mut e, &r));
    common::set(&mut r, "DurationMs", Value::Int(100));
    assert!(!hit(&mut e, &r));
    let mut e = audit("    sel:\n        DurationMs|gte: 100\n    condition: sel");
    assert!(hit(&mut e, &r));
    let mut e = audit("    sel:\n        DurationMs|lt: 100\n    condition: sel");
    assert!(!hit(&mut e, &r));
    let mut e = audit("    sel:\n        DurationMs|lte: 100\n    condition: sel");
    assert!(hit(&mut e, &r));
    // An integer rule value matches the string column.
    let d = "    sel:\n        ResultType: 50053\n    condition: sel";
    let mut e = engine_for("signinlogs", d, EngineConfig::default());
    assert!(hit(
        &mut e,
        &common::with(Category::SignInLogs, &[("ResultType", "50053")])
    ));
    assert!(!hit(
        &mut e,
        &common::with(Category::SignInLogs, &[("ResultType", "500530")])
    ));
    // A string rule value matches an integer column.
    let mut e = audit("    sel:\n        DurationMs: '100'\n    condition: sel");
    assert!(hit(&mut e, &r));
}

#[test]
fn booleans_match_json_booleans_and_text() {
    let d = "    sel:\n        DeviceDetail.isCompliant: false\n    condition: sel";
    let mut e = engine_for("signinlogs", d, EngineConfig::default());
    let s = |v: &str| common::with(Category::SignInLogs, &[("DeviceDetail", v)]);
    assert!(hit(&mut e, &s(r#"{"isCompliant":false}"#)));
    assert!(hit(&mut e, &s(r#"{"isCompliant":"False"}"#)));
    assert!(!hit(&mut e, &s(r#"{"isCompliant":true}"#)));
}

#[test]
fn timestamp_parts() {
    let mut e = audit("    sel:\n        ActivityDateTime|hour: 13\n    condition: sel");
    let mut r = rec(&[]);
    common::set(
        &mut r,
        "ActivityDateTime",
        Value::DateTime(1_709_819_100_000_000),
    ); // 13:45Z
    assert!(hit(&mut e, &r));
    common::set(
        &mut r,
        "ActivityDateTime",
        Value::DateTime(1_709_819_100_000_000 + 3_600_000_000),
    );
    assert!(!hit(&mut e, &r));
}

#[test]
fn fieldref() {
    let mut e =
        audit("    sel:\n        OperationName|fieldref: ActivityDisplayName\n    condition: sel");
    assert!(hit(
        &mut e,
        &rec(&[
            ("OperationName", "Add user"),
            ("ActivityDisplayName", "add USER")
        ])
    ));
    assert!(!hit(
        &mut e,
        &rec(&[
            ("OperationName", "Add user"),
            ("ActivityDisplayName", "Delete user")
        ])
    ));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add user")])));
    let mut e = audit(
        "    sel:\n        OperationName|fieldref|startswith: ActivityDisplayName\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[
            ("OperationName", "Add user x"),
            ("ActivityDisplayName", "add")
        ])
    ));
}

#[test]
fn expand_placeholders_from_config() {
    let d = "    sel:\n        Location|expand: '%Blocked%'\n    condition: sel";
    let mut config = EngineConfig::default();
    config
        .placeholders
        .insert("blocked".into(), vec!["RU".into(), "KP".into()]);
    let mut e = engine_for("signinlogs", d, config);
    assert!(e.diagnostics().is_empty());
    let s = |c: &str| common::with(Category::SignInLogs, &[("Location", c)]);
    assert!(hit(&mut e, &s("KP")));
    assert!(!hit(&mut e, &s("GB")));
    // Without a value the rule loads (with a warning at lint time) and stays inactive.
    let yaml = format!(
        "title: t\nid: r1\nlogsource:\n    product: azure\n    service: signinlogs\ndetection:\n{d}\n"
    );
    let (set, diags) = RuleSet::from_yaml(&yaml, "x.yml");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, detect::DiagnosticKind::Placeholder);
    let mut e = Engine::new(&set, EngineConfig::default());
    assert_eq!(e.diagnostics().len(), 1);
    assert!(e.diagnostics()[0].message.contains("%Blocked%"));
    assert!(!hit(&mut e, &s("KP")));
}

#[test]
fn neq() {
    let mut e = audit("    sel:\n        Result|neq: success\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("Result", "failure")])));
    assert!(!hit(&mut e, &rec(&[("Result", "Success")])));
    assert!(!hit(&mut e, &rec(&[])));
}

#[test]
fn condition_forms() {
    let sels = "    sel_a:\n        OperationName: a\n    sel_b:\n        Category: b\n    filter:\n        Result: c\n";
    let a = rec(&[("OperationName", "a")]);
    let ab = rec(&[("OperationName", "a"), ("Category", "b")]);
    let abc = rec(&[("OperationName", "a"), ("Category", "b"), ("Result", "c")]);
    let b = rec(&[("Category", "b")]);
    let none = rec(&[]);
    let cases: &[(&str, [bool; 5])] = &[
        ("sel_a and sel_b", [false, true, true, false, false]),
        ("sel_a or sel_b", [true, true, true, true, false]),
        ("not sel_a", [false, false, false, true, true]),
        (
            "(sel_a or sel_b) and not filter",
            [true, true, false, true, false],
        ),
        (
            "sel_a and not (sel_b or filter)",
            [true, false, false, false, false],
        ),
        ("1 of sel_*", [true, true, true, true, false]),
        ("all of sel_*", [false, true, true, false, false]),
        ("1 of them", [true, true, true, true, false]),
        ("all of them", [false, false, true, false, false]),
        ("2 of them", [false, true, true, false, false]),
        (
            "all of sel_* and not 1 of filter*",
            [false, true, false, false, false],
        ),
    ];
    for (cond, want) in cases {
        let mut e = audit(&format!("{sels}    condition: {cond}"));
        let got = [&a, &ab, &abc, &b, &none].map(|r| hit(&mut e, r));
        assert_eq!(&got, want, "{cond}");
    }
}

#[test]
fn list_of_maps_is_or_of_ands() {
    let mut e = audit(
        "    sel:\n        - OperationName: a\n          Category: b\n        - Result: c\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[("OperationName", "a"), ("Category", "b")])
    ));
    assert!(hit(&mut e, &rec(&[("Result", "c")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "a")])));
}

#[test]
fn keywords_search_every_text_column() {
    let d = "    keywords:\n        - Microsoft.Authorization/roleAssignments/write\n    condition: keywords";
    let mut e = engine_for("activitylogs", d, EngineConfig::default());
    let r = |c: &str, v: &str| common::with(Category::AzureActivity, &[(c, v)]);
    assert!(hit(
        &mut e,
        &r(
            "OperationNameValue",
            "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"
        )
    ));
    assert!(hit(
        &mut e,
        &r(
            "Properties_d",
            r#"{"message":"microsoft.authorization/roleAssignments/write"}"#
        )
    ));
    assert!(!hit(
        &mut e,
        &r(
            "OperationNameValue",
            "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/DELETE"
        )
    ));
}

#[test]
fn paths_reach_into_arrays_and_json_encoded_values() {
    let consent = r#"[{"type":"ServicePrincipal","modifiedProperties":[{"displayName":"ConsentContext.IsAdminConsent","oldValue":"","newValue":"\"False\""},{"displayName":"ConsentContext.OnBehalfOfAll","newValue":"\"True\""}]}]"#;
    let mut e =
        audit("    sel:\n        ConsentContext.IsAdminConsent: 'false'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("TargetResources", consent)])));
    let admin = consent.replace(r#""\"False\"""#, r#""\"True\"""#);
    assert!(!hit(&mut e, &rec(&[("TargetResources", &admin)])));
    let mut e = audit(
        "    sel:\n        TargetResources.modifiedProperties.newValue|contains: 'True'\n    condition: sel",
    );
    assert!(hit(&mut e, &rec(&[("TargetResources", consent)])));
    let mut e =
        audit("    sel:\n        targetResources.type: ServicePrincipal\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("TargetResources", consent)])));
    let details = r#"[{"key":"User-Agent","value":"x"},{"key":"additionalInfo","value":"Successfully recovered local credential by device id: 1"}]"#;
    let mut e = audit(
        "    sel:\n        additionalDetails.additionalInfo|contains: 'recovered local credential'\n    condition: sel",
    );
    assert!(hit(&mut e, &rec(&[("AdditionalDetails", details)])));
    assert!(!hit(
        &mut e,
        &rec(&[(
            "AdditionalDetails",
            r#"[{"key":"other","value":"recovered local credential"}]"#
        )])
    ));
}

#[test]
fn match_carries_rule_metadata_and_record_key() {
    let mut e = audit("    sel:\n        OperationName: a\n    condition: sel");
    let m: Vec<_> = e.evaluate(&rec(&[("OperationName", "a")])).collect();
    assert_eq!(m.len(), 1);
    assert_eq!(&*m[0].rule_id, "r1");
    assert_eq!(&*m[0].title, "t");
    assert_eq!(m[0].level, detect::Level::High);
    assert_eq!(m[0].key, "k1");
    assert_eq!(m[0].attack_tags().collect::<Vec<_>>(), ["attack.t1078"]);
    assert!(m[0].correlation.is_none());
}

#[test]
fn indexed_equality_on_every_column_type() {
    // Each of these rules is filed in the literal index under its column; the lookup must read the
    // column as the item test does, whatever its type.
    let d = "    sel:\n        IsInteractive: 'true'\n    condition: sel";
    let mut e = engine_for("signinlogs", d, EngineConfig::default());
    let mut r = common::record(Category::SignInLogs, "k", 0);
    common::set(&mut r, "IsInteractive", Value::Bool(true));
    assert!(hit(&mut e, &r));
    common::set(&mut r, "IsInteractive", Value::Bool(false));
    assert!(!hit(&mut e, &r));
    let mut e = audit("    sel:\n        DurationMs: 250\n    condition: sel");
    let mut r = rec(&[]);
    common::set(&mut r, "DurationMs", Value::Int(250));
    assert!(hit(&mut e, &r));
    let mut e = audit("    sel:\n        TargetResources: '[]'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("TargetResources", "[]")])));
    assert!(!hit(&mut e, &rec(&[("TargetResources", "[{}]")])));
}

#[test]
fn indexed_equality_with_non_ascii_values() {
    // Filed in the index under OperationName; equality atoms on that column are decided by the lookup for
    // ASCII values and evaluated directly otherwise: both ignore case the way the item test does.
    let mut e = audit(
        "    sel:\n        OperationName:\n            - Añadir usuario\n            - Add user\n    filter:\n        OperationName: add USER\n    condition: sel and not filter",
    );
    assert!(hit(&mut e, &rec(&[("OperationName", "AÑADIR USUARIO")])));
    assert!(hit(&mut e, &rec(&[("OperationName", "añadir usuario")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add User")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Añadir")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Delete user")])));
}
