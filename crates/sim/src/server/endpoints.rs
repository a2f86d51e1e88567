//! The Graph list endpoints the server answers, with what each documents (wire-formats §3): categories,
//! time field and its operators, filterable properties, page sizes, throttling class, required permissions and
//! order. Where the docs give no page size we use documented-looking values and say so.

use super::odata::Op;
use crate::Category;

/// Throttling class of an endpoint (wire-formats §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    /// Identity and access reports: per app per tenant, 429 with `Retry-After`.
    Reports,
    /// Identity protection: per tenant across apps, 429 without `Retry-After`.
    IdentityProtection,
}

/// One list endpoint.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Path after `/v1.0/` or `/beta/`.
    pub(crate) path: &'static str,
    /// Served under `/beta` only.
    pub(crate) beta_only: bool,
    /// Categories whose objects it returns.
    pub(crate) categories: &'static [Category],
    /// The time property the index is sorted on.
    pub(crate) time_field: &'static str,
    /// Operators allowed on the time property.
    pub(crate) time_ops: &'static [Op],
    /// Other time properties (`eq ne gt ge lt le`), evaluated per record.
    pub(crate) other_times: &'static [&'static str],
    /// Properties allowed with `eq` / `ne`.
    pub(crate) eq_fields: &'static [&'static str],
    /// Properties allowed in `startswith()` (or `contains()` for provisioning).
    pub(crate) func_fields: &'static [&'static str],
    /// `$top` default and maximum.
    pub(crate) default_top: usize,
    pub(crate) max_top: usize,
    pub(crate) class: Class,
    /// Every one of these application permissions is required.
    pub(crate) permissions: &'static [&'static str],
    /// Default order: newest first (sign-ins, audits) or oldest first.
    pub(crate) newest_first: bool,
    /// Filters are case-sensitive (provisioning: "The filters are all case sensitive").
    pub(crate) case_sensitive: bool,
}

const ALL_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];
// Documented eq/ge/le; Graph also accepts gt/lt in practice (the documented beta example uses `lt`).
const TIME_OPS: &[Op] = &[Op::Eq, Op::Gt, Op::Ge, Op::Lt, Op::Le];
const REPORTS_AUDIT: &[&str] = &["AuditLog.Read.All"];
const RISK_EVENTS: &[&str] = &["IdentityRiskEvent.Read.All"];
const NETWORK: &[&str] = &["NetworkAccess.Read.All"];

/// The endpoints, in a fixed order (index = data index).
pub(crate) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "auditLogs/directoryAudits",
        beta_only: false,
        categories: &[Category::AuditLogs],
        time_field: "activityDateTime",
        time_ops: TIME_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "category",
            "correlationId",
            "result",
            "activityDisplayName",
            "loggedByService",
            "operationType",
            "initiatedBy/user/id",
            "initiatedBy/user/userPrincipalName",
            "initiatedBy/app/appId",
            "initiatedBy/app/displayName",
            "initiatedBy/app/servicePrincipalId",
        ],
        func_fields: &[
            "activityDisplayName",
            "initiatedBy/user/userPrincipalName",
            "initiatedBy/app/displayName",
        ],
        // The docs give no page size; Graph returns up to 1000 audits per page in practice.
        default_top: 1000,
        max_top: 1000,
        class: Class::Reports,
        permissions: REPORTS_AUDIT,
        newest_first: true,
        case_sensitive: false,
    },
    Endpoint {
        path: "auditLogs/signIns",
        beta_only: false,
        categories: &[
            Category::SignInLogs,
            Category::NonInteractiveUserSignInLogs,
            Category::ServicePrincipalSignInLogs,
            Category::ManagedIdentitySignInLogs,
        ],
        time_field: "createdDateTime",
        time_ops: TIME_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "userId",
            "appId",
            "correlationId",
            "originalRequestId",
            "status/errorCode",
            "clientAppUsed",
            "conditionalAccessStatus",
            "riskState",
            "riskLevelDuringSignIn",
            "riskLevelAggregated",
            "riskDetail",
            "tokenIssuerType",
            "tokenIssuerName",
            "resourceId",
            "resourceDisplayName",
            "userDisplayName",
            "userPrincipalName",
            "appDisplayName",
            "ipAddress",
            "location/city",
            "location/state",
            "location/countryOrRegion",
            "deviceDetail/browser",
            "deviceDetail/operatingSystem",
            "userAgent",
            "servicePrincipalId",
            "servicePrincipalName",
            "alternateSignInName",
            "isInteractive",
        ],
        func_fields: &[
            "userDisplayName",
            "userPrincipalName",
            "appDisplayName",
            "ipAddress",
            "location/city",
            "location/state",
            "location/countryOrRegion",
            "deviceDetail/browser",
            "deviceDetail/operatingSystem",
            "userAgent",
            "servicePrincipalId",
            "servicePrincipalName",
            "alternateSignInName",
        ],
        // Documented: "maximum and default page size is 1,000 objects".
        default_top: 1000,
        max_top: 1000,
        class: Class::Reports,
        permissions: &["AuditLog.Read.All", "Directory.Read.All"],
        newest_first: true,
        case_sensitive: false,
    },
    Endpoint {
        path: "auditLogs/provisioning",
        beta_only: false,
        categories: &[Category::ProvisioningLogs],
        time_field: "activityDateTime",
        // Documented: time filters with gt / lt only (no ge / le); eq and contains on properties.
        time_ops: &[Op::Gt, Op::Lt],
        other_times: &[],
        eq_fields: &[
            "id",
            "jobId",
            "cycleId",
            "changeId",
            "provisioningAction",
            "servicePrincipal/id",
            "servicePrincipal/displayName",
            "sourceIdentity/id",
            "targetIdentity/id",
            "provisioningStatusInfo/status",
        ],
        func_fields: &[
            "sourceIdentity/displayName",
            "targetIdentity/displayName",
            "servicePrincipal/displayName",
        ],
        // Not documented; picked to match the other reports endpoints.
        default_top: 1000,
        max_top: 1000,
        class: Class::Reports,
        permissions: REPORTS_AUDIT,
        newest_first: true,
        case_sensitive: true,
    },
    Endpoint {
        path: "identityProtection/riskyUsers",
        beta_only: false,
        categories: &[Category::RiskyUsers],
        time_field: "riskLastUpdatedDateTime",
        time_ops: TIME_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "riskLevel",
            "riskState",
            "riskDetail",
            "userPrincipalName",
            "userDisplayName",
            "isDeleted",
        ],
        func_fields: &["userPrincipalName", "userDisplayName"],
        // Not documented for riskyUsers; riskDetections documents default 20, max 500, used for all of IP.
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: &["IdentityRiskyUser.Read.All"],
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "identityProtection/riskDetections",
        beta_only: false,
        categories: &[Category::UserRiskEvents],
        time_field: "activityDateTime",
        time_ops: TIME_OPS,
        other_times: &["detectedDateTime", "lastUpdatedDateTime"],
        eq_fields: &[
            "id",
            "requestId",
            "correlationId",
            "userId",
            "userPrincipalName",
            "riskEventType",
            "riskState",
            "riskLevel",
            "riskDetail",
            "detectionTimingType",
            "source",
            "ipAddress",
            "activity",
        ],
        func_fields: &["userPrincipalName", "userDisplayName"],
        // Documented: "default page size is 20 objects while the maximum with $top is 500".
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: RISK_EVENTS,
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "identityProtection/riskyServicePrincipals",
        beta_only: false,
        categories: &[Category::RiskyServicePrincipals],
        time_field: "riskLastUpdatedDateTime",
        time_ops: TIME_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "appId",
            "riskLevel",
            "riskState",
            "riskDetail",
            "displayName",
            "isEnabled",
        ],
        func_fields: &["displayName"],
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: &["IdentityRiskyServicePrincipal.Read.All"],
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "identityProtection/servicePrincipalRiskDetections",
        beta_only: false,
        categories: &[Category::ServicePrincipalRiskEvents],
        time_field: "activityDateTime",
        time_ops: TIME_OPS,
        other_times: &["detectedDateTime", "lastUpdatedDateTime"],
        eq_fields: &[
            "id",
            "requestId",
            "correlationId",
            "appId",
            "servicePrincipalId",
            "riskEventType",
            "riskState",
            "riskLevel",
            "riskDetail",
            "detectionTimingType",
            "source",
            "ipAddress",
        ],
        func_fields: &["servicePrincipalDisplayName"],
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: RISK_EVENTS,
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "identityProtection/riskyAgents",
        beta_only: true,
        categories: &[Category::RiskyAgents],
        time_field: "riskLastModifiedDateTime",
        time_ops: TIME_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "agentDisplayName",
            "riskLevel",
            "riskState",
            "riskDetail",
            "isDeleted",
            "isEnabled",
        ],
        func_fields: &["agentDisplayName"],
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: &["IdentityRiskyAgent.Read.All"],
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "identityProtection/agentRiskDetections",
        beta_only: true,
        categories: &[Category::AgentRiskEvents],
        time_field: "activityDateTime",
        time_ops: TIME_OPS,
        other_times: &["detectedDateTime", "lastModifiedDateTime"],
        eq_fields: &[
            "id",
            "agentId",
            "agentDisplayName",
            "blueprintId",
            "identityType",
            "riskEventType",
            "riskState",
            "riskLevel",
            "riskDetail",
            "detectionTimingType",
            "source",
        ],
        func_fields: &["agentDisplayName"],
        // Documented: page default 20, max 500.
        default_top: 20,
        max_top: 500,
        class: Class::IdentityProtection,
        permissions: RISK_EVENTS,
        newest_first: false,
        case_sensitive: false,
    },
    Endpoint {
        path: "networkAccess/logs/traffic",
        beta_only: true,
        categories: &[Category::NetworkAccessTrafficLogs],
        time_field: "createdDateTime",
        time_ops: ALL_OPS,
        other_times: &[],
        eq_fields: &[
            "transactionId",
            "connectionId",
            "action",
            "userId",
            "userPrincipalName",
            "deviceId",
            "trafficType",
            "destinationFQDN",
            "destinationIp",
            "sourceIp",
            "agentVersion",
            "policyId",
            "tenantId",
        ],
        func_fields: &[],
        // Not documented; picked like the reports endpoints.
        default_top: 1000,
        max_top: 1000,
        class: Class::Reports,
        permissions: NETWORK,
        newest_first: true,
        case_sensitive: false,
    },
    Endpoint {
        path: "networkAccess/logs/remoteNetworks",
        beta_only: true,
        categories: &[Category::RemoteNetworkHealthLogs],
        time_field: "createdDateTime",
        time_ops: ALL_OPS,
        other_times: &[],
        eq_fields: &[
            "id",
            "remoteNetworkId",
            "status",
            "sourceIp",
            "destinationIp",
        ],
        func_fields: &[],
        default_top: 1000,
        max_top: 1000,
        class: Class::Reports,
        permissions: NETWORK,
        newest_first: true,
        case_sensitive: false,
    },
];

/// Index of the endpoint serving a category.
pub(crate) fn endpoint_of(cat: Category) -> Option<usize> {
    ENDPOINTS.iter().position(|e| e.categories.contains(&cat))
}

/// The endpoint at `path` (exact case, as Graph's router is lenient only about the first letter).
pub(crate) fn find(path: &str) -> Option<usize> {
    ENDPOINTS
        .iter()
        .position(|e| e.path.eq_ignore_ascii_case(path))
}

/// Sign-in event type bit of a category (0 for other categories).
pub(crate) fn sign_in_bit(cat: Category) -> u8 {
    match cat {
        Category::SignInLogs => 1,
        Category::NonInteractiveUserSignInLogs => 2,
        Category::ServicePrincipalSignInLogs => 4,
        Category::ManagedIdentitySignInLogs => 8,
        _ => 0,
    }
}

/// Sign-in event type bit of a `signInEventTypes` value.
pub(crate) fn sign_in_type_bit(value: &str) -> Option<u8> {
    match value {
        "interactiveUser" => Some(1),
        "nonInteractiveUser" => Some(2),
        "servicePrincipal" => Some(4),
        "managedIdentity" => Some(8),
        _ => None,
    }
}
