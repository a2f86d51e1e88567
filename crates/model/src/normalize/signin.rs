//! Sign-ins of every kind (`signIn` objects): SigninLogs, AADNonInteractiveUserSignInLogs,
//! AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs, ADFSSignInLogs (wire-formats.md §3.2, §5.3, §9).
//!
//! One table serves the five schemas; each category keeps the columns its schema has. Where two schemas give
//! one Graph field different column names (`ProcessingTimeInMilliseconds` / `ProcessingTimeInMs`), both are
//! listed. String columns fed an object or array (`AuthenticationDetails`, the NonInteractive `Status`, …)
//! hold its canonical JSON text.

use super::derive::{category_name, resource_group, resource_name, resource_provider};
use super::engine::{Input, Mapping, Src};
use super::tree::Node;
use crate::Category;
use Src::{D, E, G, Lit};
use std::borrow::Cow;

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AADTenantId", &[E("tenantId")]),
    ("AlternateSignInName", &[G("alternateSignInName")]),
    ("AppDisplayName", &[G("appDisplayName")]),
    ("AppId", &[G("appId")]),
    ("AppliedEventListeners", &[G("appliedEventListeners")]),
    (
        "AuthenticationContextClassReferences",
        &[G("authenticationContextClassReferences")],
    ),
    ("AuthenticationDetails", &[G("authenticationDetails")]),
    (
        "AuthenticationMethodsUsed",
        &[G("authenticationMethodsUsed")],
    ),
    (
        "AuthenticationProcessingDetails",
        &[G("authenticationProcessingDetails")],
    ),
    ("AuthenticationProtocol", &[G("authenticationProtocol")]),
    (
        "AuthenticationRequirement",
        &[G("authenticationRequirement")],
    ),
    (
        "AuthenticationRequirementPolicies",
        &[G("authenticationRequirementPolicies")],
    ),
    ("AutonomousSystemNumber", &[G("autonomousSystemNumber")]),
    ("Category", &[E("category"), D(category_name)]),
    ("ClientAppUsed", &[G("clientAppUsed")]),
    (
        "ConditionalAccessPolicies",
        &[G("appliedConditionalAccessPolicies")],
    ),
    ("ConditionalAccessStatus", &[G("conditionalAccessStatus")]),
    ("CorrelationId", &[G("correlationId")]),
    ("CreatedDateTime", &[G("createdDateTime")]),
    ("CrossTenantAccessType", &[G("crossTenantAccessType")]),
    ("DeviceDetail", &[G("deviceDetail")]),
    ("DurationMs", &[E("durationMs")]),
    ("FederatedCredentialId", &[G("federatedCredentialId")]),
    ("FlaggedForReview", &[G("flaggedForReview")]),
    ("HomeTenantId", &[G("homeTenantId")]),
    ("Id", &[G("id")]),
    (
        "Identity",
        &[
            E("identity"),
            G("userDisplayName"),
            G("servicePrincipalName"),
        ],
    ),
    ("IPAddress", &[G("ipAddress")]),
    (
        "IPAddressFromResourceProvider",
        &[G("ipAddressFromResourceProvider")],
    ),
    ("IsInteractive", &[G("isInteractive")]),
    ("IsRisky", &[G("isRisky"), D(risky)]),
    ("Level", &[E("level")]),
    ("Location", &[G("location/countryOrRegion")]),
    ("LocationDetails", &[G("location")]),
    ("MfaDetail", &[G("mfaDetail")]),
    ("NetworkLocationDetails", &[G("networkLocationDetails")]),
    (
        "OperationName",
        &[E("operationName"), Lit("Sign-in activity")],
    ),
    ("OperationVersion", &[E("operationVersion")]),
    ("OriginalRequestId", &[G("originalRequestId")]),
    (
        "ProcessingTimeInMilliseconds",
        &[G("processingTimeInMilliseconds")],
    ),
    ("ProcessingTimeInMs", &[G("processingTimeInMilliseconds")]),
    ("Resource", &[D(resource_name)]),
    ("ResourceDisplayName", &[G("resourceDisplayName")]),
    ("ResourceGroup", &[D(resource_group)]),
    ("ResourceId", &[E("resourceId")]),
    ("ResourceIdentity", &[G("resourceId")]),
    ("ResourceProvider", &[D(resource_provider)]),
    (
        "ResourceServicePrincipalId",
        &[G("resourceServicePrincipalId")],
    ),
    ("ResourceTenantId", &[G("resourceTenantId")]),
    (
        "ResultDescription",
        &[G("status/failureReason"), E("resultDescription")],
    ),
    ("ResultSignature", &[E("resultSignature")]),
    ("ResultType", &[G("status/errorCode"), E("resultType")]),
    ("RiskDetail", &[G("riskDetail")]),
    ("RiskEventTypes", &[G("riskEventTypes")]),
    ("RiskEventTypes_V2", &[G("riskEventTypes_v2")]),
    ("RiskLevel", &[G("riskLevel"), G("riskLevelDuringSignIn")]),
    ("RiskLevelAggregated", &[G("riskLevelAggregated")]),
    ("RiskLevelDuringSignIn", &[G("riskLevelDuringSignIn")]),
    ("RiskState", &[G("riskState")]),
    (
        "ServicePrincipalCredentialKeyId",
        &[G("servicePrincipalCredentialKeyId")],
    ),
    (
        "ServicePrincipalCredentialThumbprint",
        &[G("servicePrincipalCredentialThumbprint")],
    ),
    ("ServicePrincipalId", &[G("servicePrincipalId")]),
    ("ServicePrincipalName", &[G("servicePrincipalName")]),
    ("SessionLifetimePolicies", &[G("sessionLifetimePolicies")]),
    ("SignInEventTypes", &[G("signInEventTypes")]),
    ("SignInIdentifier", &[G("signInIdentifier")]),
    ("SignInIdentifierType", &[G("signInIdentifierType")]),
    ("Status", &[G("status")]),
    ("TenantId", &[E("tenantId")]),
    ("TokenIssuerName", &[G("tokenIssuerName")]),
    ("TokenIssuerType", &[G("tokenIssuerType")]),
    ("UniqueTokenIdentifier", &[G("uniqueTokenIdentifier")]),
    ("UserAgent", &[G("userAgent")]),
    ("UserDisplayName", &[G("userDisplayName")]),
    ("UserId", &[G("userId")]),
    ("UserPrincipalName", &[G("userPrincipalName")]),
    ("UserType", &[G("userType")]),
];

/// The sign-in mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    // `AppliedConditionalAccessPolicies` (string) is a legacy duplicate of the dynamic
    // `ConditionalAccessPolicies`: filled from Log Analytics rows only.
    not_derived: &["AppliedConditionalAccessPolicies"],
    la_aliases: &[("ProcessingTimeInMilliseconds", "ProcessingTimeInMs")],
    la_narrow: &[(Category::AdfsSignInLogs, ADFS_LA)],
    ..Mapping::EMPTY
};

/// The columns of the Log Analytics `ADFSSignInLogs` table (MicrosoftDocs azure-reference-other include file,
/// as listed in `sim`'s `la_schema`): narrower than the canonical (SigninLogs) schema.
const ADFS_LA: &[&str] = &[
    "AlternateSignInName",
    "AppDisplayName",
    "AppId",
    "AuthenticationDetails",
    "AuthenticationProcessingDetails",
    "AuthenticationRequirement",
    "AuthenticationRequirementPolicies",
    "Category",
    "ConditionalAccessPolicies",
    "ConditionalAccessStatus",
    "CorrelationId",
    "CreatedDateTime",
    "DeviceDetail",
    "DurationMs",
    "Id",
    "Identity",
    "IPAddress",
    "IsInteractive",
    "Level",
    "Location",
    "NetworkLocationDetails",
    "OperationName",
    "OperationVersion",
    "OriginalRequestId",
    "ProcessingTimeInMilliseconds",
    "ResourceDisplayName",
    "ResourceGroup",
    "ResourceIdentity",
    "ResourceTenantId",
    "ResultDescription",
    "ResultSignature",
    "ResultType",
    "Status",
    "TenantId",
    "TokenIssuerName",
    "TokenIssuerType",
    "UniqueTokenIdentifier",
    "UserAgent",
    "UserDisplayName",
    "UserId",
    "UserPrincipalName",
];

/// `IsRisky` where Graph has no `isRisky`: a sign-in risk level other than `none` (as Log Analytics fills it).
fn risky<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    let level = i.g("riskLevelDuringSignIn")?.as_str()?;
    Some(Cow::Owned(Node::Bool(!level.eq_ignore_ascii_case("none"))))
}
