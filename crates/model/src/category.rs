//! Log categories: every kind of record entrail knows, with its diagnostic-settings name, its canonical table,
//! its dedupe id and event-time fields, and whether seed 001 requires it.
//!
//! Adding a category is one entry in the `categories!` table below (plus its table in
//! `data/schemas/derived_tables.json` when Log Analytics has none in `la_table_schemas.json`).

use serde::{Deserialize, Serialize};

/// How strongly the Entra guidance (seed 001) asks for a category to be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// "At the minimum, export the following logs".
    Required,
    /// "Consider exporting other log types as well".
    Recommended,
    /// Useful for investigations, not named by the guidance.
    Optional,
}

/// Which family of decoder a category uses: categories in one family share field shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Entra directory audit (`directoryAudit`).
    Audit,
    /// Entra sign-ins of every kind (`signIn`).
    SignIn,
    /// Entra provisioning (`provisioningObjectSummary`).
    Provisioning,
    /// Identity Protection state objects and detections.
    Risk,
    /// Global Secure Access objects and connector logs.
    NetworkAccess,
    /// Microsoft Graph activity logs.
    GraphActivity,
    /// Office 365 enriched audit.
    Office,
    /// Azure Activity Log.
    Activity,
    /// NSG and VNet flow logs, expanded to one record per flow tuple.
    Flow,
    /// Any other Azure resource log.
    Resource,
    /// Syslog messages (RFC 5424, RFC 3164, CEF) received by the syslog source.
    Syslog,
}

macro_rules! categories {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            name: $name:literal,
            table: $table:literal,
            family: $family:ident,
            requirement: $req:ident,
            id: [$($id:literal),*],
            time: [$($time:literal),*],
        }
    )*) => {
        /// A log category. `name()` is the diagnostic-settings category, `table()` the canonical table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Category {
            $($(#[$doc])* $variant,)*
        }

        impl Category {
            /// Every category, in declaration order.
            pub const ALL: &'static [Category] = &[$(Category::$variant,)*];

            /// The diagnostic-settings category name (`SignInLogs`), or our name where there is none.
            pub const fn name(self) -> &'static str {
                match self { $(Category::$variant => $name,)* }
            }

            /// The canonical table name, as in Log Analytics (`SigninLogs`).
            pub const fn table(self) -> &'static str {
                match self { $(Category::$variant => $table,)* }
            }

            /// The decoder family.
            pub const fn family(self) -> Family {
                match self { $(Category::$variant => Family::$family,)* }
            }

            /// Whether seed 001 requires, recommends or does not name this category.
            pub const fn requirement(self) -> Requirement {
                match self { $(Category::$variant => Requirement::$req,)* }
            }

            /// Paths (in the Graph object, `/`-separated) of the dedupe id, in order of preference.
            /// Empty: no id exists and the dedupe key is a content hash.
            pub const fn id_fields(self) -> &'static [&'static str] {
                match self { $(Category::$variant => &[$($id),*],)* }
            }

            /// Paths (in the Graph object) of the event time, in order of preference. The envelope
            /// `time` is the fallback.
            pub const fn time_fields(self) -> &'static [&'static str] {
                match self { $(Category::$variant => &[$($time),*],)* }
            }
        }
    };
}

categories! {
    /// Entra directory audit logs.
    AuditLogs { name: "AuditLogs", table: "AuditLogs", family: Audit, requirement: Required,
        id: ["id"], time: ["activityDateTime"], }
    /// Interactive user sign-ins.
    SignInLogs { name: "SignInLogs", table: "SigninLogs", family: SignIn, requirement: Required,
        id: ["id"], time: ["createdDateTime"], }
    /// Non-interactive user sign-ins.
    NonInteractiveUserSignInLogs { name: "NonInteractiveUserSignInLogs", table: "AADNonInteractiveUserSignInLogs",
        family: SignIn, requirement: Recommended, id: ["id"], time: ["createdDateTime"], }
    /// Service principal sign-ins.
    ServicePrincipalSignInLogs { name: "ServicePrincipalSignInLogs", table: "AADServicePrincipalSignInLogs",
        family: SignIn, requirement: Required, id: ["id"], time: ["createdDateTime"], }
    /// Managed identity sign-ins.
    ManagedIdentitySignInLogs { name: "ManagedIdentitySignInLogs", table: "AADManagedIdentitySignInLogs",
        family: SignIn, requirement: Required, id: ["id"], time: ["createdDateTime"], }
    /// AD FS sign-ins (Connect Health).
    AdfsSignInLogs { name: "ADFSSignInLogs", table: "ADFSSignInLogs", family: SignIn, requirement: Required,
        id: ["id"], time: ["createdDateTime"], }
    /// Provisioning logs.
    ProvisioningLogs { name: "ProvisioningLogs", table: "AADProvisioningLogs", family: Provisioning,
        requirement: Recommended, id: ["id"], time: ["activityDateTime"], }
    /// Risky users (state: the latest revision wins).
    RiskyUsers { name: "RiskyUsers", table: "AADRiskyUsers", family: Risk, requirement: Required,
        id: ["id"], time: ["riskLastUpdatedDateTime"], }
    /// User risk detections.
    UserRiskEvents { name: "UserRiskEvents", table: "AADUserRiskEvents", family: Risk, requirement: Required,
        id: ["id"], time: ["activityDateTime", "detectedDateTime"], }
    /// Risky service principals (state).
    RiskyServicePrincipals { name: "RiskyServicePrincipals", table: "AADRiskyServicePrincipals", family: Risk,
        requirement: Required, id: ["id"], time: ["riskLastUpdatedDateTime"], }
    /// Service principal risk detections.
    ServicePrincipalRiskEvents { name: "ServicePrincipalRiskEvents", table: "AADServicePrincipalRiskEvents",
        family: Risk, requirement: Required, id: ["id"], time: ["activityDateTime", "detectedDateTime"], }
    /// Global Secure Access traffic logs.
    NetworkAccessTrafficLogs { name: "NetworkAccessTrafficLogs", table: "NetworkAccessTraffic",
        family: NetworkAccess, requirement: Recommended, id: ["transactionId"], time: ["createdDateTime"], }
    /// Office 365 audit enriched by Global Secure Access.
    EnrichedOffice365AuditLogs { name: "EnrichedOffice365AuditLogs", table: "EnrichedMicrosoft365AuditLogs",
        family: Office, requirement: Recommended, id: ["Id", "id"], time: ["CreationTime", "creationTime"], }
    /// Microsoft Graph activity logs (export only).
    MicrosoftGraphActivityLogs { name: "MicrosoftGraphActivityLogs", table: "MicrosoftGraphActivityLogs",
        family: GraphActivity, requirement: Recommended, id: ["requestId"], time: ["timeGenerated"], }
    /// Global Secure Access remote network health.
    RemoteNetworkHealthLogs { name: "RemoteNetworkHealthLogs", table: "RemoteNetworkHealthLogs",
        family: NetworkAccess, requirement: Recommended, id: ["id"], time: ["createdDateTime"], }
    /// Risky agents (state).
    RiskyAgents { name: "RiskyAgents", table: "AADRiskyAgents", family: Risk, requirement: Optional,
        id: ["id"], time: ["riskLastModifiedDateTime"], }
    /// Agent risk detections.
    AgentRiskEvents { name: "AgentRiskEvents", table: "AADAgentRiskEvents", family: Risk, requirement: Optional,
        id: ["id"], time: ["activityDateTime", "detectedDateTime"], }
    /// Global Secure Access alerts.
    NetworkAccessAlerts { name: "NetworkAccessAlerts", table: "NetworkAccessAlerts", family: NetworkAccess,
        requirement: Optional, id: ["id"], time: ["createdDateTime"], }
    /// Global Secure Access connection events.
    NetworkAccessConnectionEvents { name: "NetworkAccessConnectionEvents", table: "NetworkAccessConnectionEvents",
        family: NetworkAccess, requirement: Optional, id: ["connectionId", "id"], time: ["createdDateTime"], }
    /// Global Secure Access private network connector logs (the connector host's event log).
    PrivateNetworkConnectorLogs { name: "PrivateNetworkConnectorLogs", table: "PrivateNetworkConnectorLogs",
        family: NetworkAccess, requirement: Optional, id: [], time: ["TimeCreated", "timeCreated"], }
    /// Azure Activity Log (every activity category: Administrative, Security, Policy, ...).
    AzureActivity { name: "AzureActivity", table: "AzureActivity", family: Activity, requirement: Optional,
        id: [], time: [], }
    /// NSG flow logs, one record per flow tuple.
    NsgFlowLogs { name: "NetworkSecurityGroupFlowEvent", table: "AzureNsgFlowLogs", family: Flow,
        requirement: Optional, id: [], time: [], }
    /// VNet flow logs, one record per flow tuple.
    VnetFlowLogs { name: "FlowLogFlowEvent", table: "AzureVnetFlowLogs", family: Flow, requirement: Optional,
        id: [], time: [], }
    /// Any other Azure resource log (Key Vault AuditEvent, ...), in the resource-log common schema.
    ResourceDiagnostics { name: "ResourceDiagnostics", table: "AzureDiagnostics", family: Resource,
        requirement: Optional, id: [], time: [], }
    /// Syslog messages (OS and appliance logs, CEF included) received by the syslog source; not a
    /// diagnostic-settings category (the name is the Log Analytics table's).
    Syslog { name: "Syslog", table: "Syslog", family: Syslog, requirement: Optional,
        id: [], time: ["EventTime"], }
}

/// The Azure Activity Log's own categories: records with these `category` values are [`Category::AzureActivity`].
pub const ACTIVITY_CATEGORIES: &[&str] = &[
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
];

impl Category {
    /// Finds a category by diagnostic-settings name, table name or Activity Log category, ignoring case.
    /// `None` for names entrail does not know (the caller decides: resource diagnostics or quarantine).
    pub fn from_name(name: &str) -> Option<Category> {
        let name = name.trim();
        if let Some(c) = Category::ALL
            .iter()
            .find(|c| c.name().eq_ignore_ascii_case(name) || c.table().eq_ignore_ascii_case(name))
        {
            return Some(*c);
        }
        if ACTIVITY_CATEGORIES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(name))
        {
            return Some(Category::AzureActivity);
        }
        None
    }

    /// Whether the dedupe key is the record's own id (`true`) or a content hash (`false`).
    pub const fn has_id(self) -> bool {
        !self.id_fields().is_empty()
    }

    /// Whether records of this category are state snapshots (risky users, SPs, agents), where the latest
    /// revision replaces the previous one.
    pub const fn is_state(self) -> bool {
        matches!(
            self,
            Category::RiskyUsers | Category::RiskyServicePrincipals | Category::RiskyAgents
        )
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_tables_are_unique() {
        let names: HashSet<_> = Category::ALL
            .iter()
            .map(|c| c.name().to_ascii_lowercase())
            .collect();
        let tables: HashSet<_> = Category::ALL
            .iter()
            .map(|c| c.table().to_ascii_lowercase())
            .collect();
        assert_eq!(names.len(), Category::ALL.len());
        assert_eq!(tables.len(), Category::ALL.len());
    }

    #[test]
    fn lookup_by_name_table_and_activity_category() {
        assert_eq!(
            Category::from_name("signinlogs"),
            Some(Category::SignInLogs)
        );
        assert_eq!(
            Category::from_name("AADNonInteractiveUserSignInLogs"),
            Some(Category::NonInteractiveUserSignInLogs)
        );
        assert_eq!(
            Category::from_name("Administrative"),
            Some(Category::AzureActivity)
        );
        assert_eq!(
            Category::from_name("NetworkSecurityGroupFlowEvent"),
            Some(Category::NsgFlowLogs)
        );
        assert_eq!(Category::from_name("NoSuchThing"), None);
    }

    #[test]
    fn seed_001_required_categories() {
        let required: Vec<_> = Category::ALL
            .iter()
            .filter(|c| c.requirement() == Requirement::Required)
            .map(|c| c.name())
            .collect();
        assert_eq!(
            required,
            [
                "AuditLogs",
                "SignInLogs",
                "ServicePrincipalSignInLogs",
                "ManagedIdentitySignInLogs",
                "ADFSSignInLogs",
                "RiskyUsers",
                "UserRiskEvents",
                "RiskyServicePrincipals",
                "ServicePrincipalRiskEvents"
            ]
        );
    }
}
