//! Alerts: what a detection becomes for people and other systems.
//!
//! - `ocsf`: the [`Alert`], an OCSF Detection Finding (class 2004) with the rule, severity, MITRE ATT&CK
//!   techniques and tactics, entities (user, IP, application, resource) and the keys of the evidence records.
//! - `build`: a [`crate::Match`] and its record → [`Alert`] ([`new_alert`]).
//! - `group`: [`AlertGrouper`], suppression and grouping of the same rule and entity within a window.

mod build;
pub(crate) use build::ENTITY_FIELDS;
mod group;
mod ocsf;

pub use build::{alert_uid, attacks, entities, new_alert, severity, update_alert};
pub use group::{AlertGrouper, GroupConfig, Grouped};
pub use ocsf::{
    Alert, Analytic, Attack, CATEGORY_UID, CLASS_UID, Evidence, EvidenceData, FindingInfo,
    Metadata, Named, OCSF_VERSION, Observable, Product, ResourceDetails, Unmapped,
};

/// Most evidence records (and entities) one alert lists; `unmapped.evidence_total` counts them all.
pub const MAX_EVIDENCE: usize = 100;

/// The checked-in JSON schema (a structural subset of OCSF's) that every emitted alert satisfies.
pub const ALERT_SCHEMA: &str = include_str!("../../data/ocsf/detection_finding.schema.json");

#[cfg(test)]
mod tests;
