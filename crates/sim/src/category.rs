//! The categories the simulator produces: diagnostic-settings name, Log Analytics table, dedupe id field
//! and whether a Graph API returns the object (wire-formats.md §1).

/// One simulated log category. [`Category::name`] is the diagnostic-settings category (`SimEvent::category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// `AuditLogs` (directoryAudit).
    AuditLogs,
    /// `SignInLogs` (interactive user sign-ins).
    SignInLogs,
    /// `NonInteractiveUserSignInLogs`.
    NonInteractiveUserSignInLogs,
    /// `ServicePrincipalSignInLogs`.
    ServicePrincipalSignInLogs,
    /// `ManagedIdentitySignInLogs`.
    ManagedIdentitySignInLogs,
    /// `ADFSSignInLogs` (signIn objects with `tokenIssuerType` `ADFederationServices`).
    AdfsSignInLogs,
    /// `ProvisioningLogs` (provisioningObjectSummary).
    ProvisioningLogs,
    /// `RiskyUsers` (state).
    RiskyUsers,
    /// `UserRiskEvents` (riskDetection).
    UserRiskEvents,
    /// `RiskyServicePrincipals` (state).
    RiskyServicePrincipals,
    /// `ServicePrincipalRiskEvents`.
    ServicePrincipalRiskEvents,
    /// `NetworkAccessTrafficLogs` (Global Secure Access traffic).
    NetworkAccessTrafficLogs,
    /// `EnrichedOffice365AuditLogs`.
    EnrichedOffice365AuditLogs,
    /// `MicrosoftGraphActivityLogs`.
    MicrosoftGraphActivityLogs,
    /// `RemoteNetworkHealthLogs`.
    RemoteNetworkHealthLogs,
    /// `RiskyAgents` (state).
    RiskyAgents,
    /// `AgentRiskEvents`.
    AgentRiskEvents,
    /// `NetworkAccessAlerts`.
    NetworkAccessAlerts,
    /// `NetworkAccessConnectionEvents`.
    NetworkAccessConnectionEvents,
    /// Activity Log `Administrative`.
    Administrative,
    /// Activity Log `Security`.
    Security,
    /// Activity Log `Policy`.
    Policy,
    /// Activity Log `ServiceHealth`.
    ServiceHealth,
    /// Activity Log `ResourceHealth`.
    ResourceHealth,
    /// Activity Log `Alert`.
    Alert,
    /// Activity Log `Recommendation`.
    Recommendation,
    /// Activity Log `Autoscale`.
    Autoscale,
    /// NSG flow logs v2.
    NsgFlowEvent,
    /// VNet flow logs v4.
    VnetFlowEvent,
    /// Key Vault resource log `AuditEvent`.
    KeyVaultAuditEvent,
}

/// How a category's records are keyed for dedupe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A field of the Graph object / `properties` (name given).
    Field(&'static str),
    /// No id: records are counted (activity log, resource logs).
    None,
    /// No id, and each record expands to one row per flow tuple.
    FlowTuples,
}

impl Category {
    /// Every category, in a fixed order.
    pub const ALL: &'static [Category] = &[
        Category::AuditLogs,
        Category::SignInLogs,
        Category::NonInteractiveUserSignInLogs,
        Category::ServicePrincipalSignInLogs,
        Category::ManagedIdentitySignInLogs,
        Category::AdfsSignInLogs,
        Category::ProvisioningLogs,
        Category::RiskyUsers,
        Category::UserRiskEvents,
        Category::RiskyServicePrincipals,
        Category::ServicePrincipalRiskEvents,
        Category::NetworkAccessTrafficLogs,
        Category::EnrichedOffice365AuditLogs,
        Category::MicrosoftGraphActivityLogs,
        Category::RemoteNetworkHealthLogs,
        Category::RiskyAgents,
        Category::AgentRiskEvents,
        Category::NetworkAccessAlerts,
        Category::NetworkAccessConnectionEvents,
        Category::Administrative,
        Category::Security,
        Category::Policy,
        Category::ServiceHealth,
        Category::ResourceHealth,
        Category::Alert,
        Category::Recommendation,
        Category::Autoscale,
        Category::NsgFlowEvent,
        Category::VnetFlowEvent,
        Category::KeyVaultAuditEvent,
    ];

    /// The user sign-in categories a sign-in benchmark asks for.
    pub const SIGN_INS: &'static [Category] = &[
        Category::SignInLogs,
        Category::NonInteractiveUserSignInLogs,
        Category::ServicePrincipalSignInLogs,
        Category::ManagedIdentitySignInLogs,
        Category::AdfsSignInLogs,
    ];

    /// The diagnostic-settings category name (the envelope `category`).
    pub const fn name(self) -> &'static str {
        match self {
            Category::AuditLogs => "AuditLogs",
            Category::SignInLogs => "SignInLogs",
            Category::NonInteractiveUserSignInLogs => "NonInteractiveUserSignInLogs",
            Category::ServicePrincipalSignInLogs => "ServicePrincipalSignInLogs",
            Category::ManagedIdentitySignInLogs => "ManagedIdentitySignInLogs",
            Category::AdfsSignInLogs => "ADFSSignInLogs",
            Category::ProvisioningLogs => "ProvisioningLogs",
            Category::RiskyUsers => "RiskyUsers",
            Category::UserRiskEvents => "UserRiskEvents",
            Category::RiskyServicePrincipals => "RiskyServicePrincipals",
            Category::ServicePrincipalRiskEvents => "ServicePrincipalRiskEvents",
            Category::NetworkAccessTrafficLogs => "NetworkAccessTrafficLogs",
            Category::EnrichedOffice365AuditLogs => "EnrichedOffice365AuditLogs",
            Category::MicrosoftGraphActivityLogs => "MicrosoftGraphActivityLogs",
            Category::RemoteNetworkHealthLogs => "RemoteNetworkHealthLogs",
            Category::RiskyAgents => "RiskyAgents",
            Category::AgentRiskEvents => "AgentRiskEvents",
            Category::NetworkAccessAlerts => "NetworkAccessAlerts",
            Category::NetworkAccessConnectionEvents => "NetworkAccessConnectionEvents",
            Category::Administrative => "Administrative",
            Category::Security => "Security",
            Category::Policy => "Policy",
            Category::ServiceHealth => "ServiceHealth",
            Category::ResourceHealth => "ResourceHealth",
            Category::Alert => "Alert",
            Category::Recommendation => "Recommendation",
            Category::Autoscale => "Autoscale",
            Category::NsgFlowEvent => "NetworkSecurityGroupFlowEvent",
            Category::VnetFlowEvent => "FlowLogFlowEvent",
            Category::KeyVaultAuditEvent => "AuditEvent",
        }
    }

    /// The Log Analytics table the category lands in.
    pub const fn la_table(self) -> &'static str {
        match self {
            Category::AuditLogs => "AuditLogs",
            Category::SignInLogs => "SigninLogs",
            Category::NonInteractiveUserSignInLogs => "AADNonInteractiveUserSignInLogs",
            Category::ServicePrincipalSignInLogs => "AADServicePrincipalSignInLogs",
            Category::ManagedIdentitySignInLogs => "AADManagedIdentitySignInLogs",
            Category::AdfsSignInLogs => "ADFSSignInLogs",
            Category::ProvisioningLogs => "AADProvisioningLogs",
            Category::RiskyUsers => "AADRiskyUsers",
            Category::UserRiskEvents => "AADUserRiskEvents",
            Category::RiskyServicePrincipals => "AADRiskyServicePrincipals",
            Category::ServicePrincipalRiskEvents => "AADServicePrincipalRiskEvents",
            Category::NetworkAccessTrafficLogs => "NetworkAccessTraffic",
            Category::EnrichedOffice365AuditLogs => "EnrichedMicrosoft365AuditLogs",
            Category::MicrosoftGraphActivityLogs => "MicrosoftGraphActivityLogs",
            Category::RemoteNetworkHealthLogs => "RemoteNetworkHealthLogs",
            Category::RiskyAgents => "AADRiskyAgents",
            Category::AgentRiskEvents => "AADAgentRiskEvents",
            Category::NetworkAccessAlerts => "NetworkAccessAlerts",
            Category::NetworkAccessConnectionEvents => "NetworkAccessConnectionEvents",
            Category::Administrative
            | Category::Security
            | Category::Policy
            | Category::ServiceHealth
            | Category::ResourceHealth
            | Category::Alert
            | Category::Recommendation
            | Category::Autoscale => "AzureActivity",
            Category::NsgFlowEvent => "NetworkSecurityGroupFlowEvent",
            Category::VnetFlowEvent => "FlowLogFlowEvent",
            Category::KeyVaultAuditEvent => "AZKVAuditLogs",
        }
    }

    /// How records are keyed (wire-formats.md §1).
    pub const fn id_kind(self) -> IdKind {
        match self {
            Category::NetworkAccessTrafficLogs => IdKind::Field("transactionId"),
            Category::MicrosoftGraphActivityLogs => IdKind::Field("requestId"),
            Category::EnrichedOffice365AuditLogs => IdKind::Field("Id"),
            Category::NetworkAccessConnectionEvents => IdKind::Field("connectionId"),
            Category::NsgFlowEvent | Category::VnetFlowEvent => IdKind::FlowTuples,
            c if c.is_activity() => IdKind::None,
            Category::KeyVaultAuditEvent => IdKind::None,
            _ => IdKind::Field("id"),
        }
    }

    /// The id field name, if records have one.
    pub const fn id_field(self) -> Option<&'static str> {
        match self.id_kind() {
            IdKind::Field(f) => Some(f),
            IdKind::None | IdKind::FlowTuples => None,
        }
    }

    /// Whether this is an Azure Activity Log category.
    pub const fn is_activity(self) -> bool {
        matches!(
            self,
            Category::Administrative
                | Category::Security
                | Category::Policy
                | Category::ServiceHealth
                | Category::ResourceHealth
                | Category::Alert
                | Category::Recommendation
                | Category::Autoscale
        )
    }

    /// Whether the record is an Entra (tenant-level, `microsoft.aadiam`) category.
    pub const fn is_entra(self) -> bool {
        !self.is_activity()
            && !matches!(
                self,
                Category::NsgFlowEvent | Category::VnetFlowEvent | Category::KeyVaultAuditEvent
            )
    }

    /// Whether the record is one of the five sign-in categories.
    pub const fn is_sign_in(self) -> bool {
        matches!(
            self,
            Category::SignInLogs
                | Category::NonInteractiveUserSignInLogs
                | Category::ServicePrincipalSignInLogs
                | Category::ManagedIdentitySignInLogs
                | Category::AdfsSignInLogs
        )
    }

    /// The `@odata.context` of a Graph list response, or `None` when no Graph API returns the object
    /// (Graph activity, enriched Office 365, activity log, flow logs, resource logs).
    pub const fn graph_context(self) -> Option<&'static str> {
        Some(match self {
            Category::AuditLogs => {
                "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"
            }
            Category::SignInLogs => "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            Category::NonInteractiveUserSignInLogs
            | Category::ServicePrincipalSignInLogs
            | Category::ManagedIdentitySignInLogs
            | Category::AdfsSignInLogs => {
                "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns"
            }
            Category::ProvisioningLogs => {
                "https://graph.microsoft.com/v1.0/$metadata#auditLogs/provisioning"
            }
            Category::RiskyUsers => {
                "https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskyUsers"
            }
            Category::UserRiskEvents => {
                "https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskDetections"
            }
            Category::RiskyServicePrincipals => {
                "https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskyServicePrincipals"
            }
            Category::ServicePrincipalRiskEvents => {
                "https://graph.microsoft.com/v1.0/$metadata#identityProtection/servicePrincipalRiskDetections"
            }
            Category::RiskyAgents => {
                "https://graph.microsoft.com/beta/$metadata#identityProtection/riskyAgents"
            }
            Category::AgentRiskEvents => {
                "https://graph.microsoft.com/beta/$metadata#identityProtection/agentRiskDetections"
            }
            Category::NetworkAccessTrafficLogs => {
                "https://graph.microsoft.com/beta/$metadata#networkAccess/logs/traffic"
            }
            Category::RemoteNetworkHealthLogs => {
                "https://graph.microsoft.com/beta/$metadata#networkAccess/logs/remoteNetworks"
            }
            Category::NetworkAccessAlerts => {
                "https://graph.microsoft.com/beta/$metadata#networkAccess/alerts"
            }
            Category::NetworkAccessConnectionEvents => {
                "https://graph.microsoft.com/beta/$metadata#networkAccess/logs/connections"
            }
            _ => return None,
        })
    }

    /// Whether a Graph API returns this object ([`Category::graph_context`] is `Some`).
    pub const fn has_graph_api(self) -> bool {
        self.graph_context().is_some()
    }

    /// Finds a category by its diagnostic-settings name (exact match).
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Every produced category name (diagnostic-settings names), in [`Category::ALL`] order.
pub fn all_category_names() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.name()).collect()
}

/// The Log Analytics table for a diagnostic-settings category name; `""` for a name the simulator does not know.
pub fn la_table(category: &str) -> &'static str {
    Category::from_name(category).map_or("", Category::la_table)
}
