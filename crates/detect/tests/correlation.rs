//! Correlation rules of each type (group-by, timespan, expiry), v1 aggregations, and Sigma filters.
#![allow(clippy::unwrap_used)]

mod common;

use detect::{CorrelationKind, Engine, EngineConfig, Match, RuleSet};
use model::{Category, Record, Value};

const MIN: i64 = 60_000_000;

const BASE: &str = "title: Failed sign-in
id: 11111111-aaaa-0000-0000-000000000001
name: failed_signin
logsource:
    product: azure
    service: signinlogs
detection:
    sel:
        ResultType:
            - 50126
            - 50053
    condition: sel
level: low
---
title: Successful sign-in
id: 11111111-aaaa-0000-0000-000000000002
name: ok_signin
logsource:
    product: azure
    service: signinlogs
detection:
    sel:
        ResultType: 0
    condition: sel
level: low
";

fn signin(user: &str, ip: &str, code: &str, t_min: i64, key: &str) -> Record {
    let mut r = common::record(
        Category::SignInLogs,
        key,
        1_700_000_000_000_000 + t_min * MIN,
    );
    for (c, v) in [
        ("UserPrincipalName", user),
        ("IPAddress", ip),
        ("ResultType", code),
    ] {
        common::set(&mut r, c, Value::String(v.into()));
    }
    r
}

fn engine(correlation: &str) -> Engine {
    let (set, diags) = RuleSet::from_yaml(&format!("{BASE}---\n{correlation}"), "corr.yml");
    assert!(diags.is_empty(), "{diags:?}");
    Engine::new(
        &set,
        EngineConfig {
            max_groups: 8,
            ..EngineConfig::default()
        },
    )
}

fn fired(e: &mut Engine, r: &Record) -> Vec<Match> {
    e.evaluate(r).filter(|m| m.correlation.is_some()).collect()
}

#[test]
fn event_count_by_group_within_timespan() {
    let mut e = engine(
        "title: Brute force\nid: c1\ncorrelation:\n    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - UserPrincipalName\n    timespan: 10m\n    condition:\n        gte: 3\nlevel: high\n",
    );
    assert!(fired(&mut e, &signin("a", "1.1.1.1", "50126", 0, "k1")).is_empty());
    assert!(fired(&mut e, &signin("b", "1.1.1.1", "50126", 1, "k2")).is_empty());
    assert!(fired(&mut e, &signin("a", "1.1.1.1", "50053", 2, "k3")).is_empty());
    // A success does not count.
    assert!(fired(&mut e, &signin("a", "1.1.1.1", "0", 3, "k4")).is_empty());
    let m = fired(&mut e, &signin("a", "2.2.2.2", "50126", 4, "k5"));
    assert_eq!(m.len(), 1);
    let c = m[0].correlation.as_ref().unwrap();
    assert_eq!(&*m[0].rule_id, "c1");
    assert_eq!(c.kind, CorrelationKind::EventCount);
    assert_eq!(c.group, [("UserPrincipalName".to_owned(), "a".to_owned())]);
    assert_eq!(c.evidence, ["k1", "k3", "k5"]);
    assert_eq!(c.count, 3);
    // Outside the timespan: three more failures spread over 30 minutes never fire.
    for (i, t) in [30, 45, 60].iter().enumerate() {
        assert!(
            fired(
                &mut e,
                &signin("b", "1.1.1.1", "50126", *t, &format!("x{i}"))
            )
            .is_empty()
        );
    }
}

#[test]
fn base_rules_emit_unless_generate_is_false() {
    let corr = "title: Brute force\nid: c1\ncorrelation:\n    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - UserPrincipalName\n    timespan: 10m\n    condition:\n        gte: 3\n";
    let mut e = engine(corr);
    assert_eq!(e.evaluate(&signin("a", "1", "50126", 0, "k")).count(), 0);
    assert_eq!(e.evaluate(&signin("a", "1", "0", 0, "k")).count(), 1);
    let mut e = engine(&format!("{corr}generate: true\n"));
    assert_eq!(e.evaluate(&signin("a", "1", "50126", 0, "k")).count(), 1);
}

#[test]
fn value_count_password_spray() {
    let mut e = engine(
        "title: Spray\nid: c2\ncorrelation:\n    type: value_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 20m\n    condition:\n        field: UserPrincipalName\n        gte: 3\n",
    );
    assert!(fired(&mut e, &signin("a", "9.9.9.9", "50126", 0, "k1")).is_empty());
    assert!(fired(&mut e, &signin("a", "9.9.9.9", "50126", 1, "k2")).is_empty());
    assert!(fired(&mut e, &signin("b", "9.9.9.9", "50126", 2, "k3")).is_empty());
    assert!(fired(&mut e, &signin("c", "8.8.8.8", "50126", 3, "k4")).is_empty());
    let m = fired(&mut e, &signin("C", "9.9.9.9", "50126", 4, "k5"));
    assert_eq!(m.len(), 1);
    let c = m[0].correlation.as_ref().unwrap();
    assert_eq!(c.kind, CorrelationKind::ValueCount);
    assert_eq!(c.count, 3);
    assert_eq!(c.group, [("IPAddress".to_owned(), "9.9.9.9".to_owned())]);
}

#[test]
fn temporal_and_temporal_ordered() {
    let t = "title: Fail then success\nid: c3\ncorrelation:\n    type: TYPE\n    rules:\n        - failed_signin\n        - ok_signin\n    group-by:\n        - UserPrincipalName\n    timespan: 5m\n";
    let mut any = engine(&t.replace("TYPE", "temporal"));
    let mut ordered = engine(&t.replace("TYPE", "temporal_ordered"));
    for e in [&mut any, &mut ordered] {
        assert!(fired(e, &signin("a", "1", "0", 0, "s1")).is_empty());
        // A success for another user does not pair with a's failure.
        assert!(fired(e, &signin("b", "1", "0", 1, "s2")).is_empty());
    }
    // Success before failure: temporal fires, temporal_ordered does not.
    assert_eq!(
        fired(&mut any, &signin("a", "1", "50126", 2, "f1")).len(),
        1
    );
    assert!(fired(&mut ordered, &signin("a", "1", "50126", 2, "f1")).is_empty());
    let m = fired(&mut ordered, &signin("a", "1", "0", 3, "s3"));
    assert_eq!(m.len(), 1);
    let c = m[0].correlation.as_ref().unwrap();
    assert_eq!(c.kind, CorrelationKind::TemporalOrdered);
    assert_eq!(c.evidence.last().unwrap(), "s3");
    // Too far apart: 10 minutes > 5m.
    assert!(fired(&mut ordered, &signin("c", "1", "50126", 10, "f2")).is_empty());
    assert!(fired(&mut ordered, &signin("c", "1", "0", 20, "s4")).is_empty());
}

#[test]
fn correlation_state_expires_and_is_bounded() {
    let mut e = engine(
        "title: Brute force\nid: c1\ncorrelation:\n    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - UserPrincipalName\n    timespan: 10m\n    condition:\n        gte: 100\n",
    );
    for i in 0..20 {
        e.evaluate(&signin(&format!("u{i}"), "1", "50126", 0, "k"))
            .count();
    }
    // max_groups = 8.
    assert!(e.correlation_groups() <= 8, "{}", e.correlation_groups());
    // An hour later every group has expired; only the new one lives.
    e.evaluate(&signin("late", "1", "50126", 60, "k")).count();
    assert_eq!(e.correlation_groups(), 1);
}

#[test]
fn v1_aggregation_runs_as_a_correlation() {
    let yaml = "title: Many failures\nid: agg1\nlogsource:\n    product: azure\n    service: signinlogs\ndetection:\n    sel:\n        ResultType: 50126\n    timeframe: 10m\n    condition: sel | count(UserPrincipalName) by IPAddress > 2\n";
    let (set, diags) = RuleSet::from_yaml(yaml, "agg.yml");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, detect::Severity::Warning);
    assert_eq!(set.correlations().len(), 1);
    let mut e = Engine::new(&set, EngineConfig::default());
    for (i, u) in ["a", "b", "c"].iter().enumerate() {
        let m = fired(&mut e, &signin(u, "5.5.5.5", "50126", i as i64, u));
        assert_eq!(m.len(), usize::from(i == 2), "{u}");
    }
    // Without a timeframe the state would be unbounded: rejected.
    let (set, diags) = RuleSet::from_yaml(&yaml.replace("    timeframe: 10m\n", ""), "agg.yml");
    assert!(set.rules().is_empty());
    assert!(diags.iter().any(|d| d.message.contains("timeframe")));
}

#[test]
fn filters_exclude_from_the_rules_they_name() {
    let rules = "title: Role added\nid: r1\nlogsource:\n    product: azure\n    service: auditlogs\ndetection:\n    sel:\n        OperationName: Add member to role\n    condition: sel\n---\ntitle: Other\nid: r2\nlogsource:\n    product: azure\n    service: auditlogs\ndetection:\n    sel:\n        OperationName: Add member to role\n    condition: sel\n";
    let filter = "title: Not by break-glass admins\nid: f1\nlogsource:\n    product: azure\n    service: auditlogs\nfilter:\n    rules:\n        - r1\n    selection:\n        Identity|startswith: 'bg_'\n    condition: not selection\n";
    let (set, diags) = RuleSet::from_yaml(&format!("{rules}---\n{filter}"), "f.yml");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.filters().len(), 1);
    let mut e = Engine::new(&set, EngineConfig::default());
    let r = |who: &str| {
        common::with(
            Category::AuditLogs,
            &[("OperationName", "Add member to role"), ("Identity", who)],
        )
    };
    let ids = |e: &mut Engine, rec: &Record| {
        let mut v: Vec<String> = e.evaluate(rec).map(|m| m.rule_id.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&mut e, &r("alice")), ["r1", "r2"]);
    assert_eq!(ids(&mut e, &r("bg_admin")), ["r2"]);
    // A filter for another logsource does not apply.
    let other = filter
        .replace("service: auditlogs", "service: signinlogs")
        .replace("Identity|", "UserPrincipalName|");
    let (set, _) = RuleSet::from_yaml(&format!("{rules}---\n{other}"), "f.yml");
    let mut e = Engine::new(&set, EngineConfig::default());
    assert_eq!(ids(&mut e, &r("bg_admin")), ["r1", "r2"]);
}
