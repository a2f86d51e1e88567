//! Identity Protection: risky users / service principals / agents (state objects) and their risk detections
//! (wire-formats.md §3.4–§3.6, §9).
//!
//! One table serves the six schemas. `AdditionalInfo` arrives as a JSON string in Graph and is stored parsed.
//! Agents use `riskLastModifiedDateTime`/`lastModifiedDateTime`; `AgentType` is the Graph `@odata.type`
//! (`#microsoft.graph.riskyAgentUser`, …) when no `agentType` field exists, and is not hashed because
//! exports may drop `@odata.type`.

use super::engine::{Mapping, Src};
use Src::{E, G};

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AccountEnabled", &[G("accountEnabled")]),
    ("Activity", &[G("activity")]),
    ("ActivityDateTime", &[G("activityDateTime")]),
    ("AdditionalInfo", &[G("additionalInfo")]),
    ("AgentDisplayName", &[G("agentDisplayName")]),
    ("AgentId", &[G("agentId")]),
    ("AgentType", &[G("agentType"), G("@odata.type")]),
    ("AppId", &[G("appId")]),
    ("BlueprintId", &[G("blueprintId")]),
    ("CorrelationId", &[G("correlationId"), E("correlationId")]),
    ("DetectedDateTime", &[G("detectedDateTime")]),
    ("DetectionTimingType", &[G("detectionTimingType")]),
    ("DisplayName", &[G("displayName")]),
    ("Id", &[G("id")]),
    ("IdentityType", &[G("identityType")]),
    ("IpAddress", &[G("ipAddress")]),
    ("IsDeleted", &[G("isDeleted")]),
    ("IsEnabled", &[G("isEnabled")]),
    ("IsProcessing", &[G("isProcessing")]),
    ("KeyIds", &[G("keyIds")]),
    ("LastModifiedDateTime", &[G("lastModifiedDateTime")]),
    ("LastUpdatedDateTime", &[G("lastUpdatedDateTime")]),
    ("Location", &[G("location")]),
    ("OperationName", &[E("operationName")]),
    ("RequestId", &[G("requestId")]),
    ("RiskDetail", &[G("riskDetail")]),
    ("RiskEventType", &[G("riskEventType")]),
    ("RiskEvidence", &[G("riskEvidence")]),
    ("RiskLastModifiedDateTime", &[G("riskLastModifiedDateTime")]),
    ("RiskLastUpdatedDateTime", &[G("riskLastUpdatedDateTime")]),
    ("RiskLevel", &[G("riskLevel")]),
    ("RiskState", &[G("riskState")]),
    (
        "ServicePrincipalDisplayName",
        &[G("servicePrincipalDisplayName")],
    ),
    ("ServicePrincipalId", &[G("servicePrincipalId")]),
    ("ServicePrincipalType", &[G("servicePrincipalType")]),
    ("Source", &[G("source")]),
    ("TenantId", &[E("tenantId"), G("tenantId")]),
    ("TokenIssuerType", &[G("tokenIssuerType")]),
    ("UserDisplayName", &[G("userDisplayName")]),
    ("UserId", &[G("userId")]),
    ("UserPrincipalName", &[G("userPrincipalName")]),
];

/// The risk mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &["AgentType"],
    ..Mapping::EMPTY
};
