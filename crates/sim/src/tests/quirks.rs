//! Quirks appear when asked for and never otherwise.

use super::{cfg, run};
use crate::{Category, Shape, render};

const QUIRK_CATEGORIES: &[Category] = &[
    Category::AuditLogs,
    Category::SignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::AdfsSignInLogs,
    Category::UserRiskEvents,
    Category::RiskyUsers,
    Category::MicrosoftGraphActivityLogs,
    Category::KeyVaultAuditEvent,
];

/// A predicate over (category, one rendered diagnostic record as text).
type Check = Box<dyn Fn(&str, &str) -> bool>;

/// (name, predicate).
fn checks() -> Vec<(&'static str, Check)> {
    vec![
        (
            "level Informational",
            Box::new(|c, s| c == "AuditLogs" && s.contains("\"level\":\"Informational\"")),
        ),
        (
            "Level as string",
            Box::new(|_, s| {
                s.contains("\"Level\":\"4\"") || s.contains("\"Level\":\"Information\"")
            }),
        ),
        (
            "durationMs as string",
            Box::new(|_, s| s.contains("\"durationMs\":\"")),
        ),
        (
            "<null> caller ip",
            Box::new(|_, s| s.contains("\"callerIpAddress\":\"<null>\"")),
        ),
        (
            "<null> initiator ip",
            Box::new(|_, s| s.contains("\"ipAddress\":\"<null>\"")),
        ),
        (
            "US-locale time",
            Box::new(|_, s| {
                s.contains("\"time\":\"3/") && (s.contains(" AM\"") || s.contains(" PM\""))
            }),
        ),
        (
            "lower-case aadiam",
            Box::new(|_, s| s.contains("/providers/microsoft.aadiam\"")),
        ),
        (
            "Graph activity strings",
            Box::new(|c, s| {
                c == "MicrosoftGraphActivityLogs" && s.contains("\"clientAuthMethod\":\"")
            }),
        ),
        (
            "upper-case resourceId",
            Box::new(|_, s| s.contains("/PROVIDERS/MICROSOFT.AADIAM\"")),
        ),
        (
            "bare GUID resourceId",
            Box::new(|c, s| {
                c == "ServicePrincipalSignInLogs" && !s.contains("\"resourceId\":\"/tenants")
            }),
        ),
        (
            "lower-cased envelope keys",
            Box::new(|_, s| s.contains("\"calleripaddress\"") || s.contains("\"correlationid\"")),
        ),
        (
            "-05:00 createdDateTime",
            Box::new(|_, s| s.contains("-05:00\"")),
        ),
        (
            "en dash operation",
            Box::new(|_, s| {
                s.contains("Update application – Certificates and secrets management \"")
            }),
        ),
        (
            "JSON-encoded newValue",
            Box::new(|_, s| {
                s.contains("\"newValue\":\"[\\\"") || s.contains("\"newValue\":\"\\\"")
            }),
        ),
        (
            "additionalInfo as string",
            Box::new(|_, s| s.contains("\"additionalInfo\":\"[")),
        ),
    ]
}

#[test]
fn quirks_appear_when_on_and_not_when_off() {
    let r = run(&cfg(200, 2, 21), Some(QUIRK_CATEGORIES));
    let on: Vec<(&str, String)> = r
        .events
        .iter()
        .map(|e| {
            (
                e.category,
                render(e, Shape::Diagnostic, true, &r.tenant)
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let off: Vec<(&str, String)> = r
        .events
        .iter()
        .map(|e| {
            (
                e.category,
                render(e, Shape::Diagnostic, false, &r.tenant)
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    for (name, check) in checks() {
        let hits_on = on.iter().filter(|(c, s)| check(c, s)).count();
        let hits_off = off.iter().filter(|(c, s)| check(c, s)).count();
        assert!(hits_on > 0, "quirk {name} never produced");
        assert!(hits_on < on.len(), "quirk {name} on every record");
        assert_eq!(hits_off, 0, "quirk {name} produced with quirks off");
    }
}

#[test]
fn la_audit_json_strings_only_with_quirks() {
    let r = super::small_day();
    let audits: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.category == "AuditLogs")
        .collect();
    let strings = |quirks: bool| {
        audits
            .iter()
            .filter(|e| {
                render(e, Shape::LogAnalytics, quirks, &r.tenant).unwrap()["TargetResources"]
                    .is_string()
            })
            .count()
    };
    assert!(strings(true) > 0);
    assert_eq!(strings(false), 0);
}
