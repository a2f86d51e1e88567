//! The OCSF Detection Finding (class 2004, category 2 "Findings") as entrail emits it: only the attributes
//! entrail fills, named exactly as OCSF names them, so the serialised JSON is an OCSF event.

use serde::{Deserialize, Serialize};

/// OCSF schema version the alert follows.
pub const OCSF_VERSION: &str = "1.3.0";
/// `class_uid` of Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// `category_uid` of Findings.
pub const CATEGORY_UID: u32 = 2;

/// One alert: an OCSF Detection Finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// 1 Create (first sight), 2 Update (grouped into an open alert).
    pub activity_id: u8,
    /// `Create` or `Update`.
    pub activity_name: String,
    /// Always [`CATEGORY_UID`].
    pub category_uid: u32,
    /// `Findings`.
    pub category_name: String,
    /// Always [`CLASS_UID`].
    pub class_uid: u32,
    /// `Detection Finding`.
    pub class_name: String,
    /// `class_uid * 100 + activity_id`.
    pub type_uid: u32,
    /// `Detection Finding: Create` / `...: Update`.
    pub type_name: String,
    /// Product and schema version.
    pub metadata: Metadata,
    /// Event time of the latest evidence, milliseconds since the epoch.
    pub time: i64,
    /// 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
    pub severity_id: u8,
    /// The severity's name.
    pub severity: String,
    /// 1 New (entrail does not track triage).
    pub status_id: u8,
    /// `New`.
    pub status: String,
    /// Detections grouped into this alert.
    pub count: u64,
    /// One line for people: title and the main entity.
    pub message: String,
    /// What was found and by which analytic.
    pub finding_info: FindingInfo,
    /// MITRE ATT&CK techniques and tactics from the rule's tags.
    #[serde(default)]
    pub attacks: Vec<Attack>,
    /// Entities: users, IP addresses, applications, resources.
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// Azure resources involved.
    #[serde(default)]
    pub resources: Vec<ResourceDetails>,
    /// The evidence records (first [`super::MAX_EVIDENCE`]): key and category.
    #[serde(default)]
    pub evidences: Vec<Evidence>,
    /// entrail's own fields.
    pub unmapped: Unmapped,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// OCSF schema version.
    pub version: String,
    /// The product that made the finding.
    pub product: Product,
    /// When entrail last wrote this alert, milliseconds.
    pub modified_time: i64,
}

/// `metadata.product`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `entrail`.
    pub name: String,
    /// `entrail`.
    pub vendor_name: String,
    /// entrail's version.
    pub version: String,
}

/// `finding_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingInfo {
    /// The alert id (stable for one rule, entity and window).
    pub uid: String,
    /// The rule's title.
    pub title: String,
    /// Finding types: the record categories involved.
    #[serde(default)]
    pub types: Vec<String>,
    /// The rule or analytic.
    pub analytic: Analytic,
    /// Event time of the first evidence, milliseconds.
    pub first_seen_time: i64,
    /// Event time of the latest evidence, milliseconds.
    pub last_seen_time: i64,
}

/// `finding_info.analytic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analytic {
    /// Rule id.
    pub uid: String,
    /// Rule title.
    pub name: String,
    /// `Rule` (Sigma), `Behavioral` (built-in stateful analytic or correlation).
    #[serde(rename = "type")]
    pub type_name: String,
    /// 1 Rule, 2 Behavioral.
    pub type_id: u8,
}

/// One `attacks[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attack {
    /// The technique (`T1110`), when the rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<Named>,
    /// The sub-technique (`T1078.004`), when the rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_technique: Option<Named>,
    /// The tactic (`TA0006` Credential Access), when the rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactic: Option<Named>,
    /// ATT&CK matrix version the ids come from.
    pub version: String,
}

/// A `{uid, name}` pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    /// The id (`T1110`, `TA0006`).
    pub uid: String,
    /// The name, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// One `observables[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observable {
    /// Where in the finding the value applies (`user`, `ip`, `application`, `resource`).
    pub name: String,
    /// OCSF observable type: 4 User Name, 2 IP Address, 10 Resource UID, 99 Other (application).
    pub type_id: u8,
    /// The type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The value.
    pub value: String,
}

/// One `resources[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDetails {
    /// Resource id (`/subscriptions/...`) or object id.
    pub uid: String,
    /// Display name, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Resource type, when known.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub type_name: String,
}

/// One `evidences[]` entry: which record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The record's key and category.
    pub data: EvidenceData,
}

/// `evidences[].data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceData {
    /// The record's `_Key`.
    pub key: String,
    /// The record's category (`SignInLogs`).
    pub category: String,
}

/// `unmapped`: entrail's own attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmapped {
    /// The grouping entity (`UserPrincipalName=alice@contoso.com`), or empty.
    pub entity: String,
    /// Evidence records seen in total (`evidences` keeps the first ones only).
    pub evidence_total: u64,
    /// Version of this alert: 1 at creation, +1 per update.
    pub revision: u32,
}

impl Alert {
    /// The alert id (`finding_info.uid`).
    pub fn uid(&self) -> &str {
        &self.finding_info.uid
    }

    /// The alert as OCSF JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Values of the observables named `name` (`user`, `ip`, `application`, `resource`).
    pub fn entities(&self, name: &str) -> impl Iterator<Item = &str> {
        self.observables
            .iter()
            .filter(move |o| o.name == name)
            .map(|o| o.value.as_str())
    }
}
