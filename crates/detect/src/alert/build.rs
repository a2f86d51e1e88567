//! Building an [`Alert`] from a [`Match`] and its record: severity, ATT&CK tags, entities through the
//! record's field lookup, evidence keys.

use super::MAX_EVIDENCE;
use super::ocsf::{
    Alert, Analytic, Attack, CATEGORY_UID, CLASS_UID, Evidence, EvidenceData, FindingInfo,
    Metadata, Named, OCSF_VERSION, Observable, Product, ResourceDetails, Unmapped,
};
use crate::eval::Match;
use crate::rule::Level;
use model::{FieldLookup, Record};

/// ATT&CK version the tactic table follows.
const ATTACK_VERSION: &str = "15";

/// Tactic tag (`attack.credential_access`) → (id, name).
const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource_development", "TA0042", "Resource Development"),
    ("initial_access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege_escalation", "TA0004", "Privilege Escalation"),
    ("defense_evasion", "TA0005", "Defense Evasion"),
    ("credential_access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral_movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("command_and_control", "TA0011", "Command and Control"),
    ("impact", "TA0040", "Impact"),
];

/// The OCSF severity of a Sigma level: (severity_id, name).
pub fn severity(level: Level) -> (u8, &'static str) {
    match level {
        Level::Informational => (1, "Informational"),
        Level::Low => (2, "Low"),
        Level::Medium => (3, "Medium"),
        Level::High => (4, "High"),
        Level::Critical => (5, "Critical"),
    }
}

/// `attacks[]` from Sigma tags: one entry per technique tag (with the first tactic tag), or one per tactic
/// when the rule names no technique.
pub fn attacks<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<Attack> {
    let mut techniques = Vec::new();
    let mut tactics = Vec::new();
    for tag in tags {
        let Some(t) = tag.strip_prefix("attack.") else {
            continue;
        };
        let t = t.to_ascii_lowercase();
        if let Some(num) = t.strip_prefix('t')
            && num
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            techniques.push(format!("T{num}"));
        } else if let Some((_, id, name)) = TACTICS.iter().find(|(tag, ..)| *tag == t) {
            tactics.push(Named {
                uid: (*id).to_owned(),
                name: (*name).to_owned(),
            });
        }
    }
    if techniques.is_empty() {
        return tactics
            .into_iter()
            .map(|tactic| Attack {
                technique: None,
                sub_technique: None,
                tactic: Some(tactic),
                version: ATTACK_VERSION.to_owned(),
            })
            .collect();
    }
    techniques
        .into_iter()
        .map(|t| {
            let (technique, sub) = match t.split_once('.') {
                Some((base, _)) => (base.to_owned(), Some(t.clone())),
                None => (t, None),
            };
            Attack {
                technique: Some(Named {
                    uid: technique,
                    name: String::new(),
                }),
                sub_technique: sub.map(|uid| Named {
                    uid,
                    name: String::new(),
                }),
                tactic: tactics.first().cloned(),
                version: ATTACK_VERSION.to_owned(),
            }
        })
        .collect()
}

/// Fields an entity may be read from, in order of preference, per entity kind.
const USER_FIELDS: &[&str] = &[
    "UserPrincipalName",
    "InitiatedBy.user.userPrincipalName",
    "Caller",
    "Identity",
    "UserId",
];
const IP_FIELDS: &[&str] = &[
    "IPAddress",
    "CallerIpAddress",
    "InitiatedBy.user.ipAddress",
    "ClientIP",
    "IpAddress",
];
const APP_FIELDS: &[&str] = &["AppDisplayName", "InitiatedBy.app.displayName", "AppId"];
const RESOURCE_FIELDS: &[&str] = &[
    "ResourceId",
    "_ResourceId",
    "ResourceDisplayName",
    "Resource",
];

/// Every entity kind's fields (what a projected decode must keep for alerts).
pub(crate) const ENTITY_FIELDS: &[&[&str]] = &[USER_FIELDS, IP_FIELDS, APP_FIELDS, RESOURCE_FIELDS];

fn first_text(r: &Record, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| match r.lookup(f)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The entities of a record: (name, OCSF type id, type name, value).
pub fn entities(r: &Record) -> Vec<Observable> {
    let mut out = Vec::new();
    let mut push = |name: &str, type_id: u8, type_name: &str, value: Option<String>| {
        if let Some(value) = value {
            out.push(Observable {
                name: name.to_owned(),
                type_id,
                type_name: type_name.to_owned(),
                value,
            });
        }
    };
    push("user", 4, "User Name", first_text(r, USER_FIELDS));
    push("ip", 2, "IP Address", first_text(r, IP_FIELDS));
    push("application", 99, "Other", first_text(r, APP_FIELDS));
    push(
        "resource",
        10,
        "Resource UID",
        first_text(r, RESOURCE_FIELDS),
    );
    out
}

/// The entity an alert groups on: a correlation's group-by values, else the record's user, IP, application
/// or resource (the first present), else nothing.
pub(crate) fn group_entity(m: &Match, observables: &[Observable]) -> String {
    if let Some(c) = &m.correlation
        && !c.group.is_empty()
    {
        return c
            .group
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
    }
    observables
        .first()
        .map(|o| format!("{}={}", o.name, o.value.to_lowercase()))
        .unwrap_or_default()
}

/// A stable id: the same rule, entity and first evidence give the same id, so a replayed detection
/// rewrites its alert instead of adding one.
pub fn alert_uid(rule: &str, entity: &str, first_key: &str) -> String {
    fn fnv(seed: u64, parts: &[&str]) -> u64 {
        let mut h = seed;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
    let parts = [rule, entity, first_key];
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325, &parts),
        fnv(0x6c62_272e_07bb_0142, &parts)
    )
}

/// Evidence of a match: a correlation's window, else the matching record.
pub(crate) fn evidence_keys(m: &Match) -> Vec<String> {
    match &m.correlation {
        Some(c) if !c.evidence.is_empty() => c.evidence.clone(),
        _ => vec![m.key.to_string()],
    }
}

/// A new alert (activity Create, count 1) for one match on `record` (the record that matched or completed
/// the correlation; `None` when it is not at hand: then no entities beyond a correlation's group).
pub fn new_alert(m: &Match, record: Option<&Record>, now_ms: i64) -> Alert {
    alert_with(m, observables(m, record), now_ms)
}

/// The entities of a match: its record's, then a correlation's group-by values not already among them.
pub(crate) fn observables(m: &Match, record: Option<&Record>) -> Vec<Observable> {
    let mut observables = record.map(entities).unwrap_or_default();
    if let Some(c) = &m.correlation {
        for (k, v) in &c.group {
            let (name, type_id, type_name) = match k.to_ascii_lowercase().as_str() {
                k if k.contains("ipaddress") || k == "ip" => ("ip", 2, "IP Address"),
                k if k.contains("user") => ("user", 4, "User Name"),
                k if k.contains("app") => ("application", 99, "Other"),
                _ => ("resource", 10, "Resource UID"),
            };
            if !observables
                .iter()
                .any(|o| o.name == name && o.value.eq_ignore_ascii_case(v))
            {
                observables.push(Observable {
                    name: name.to_owned(),
                    type_id,
                    type_name: type_name.to_owned(),
                    value: v.clone(),
                });
            }
        }
    }
    observables
}

/// A new alert for one match whose entities are `observables` (from [`observables`]).
pub(crate) fn alert_with(m: &Match, observables: Vec<Observable>, now_ms: i64) -> Alert {
    let resources = observables
        .iter()
        .filter(|o| o.name == "resource")
        .map(|o| ResourceDetails {
            uid: o.value.clone(),
            name: String::new(),
            type_name: String::new(),
        })
        .collect();
    let entity = group_entity(m, &observables);
    let keys = evidence_keys(m);
    let first_key = keys.first().map_or("", String::as_str);
    let first_us = m
        .correlation
        .as_ref()
        .map_or(m.event_time, |c| c.first_time);
    let (severity_id, severity) = severity(m.level);
    let behavioral = m.correlation.is_some();
    let evidence_total = keys.len() as u64;
    let category = m.category.name().to_owned();
    let message = if entity.is_empty() {
        m.title.to_string()
    } else {
        format!("{} ({entity})", m.title)
    };
    Alert {
        activity_id: 1,
        activity_name: "Create".to_owned(),
        category_uid: CATEGORY_UID,
        category_name: "Findings".to_owned(),
        class_uid: CLASS_UID,
        class_name: "Detection Finding".to_owned(),
        type_uid: CLASS_UID * 100 + 1,
        type_name: "Detection Finding: Create".to_owned(),
        metadata: Metadata {
            version: OCSF_VERSION.to_owned(),
            product: Product {
                name: "entrail".to_owned(),
                vendor_name: "entrail".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            modified_time: now_ms,
        },
        time: m.event_time / 1000,
        severity_id,
        severity: severity.to_owned(),
        status_id: 1,
        status: "New".to_owned(),
        count: 1,
        message,
        finding_info: FindingInfo {
            uid: alert_uid(&m.rule_id, &entity, first_key),
            title: m.title.to_string(),
            types: vec![category.clone()],
            analytic: Analytic {
                uid: m.rule_id.to_string(),
                name: m.title.to_string(),
                type_name: if behavioral { "Behavioral" } else { "Rule" }.to_owned(),
                type_id: if behavioral { 2 } else { 1 },
            },
            first_seen_time: first_us.min(m.event_time) / 1000,
            last_seen_time: m.event_time / 1000,
        },
        attacks: attacks(m.tags.iter().map(String::as_str)),
        observables,
        resources,
        evidences: keys
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(|key| Evidence {
                data: EvidenceData {
                    key,
                    category: category.clone(),
                },
            })
            .collect(),
        unmapped: Unmapped {
            entity,
            evidence_total,
            revision: 1,
        },
    }
}

/// Folds a later match of the same rule and entity into `alert` (activity Update).
pub fn update_alert(alert: &mut Alert, m: &Match, record: Option<&Record>, now_ms: i64) {
    alert.activity_id = 2;
    alert.activity_name = "Update".to_owned();
    alert.type_uid = CLASS_UID * 100 + 2;
    alert.type_name = "Detection Finding: Update".to_owned();
    alert.count += 1;
    alert.unmapped.revision += 1;
    alert.metadata.modified_time = now_ms;
    let t = m.event_time / 1000;
    alert.finding_info.last_seen_time = alert.finding_info.last_seen_time.max(t);
    alert.finding_info.first_seen_time = alert.finding_info.first_seen_time.min(t);
    alert.time = alert.finding_info.last_seen_time;
    let category = m.category.name();
    if !alert.finding_info.types.iter().any(|c| c == category) {
        alert.finding_info.types.push(category.to_owned());
    }
    for key in evidence_keys(m) {
        if alert.evidences.iter().any(|e| e.data.key == key) {
            continue;
        }
        alert.unmapped.evidence_total += 1;
        if alert.evidences.len() < MAX_EVIDENCE {
            alert.evidences.push(Evidence {
                data: EvidenceData {
                    key,
                    category: category.to_owned(),
                },
            });
        }
    }
    for o in record.map(entities).unwrap_or_default() {
        if alert.observables.len() < MAX_EVIDENCE && !alert.observables.contains(&o) {
            if o.name == "resource" {
                alert.resources.push(ResourceDetails {
                    uid: o.value.clone(),
                    name: String::new(),
                    type_name: String::new(),
                });
            }
            alert.observables.push(o);
        }
    }
}
