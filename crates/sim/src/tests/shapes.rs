//! Every shape renders valid JSON for every category, with the documented fields and columns.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{first_of_each, la_schemas, small_day};
use crate::shape::{is_documented, la_columns};
use crate::{Category, Shape, render};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn required_envelope(cat: Category) -> &'static [&'static str] {
    match cat {
        Category::NsgFlowEvent => &[
            "time",
            "systemId",
            "macAddress",
            "category",
            "resourceId",
            "operationName",
            "properties",
        ],
        Category::VnetFlowEvent => &[
            "time",
            "flowLogVersion",
            "flowLogGUID",
            "macAddress",
            "category",
            "flowLogResourceID",
            "targetResourceID",
            "operationName",
            "flowRecords",
        ],
        Category::KeyVaultAuditEvent => &[
            "time",
            "resourceId",
            "operationName",
            "category",
            "resultType",
            "correlationId",
            "identity",
            "callerIpAddress",
            "properties",
        ],
        c if c.is_activity() => &[
            "time",
            "resourceId",
            "operationName",
            "category",
            "resultType",
            "level",
            "correlationId",
            "properties",
        ],
        c if c.is_sign_in() || matches!(c, Category::AuditLogs | Category::ProvisioningLogs) => &[
            "time",
            "resourceId",
            "operationName",
            "operationVersion",
            "category",
            "tenantId",
            "resultType",
            "durationMs",
            "correlationId",
            "Level",
            "properties",
        ],
        _ => &[
            "time",
            "resourceId",
            "operationName",
            "operationVersion",
            "category",
            "tenantId",
            "durationMs",
            "correlationId",
            "Level",
            "properties",
        ],
    }
}

#[test]
fn every_category_renders_in_every_shape() {
    let run = small_day();
    let firsts = first_of_each(run);
    assert_eq!(firsts.len(), Category::ALL.len());
    for ev in firsts {
        let cat = Category::from_name(ev.category).unwrap();
        let t = &run.tenant;

        let graph = render(ev, Shape::Graph, false, t);
        assert_eq!(graph.is_some(), cat.has_graph_api(), "{}", ev.category);
        if let Some(g) = &graph {
            assert_eq!(g, &ev.graph);
        }

        let diag = render(ev, Shape::Diagnostic, false, t).unwrap();
        let text = serde_json::to_string(&diag).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(keys(&back), keys(&diag), "{}", ev.category);
        for k in required_envelope(cat) {
            assert!(
                diag.get(*k).is_some(),
                "{}: envelope lacks {k}: {text}",
                ev.category
            );
        }
        assert_eq!(diag["category"], ev.category);
        if let Some(rt) = diag.get("resultType") {
            assert!(rt.is_string(), "{}: resultType {rt}", ev.category);
        }
        if cat.is_entra() {
            assert!(
                diag["resourceId"]
                    .as_str()
                    .unwrap()
                    .ends_with("/providers/Microsoft.aadiam")
            );
            assert_eq!(diag["Level"], 4);
        }

        let la = render(ev, Shape::LogAnalytics, false, t).unwrap();
        let table = cat.la_table();
        assert_eq!(la["Type"], table);
        let expected: BTreeSet<String> = la_columns(table)
            .unwrap()
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        assert_eq!(keys(&la), expected, "{table}");
        if let Some(rt) = la.get("ResultType") {
            assert!(rt.is_string(), "{table}: ResultType {rt}");
        }
    }
}

#[test]
fn la_columns_match_the_published_schemas() {
    let schemas = la_schemas();
    let run = small_day();
    let mut checked = BTreeSet::new();
    for ev in first_of_each(run) {
        let table = crate::la_table(ev.category);
        let Some(cols) = schemas.get(&table.to_ascii_lowercase()) else {
            continue;
        };
        assert!(is_documented(table), "{table}");
        let la = render(ev, Shape::LogAnalytics, false, &run.tenant).unwrap();
        let published: BTreeSet<String> = cols
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys(&la), published, "{table}");
        for c in cols.as_array().unwrap() {
            let (name, ty) = (c["name"].as_str().unwrap(), c["type"].as_str().unwrap());
            let v = &la[name];
            let ok = match ty {
                "string" => v.is_string(),
                "bool" => v.is_boolean() || v.is_null(),
                "long" | "int" | "real" => v.is_number() || v.is_null(),
                "datetime" => v.is_string() || v.is_null(),
                _ => true,
            };
            assert!(ok, "{table}.{name} ({ty}) = {v}");
        }
        checked.insert(table);
    }
    // Every published table we produce (NTANetAnalytics is traffic analytics output, not produced).
    assert_eq!(checked.len(), 13, "{checked:?}");
    assert!(checked.contains("AzureActivity"));
}

#[test]
fn la_nested_columns_follow_the_table_types() {
    let run = small_day();
    let find = |cat: &str| run.events.iter().find(|e| e.category == cat).unwrap();
    let t = &run.tenant;
    let interactive = render(find("SignInLogs"), Shape::LogAnalytics, false, t).unwrap();
    assert!(interactive["Status"].is_object() && interactive["DeviceDetail"].is_object());
    assert!(interactive["LocationDetails"]["geoCoordinates"].is_object());
    let non_interactive = render(
        find("NonInteractiveUserSignInLogs"),
        Shape::LogAnalytics,
        false,
        t,
    )
    .unwrap();
    for col in [
        "Status",
        "DeviceDetail",
        "LocationDetails",
        "ConditionalAccessPolicies",
        "MfaDetail",
    ] {
        let s = non_interactive[col]
            .as_str()
            .unwrap_or_else(|| panic!("{col} is not a string"));
        assert!(serde_json::from_str::<Value>(s).is_ok(), "{col}: {s}");
    }
    let audit = render(find("AuditLogs"), Shape::LogAnalytics, false, t).unwrap();
    assert!(audit["TargetResources"].is_array() && audit["InitiatedBy"].is_object());
    assert_ne!(audit["Category"], "AuditLogs");
    let activity = render(
        run.events
            .iter()
            .find(|e| e.category == "Administrative")
            .unwrap(),
        Shape::LogAnalytics,
        false,
        t,
    )
    .unwrap();
    assert_eq!(activity["CategoryValue"], "Administrative");
    assert!(
        activity["Properties_d"].is_object()
            && activity["SubscriptionId"]
                .as_str()
                .is_some_and(|s| s.len() == 36)
    );
}

#[test]
fn interactive_sign_in_size_is_realistic() {
    let run = small_day();
    let sizes: Vec<usize> = run
        .events
        .iter()
        .filter(|e| e.category == "SignInLogs")
        .take(50)
        .map(|e| {
            serde_json::to_string(&render(e, Shape::Diagnostic, false, &run.tenant).unwrap())
                .unwrap()
                .len()
        })
        .collect();
    let avg = sizes.iter().sum::<usize>() / sizes.len();
    assert!(
        (2000..=4500).contains(&avg),
        "average interactive sign-in is {avg} bytes"
    );
}
