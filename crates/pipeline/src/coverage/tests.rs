//! Verdicts from hand-made settings and statistics, the fix plan, and `[coverage]` validation.
#![allow(clippy::unwrap_used)]

use super::*;
use chrono::{DateTime, TimeDelta, Utc};
use model::{Category, Requirement};
use sources::arm::{DiagnosticSetting, LogSetting, SettingProperties};
use std::time::Duration;

const EH: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns/authorizationrules/send";
const LA: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn setting(name: &str, dest: &str, cats: &[(&str, bool)]) -> DiagnosticSetting {
    let mut p = SettingProperties {
        logs: cats
            .iter()
            .map(|(c, on)| LogSetting {
                category: Some((*c).into()),
                category_group: None,
                enabled: *on,
                retention_policy: None,
            })
            .collect(),
        ..SettingProperties::default()
    };
    if dest == LA {
        p.workspace_id = Some(dest.into());
    } else {
        p.event_hub_authorization_rule_id = Some(dest.into());
    }
    DiagnosticSetting {
        id: String::new(),
        name: name.into(),
        properties: p,
    }
}

fn all15() -> Vec<(&'static str, bool)> {
    TENANT_CATEGORIES[..15]
        .iter()
        .map(|c| (c.name(), true))
        .collect()
}

/// Recent records of the 15 required and recommended categories.
fn fresh(ago_h: i64) -> Received {
    TENANT_CATEGORIES[..15]
        .iter()
        .map(|c| {
            (
                *c,
                ReceivedStats {
                    records: 240,
                    first_event: Some(now() - TimeDelta::days(2)),
                    last_event: Some(now() - TimeDelta::hours(ago_h)),
                    last_received: Some(now() - TimeDelta::hours(ago_h)),
                },
            )
        })
        .collect()
}

fn observed(settings: Vec<DiagnosticSetting>) -> Observed {
    Observed {
        entra: Ok(settings),
        licensed: None,
        scopes: Vec::new(),
        errors: Vec::new(),
        graph: Vec::new(),
    }
}

fn day(_: Category) -> Option<Duration> {
    Some(Duration::from_secs(86_400))
}

fn verdict(r: &Report, c: Category) -> Verdict {
    r.rows
        .iter()
        .find(|row| row.category == c.name())
        .unwrap()
        .verdict
}

#[test]
fn complete_tenant_passes() {
    let r = evaluate(
        &observed(vec![setting("eh", EH, &all15())]),
        &fresh(1),
        &day,
        now(),
    );
    assert!(r.passed, "{r:#?}");
    assert_eq!(
        r.rows.len(),
        15,
        "optional categories neither exported nor received are not listed"
    );
    assert!(r.rows.iter().all(|row| row.verdict == Verdict::Pass));
    let signins = &r.rows[1];
    assert_eq!(signins.requirement, Requirement::Required);
    let rate = signins.rate_per_day.unwrap();
    assert!((rate - 240.0 * 86_400.0 / 169_200.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        signins.destinations[0].kind,
        sources::arm::DestinationKind::EventHub
    );
}

#[test]
fn missing_disabled_and_log_analytics_only() {
    let mut cats = all15();
    cats[1].1 = false; // SignInLogs disabled
    cats.retain(|(c, _)| *c != "RiskyUsers"); // absent
    let r = evaluate(
        &observed(vec![
            setting("eh", EH, &cats),
            setting("la", LA, &[("RiskyUsers", true)]),
        ]),
        &Received::new(),
        &|_| None,
        now(),
    );
    assert!(!r.passed);
    assert_eq!(verdict(&r, Category::SignInLogs), Verdict::Missing);
    let risky = r.rows.iter().find(|x| x.category == "RiskyUsers").unwrap();
    assert_eq!(risky.verdict, Verdict::Missing);
    assert!(
        risky.reason.contains("only to log_analytics"),
        "{}",
        risky.reason
    );
    assert_eq!(risky.fix.as_deref(), Some(FIX_COMMAND));
    assert_eq!(verdict(&r, Category::AuditLogs), Verdict::Pass);
}

#[test]
fn silent_after_threshold_and_graph_counts_as_a_path() {
    let r = evaluate(
        &observed(vec![setting("eh", EH, &all15())]),
        &fresh(30),
        &day,
        now(),
    );
    assert!(!r.passed);
    assert_eq!(verdict(&r, Category::SignInLogs), Verdict::Silent);
    // No setting at all: records that came by import do not make an export.
    let r = evaluate(&observed(Vec::new()), &fresh(1), &day, now());
    assert_eq!(verdict(&r, Category::AuditLogs), Verdict::Missing);
    assert!(r.rows[0].reason.contains("import"), "{}", r.rows[0].reason);
    // A Graph source collecting it is a way in: pass while fresh.
    let mut o = observed(Vec::new());
    o.graph = vec![Category::AuditLogs];
    let r = evaluate(&o, &fresh(1), &day, now());
    assert_eq!(verdict(&r, Category::AuditLogs), Verdict::Pass);
    assert!(r.rows[0].reason.contains("Graph"));
    assert_eq!(verdict(&r, Category::SignInLogs), Verdict::Missing);
}

#[test]
fn not_licensed_and_unreadable_settings_fail() {
    let mut o = observed(vec![setting("eh", EH, &all15())]);
    o.licensed = Some(vec!["AuditLogs".into(), "SignInLogs".into()]);
    let r = evaluate(&o, &Received::new(), &|_| None, now());
    assert_eq!(verdict(&r, Category::RiskyUsers), Verdict::NotLicensed);
    assert_eq!(verdict(&r, Category::AuditLogs), Verdict::Pass);
    assert!(!r.passed);
    o.entra = Err("403 AuthorizationFailed".into());
    o.licensed = None;
    let r = evaluate(&o, &fresh(1), &day, now());
    assert!(!r.passed);
    assert_eq!(r.errors.len(), 1);
}

#[test]
fn fix_adds_missing_categories_to_a_new_or_matching_setting() {
    let mut cats = all15();
    cats[1].1 = false;
    let settings = vec![
        setting("entrail", LA, &[("AuditLogs", true)]),
        setting("eh", EH, &cats),
    ];
    let r = evaluate(
        &observed(settings.clone()),
        &Received::new(),
        &|_| None,
        now(),
    );
    // The event hub setting is extended: SignInLogs enabled, nothing else touched.
    let p = plan_fix(&r, &Ok(settings.clone()), EH, None, "entrail")
        .unwrap()
        .unwrap();
    assert!(p.existing);
    assert_eq!(p.setting, "eh");
    assert_eq!(p.categories, ["SignInLogs"]);
    assert!(p.properties.enabled_entry("SignInLogs").is_some());
    assert_eq!(p.body["properties"]["eventHubAuthorizationRuleId"], EH);
    // To a storage account: a new setting under a free name (entrail is taken).
    let sa = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs1";
    let p = plan_fix(&r, &Ok(settings.clone()), sa, None, "entrail")
        .unwrap()
        .unwrap();
    assert!(!p.existing);
    assert_eq!(p.setting, "entrail-2");
    assert_eq!(
        p.body["properties"]["logs"][0],
        serde_json::json!({"category": "SignInLogs", "enabled": true})
    );
    assert!(matches!(
        plan_fix(&r, &Ok(settings), LA, None, "entrail"),
        Err(FixError::BadDestination(_))
    ));
}

#[test]
fn config_borrows_the_graph_source_and_reports_every_problem() {
    let text = r#"
        [[sources]]
        type = "graph"
        id = "g"
        tenant_id = "contoso.onmicrosoft.com"
        auth = { type = "client_secret", client_id = "app", secret = "s" }
        [coverage]
        arm_endpoint = "http://management.example.com"
        resources = ["kv"]
        subscriptions = ["nope"]
        silence_after = "soon"
        [coverage.silence]
        RiskyUsers = "7d"
        Bogus = "1h"
    "#;
    let errors = crate::config::parse(text).unwrap().validate().unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "coverage.silence_after",
            "coverage.silence.Bogus",
            "coverage.resources[0]",
            "coverage.subscriptions[0]",
            "coverage.arm_endpoint"
        ],
        "{errors:?}"
    );
    let ok = text
        .replace(
            "http://management.example.com",
            "https://management.azure.com",
        )
        .replace(
            "\"kv\"",
            "\"/subscriptions/x/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v\"",
        )
        .replace("[\"nope\"]", "[]")
        .replace("\"soon\"", "\"6h\"")
        .replace("Bogus = \"1h\"", "SignInLogs = \"off\"");
    let c = crate::config::parse(&ok).unwrap().validate().unwrap();
    let cov = c.coverage.unwrap();
    assert_eq!(cov.arm.credentials.tenant_id, "contoso.onmicrosoft.com");
    assert_eq!(
        cov.silence_after(Category::AuditLogs),
        Some(Duration::from_secs(6 * 3600))
    );
    assert_eq!(cov.silence_after(Category::SignInLogs), None);
    assert_eq!(
        cov.silence_after(Category::RiskyUsers),
        Some(Duration::from_secs(7 * 86400))
    );
    assert_eq!(cov.silence_after(Category::AdfsSignInLogs), None);
    assert!(
        crate::config::parse("")
            .unwrap()
            .validate()
            .unwrap()
            .coverage
            .is_none()
    );
}
