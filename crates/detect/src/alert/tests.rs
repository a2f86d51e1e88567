//! Alert model and grouping tests.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::eval::{CorrelationMatch, Match};
use crate::rule::{CorrelationKind, Level};
use model::{Category, Record, Shape, Value, schema};
use serde_json::Value as J;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000;
const MINUTE: i64 = 60_000_000;

fn signin(key: &str, user: &str, ip: &str, t: i64) -> Record {
    let s = schema(Category::SignInLogs);
    let mut values = vec![Value::Null; s.columns.len()];
    let mut set = |c: &str, v: &str| values[s.index_of(c).unwrap()] = Value::String(v.into());
    set("UserPrincipalName", user);
    set("IPAddress", ip);
    set("AppDisplayName", "Azure Portal");
    set("ResultType", "50126");
    Record {
        category: Category::SignInLogs,
        event_time: t,
        ingest_time: t,
        key: key.into(),
        content_hash: 0,
        revision: 0,
        source: "test".into(),
        shape: Shape::Graph,
        values,
        raw: String::new(),
    }
}

fn hit(rule: &str, r: &Record) -> Match {
    Match {
        rule_id: rule.into(),
        title: "Sign-in failure from a bad IP".into(),
        level: Level::High,
        tags: vec![
            "attack.credential_access".to_owned(),
            "attack.t1110.003".to_owned(),
            "attack.initial_access".to_owned(),
            "attack.t1078".to_owned(),
        ]
        .into(),
        category: r.category,
        key: r.key.as_str().into(),
        event_time: r.event_time,
        correlation: None,
    }
}

/// Checks `v` against the structural subset of JSON schema in `ALERT_SCHEMA`; every object key emitted must
/// be declared where the schema lists properties. Returns every problem with its path.
fn check(schema: &J, v: &J, path: &str, problems: &mut Vec<String>) {
    if let Some(c) = schema.get("const")
        && c != v
    {
        problems.push(format!("{path}: expected {c}, got {v}"));
    }
    if let Some(J::Array(allowed)) = schema.get("enum")
        && !allowed.contains(v)
    {
        problems.push(format!("{path}: {v} not in {allowed:?}"));
    }
    if let Some(J::String(t)) = schema.get("type") {
        let ok = match t.as_str() {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => false,
        };
        if !ok {
            problems.push(format!("{path}: not a {t}: {v}"));
            return;
        }
    }
    if let (Some(J::Array(req)), J::Object(m)) = (schema.get("required"), v) {
        for r in req.iter().filter_map(J::as_str) {
            if !m.contains_key(r) {
                problems.push(format!("{path}.{r}: required"));
            }
        }
    }
    if let (Some(J::Object(props)), J::Object(m)) = (schema.get("properties"), v) {
        for (k, val) in m {
            match props.get(k) {
                Some(s) => check(s, val, &format!("{path}.{k}"), problems),
                None => problems.push(format!("{path}.{k}: not an attribute of the schema")),
            }
        }
    }
    if let (Some(items), J::Array(a)) = (schema.get("items"), v) {
        for (i, x) in a.iter().enumerate() {
            check(items, x, &format!("{path}[{i}]"), problems);
        }
    }
}

fn schema_problems(alert: &Alert) -> Vec<String> {
    let schema: J = serde_json::from_str(ALERT_SCHEMA).unwrap();
    let mut problems = Vec::new();
    check(&schema, &alert.to_json(), "$", &mut problems);
    problems
}

#[test]
fn an_alert_is_an_ocsf_detection_finding() {
    let r = signin("k1", "Alice@Contoso.com", "203.0.113.7", T0);
    let a = new_alert(&hit("rule-1", &r), Some(&r), 5);
    let j = a.to_json();
    assert_eq!(j["class_uid"], 2004);
    assert_eq!(j["category_uid"], 2);
    assert_eq!(j["type_uid"], 200_401);
    assert_eq!(j["severity_id"], 4);
    assert_eq!(j["severity"], "High");
    assert_eq!(j["status"], "New");
    assert_eq!(j["count"], 1);
    assert_eq!(j["time"], T0 / 1000);
    assert_eq!(j["finding_info"]["analytic"]["uid"], "rule-1");
    assert_eq!(j["finding_info"]["analytic"]["type"], "Rule");
    assert_eq!(j["finding_info"]["first_seen_time"], T0 / 1000);
    assert_eq!(j["finding_info"]["types"][0], "SignInLogs");
    assert_eq!(j["evidences"][0]["data"]["key"], "k1");
    assert_eq!(j["evidences"][0]["data"]["category"], "SignInLogs");
    assert!(schema_problems(&a).is_empty(), "{:?}", schema_problems(&a));
    // Round trip: the store reads alerts back.
    let back: Alert = serde_json::from_value(j).unwrap();
    assert_eq!(back, a);
}

#[test]
fn the_schema_check_catches_misnamed_and_mistyped_fields() {
    let r = signin("k1", "a@b.c", "198.51.100.1", T0);
    let mut j = new_alert(&hit("r", &r), Some(&r), 0).to_json();
    j["class_uid"] = 2001.into();
    j["finding_info"]["first_seen"] = 1.into();
    j["count"] = "1".into();
    let schema: J = serde_json::from_str(ALERT_SCHEMA).unwrap();
    let mut problems = Vec::new();
    check(&schema, &j, "$", &mut problems);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn entities_come_from_the_record_through_field_lookup() {
    let r = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    let a = new_alert(&hit("rule-1", &r), Some(&r), 0);
    assert_eq!(
        a.entities("user").collect::<Vec<_>>(),
        ["alice@contoso.com"]
    );
    assert_eq!(a.entities("ip").collect::<Vec<_>>(), ["203.0.113.7"]);
    assert_eq!(
        a.entities("application").collect::<Vec<_>>(),
        ["Azure Portal"]
    );
    assert_eq!(a.unmapped.entity, "user=alice@contoso.com");
    // Audit records: the initiator inside the dynamic InitiatedBy column.
    let s = schema(Category::AuditLogs);
    let mut audit = r.clone();
    audit.category = Category::AuditLogs;
    audit.values = vec![Value::Null; s.columns.len()];
    audit.values[s.index_of("InitiatedBy").unwrap()] = Value::Dynamic(
        r#"{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"192.0.2.9"}}"#.into(),
    );
    let e = entities(&audit);
    assert!(
        e.iter()
            .any(|o| o.name == "user" && o.value == "admin@contoso.com"),
        "{e:?}"
    );
    assert!(
        e.iter().any(|o| o.name == "ip" && o.value == "192.0.2.9"),
        "{e:?}"
    );
}

#[test]
fn attack_tags_become_techniques_and_tactics() {
    let a = attacks([
        "attack.credential_access",
        "attack.t1110.003",
        "attack.t1078",
        "cve.2024.1",
    ]);
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].technique.as_ref().unwrap().uid, "T1110");
    assert_eq!(a[0].sub_technique.as_ref().unwrap().uid, "T1110.003");
    assert_eq!(a[0].tactic.as_ref().unwrap().uid, "TA0006");
    assert_eq!(a[1].technique.as_ref().unwrap().uid, "T1078");
    assert!(a[1].sub_technique.is_none());
    let only_tactic = attacks(["attack.defense_evasion"]);
    assert_eq!(only_tactic.len(), 1);
    assert!(only_tactic[0].technique.is_none());
    assert_eq!(
        only_tactic[0].tactic.as_ref().unwrap().name,
        "Defense Evasion"
    );
}

#[test]
fn same_rule_and_entity_within_the_window_update_one_alert() {
    let mut g = AlertGrouper::new(GroupConfig::default());
    let r1 = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    let r2 = signin("k2", "ALICE@contoso.com", "203.0.113.8", T0 + 10 * MINUTE);
    let (a1, how1) = g.observe(&hit("rule-1", &r1), Some(&r1), 1);
    let uid = a1.uid().to_owned();
    assert_eq!(how1, Grouped::New);
    let (a2, how2) = g.observe(&hit("rule-1", &r2), Some(&r2), 2);
    assert_eq!(how2, Grouped::Updated);
    assert_eq!(a2.uid(), uid);
    assert_eq!(a2.count, 2);
    assert_eq!(a2.activity_id, 2);
    assert_eq!(a2.type_uid, 200_402);
    assert_eq!(a2.unmapped.revision, 2);
    assert_eq!(a2.finding_info.last_seen_time, (T0 + 10 * MINUTE) / 1000);
    assert_eq!(a2.finding_info.first_seen_time, T0 / 1000);
    let keys: Vec<_> = a2.evidences.iter().map(|e| e.data.key.as_str()).collect();
    assert_eq!(keys, ["k1", "k2"]);
    assert!(a2.entities("ip").any(|ip| ip == "203.0.113.8"));
    assert!(schema_problems(a2).is_empty());
    assert_eq!(g.open_alerts(), 1);
}

#[test]
fn a_replayed_match_does_not_count_twice() {
    let mut g = AlertGrouper::new(GroupConfig::default());
    let r1 = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    g.observe(&hit("rule-1", &r1), Some(&r1), 0);
    let (a, how) = g.observe(&hit("rule-1", &r1), Some(&r1), 0);
    assert_eq!(how, Grouped::Replayed);
    assert_eq!(a.count, 1);
    assert_eq!(a.unmapped.revision, 1);
}

#[test]
fn after_the_window_a_new_alert_is_raised() {
    let mut g = AlertGrouper::new(GroupConfig {
        window: Duration::from_secs(3600),
        max_open: 10,
    });
    let r1 = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    let r2 = signin("k2", "alice@contoso.com", "203.0.113.7", T0 + 61 * MINUTE);
    let first = g
        .observe(&hit("rule-1", &r1), Some(&r1), 0)
        .0
        .uid()
        .to_owned();
    let (a, how) = g.observe(&hit("rule-1", &r2), Some(&r2), 0);
    assert_eq!(how, Grouped::New);
    assert_ne!(a.uid(), first);
    assert_eq!(a.count, 1);
}

#[test]
fn another_entity_or_rule_gets_its_own_alert() {
    let mut g = AlertGrouper::new(GroupConfig::default());
    let r1 = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    let r2 = signin("k2", "bob@contoso.com", "203.0.113.7", T0 + MINUTE);
    let a = g
        .observe(&hit("rule-1", &r1), Some(&r1), 0)
        .0
        .uid()
        .to_owned();
    let (b, how) = g.observe(&hit("rule-1", &r2), Some(&r2), 0);
    assert_eq!(how, Grouped::New);
    assert_ne!(b.uid(), a);
    let (c, how) = g.observe(&hit("rule-2", &r1), Some(&r1), 0);
    assert_eq!(how, Grouped::New);
    assert_ne!(c.uid(), a);
    assert_eq!(g.open_alerts(), 3);
}

#[test]
fn correlations_group_on_their_group_by_values() {
    let r = signin("k9", "victim@contoso.com", "203.0.113.7", T0);
    let mut m = hit("spray", &r);
    m.correlation = Some(CorrelationMatch {
        kind: CorrelationKind::ValueCount,
        group: vec![("IPAddress".into(), "203.0.113.7".into())],
        evidence: vec!["k1".into(), "k2".into(), "k9".into()],
        count: 3,
        first_time: T0 - 5 * MINUTE,
        last_time: T0,
    });
    let a = new_alert(&m, Some(&r), 0);
    assert_eq!(a.unmapped.entity, "IPAddress=203.0.113.7");
    assert_eq!(a.finding_info.analytic.type_id, 2);
    assert_eq!(a.finding_info.first_seen_time, (T0 - 5 * MINUTE) / 1000);
    assert_eq!(a.evidences.len(), 3);
    assert_eq!(a.unmapped.evidence_total, 3);
    // The same id for the same rule, entity and first evidence: a replay rewrites, never duplicates.
    assert_eq!(a.uid(), new_alert(&m, Some(&r), 99).uid());
}

#[test]
fn state_is_bounded_and_expires() {
    let mut g = AlertGrouper::new(GroupConfig {
        window: Duration::from_secs(60),
        max_open: 5,
    });
    for i in 0..20 {
        let r = signin(&format!("k{i}"), &format!("u{i}@x"), "192.0.2.1", T0 + i);
        g.observe(&hit("rule-1", &r), Some(&r), 0);
    }
    assert_eq!(g.open_alerts(), 5);
    // Far later: every old window closed and is swept.
    let late = signin("late", "u0@x", "192.0.2.1", T0 + 3 * 3600 * 1_000_000);
    let (_, how) = g.observe(&hit("rule-1", &late), Some(&late), 0);
    assert_eq!(how, Grouped::New);
    assert_eq!(g.open_alerts(), 1);
}

#[test]
fn restored_alerts_keep_grouping() {
    let r1 = signin("k1", "alice@contoso.com", "203.0.113.7", T0);
    let a = new_alert(&hit("rule-1", &r1), Some(&r1), 0);
    let mut g = AlertGrouper::new(GroupConfig::default());
    g.restore([a.clone()]);
    let r2 = signin("k2", "alice@contoso.com", "203.0.113.7", T0 + MINUTE);
    let (b, how) = g.observe(&hit("rule-1", &r2), Some(&r2), 0);
    assert_eq!(how, Grouped::Updated);
    assert_eq!(b.uid(), a.uid());
    assert_eq!(b.count, 2);
}

#[test]
fn evidence_is_bounded_but_counted() {
    let mut g = AlertGrouper::new(GroupConfig::default());
    for i in 0..(MAX_EVIDENCE as i64 + 20) {
        let r = signin(&format!("k{i}"), "alice@x", "192.0.2.1", T0 + i);
        g.observe(&hit("rule-1", &r), Some(&r), 0);
    }
    let r = signin("last", "alice@x", "192.0.2.1", T0 + 1000);
    let (a, _) = g.observe(&hit("rule-1", &r), Some(&r), 0);
    assert_eq!(a.evidences.len(), MAX_EVIDENCE);
    assert_eq!(a.unmapped.evidence_total, MAX_EVIDENCE as u64 + 21);
    assert_eq!(a.count, MAX_EVIDENCE as u64 + 21);
}
