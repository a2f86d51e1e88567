//! Entra directory audit (`directoryAudit` objects) → AuditLogs (wire-formats.md §3.1, §5.3, §9).
//!
//! `Category` is the audit's own category (`ApplicationManagement`, …), as in Log Analytics, not the
//! diagnostic-settings name. `Identity` is the envelope's, else the initiator's name.

use super::derive::{resource_group, resource_name, resource_provider};
use super::engine::{Input, Mapping, Src};
use super::tree::Node;
use Src::{D, E, G};
use std::borrow::Cow;

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AADOperationType", &[G("operationType")]),
    ("AADTenantId", &[E("tenantId")]),
    ("ActivityDateTime", &[G("activityDateTime")]),
    ("ActivityDisplayName", &[G("activityDisplayName")]),
    ("AdditionalDetails", &[G("additionalDetails")]),
    ("Category", &[G("category")]),
    ("CorrelationId", &[G("correlationId")]),
    ("DurationMs", &[E("durationMs")]),
    ("Id", &[G("id")]),
    ("Identity", &[E("identity"), D(initiator)]),
    ("InitiatedBy", &[G("initiatedBy")]),
    ("Level", &[E("level")]),
    ("Location", &[E("location")]),
    ("LoggedByService", &[G("loggedByService")]),
    (
        "OperationName",
        &[E("operationName"), G("activityDisplayName")],
    ),
    ("OperationVersion", &[E("operationVersion")]),
    ("Resource", &[D(resource_name)]),
    ("ResourceGroup", &[D(resource_group)]),
    ("ResourceId", &[E("resourceId")]),
    ("ResourceProvider", &[D(resource_provider)]),
    ("Result", &[G("result")]),
    ("ResultDescription", &[E("resultDescription")]),
    ("ResultReason", &[G("resultReason")]),
    ("ResultSignature", &[E("resultSignature")]),
    ("ResultType", &[E("resultType")]),
    ("TargetResources", &[G("targetResources")]),
];

/// The audit mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &[],
    ..Mapping::EMPTY
};

/// The initiator's name: the user's UPN or display name, else the app's display name.
fn initiator<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    [
        "initiatedBy/user/userPrincipalName",
        "initiatedBy/user/displayName",
        "initiatedBy/app/displayName",
    ]
    .iter()
    .find_map(|p| i.g(p))
    .map(Cow::Borrowed)
}
