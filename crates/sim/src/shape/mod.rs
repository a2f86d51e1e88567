//! The three wire shapes of an event (wire-formats.md §2.1) and the documented real-world quirks.
//!
//! * [`Shape::Graph`]: the camelCase Graph object (`None` for categories no Graph API returns).
//! * [`Shape::Diagnostic`]: the diagnostic-settings record (§5.3; Activity Log §6; flow logs §7).
//! * [`Shape::LogAnalytics`]: the Log Analytics row, PascalCase columns exactly as the table ([`la_columns`]).
//!
//! With `quirks`, a deterministic fraction of records (chosen from the record seed, so duplicates stay
//! byte-identical) reproduces what real exports do:
//!
//! | Quirk | Where | Share |
//! |---|---|---|
//! | `"level":"Informational"` instead of `"Level":4` | AuditLogs | 35 % |
//! | `"Level":"4"` (string) / `"Level":"Information"` | sign-ins / UserRiskEvents | 15 % / 20 % |
//! | `durationMs` as a string (`"0"`) | AuditLogs, sign-ins, provisioning, Key Vault | 40/10/20/50 % |
//! | `callerIpAddress: "<null>"`; `initiatedBy.user.ipAddress: "<null>"` | app-initiated / user-initiated audits | 100 % / 15 % |
//! | US-locale `time` (`3/24/2022 2:42:35 PM`) and `…/providers/microsoft.aadiam` | UserRiskEvents, RiskyUsers | 80 % |
//! | `durationMs`, `clientAuthMethod` strings; `/TENANTS/…/MICROSOFT.AADIAM` | MicrosoftGraphActivityLogs | 90 % |
//! | `resourceId` = bare tenant GUID | ServicePrincipalSignInLogs | 50 % |
//! | lower-cased `calleripaddress`, `correlationid` | any Entra record | 3 % |
//! | `createdDateTime` with `-05:00` offset, 7 digits | interactive and non-interactive sign-ins | 5 % |
//! | `Update application – Certificates and secrets management ` (en dash, trailing space) | "Update application" audits | 50 % |
//! | `modifiedProperties[].oldValue/newValue` JSON-encoded | AuditLogs | 85 % |
//! | `additionalInfo` as a JSON string | risk detections | 85 % |
//! | LA `TargetResources`, `InitiatedBy`, `AdditionalDetails` as JSON strings | AuditLogs (LA) | 30 % |

mod envelope;
mod la;
mod la_schema;

use serde_json::{Map, Value};

use crate::category::Category;
use crate::tenant::Tenant;
use crate::util::hit;
use crate::{EventKind, SimEvent};
pub use la_schema::{ColType, Columns, is_documented, la_columns};

/// A wire shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Graph REST object.
    Graph,
    /// Diagnostic-settings record (Event Hubs body element, Storage line).
    Diagnostic,
    /// Log Analytics / Sentinel row.
    LogAnalytics,
}

pub(crate) const Q_LEVEL_LOWER: u64 = 1;
pub(crate) const Q_LEVEL_STRING: u64 = 2;
pub(crate) const Q_DURATION_STRING: u64 = 3;
pub(crate) const Q_NULL_IP: u64 = 4;
pub(crate) const Q_US_TIME: u64 = 5;
pub(crate) const Q_GRAPH_STRINGS: u64 = 6;
pub(crate) const Q_SP_BARE_GUID: u64 = 7;
pub(crate) const Q_LOWER_KEYS: u64 = 8;
pub(crate) const Q_OFFSET_TIME: u64 = 9;
pub(crate) const Q_EN_DASH: u64 = 10;
pub(crate) const Q_JSON_VALUES: u64 = 11;
pub(crate) const Q_ADDINFO_STRING: u64 = 12;
pub(crate) const Q_LA_JSON_STRINGS: u64 = 13;

/// Renders an event in a shape. `None` only for [`Shape::Graph`] of a category without a Graph API.
pub fn render(event: &SimEvent, shape: Shape, quirks: bool, tenant: &Tenant) -> Option<Value> {
    match shape {
        Shape::LogAnalytics => Some(la::render(event, quirks, tenant)),
        Shape::Graph | Shape::Diagnostic => render_owned(event.clone(), shape, quirks, tenant),
    }
}

/// Like [`render`], consuming the event (saves a copy of the Graph object on the hot path).
pub fn render_owned(event: SimEvent, shape: Shape, quirks: bool, tenant: &Tenant) -> Option<Value> {
    let cat = event.category_enum()?;
    match shape {
        Shape::Graph => {
            if !cat.has_graph_api() {
                return None;
            }
            let mut g = event.graph;
            if quirks {
                content_quirks(cat, event.seed, &mut g, false);
            }
            Some(g)
        }
        Shape::Diagnostic => Some(diagnostic(event, cat, quirks, tenant)),
        Shape::LogAnalytics => Some(la::render(&event, quirks, tenant)),
    }
}

fn diagnostic(event: SimEvent, cat: Category, quirks: bool, tenant: &Tenant) -> Value {
    let seed = event.seed;
    let mut g = event.graph;
    if quirks {
        content_quirks(cat, seed, &mut g, true);
    }
    let mut env = match event.envelope {
        Some(env) => env,
        None => envelope::entra(&g, cat, event.time, tenant),
    };
    if quirks {
        envelope::quirks(&mut env, &g, cat, seed, tenant);
    }
    let key = if cat == Category::VnetFlowEvent {
        "flowRecords"
    } else {
        "properties"
    };
    env.insert(key.to_owned(), g);
    Value::Object(env)
}

/// JSON-encodes an audit value as Graph does: `["value"]`, or `"value"` for "Included Updated Properties".
fn encode_value(v: &mut Value, bare: bool) {
    if let Value::String(s) = v {
        let encoded = if bare {
            Value::String(s.clone()).to_string()
        } else {
            Value::Array(vec![Value::String(s.clone())]).to_string()
        };
        *s = encoded;
    }
}

/// Quirks inside the Graph object (also visible in the Graph shape). `diagnostic` adds the ones only seen in
/// diagnostic-settings records.
fn content_quirks(cat: Category, seed: u64, g: &mut Value, diagnostic: bool) {
    let Some(m) = g.as_object_mut() else { return };
    match cat {
        Category::AuditLogs => {
            if m.get("activityDisplayName").and_then(Value::as_str) == Some("Update application")
                && hit(seed, Q_EN_DASH, 500)
            {
                m.insert(
                    "activityDisplayName".into(),
                    "Update application – Certificates and secrets management ".into(),
                );
            }
            if hit(seed, Q_JSON_VALUES, 850) {
                for t in m
                    .get_mut("targetResources")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    for p in t
                        .get_mut("modifiedProperties")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        let bare = p.get("displayName").and_then(Value::as_str)
                            == Some("Included Updated Properties");
                        if let Some(pm) = p.as_object_mut() {
                            for k in ["oldValue", "newValue"] {
                                if let Some(v) = pm.get_mut(k) {
                                    encode_value(v, bare);
                                }
                            }
                        }
                    }
                }
            }
            if hit(seed, Q_NULL_IP, 150)
                && let Some(Value::Object(u)) =
                    m.get_mut("initiatedBy").and_then(|i| i.get_mut("user"))
            {
                u.insert("ipAddress".into(), "<null>".into());
            }
        }
        Category::UserRiskEvents
        | Category::ServicePrincipalRiskEvents
        | Category::AgentRiskEvents
            if hit(seed, Q_ADDINFO_STRING, 850) =>
        {
            if let Some(v) = m.get_mut("additionalInfo")
                && !v.is_string()
            {
                *v = Value::String(v.to_string());
            }
        }
        Category::SignInLogs | Category::NonInteractiveUserSignInLogs
            if diagnostic && hit(seed, Q_OFFSET_TIME, 50) =>
        {
            if let Some(Value::String(s)) = m.get("createdDateTime")
                && let Ok(t) = chrono::DateTime::parse_from_rfc3339(s)
            {
                let local = crate::util::iso7_offset(t.with_timezone(&chrono::Utc), -300);
                m.insert("createdDateTime".into(), local.into());
            }
        }
        Category::MicrosoftGraphActivityLogs if diagnostic && hit(seed, Q_GRAPH_STRINGS, 900) => {
            for k in ["durationMs", "clientAuthMethod"] {
                if let Some(v) = m.get_mut(k)
                    && v.is_number()
                {
                    *v = Value::String(v.to_string());
                }
            }
        }
        _ => {}
    }
}

/// A short label of the event kind, for reports.
pub fn kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Original => "original",
        EventKind::ExactDuplicate => "duplicate",
        EventKind::Republished => "republished",
    }
}

/// Reads a string at a dotted path (`a.b.c`).
pub(crate) fn path<'v>(v: &'v Value, p: &str) -> Option<&'v Value> {
    p.split('.').try_fold(v, |cur, k| cur.get(k))
}

/// A map's string value.
pub(crate) fn str_of<'v>(m: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
    m.get(k).and_then(Value::as_str)
}
