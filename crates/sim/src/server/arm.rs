//! Azure Resource Manager, simulated: the tenant's Entra diagnostic settings
//! (`/providers/microsoft.aadiam/diagnosticSettings`), the subscriptions list, and `Microsoft.Insights`
//! diagnostic settings of subscriptions (Activity Log) and resources, with their category lists.
//!
//! | Path | Methods | api-version |
//! |---|---|---|
//! | `/providers/microsoft.aadiam/diagnosticSettings[/{name}]` | GET (list, get), PUT, DELETE | `2017-04-01`, `2017-04-01-preview` |
//! | `/providers/microsoft.aadiam/diagnosticSettingsCategories` | GET | same |
//! | `/subscriptions` | GET | `2022-12-01`, `2020-01-01` |
//! | `/{scope}/providers/Microsoft.Insights/diagnosticSettings[/{name}]` | GET, PUT, DELETE | `2021-05-01-preview` |
//! | `/{scope}/providers/Microsoft.Insights/diagnosticSettingsCategories` | GET | same |
//!
//! `{scope}` is `/subscriptions/{id}` (the Activity Log) or a resource id known to [`ArmConfig::resources`].
//! Every request needs a bearer token issued for ARM (`https://management.azure.com/.default`); errors use
//! ARM's envelope `{"error":{"code","message"}}`. PUT bodies are validated against the documented schema
//! (`arm_validate.rs`). The starting state is an [`ArmScenario`]; requests are answered in `arm/serve.rs`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

mod serve;

pub(crate) use serve::serve;

/// The simulated subscription (the default [`ArmConfig::subscriptions`]).
pub const SIM_SUBSCRIPTION_ID: &str = "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f";
/// An Event Hubs authorization rule in the simulated subscription.
pub const SIM_EVENT_HUB_RULE_ID: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg-logs/providers/Microsoft.EventHub/namespaces/ns-entra-logs/authorizationrules/RootManageSharedAccessKey";
/// A storage account in the simulated subscription.
pub const SIM_STORAGE_ACCOUNT_ID: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stentralogs";
/// A Log Analytics workspace in the simulated subscription.
pub const SIM_WORKSPACE_ID: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-sentinel";
/// A Key Vault in the simulated subscription (the default [`ArmConfig::resources`]).
pub const SIM_KEY_VAULT_ID: &str = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app";

/// Every Entra diagnostic-settings category (wire-formats §5.1).
pub const ENTRA_CATEGORIES: &[&str] = &[
    "AuditLogs",
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "ProvisioningLogs",
    "ADFSSignInLogs",
    "RiskyUsers",
    "UserRiskEvents",
    "RiskyServicePrincipals",
    "ServicePrincipalRiskEvents",
    "NetworkAccessTrafficLogs",
    "EnrichedOffice365AuditLogs",
    "MicrosoftGraphActivityLogs",
    "RemoteNetworkHealthLogs",
    "NetworkAccessAlerts",
    "NetworkAccessConnectionEvents",
    "NetworkAccessGenerativeAIInsights",
    "B2CRequestLogs",
    "MicrosoftServicePrincipalSignInLogs",
    "CustomSecurityAttributeAuditLogs",
    "AzureADGraphActivityLogs",
    "RiskyAgents",
    "AgentRiskEvents",
];

/// The categories a tenant without Entra ID P2 and Workload ID Premium does not get (the
/// [`ArmScenario::NotLicensed`] tenant): Identity Protection's risk categories.
pub const P2_ONLY_CATEGORIES: &[&str] = &[
    "RiskyUsers",
    "UserRiskEvents",
    "RiskyServicePrincipals",
    "ServicePrincipalRiskEvents",
    "RiskyAgents",
    "AgentRiskEvents",
];

/// The 9 required and 6 recommended categories (seed 001), in that order.
pub const REQUIRED_AND_RECOMMENDED: &[&str] = &[
    "AuditLogs",
    "SignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "ADFSSignInLogs",
    "RiskyUsers",
    "UserRiskEvents",
    "RiskyServicePrincipals",
    "ServicePrincipalRiskEvents",
    "NonInteractiveUserSignInLogs",
    "ProvisioningLogs",
    "NetworkAccessTrafficLogs",
    "EnrichedOffice365AuditLogs",
    "MicrosoftGraphActivityLogs",
    "RemoteNetworkHealthLogs",
];

/// The categories [`ArmScenario::MissingRequired`] leaves out (two disabled, one absent, plus a recommended one).
pub const MISSING_IN_SCENARIO: &[&str] = &[
    "RiskyUsers",
    "ServicePrincipalSignInLogs",
    "ADFSSignInLogs",
    "ProvisioningLogs",
];

const ACTIVITY_CATEGORIES: &[&str] = &[
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
];
const RESOURCE_CATEGORIES: &[&str] = &["AuditEvent", "AzurePolicyEvaluationDetails"];
const AADIAM_VERSIONS: &[&str] = &["2017-04-01", "2017-04-01-preview"];
const INSIGHTS_VERSIONS: &[&str] = &["2021-05-01-preview", "2017-05-01-preview"];
const SUBSCRIPTION_VERSIONS: &[&str] = &["2022-12-01", "2020-01-01", "2016-06-01"];
/// ARM's limit of diagnostic settings per scope.
const MAX_SETTINGS: usize = 5;

/// The starting state of the simulated ARM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArmScenario {
    /// One Entra setting `entrail-eventhub` streams the 15 required and recommended categories to an event hub;
    /// the Activity Log and the Key Vault stream to it too.
    Complete,
    /// Like `Complete`, with [`MISSING_IN_SCENARIO`] disabled or absent.
    MissingRequired,
    /// The Entra setting was deleted: none left (Activity Log and Key Vault as in `Complete`).
    Deleted,
    /// One Entra setting `sentinel` exports the 15 categories to a Log Analytics workspace only.
    LogAnalyticsOnly,
    /// `Complete` plus a second setting `archive-storage` sending AuditLogs and SignInLogs to a storage account
    /// with a 365-day retention policy.
    SecondSetting,
    /// A tenant without P2 / Workload ID Premium: [`P2_ONLY_CATEGORIES`] are absent from the category list;
    /// the setting streams every licensed category to the event hub.
    NotLicensed,
    /// Nothing anywhere: no settings on any scope.
    Empty,
}

/// Configuration of the simulated ARM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmConfig {
    /// The starting state.
    pub scenario: ArmScenario,
    /// Subscription ids the caller can see.
    pub subscriptions: Vec<String>,
    /// Resource ids that exist (their settings can be read and written).
    pub resources: Vec<String>,
    /// Client ids refused (403 `AuthorizationFailed`) on every ARM call but the subscriptions list.
    pub denied_clients: Vec<String>,
    /// Client ids that may read but not write or delete (403 on PUT and DELETE).
    pub read_only_clients: Vec<String>,
}

impl Default for ArmConfig {
    /// `Complete`, one subscription ([`SIM_SUBSCRIPTION_ID`]), one Key Vault, nobody denied.
    fn default() -> Self {
        ArmConfig {
            scenario: ArmScenario::Complete,
            subscriptions: vec![SIM_SUBSCRIPTION_ID.to_owned()],
            resources: vec![SIM_KEY_VAULT_ID.to_owned()],
            denied_clients: Vec::new(),
            read_only_clients: Vec::new(),
        }
    }
}

/// Settings of one scope, by lower-cased name: (name as created, normalized properties).
type Settings = BTreeMap<String, (String, Value)>;

/// The mutable ARM state.
#[derive(Debug, Default)]
pub(crate) struct ArmState {
    /// The tenant's Entra settings.
    entra: Settings,
    /// Per lower-cased scope (`/subscriptions/{id}` or a resource id).
    scoped: BTreeMap<String, Settings>,
    /// Entra categories in the tenant's list.
    licensed: Vec<String>,
    /// Every accepted PUT: (path, body as sent).
    puts: Vec<(String, Value)>,
}

fn setting(
    dest: (&str, &str),
    hub_name: Option<&str>,
    logs: &[(&str, bool)],
    retention: u64,
) -> Value {
    let mut p = json!({
        "storageAccountId": null, "serviceBusRuleId": null, "eventHubAuthorizationRuleId": null,
        "eventHubName": hub_name, "workspaceId": null, "marketplacePartnerId": null,
        "logAnalyticsDestinationType": null, "metrics": [],
        "logs": logs.iter().map(|(c, on)| json!({
            "category": c, "categoryGroup": null, "enabled": on,
            "retentionPolicy": {"enabled": retention > 0, "days": retention},
        })).collect::<Vec<_>>(),
    });
    p[dest.0] = Value::from(dest.1);
    p
}

impl ArmState {
    /// The starting state of a scenario.
    pub(crate) fn new(cfg: &ArmConfig) -> ArmState {
        let mut s = ArmState {
            licensed: ENTRA_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
            ..ArmState::default()
        };
        if cfg.scenario == ArmScenario::NotLicensed {
            s.licensed
                .retain(|c| !P2_ONLY_CATEGORIES.contains(&c.as_str()));
        }
        let all: Vec<(&str, bool)> = REQUIRED_AND_RECOMMENDED
            .iter()
            .filter(|c| s.licensed.iter().any(|l| l == *c))
            .map(|c| (*c, true))
            .collect();
        let hub = ("eventHubAuthorizationRuleId", SIM_EVENT_HUB_RULE_ID);
        let mut add = |name: &str, props: Value| {
            s.entra
                .insert(name.to_ascii_lowercase(), (name.to_owned(), props));
        };
        match cfg.scenario {
            ArmScenario::Complete | ArmScenario::NotLicensed => {
                add(
                    "entrail-eventhub",
                    setting(hub, Some("entra-logs"), &all, 0),
                );
            }
            ArmScenario::SecondSetting => {
                add(
                    "entrail-eventhub",
                    setting(hub, Some("entra-logs"), &all, 0),
                );
                add(
                    "archive-storage",
                    setting(
                        ("storageAccountId", SIM_STORAGE_ACCOUNT_ID),
                        None,
                        &[("AuditLogs", true), ("SignInLogs", true)],
                        365,
                    ),
                );
            }
            ArmScenario::MissingRequired => {
                let logs: Vec<(&str, bool)> = all
                    .iter()
                    .filter(|(c, _)| !matches!(*c, "ADFSSignInLogs" | "ProvisioningLogs"))
                    .map(|(c, _)| (*c, !MISSING_IN_SCENARIO.contains(c)))
                    .collect();
                add(
                    "entrail-eventhub",
                    setting(hub, Some("entra-logs"), &logs, 0),
                );
            }
            ArmScenario::LogAnalyticsOnly => {
                add(
                    "sentinel",
                    setting(("workspaceId", SIM_WORKSPACE_ID), None, &all, 0),
                );
            }
            ArmScenario::Deleted | ArmScenario::Empty => {}
        }
        if cfg.scenario != ArmScenario::Empty {
            for sub in &cfg.subscriptions {
                let logs: Vec<(&str, bool)> =
                    ACTIVITY_CATEGORIES.iter().map(|c| (*c, true)).collect();
                let mut settings = Settings::new();
                settings.insert(
                    "activity-to-eventhub".into(),
                    (
                        "activity-to-eventhub".into(),
                        setting(hub, Some("activity-log"), &logs, 0),
                    ),
                );
                s.scoped.insert(
                    format!("/subscriptions/{sub}").to_ascii_lowercase(),
                    settings,
                );
            }
            for r in &cfg.resources {
                let mut p = setting(hub, Some("resource-logs"), &[], 0);
                p["logs"] = json!([{"category": null, "categoryGroup": "audit", "enabled": true,
                    "retentionPolicy": {"enabled": false, "days": 0}}]);
                let mut settings = Settings::new();
                settings.insert("audit-to-eventhub".into(), ("audit-to-eventhub".into(), p));
                s.scoped.insert(r.to_ascii_lowercase(), settings);
            }
        }
        s
    }

    /// Everything as JSON, for tests: `{"entra":{name:properties}, "scopes":{scope:{name:properties}},
    /// "puts":[{"path","body"}]}`.
    pub(crate) fn snapshot(&self) -> Value {
        let dump = |s: &Settings| -> Value {
            s.values()
                .map(|(n, p)| (n.clone(), p.clone()))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        json!({
            "entra": dump(&self.entra),
            "scopes": self.scoped.iter().map(|(k, v)| (k.clone(), dump(v))).collect::<serde_json::Map<_, _>>(),
            "licensed": self.licensed,
            "puts": self.puts.iter().map(|(p, b)| json!({"path": p, "body": b})).collect::<Vec<_>>(),
        })
    }
}

/// Shared ARM state of a running server.
#[derive(Debug)]
pub(crate) struct Arm {
    pub(crate) state: Mutex<ArmState>,
}
