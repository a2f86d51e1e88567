//! Unit tests of the native analytics on hand-built canonical records (the scenario tests in
//! `tests/analytics_scenarios.rs` run them over the simulated tenant in every wire shape).
#![allow(clippy::unwrap_used)]

use super::*;
use model::{Shape, schema};
use serde_json::json;

const MIN: i64 = 60_000_000;
const T0: i64 = 1_709_800_000_000_000;

fn rec(category: Category, key: &str, minute: i64, cols: &[(&str, String)]) -> Record {
    let s = schema(category);
    let mut values = vec![Value::Null; s.columns.len()];
    for (c, v) in cols {
        let i = s.index_of(c).unwrap_or_else(|| panic!("no column {c}"));
        values[i] = if s.columns[i].ty == model::ColumnType::Dynamic {
            Value::Dynamic(v.clone())
        } else {
            Value::String(v.clone())
        };
    }
    Record {
        category,
        event_time: T0 + minute * MIN,
        ingest_time: T0,
        key: key.to_owned(),
        content_hash: 0,
        revision: 0,
        source: "test".into(),
        shape: Shape::Graph,
        values,
        raw: String::new(),
    }
}

fn audit(
    key: &str,
    minute: i64,
    name: &str,
    by: serde_json::Value,
    targets: serde_json::Value,
) -> Record {
    rec(
        Category::AuditLogs,
        key,
        minute,
        &[
            ("OperationName", name.to_owned()),
            ("Result", "success".to_owned()),
            ("InitiatedBy", by.to_string()),
            ("TargetResources", targets.to_string()),
        ],
    )
}

fn admin(upn: &str, ip: &str) -> serde_json::Value {
    json!({"user": {"userPrincipalName": upn, "ipAddress": ip, "id": format!("id-{upn}"), "roles": []}})
}

fn ids(a: &mut Analytics, r: &Record) -> Vec<String> {
    let mut out = Vec::new();
    a.observe(r, &mut out);
    out.into_iter().map(|m| m.rule_id.to_string()).collect()
}

#[test]
fn catalogue_and_config() {
    assert_eq!(BUILTIN_ANALYTICS.len(), 17);
    for b in BUILTIN_ANALYTICS {
        assert!(b.tags.iter().any(|t| t.starts_with("attack.t")), "{}", b.id);
        assert!(!b.title.is_empty());
    }
    assert!(AnalyticsConfig::default().validate().is_ok());
    let bad = AnalyticsConfig {
        spray_accounts: 0,
        travel_max_speed_kmh: -1.0,
        privileged_users: vec!["nobody".into()],
        ..AnalyticsConfig::default()
    };
    let errs = bad.validate().unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spray_accounts",
            "travel_max_speed_kmh",
            "privileged_users[0]"
        ]
    );
    let cfg: AnalyticsConfig = toml::from_str("spray_accounts = 7\n").unwrap();
    assert_eq!(cfg.spray_accounts, 7);
    assert!(toml::from_str::<AnalyticsConfig>("nope = 1\n").is_err());
    let rules = builtin_rules_for(&cfg);
    assert!(rules.check().is_empty());
    let spray = rules
        .correlations()
        .iter()
        .find(|c| c.meta.id == PASSWORD_SPRAY)
        .unwrap();
    assert_eq!(spray.threshold[0].1, 7);
}

#[test]
fn disabled_accounts_from_one_ip() {
    let mut a = Analytics::new(100);
    let s = |u: &str, ip: &str, m: i64, k: &str| {
        rec(
            Category::SignInLogs,
            k,
            m,
            &[
                ("UserPrincipalName", u.to_owned()),
                ("ResultType", "50057".to_owned()),
                ("IPAddress", ip.to_owned()),
            ],
        )
    };
    assert!(ids(&mut a, &s("a@x", "6.6.6.6", 0, "1")).is_empty());
    // The same account again and another IP do not add up.
    assert!(ids(&mut a, &s("a@x", "6.6.6.6", 1, "2")).is_empty());
    assert!(ids(&mut a, &s("b@x", "7.7.7.7", 2, "3")).is_empty());
    assert!(ids(&mut a, &s("b@x", "6.6.6.6", 3, "4")).is_empty());
    assert_eq!(
        ids(&mut a, &s("c@x", "6.6.6.6", 4, "5")),
        [DISABLED_ACCOUNT]
    );
    // Named (corporate) networks are not counted.
    let mut a = Analytics::new(100);
    for (i, u) in ["a@x", "b@x", "c@x", "d@x"].iter().enumerate() {
        let mut r = s(u, "203.0.113.10", i as i64, "k");
        let i = schema(Category::SignInLogs)
            .index_of("NetworkLocationDetails")
            .unwrap();
        r.values[i] = Value::Dynamic(r#"[{"networkType":"namedNetwork"}]"#.into());
        assert!(ids(&mut a, &r).is_empty());
    }
}

#[test]
fn high_risk_once_per_window() {
    let mut a = Analytics::new(100);
    let signin = |risk: &str, code: &str, m: i64| {
        rec(
            Category::SignInLogs,
            "s",
            m,
            &[
                ("UserPrincipalName", "a@x".to_owned()),
                ("ResultType", code.to_owned()),
                ("IPAddress", "1.2.3.4".to_owned()),
                ("RiskLevelDuringSignIn", risk.to_owned()),
            ],
        )
    };
    assert!(ids(&mut a, &signin("medium", "0", 0)).is_empty());
    assert!(ids(&mut a, &signin("high", "50126", 1)).is_empty());
    assert_eq!(ids(&mut a, &signin("high", "0", 2)), [HIGH_RISK]);
    assert!(ids(&mut a, &signin("high", "0", 3)).is_empty());
    let risky = |state: &str, user: &str| {
        rec(
            Category::RiskyUsers,
            "r",
            5,
            &[
                ("UserPrincipalName", user.to_owned()),
                ("RiskLevel", "high".to_owned()),
                ("RiskState", state.to_owned()),
            ],
        )
    };
    assert!(ids(&mut a, &risky("remediated", "b@x")).is_empty());
    assert_eq!(ids(&mut a, &risky("atRisk", "b@x")), [HIGH_RISK]);
}

#[test]
fn high_risk_that_was_dismissed_or_remediated_does_not_alert() {
    let mut a = Analytics::new(100);
    let detection = |state: &str, user: &str, m: i64| {
        rec(
            Category::UserRiskEvents,
            "d",
            m,
            &[
                ("UserPrincipalName", user.to_owned()),
                ("RiskLevel", "high".to_owned()),
                ("RiskState", state.to_owned()),
            ],
        )
    };
    assert!(ids(&mut a, &detection("dismissed", "a@x", 0)).is_empty());
    assert!(ids(&mut a, &detection("remediated", "a@x", 1)).is_empty());
    assert!(ids(&mut a, &detection("confirmedSafe", "a@x", 2)).is_empty());
    assert_eq!(ids(&mut a, &detection("atRisk", "a@x", 3)), [HIGH_RISK]);
    assert_eq!(
        ids(&mut a, &detection("confirmedCompromised", "b@x", 4)),
        [HIGH_RISK]
    );
    // A high-risk sign-in whose risk the user remediated (MFA, secure password change): no alert; an
    // open one on the same account still alerts.
    let signin = |state: &str, m: i64| {
        rec(
            Category::SignInLogs,
            "s",
            m,
            &[
                ("UserPrincipalName", "c@x".to_owned()),
                ("ResultType", "0".to_owned()),
                ("RiskLevelDuringSignIn", "high".to_owned()),
                ("RiskState", state.to_owned()),
            ],
        )
    };
    assert!(ids(&mut a, &signin("remediated", 5)).is_empty());
    assert_eq!(ids(&mut a, &signin("atRisk", 6)), [HIGH_RISK]);
}

#[test]
fn credentials_consent_and_credential_after_consent() {
    let mut a = Analytics::new(100);
    let key = |old: &str, new: &str| {
        json!([{"id": "app1", "displayName": "Payroll", "type": "Application", "modifiedProperties": [
            {"displayName": "KeyDescription", "oldValue": old, "newValue": new}]}])
    };
    let k1 = "[\"[KeyIdentifier=k1,KeyType=Password,KeyUsage=Verify,DisplayName=ci]\"]";
    let k12 = "[\"[KeyIdentifier=k1,KeyType=Password]\",\"[KeyIdentifier=k2,KeyType=Password]\"]";
    let name = "Update application – Certificates and secrets management ";
    // The first credential of an app, added by a user: routine.
    assert!(
        ids(
            &mut a,
            &audit("a1", 0, name, admin("adm@x", "1.1.1.1"), key("[]", k1))
        )
        .is_empty()
    );
    // A second credential next to an existing one: fires.
    assert_eq!(
        ids(
            &mut a,
            &audit("a2", 1, name, admin("adm@x", "1.1.1.1"), key(k1, k12))
        ),
        [APP_CREDENTIAL]
    );
    // Removing one does not.
    assert!(
        ids(
            &mut a,
            &audit("a3", 2, name, admin("adm@x", "1.1.1.1"), key(k12, k1))
        )
        .is_empty()
    );
    // High-privilege admin consent, then a first credential on the same app.
    let consent = json!([{"id": "sp1", "displayName": "Payroll", "type": "ServicePrincipal", "modifiedProperties": [
        {"displayName": "ConsentContext.IsAdminConsent", "oldValue": null, "newValue": "\"True\""},
        {"displayName": "ConsentAction.Permissions", "oldValue": null,
         "newValue": "[] => [[Id: x, Scope: Mail.ReadWrite openid]]"}]}]);
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "c1",
                10,
                "Consent to application",
                admin("u@x", "2.2.2.2"),
                consent
            )
        ),
        [HIGH_PRIVILEGE_CONSENT]
    );
    assert_eq!(
        ids(
            &mut a,
            &audit("a4", 20, name, admin("adm@x", "1.1.1.1"), key("[]", k1))
        ),
        [CREDENTIAL_AFTER_CONSENT]
    );
    let low = json!([{"id": "sp2", "displayName": "Wiki", "type": "ServicePrincipal", "modifiedProperties": [
        {"displayName": "ConsentAction.Permissions", "newValue": "Scope: User.Read openid profile offline_access"}]}]);
    assert!(
        ids(
            &mut a,
            &audit(
                "c2",
                30,
                "Consent to application",
                admin("u@x", "2.2.2.2"),
                low
            )
        )
        .is_empty()
    );
}

#[test]
fn roles_and_privileged_auth_methods() {
    let mut a = Analytics::new(100);
    let role = json!([
        {"id": "r1", "displayName": "Global Administrator", "type": "Role", "modifiedProperties": []},
        {"id": "u1", "type": "User", "userPrincipalName": "boss@x", "modifiedProperties": []}]);
    let pim =
        json!({"app": {"displayName": "MS-PIM", "appId": "01fc33a7-78ba-4d2f-a4b7-768e336e890e"}});
    assert!(
        ids(
            &mut a,
            &audit("r1", 0, "Add member to role", pim, role.clone())
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "r2",
                1,
                "Add member to role",
                admin("adm@x", "1.1.1.1"),
                role
            )
        ),
        [ROLE_OUTSIDE_PIM]
    );
    // boss@x now holds a role. Own change from its usual network: fine; from a new one: fires.
    let signin = rec(
        Category::SignInLogs,
        "s",
        2,
        &[
            ("UserPrincipalName", "boss@x".to_owned()),
            ("ResultType", "0".to_owned()),
            ("IPAddress", "20.1.1.7".to_owned()),
        ],
    );
    assert!(ids(&mut a, &signin).is_empty());
    let me = json!([{"id": "u1", "type": "User", "userPrincipalName": "boss@x", "modifiedProperties": []}]);
    let later = 2 * 24 * 60;
    assert!(
        ids(
            &mut a,
            &audit(
                "m1",
                later,
                "User registered security info",
                admin("boss@x", "20.1.1.9"),
                me.clone()
            )
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "m2",
                later + 5,
                "User registered security info",
                admin("boss@x", "45.9.9.9"),
                me.clone()
            )
        ),
        [PRIVILEGED_AUTH_METHODS]
    );
    // Someone else changing a privileged account's methods fires; a non-privileged account does not.
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "m3",
                later + 6,
                "Admin deleted security info",
                admin("help@x", "20.1.1.9"),
                me
            )
        ),
        [PRIVILEGED_AUTH_METHODS]
    );
    let other = json!([{"id": "u9", "type": "User", "userPrincipalName": "joe@x", "modifiedProperties": []}]);
    assert!(
        ids(
            &mut a,
            &audit(
                "m4",
                later + 7,
                "Admin deleted security info",
                admin("help@x", "20.1.1.9"),
                other
            )
        )
        .is_empty()
    );
}

#[test]
fn federation_ca_cross_tenant_and_diagnostic_settings() {
    let mut a = Analytics::new(100);
    let domain = json!([{"id": "d", "displayName": "contoso.com", "type": "Domain", "modifiedProperties": []}]);
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "f",
                0,
                "Set domain authentication",
                admin("adm@x", "1.1.1.1"),
                domain
            )
        ),
        [FEDERATION_CHANGED]
    );
    let ca = |state: &str| {
        json!([{"id": "p", "displayName": "Require MFA", "type": "Policy", "modifiedProperties": [
        {"displayName": "ConditionalAccessPolicy", "oldValue": "{\"state\":\"enabled\"}",
         "newValue": format!("{{\"state\": \"{state}\"}}")}]}])
    };
    let up = "Update conditional access policy";
    assert!(
        ids(
            &mut a,
            &audit("c1", 1, up, admin("adm@x", "1.1.1.1"), ca("enabled"))
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit("c2", 2, up, admin("adm@x", "1.1.1.1"), ca("disabled"))
        ),
        [CA_POLICY_DISABLED]
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "c3",
                3,
                "Delete conditional access policy",
                admin("adm@x", "1.1.1.1"),
                ca("enabled")
            )
        ),
        [CA_POLICY_DISABLED]
    );
    let partner = json!([{"id": "9f0e3c1a-0000-4000-8000-000000000001", "displayName": "", "type": "Policy", "modifiedProperties": [
        {"displayName": "tenantId", "newValue": "\"9f0e3c1a-0000-4000-8000-000000000001\""}]}]);
    let add = "Add a partner to cross-tenant access setting";
    assert_eq!(
        ids(
            &mut a,
            &audit("x", 4, add, admin("adm@x", "1.1.1.1"), partner.clone())
        ),
        [CROSS_TENANT_PARTNER]
    );
    let mut allowed = Analytics::with_config(
        AnalyticsConfig {
            allowed_partner_tenants: vec!["9F0E3C1A-0000-4000-8000-000000000001".into()],
            ..AnalyticsConfig::default()
        },
        100,
    );
    assert!(
        ids(
            &mut allowed,
            &audit("x", 4, add, admin("adm@x", "1.1.1.1"), partner)
        )
        .is_empty()
    );
    let diag = |op: &str, status: &str| {
        rec(
            Category::AzureActivity,
            "d",
            5,
            &[
                ("OperationNameValue", op.to_owned()),
                ("ActivityStatusValue", status.to_owned()),
                (
                    "ResourceId",
                    "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"
                        .to_owned(),
                ),
            ],
        )
    };
    assert!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "Start")
        )
        .is_empty()
    );
    assert!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/READ", "Success")
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "Success")
        ),
        [DIAGNOSTIC_SETTINGS]
    );
    assert_eq!(
        ids(
            &mut a,
            &diag("microsoft.aadiam/diagnosticSettings/write", "Succeeded")
        ),
        [DIAGNOSTIC_SETTINGS]
    );
}

#[test]
fn state_is_bounded_and_expires() {
    let mut a = Analytics::new(8);
    for i in 0..100 {
        let r = rec(
            Category::SignInLogs,
            "k",
            i,
            &[
                ("UserPrincipalName", format!("u{i}@x")),
                ("ResultType", "50057".to_owned()),
                ("IPAddress", format!("9.9.{i}.1")),
            ],
        );
        ids(&mut a, &r);
    }
    assert!(
        a.users.len() <= 8 && a.by_ip.len() <= 8,
        "{} {}",
        a.users.len(),
        a.by_ip.len()
    );
    // Far later, a sweep drops everything older than the windows.
    a.watermark = T0 + 10 * 24 * 60 * MIN;
    a.sweep();
    assert_eq!(a.state_entries(), 0);
}
