//! entrail's own findings (ingest lag, future timestamps, clock skew, silence) as OCSF Detection Findings,
//! the same alert model as detections, so they share the alert store, the `Alerts` table and the
//! destinations. Rule ids are stable (`entrail.ingest_lag`, ...); an alert id is a hash of the rule, the
//! entity (`source/category`, or the time server) and the start of the episode, so the same episode raised
//! twice (a replay) is one alert.

use detect::alert::{
    Alert, Analytic, FindingInfo, Metadata, Observable, Product, Unmapped, alert_uid,
};

/// Rule id: a source's p95 ingest lag passed its threshold.
pub const RULE_INGEST_LAG: &str = "entrail.ingest_lag";
/// Rule id: records carried event times beyond the future tolerance.
pub const RULE_FUTURE_TIMESTAMP: &str = "entrail.future_timestamp";
/// Rule id: the host clock is off by more than `clock.max_offset_ms`.
pub const RULE_CLOCK_SKEW: &str = "entrail.clock_skew";
/// Rule id: a category stopped arriving from a source, or dropped far below its baseline.
pub const RULE_SILENCE: &str = "entrail.silence";
/// Rule id: a silent category arrives again.
pub const RULE_SILENCE_ENDED: &str = "entrail.silence_ended";
/// Rule id: the integrity chain's latest signed checkpoint, published (`[integrity] publish_alerts`).
pub const RULE_CHAIN_HEAD: &str = "entrail.chain_head";

/// What a finding is about.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Rule id (one of the `RULE_*` constants).
    pub rule: &'static str,
    /// Title.
    pub title: &'static str,
    /// OCSF severity id: 1 informational .. 5 critical.
    pub severity_id: u8,
    /// `source/category`, or the time server.
    pub entity: String,
    /// Categories concerned (finding types).
    pub categories: Vec<String>,
    /// The source id, when one is concerned.
    pub source: Option<String>,
    /// One line for people.
    pub detail: String,
    /// When the episode began, ms since the epoch (part of the alert id).
    pub first_ms: i64,
    /// When it was found, ms.
    pub at_ms: i64,
}

fn severity_name(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        _ => "Unknown",
    }
}

impl Finding {
    /// The OCSF alert (activity Create, count 1), written at `now_ms`.
    pub fn to_alert(&self, now_ms: i64) -> Alert {
        let mut observables = Vec::new();
        if let Some(s) = &self.source {
            observables.push(Observable {
                name: "resource".into(),
                type_id: 10,
                type_name: "Resource UID".into(),
                value: s.clone(),
            });
        }
        Alert {
            activity_id: 1,
            activity_name: "Create".into(),
            category_uid: detect::alert::CATEGORY_UID,
            category_name: "Findings".into(),
            class_uid: detect::alert::CLASS_UID,
            class_name: "Detection Finding".into(),
            type_uid: detect::alert::CLASS_UID * 100 + 1,
            type_name: "Detection Finding: Create".into(),
            metadata: Metadata {
                version: detect::alert::OCSF_VERSION.into(),
                product: Product {
                    name: "entrail".into(),
                    vendor_name: "entrail".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                },
                modified_time: now_ms,
            },
            time: self.at_ms,
            severity_id: self.severity_id,
            severity: severity_name(self.severity_id).into(),
            status_id: 1,
            status: "New".into(),
            count: 1,
            message: format!("{} ({}): {}", self.title, self.entity, self.detail),
            finding_info: FindingInfo {
                uid: alert_uid(self.rule, &self.entity, &self.first_ms.to_string()),
                title: self.title.into(),
                types: self.categories.clone(),
                analytic: Analytic {
                    uid: self.rule.into(),
                    name: self.title.into(),
                    type_name: "Statistical".into(),
                    type_id: 3,
                },
                first_seen_time: self.first_ms,
                last_seen_time: self.at_ms,
            },
            attacks: Vec::new(),
            resources: Vec::new(),
            observables,
            evidences: Vec::new(),
            unmapped: Unmapped {
                entity: self.entity.clone(),
                evidence_total: 0,
                revision: 1,
            },
        }
    }
}
