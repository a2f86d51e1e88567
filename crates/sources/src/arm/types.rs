//! The ARM objects entrail reads and writes: diagnostic settings (`microsoft.aadiam` and
//! `Microsoft.Insights` share one shape), their log entries and retention, subscriptions and categories.
//! Reading is lenient (ARM adds fields); writing sends only documented keys and omits empty ones.

use serde::{Deserialize, Serialize};

/// A diagnostic setting as ARM returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticSetting {
    /// Full resource id.
    #[serde(default)]
    pub id: String,
    /// Setting name.
    pub name: String,
    /// Destinations and categories.
    #[serde(default)]
    pub properties: SettingProperties,
}

/// `properties` of a diagnostic setting: where logs go and which.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingProperties {
    /// Storage account resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    /// Event Hubs namespace authorization rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_authorization_rule_id: Option<String>,
    /// Event hub name (none: one hub per category, `insights-logs-<category>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_name: Option<String>,
    /// Log Analytics workspace resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// Partner solution resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_partner_id: Option<String>,
    /// `Dedicated` or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_analytics_destination_type: Option<String>,
    /// Log categories.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub logs: Vec<LogSetting>,
    /// Metric settings, kept as sent (entrail does not use them).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metrics: Vec<serde_json::Value>,
}

/// One `logs[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogSetting {
    /// A category (`SignInLogs`); exactly one of `category` and `category_group` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A category group (`allLogs`, `audit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_group: Option<String>,
    /// Whether the category is exported.
    #[serde(default)]
    pub enabled: bool,
    /// Retention in the storage account (deprecated by Azure, still reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<RetentionPolicy>,
}

/// `retentionPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Whether the policy applies.
    #[serde(default)]
    pub enabled: bool,
    /// Days kept (0: forever).
    #[serde(default)]
    pub days: u32,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Where a setting sends logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// An event hub.
    EventHub,
    /// A storage account.
    Storage,
    /// A Log Analytics workspace.
    LogAnalytics,
    /// A partner solution.
    Partner,
}

impl DestinationKind {
    /// Short label (`event_hub`, `storage`, `log_analytics`, `partner`).
    pub const fn label(self) -> &'static str {
        match self {
            DestinationKind::EventHub => "event_hub",
            DestinationKind::Storage => "storage",
            DestinationKind::LogAnalytics => "log_analytics",
            DestinationKind::Partner => "partner",
        }
    }

    /// Whether entrail can read this destination (event hubs and storage accounts).
    pub const fn readable_by_entrail(self) -> bool {
        matches!(self, DestinationKind::EventHub | DestinationKind::Storage)
    }

    /// The kind of a destination resource id (`Microsoft.EventHub/...` or `Microsoft.Storage/...`).
    pub fn of_resource_id(id: &str) -> Option<DestinationKind> {
        let lower = id.to_ascii_lowercase();
        if lower.contains("/providers/microsoft.eventhub/namespaces/")
            && lower.contains("/authorizationrules/")
        {
            Some(DestinationKind::EventHub)
        } else if lower.contains("/providers/microsoft.storage/storageaccounts/") {
            Some(DestinationKind::Storage)
        } else if lower.contains("/providers/microsoft.operationalinsights/workspaces/") {
            Some(DestinationKind::LogAnalytics)
        } else {
            None
        }
    }
}

impl SettingProperties {
    /// The destinations: kind and resource id (plus the hub name for an event hub).
    pub fn destinations(&self) -> Vec<(DestinationKind, String)> {
        let mut out = Vec::new();
        if let Some(id) = &self.event_hub_authorization_rule_id {
            let hub = self
                .event_hub_name
                .as_deref()
                .unwrap_or("insights-logs-<category>");
            out.push((DestinationKind::EventHub, format!("{id} (hub {hub})")));
        }
        if let Some(id) = &self.storage_account_id {
            out.push((DestinationKind::Storage, id.clone()));
        }
        if let Some(id) = &self.workspace_id {
            out.push((DestinationKind::LogAnalytics, id.clone()));
        }
        if let Some(id) = &self.marketplace_partner_id {
            out.push((DestinationKind::Partner, id.clone()));
        }
        out
    }

    /// The log entry enabling `category` (by name, or through the `allLogs` group), if any.
    pub fn enabled_entry(&self, category: &str) -> Option<&LogSetting> {
        self.logs.iter().find(|l| {
            l.enabled
                && (l
                    .category
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(category))
                    || l.category_group
                        .as_deref()
                        .is_some_and(|g| g.eq_ignore_ascii_case("allLogs")))
        })
    }
}

/// A subscription from `GET /subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The GUID.
    pub subscription_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// `Enabled`, `Disabled`, ...
    #[serde(default)]
    pub state: String,
}
