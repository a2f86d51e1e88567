//! Unit tests of the native analytics on hand-built canonical records (the scenario tests in
//! `tests/analytics_scenarios.rs` run them over the simulated tenant in every wire shape). Sign-in analytics
//! and state limits here; directory-audit analytics in `audit_analytics`.
#![allow(clippy::unwrap_used)]

use super::*;
use model::{Shape, schema};
use serde_json::json;

mod audit_analytics;

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
