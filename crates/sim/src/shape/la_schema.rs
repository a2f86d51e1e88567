//! Log Analytics column lists. The 14 tables of `la_table_schemas.json` (MicrosoftDocs/azure-reference-other
//! @161a4d90, CC-BY-4.0) are copied verbatim, in that file's order; `ADFSSignInLogs`,
//! `EnrichedMicrosoft365AuditLogs` and `RemoteNetworkHealthLogs` come from the same repository's include
//! files; the rest are derived from the Graph fields in PascalCase.

/// A Log Analytics column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// `string`.
    S,
    /// `dynamic` (nested JSON).
    D,
    /// `bool`.
    B,
    /// `datetime`.
    T,
    /// `long`.
    L,
    /// `int`.
    I,
    /// `real`.
    R,
}

use ColType::{B, D, I, L, R, S, T};

/// A table's columns: (name, type).
pub type Columns = &'static [(&'static str, ColType)];

#[rustfmt::skip]
const AADMANAGEDIDENTITYSIGNINLOGS: Columns = &[
    ("AppId", S), ("AuthenticationContextClassReferences", S), ("AuthenticationProcessingDetails", S),
    ("_BilledSize", R), ("Category", S), ("ConditionalAccessPolicies", S), ("ConditionalAccessStatus", S),
    ("CorrelationId", S), ("DurationMs", L), ("FederatedCredentialId", S), ("Id", S), ("Identity", S),
    ("IPAddress", S), ("_IsBillable", S), ("Level", S), ("Location", S), ("LocationDetails", S),
    ("OperationName", S), ("OperationVersion", S), ("ResourceDisplayName", S), ("ResourceGroup", S),
    ("ResourceIdentity", S), ("ResourceServicePrincipalId", S), ("ResultDescription", S), ("ResultSignature", S),
    ("ResultType", S), ("ServicePrincipalCredentialKeyId", S), ("ServicePrincipalCredentialThumbprint", S),
    ("ServicePrincipalId", S), ("ServicePrincipalName", S), ("SourceSystem", S), ("TenantId", S),
    ("TimeGenerated", T), ("Type", S), ("UniqueTokenIdentifier", S),
];

#[rustfmt::skip]
const AADNONINTERACTIVEUSERSIGNINLOGS: Columns = &[
    ("AlternateSignInName", S), ("AppDisplayName", S), ("AppId", S), ("AppliedEventListeners", D),
    ("AuthenticationContextClassReferences", S), ("AuthenticationDetails", S), ("AuthenticationMethodsUsed", S),
    ("AuthenticationProcessingDetails", S), ("AuthenticationProtocol", S), ("AuthenticationRequirement", S),
    ("AuthenticationRequirementPolicies", S), ("AutonomousSystemNumber", S), ("_BilledSize", R), ("Category", S),
    ("ClientAppUsed", S), ("ConditionalAccessPolicies", S), ("ConditionalAccessStatus", S), ("CorrelationId", S),
    ("CreatedDateTime", T), ("CrossTenantAccessType", S), ("DeviceDetail", S), ("DurationMs", L),
    ("HomeTenantId", S), ("Id", S), ("Identity", S), ("IPAddress", S), ("_IsBillable", S), ("IsInteractive", B),
    ("IsRisky", B), ("Level", S), ("Location", S), ("LocationDetails", S), ("MfaDetail", S),
    ("NetworkLocationDetails", S), ("OperationName", S), ("OperationVersion", S), ("OriginalRequestId", S),
    ("ProcessingTimeInMs", S), ("ResourceDisplayName", S), ("ResourceGroup", S), ("ResourceIdentity", S),
    ("ResourceServicePrincipalId", S), ("ResourceTenantId", S), ("ResultDescription", S), ("ResultSignature", S),
    ("ResultType", S), ("RiskDetail", S), ("RiskEventTypes", S), ("RiskEventTypes_V2", S),
    ("RiskLevelAggregated", S), ("RiskLevelDuringSignIn", S), ("RiskState", S), ("ServicePrincipalId", S),
    ("SessionLifetimePolicies", S), ("SignInEventTypes", S), ("SignInIdentifierType", S), ("SourceSystem", S),
    ("Status", S), ("TenantId", S), ("TimeGenerated", T), ("TokenIssuerName", S), ("TokenIssuerType", S),
    ("Type", S), ("UniqueTokenIdentifier", S), ("UserAgent", S), ("UserDisplayName", S), ("UserId", S),
    ("UserPrincipalName", S), ("UserType", S),
];

#[rustfmt::skip]
const AADPROVISIONINGLOGS: Columns = &[
    ("AADTenantId", S), ("_BilledSize", R), ("Category", S), ("ChangeId", S), ("CorrelationId", S), ("CycleId", S),
    ("DurationMs", L), ("Id", S), ("InitiatedBy", S), ("_IsBillable", S), ("JobId", S), ("ModifiedProperties", S),
    ("OperationName", S), ("OperationVersion", S), ("ProvisioningAction", S), ("ProvisioningStatusInfo", S),
    ("ProvisioningSteps", S), ("ResultDescription", S), ("ResultSignature", S), ("ResultType", S),
    ("ServicePrincipal", S), ("SourceIdentity", S), ("SourceSystem", S), ("TargetIdentity", S), ("TargetSystem", S),
    ("TenantId", S), ("TimeGenerated", T), ("Type", S),
];

#[rustfmt::skip]
const AADRISKYSERVICEPRINCIPALS: Columns = &[
    ("AccountEnabled", B), ("AppId", S), ("_BilledSize", R), ("CorrelationId", S), ("DisplayName", S), ("Id", S),
    ("_IsBillable", S), ("IsProcessing", B), ("OperationName", S), ("RiskDetail", S),
    ("RiskLastUpdatedDateTime", T), ("RiskLevel", S), ("RiskState", S), ("ServicePrincipalType", S),
    ("SourceSystem", S), ("TenantId", S), ("TimeGenerated", T), ("Type", S),
];

#[rustfmt::skip]
const AADRISKYUSERS: Columns = &[
    ("_BilledSize", R), ("CorrelationId", S), ("Id", S), ("_IsBillable", S), ("IsDeleted", B), ("IsProcessing", B),
    ("OperationName", S), ("RiskDetail", S), ("RiskLastUpdatedDateTime", T), ("RiskLevel", S), ("RiskState", S),
    ("SourceSystem", S), ("TenantId", S), ("TimeGenerated", T), ("Type", S), ("UserDisplayName", S),
    ("UserPrincipalName", S),
];

#[rustfmt::skip]
const AADSERVICEPRINCIPALRISKEVENTS: Columns = &[
    ("Activity", S), ("ActivityDateTime", T), ("AdditionalInfo", D), ("AppId", S), ("_BilledSize", R),
    ("CorrelationId", S), ("DetectedDateTime", T), ("DetectionTimingType", S), ("Id", S), ("IpAddress", S),
    ("_IsBillable", S), ("KeyIds", D), ("LastUpdatedDateTime", T), ("Location", D), ("OperationName", S),
    ("RequestId", S), ("RiskDetail", S), ("RiskEventType", S), ("RiskLevel", S), ("RiskState", S),
    ("ServicePrincipalDisplayName", S), ("ServicePrincipalId", S), ("Source", S), ("SourceSystem", S),
    ("TenantId", S), ("TimeGenerated", T), ("TokenIssuerType", S), ("Type", S),
];

#[rustfmt::skip]
const AADSERVICEPRINCIPALSIGNINLOGS: Columns = &[
    ("AppId", S), ("AuthenticationContextClassReferences", S), ("AuthenticationProcessingDetails", S),
    ("_BilledSize", R), ("Category", S), ("ConditionalAccessPolicies", S), ("ConditionalAccessStatus", S),
    ("CorrelationId", S), ("DurationMs", L), ("FederatedCredentialId", S), ("Id", S), ("Identity", S),
    ("IPAddress", S), ("_IsBillable", S), ("Level", S), ("Location", S), ("LocationDetails", S),
    ("OperationName", S), ("OperationVersion", S), ("ResourceDisplayName", S), ("ResourceGroup", S),
    ("ResourceIdentity", S), ("ResourceServicePrincipalId", S), ("ResultDescription", S), ("ResultSignature", S),
    ("ResultType", S), ("ServicePrincipalCredentialKeyId", S), ("ServicePrincipalCredentialThumbprint", S),
    ("ServicePrincipalId", S), ("ServicePrincipalName", S), ("SourceSystem", S), ("TenantId", S),
    ("TimeGenerated", T), ("Type", S), ("UniqueTokenIdentifier", S),
];

#[rustfmt::skip]
const AADUSERRISKEVENTS: Columns = &[
    ("Activity", S), ("ActivityDateTime", T), ("AdditionalInfo", D), ("_BilledSize", R), ("CorrelationId", S),
    ("DetectedDateTime", T), ("DetectionTimingType", S), ("Id", S), ("IpAddress", S), ("_IsBillable", S),
    ("LastUpdatedDateTime", T), ("Location", D), ("OperationName", S), ("RequestId", S), ("RiskDetail", S),
    ("RiskEventType", S), ("RiskLevel", S), ("RiskState", S), ("Source", S), ("SourceSystem", S), ("TenantId", S),
    ("TimeGenerated", T), ("TokenIssuerType", S), ("Type", S), ("UserDisplayName", S), ("UserId", S),
    ("UserPrincipalName", S),
];

#[rustfmt::skip]
const AUDITLOGS: Columns = &[
    ("AADOperationType", S), ("AADTenantId", S), ("ActivityDateTime", T), ("ActivityDisplayName", S),
    ("AdditionalDetails", D), ("_BilledSize", R), ("Category", S), ("CorrelationId", S), ("DurationMs", L),
    ("Id", S), ("Identity", S), ("InitiatedBy", D), ("_IsBillable", S), ("Level", S), ("Location", S),
    ("LoggedByService", S), ("OperationName", S), ("OperationVersion", S), ("Resource", S), ("ResourceGroup", S),
    ("ResourceId", S), ("ResourceProvider", S), ("Result", S), ("ResultDescription", S), ("ResultReason", S),
    ("ResultSignature", S), ("ResultType", S), ("SourceSystem", S), ("TargetResources", D), ("TimeGenerated", T),
    ("Type", S),
];

#[rustfmt::skip]
const AZUREACTIVITY: Columns = &[
    ("ActivityStatus", S), ("ActivityStatusValue", S), ("ActivitySubstatus", S), ("ActivitySubstatusValue", S),
    ("Authorization", S), ("Authorization_d", D), ("_BilledSize", R), ("Caller", S), ("CallerIpAddress", S),
    ("Category", S), ("CategoryValue", S), ("Claims", S), ("Claims_d", D), ("CorrelationId", S), ("EventDataId", S),
    ("EventSubmissionTimestamp", T), ("Hierarchy", S), ("HTTPRequest", S), ("_IsBillable", S), ("Level", S),
    ("OperationId", S), ("OperationName", S), ("OperationNameValue", S), ("Properties", S), ("Properties_d", D),
    ("Resource", S), ("ResourceGroup", S), ("ResourceId", S), ("_ResourceId", S), ("ResourceProvider", S),
    ("ResourceProviderValue", S), ("SourceSystem", S), ("SubscriptionId", S), ("_SubscriptionId", S),
    ("TenantId", S), ("TimeGenerated", T), ("Type", S),
];

#[rustfmt::skip]
const MICROSOFTGRAPHACTIVITYLOGS: Columns = &[
    ("AadTenantId", S), ("ApiVersion", S), ("AppId", S), ("ATContent", S), ("ATContentH", S), ("ATContentP", S),
    ("_BilledSize", R), ("ClientAuthMethod", I), ("ClientRequestId", S), ("DurationMs", I), ("IdentityProvider", S),
    ("IPAddress", S), ("_IsBillable", S), ("Location", S), ("OperationId", S), ("RequestId", S),
    ("RequestMethod", S), ("RequestUri", S), ("ResponseSizeBytes", I), ("ResponseStatusCode", I), ("Roles", S),
    ("Scopes", S), ("ServicePrincipalId", S), ("SignInActivityId", S), ("SourceSystem", S), ("TenantId", S),
    ("TimeGenerated", T), ("TokenIssuedAt", T), ("Type", S), ("UserAgent", S), ("UserId", S), ("Wids", S),
];

#[rustfmt::skip]
const NETWORKACCESSTRAFFIC: Columns = &[
    ("AccessType", S), ("Action", S), ("AgentVersion", S), ("AppId", S), ("_BilledSize", R), ("ConnectionId", S),
    ("ConnectionStatus", S), ("ConnectorId", S), ("ConnectorIp", S), ("ConnectorName", S), ("Description", S),
    ("DestinationFqdn", S), ("DestinationIp", S), ("DestinationPort", I), ("DestinationUrl", S),
    ("DestinationWebCategories", S), ("DeviceCategory", S), ("DeviceId", S), ("DeviceOperatingSystem", S),
    ("DeviceOperatingSystemVersion", S), ("FilteringProfileId", S), ("FilteringProfileName", S),
    ("InitiatingProcessName", S), ("_IsBillable", S), ("NetworkProtocol", S), ("OriginHeader", S), ("PolicyId", S),
    ("PolicyName", S), ("PolicyRuleId", S), ("ProcessingRegion", S), ("ReceivedBytes", L), ("ReferrerHeader", S),
    ("ResourceTenantId", S), ("RuleName", S), ("SentBytes", L), ("SessionId", S), ("SourceIp", S),
    ("SourcePort", I), ("SourceSystem", S), ("TenantId", S), ("ThreatType", S), ("TimeGenerated", T),
    ("TrafficType", S), ("TransactionId", S), ("TransportProtocol", S), ("Type", S), ("UserId", S),
    ("UserPrincipalName", S), ("XForwardedFor", S),
];

#[rustfmt::skip]
const SIGNINLOGS: Columns = &[
    ("AADTenantId", S), ("AlternateSignInName", S), ("AppDisplayName", S), ("AppId", S),
    ("AppliedConditionalAccessPolicies", S), ("AppliedEventListeners", D),
    ("AuthenticationContextClassReferences", S), ("AuthenticationDetails", S), ("AuthenticationMethodsUsed", S),
    ("AuthenticationProcessingDetails", S), ("AuthenticationProtocol", S), ("AuthenticationRequirement", S),
    ("AuthenticationRequirementPolicies", S), ("AutonomousSystemNumber", S), ("_BilledSize", R), ("Category", S),
    ("ClientAppUsed", S), ("ConditionalAccessPolicies", D), ("ConditionalAccessStatus", S), ("CorrelationId", S),
    ("CreatedDateTime", T), ("CrossTenantAccessType", S), ("DeviceDetail", D), ("DurationMs", L),
    ("FlaggedForReview", B), ("HomeTenantId", S), ("Id", S), ("Identity", S), ("IPAddress", S),
    ("IPAddressFromResourceProvider", S), ("_IsBillable", S), ("IsInteractive", B), ("IsRisky", B), ("Level", S),
    ("Location", S), ("LocationDetails", D), ("MfaDetail", D), ("NetworkLocationDetails", S), ("OperationName", S),
    ("OperationVersion", S), ("OriginalRequestId", S), ("ProcessingTimeInMilliseconds", S), ("Resource", S),
    ("ResourceDisplayName", S), ("ResourceGroup", S), ("ResourceId", S), ("ResourceIdentity", S),
    ("ResourceProvider", S), ("ResourceServicePrincipalId", S), ("ResourceTenantId", S), ("ResultDescription", S),
    ("ResultSignature", S), ("ResultType", S), ("RiskDetail", S), ("RiskEventTypes", S), ("RiskEventTypes_V2", S),
    ("RiskLevel", S), ("RiskLevelAggregated", S), ("RiskLevelDuringSignIn", S), ("RiskState", S),
    ("ServicePrincipalId", S), ("ServicePrincipalName", S), ("SessionLifetimePolicies", S), ("SignInIdentifier", S),
    ("SignInIdentifierType", S), ("SourceSystem", S), ("Status", D), ("TimeGenerated", T), ("TokenIssuerName", S),
    ("TokenIssuerType", S), ("Type", S), ("UniqueTokenIdentifier", S), ("UserAgent", S), ("UserDisplayName", S),
    ("UserId", S), ("UserPrincipalName", S), ("UserType", S),
];

#[rustfmt::skip]
const ADFSSIGNINLOGS: Columns = &[
    ("AlternateSignInName", S), ("AppDisplayName", S), ("AppId", S), ("AuthenticationDetails", S),
    ("AuthenticationProcessingDetails", S), ("AuthenticationRequirement", S),
    ("AuthenticationRequirementPolicies", S), ("_BilledSize", R), ("Category", S), ("ConditionalAccessPolicies", S),
    ("ConditionalAccessStatus", S), ("CorrelationId", S), ("CreatedDateTime", T), ("DeviceDetail", S),
    ("DurationMs", L), ("Id", S), ("Identity", S), ("IPAddress", S), ("_IsBillable", S), ("IsInteractive", B),
    ("Level", S), ("Location", S), ("NetworkLocationDetails", S), ("OperationName", S), ("OperationVersion", S),
    ("OriginalRequestId", S), ("ProcessingTimeInMs", S), ("Requirement", S), ("ResourceDisplayName", S),
    ("ResourceGroup", S), ("ResourceIdentity", S), ("ResourceTenantId", S), ("ResultDescription", S),
    ("ResultSignature", S), ("ResultType", S), ("SourceSystem", S), ("Status", S), ("TenantId", S),
    ("TimeGenerated", T), ("TokenIssuerName", S), ("TokenIssuerType", S), ("Type", S), ("UniqueTokenIdentifier", S),
    ("UserAgent", S), ("UserDisplayName", S), ("UserId", S), ("UserPrincipalName", S),
];

#[rustfmt::skip]
const ENRICHEDMICROSOFT365AUDITLOGS: Columns = &[
    ("ActorUserType", S), ("AdditionalProperties", D), ("_BilledSize", R), ("ClientIp", S), ("DeviceId", S),
    ("DeviceOperatingSystem", S), ("DeviceOperatingSystemVersion", S), ("Id", S), ("_IsBillable", S),
    ("ObjectId", S), ("Operation", S), ("OrganizationId", S), ("RecordType", I), ("ResultStatus", S),
    ("SourceIp", S), ("SourceSystem", S), ("TenantId", S), ("TimeGenerated", T), ("Type", S), ("UniqueTokenId", S),
    ("UserId", S), ("UserKey", S), ("UserType", S), ("Workload", S),
];

#[rustfmt::skip]
const REMOTENETWORKHEALTHLOGS: Columns = &[
    ("BgpRoutesAdvertisedCount", I), ("_BilledSize", R), ("CreatedDateTime", T), ("Description", S),
    ("DestinationIp", S), ("Id", S), ("_IsBillable", S), ("ReceivedBytes", L), ("RemoteNetworkId", S),
    ("SentBytes", L), ("SourceIp", S), ("SourceSystem", S), ("Status", S), ("TenantId", S), ("TimeGenerated", T),
    ("Type", S),
];

#[rustfmt::skip]
const AADRISKYAGENTS: Columns = &[
    ("_BilledSize", R), ("AgentDisplayName", S), ("AgentType", S), ("CorrelationId", S), ("Id", S),
    ("_IsBillable", S), ("IsDeleted", B), ("IsEnabled", B), ("IsProcessing", B), ("OperationName", S),
    ("RiskDetail", S), ("RiskLastModifiedDateTime", T), ("RiskLevel", S), ("RiskState", S), ("SourceSystem", S),
    ("TenantId", S), ("TimeGenerated", T), ("Type", S),
];

#[rustfmt::skip]
const AADAGENTRISKEVENTS: Columns = &[
    ("ActivityDateTime", T), ("AdditionalInfo", D), ("AgentDisplayName", S), ("AgentId", S), ("_BilledSize", R),
    ("BlueprintId", S), ("CorrelationId", S), ("DetectedDateTime", T), ("DetectionTimingType", S), ("Id", S),
    ("IdentityType", S), ("_IsBillable", S), ("LastModifiedDateTime", T), ("OperationName", S), ("RiskDetail", S),
    ("RiskEventType", S), ("RiskLevel", S), ("RiskState", S), ("Source", S), ("SourceSystem", S), ("TenantId", S),
    ("TimeGenerated", T), ("Type", S),
];

#[rustfmt::skip]
const NETWORKACCESSALERTS: Columns = &[
    ("Actions", D), ("AlertType", S), ("_BilledSize", R), ("Categories", D), ("CreatedDateTime", T),
    ("Description", S), ("DetectionTechnology", S), ("DisplayName", S), ("FirstActivityDateTime", T), ("Id", S),
    ("_IsBillable", S), ("LastActivityDateTime", T), ("OperationName", S), ("ProductName", S),
    ("RelatedResources", D), ("Severity", S), ("SourceSystem", S), ("Techniques", D), ("TenantId", S),
    ("TimeGenerated", T), ("Type", S), ("VendorName", S),
];

#[rustfmt::skip]
const NETWORKACCESSCONNECTIONEVENTS: Columns = &[
    ("AgentVersion", S), ("_BilledSize", R), ("ConnectionId", S), ("CreatedDateTime", T), ("DestinationFqdn", S),
    ("DestinationIp", S), ("DestinationPort", I), ("DeviceCategory", S), ("DeviceId", S),
    ("DeviceOperatingSystem", S), ("DeviceOperatingSystemVersion", S), ("EndDateTime", T), ("Id", S),
    ("InitiatingProcessName", S), ("_IsBillable", S), ("LastUpdateDateTime", T), ("NetworkProtocol", S),
    ("OperationName", S), ("PopProcessingRegion", S), ("ReceivedBytes", L), ("SentBytes", L), ("SourceIp", S),
    ("SourcePort", I), ("SourceSystem", S), ("Status", S), ("TenantId", S), ("TimeGenerated", T),
    ("TrafficType", S), ("TransactionBlockCount", I), ("TransportProtocol", S), ("Type", S), ("UserId", S),
    ("UserPrincipalName", S),
];

#[rustfmt::skip]
const AZKVAUDITLOGS: Columns = &[
    ("_BilledSize", R), ("CallerIpAddress", S), ("ClientInfo", S), ("CorrelationId", S), ("DurationMs", L),
    ("HttpStatusCode", I), ("Id", S), ("Identity", D), ("_IsBillable", S), ("IsAccessPolicyMatch", B),
    ("IsRbacAuthorized", B), ("Location", S), ("OperationName", S), ("OperationVersion", S), ("Properties", D),
    ("RequestUri", S), ("ResultDescription", S), ("ResultSignature", S), ("ResultType", S), ("SourceSystem", S),
    ("TenantId", S), ("TimeGenerated", T), ("TlsVersion", S), ("Type", S), ("_ResourceId", S),
];

#[rustfmt::skip]
const NETWORKSECURITYGROUPFLOWEVENT: Columns = &[
    ("_BilledSize", R), ("Category", S), ("Flows", D), ("_IsBillable", S), ("MacAddress", S), ("OperationName", S),
    ("ResourceId", S), ("SourceSystem", S), ("SystemId", S), ("TenantId", S), ("TimeGenerated", T), ("Type", S),
    ("Version", I),
];

#[rustfmt::skip]
const FLOWLOGFLOWEVENT: Columns = &[
    ("_BilledSize", R), ("Category", S), ("FlowLogGUID", S), ("FlowLogResourceID", S), ("FlowLogVersion", I),
    ("FlowRecords", D), ("_IsBillable", S), ("MacAddress", S), ("OperationName", S), ("SourceSystem", S),
    ("TargetResourceID", S), ("TenantId", S), ("TimeGenerated", T), ("Type", S),
];

/// The columns of a Log Analytics table as rendered by [`crate::shape`], `None` for an unknown table.
pub fn la_columns(table: &str) -> Option<Columns> {
    Some(match table {
        "AADManagedIdentitySignInLogs" => AADMANAGEDIDENTITYSIGNINLOGS,
        "AADNonInteractiveUserSignInLogs" => AADNONINTERACTIVEUSERSIGNINLOGS,
        "AADProvisioningLogs" => AADPROVISIONINGLOGS,
        "AADRiskyServicePrincipals" => AADRISKYSERVICEPRINCIPALS,
        "AADRiskyUsers" => AADRISKYUSERS,
        "AADServicePrincipalRiskEvents" => AADSERVICEPRINCIPALRISKEVENTS,
        "AADServicePrincipalSignInLogs" => AADSERVICEPRINCIPALSIGNINLOGS,
        "AADUserRiskEvents" => AADUSERRISKEVENTS,
        "AuditLogs" => AUDITLOGS,
        "AzureActivity" => AZUREACTIVITY,
        "MicrosoftGraphActivityLogs" => MICROSOFTGRAPHACTIVITYLOGS,
        "NetworkAccessTraffic" => NETWORKACCESSTRAFFIC,
        "SigninLogs" => SIGNINLOGS,
        "ADFSSignInLogs" => ADFSSIGNINLOGS,
        "EnrichedMicrosoft365AuditLogs" => ENRICHEDMICROSOFT365AUDITLOGS,
        "RemoteNetworkHealthLogs" => REMOTENETWORKHEALTHLOGS,
        "AADRiskyAgents" => AADRISKYAGENTS,
        "AADAgentRiskEvents" => AADAGENTRISKEVENTS,
        "NetworkAccessAlerts" => NETWORKACCESSALERTS,
        "NetworkAccessConnectionEvents" => NETWORKACCESSCONNECTIONEVENTS,
        "AZKVAuditLogs" => AZKVAUDITLOGS,
        "NetworkSecurityGroupFlowEvent" => NETWORKSECURITYGROUPFLOWEVENT,
        "FlowLogFlowEvent" => FLOWLOGFLOWEVENT,
        _ => return None,
    })
}

/// Whether the table's columns come verbatim from `la_table_schemas.json`.
pub fn is_documented(table: &str) -> bool {
    matches!(
        table,
        "AADManagedIdentitySignInLogs"
            | "AADNonInteractiveUserSignInLogs"
            | "AADProvisioningLogs"
            | "AADRiskyServicePrincipals"
            | "AADRiskyUsers"
            | "AADServicePrincipalRiskEvents"
            | "AADServicePrincipalSignInLogs"
            | "AADUserRiskEvents"
            | "AuditLogs"
            | "AzureActivity"
            | "MicrosoftGraphActivityLogs"
            | "NetworkAccessTraffic"
            | "SigninLogs"
    )
}
