//! `--fix`: the Entra diagnostic-setting change that exports every required and recommended category found
//! `missing` to one event hub or storage account. A setting already sending to that destination is extended
//! (its disabled entries enabled, absent ones added); otherwise a new setting is created under a free name,
//! so no existing destination receives categories it did not have.

use super::Verdict;
use super::evaluate::Report;
use model::Requirement;
use serde::Serialize;
use sources::arm::{DestinationKind, DiagnosticSetting, LogSetting, SettingProperties, put_body};

/// The change `--fix` proposes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixPlan {
    /// The setting written.
    pub setting: String,
    /// Whether it exists already (then it is replaced by `properties`).
    pub existing: bool,
    /// Categories it newly exports.
    pub categories: Vec<String>,
    /// The ARM path (`providers/microsoft.aadiam/diagnosticSettings/{name}`).
    pub path: String,
    /// The full new properties.
    pub properties: SettingProperties,
    /// The exact PUT body.
    pub body: serde_json::Value,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// `--to` is not an event hub authorization rule or a storage account.
    #[error(
        "--to {0:?} is neither an event hub authorization rule id (.../providers/Microsoft.EventHub/namespaces/{{ns}}/authorizationrules/{{rule}}) nor a storage account id (.../providers/Microsoft.Storage/storageAccounts/{{name}})"
    )]
    BadDestination(String),
    /// The Entra settings could not be read, so a change cannot be computed safely.
    #[error("the Entra diagnostic settings could not be read: {0}")]
    Unreadable(String),
}

fn targets(s: &DiagnosticSetting, kind: DestinationKind, to: &str) -> bool {
    let id = match kind {
        DestinationKind::EventHub => s.properties.event_hub_authorization_rule_id.as_deref(),
        DestinationKind::Storage => s.properties.storage_account_id.as_deref(),
        DestinationKind::LogAnalytics | DestinationKind::Partner => None,
    };
    id.is_some_and(|id| id.eq_ignore_ascii_case(to))
}

/// Plans the fix; `Ok(None)` when no required or recommended category is missing.
pub fn plan(
    report: &Report,
    entra: &Result<Vec<DiagnosticSetting>, String>,
    to: &str,
    event_hub_name: Option<&str>,
    default_name: &str,
) -> Result<Option<FixPlan>, FixError> {
    let kind = DestinationKind::of_resource_id(to)
        .filter(|k| k.readable_by_entrail())
        .ok_or_else(|| FixError::BadDestination(to.to_owned()))?;
    let settings = entra
        .as_ref()
        .map_err(|e| FixError::Unreadable(e.clone()))?;
    let missing: Vec<String> = report
        .rows
        .iter()
        .filter(|r| {
            r.scope == "tenant"
                && r.verdict == Verdict::Missing
                && matches!(
                    r.requirement,
                    Requirement::Required | Requirement::Recommended
                )
        })
        .map(|r| r.category.clone())
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let (name, existing, mut properties) = match settings.iter().find(|s| targets(s, kind, to)) {
        Some(s) => (s.name.clone(), true, s.properties.clone()),
        None => {
            let taken = |n: &str| settings.iter().any(|s| s.name.eq_ignore_ascii_case(n));
            let name = std::iter::once(default_name.to_owned())
                .chain((2..).map(|i| format!("{default_name}-{i}")))
                .find(|n| !taken(n))
                .unwrap_or_else(|| default_name.to_owned());
            let mut p = SettingProperties::default();
            match kind {
                DestinationKind::EventHub => {
                    p.event_hub_authorization_rule_id = Some(to.to_owned());
                    p.event_hub_name = event_hub_name.map(str::to_owned);
                }
                _ => p.storage_account_id = Some(to.to_owned()),
            }
            (name, false, p)
        }
    };
    for c in &missing {
        match properties.logs.iter_mut().find(|l| {
            l.category
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(c))
        }) {
            Some(l) => l.enabled = true,
            None => properties.logs.push(LogSetting {
                category: Some(c.clone()),
                category_group: None,
                enabled: true,
                retention_policy: None,
            }),
        }
    }
    Ok(Some(FixPlan {
        path: format!("providers/microsoft.aadiam/diagnosticSettings/{name}"),
        body: put_body(&properties),
        setting: name,
        existing,
        categories: missing,
        properties,
    }))
}
