//! Entra provisioning (`provisioningObjectSummary` objects) → AADProvisioningLogs (wire-formats.md §3.3, §9).
//!
//! Every nested object lands in a string column as canonical JSON text. Graph's `sourceSystem` object has no
//! column: the schema's `SourceSystem` is Log Analytics' agent-type column. `initiatedBy.initiatingType` and
//! `initiatorType` both stay as given inside `InitiatedBy`.

use super::derive::category_name;
use super::engine::{Mapping, Src};
use Src::{D, E, G};

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AADTenantId", &[E("tenantId"), G("tenantId")]),
    ("Category", &[E("category"), D(category_name)]),
    ("ChangeId", &[G("changeId")]),
    ("CorrelationId", &[E("correlationId")]),
    ("CycleId", &[G("cycleId")]),
    ("DurationMs", &[G("durationInMilliseconds")]),
    ("Id", &[G("id")]),
    ("InitiatedBy", &[G("initiatedBy")]),
    ("JobId", &[G("jobId")]),
    ("ModifiedProperties", &[G("modifiedProperties")]),
    ("OperationName", &[E("operationName")]),
    ("OperationVersion", &[E("operationVersion")]),
    ("ProvisioningAction", &[G("provisioningAction")]),
    ("ProvisioningStatusInfo", &[G("provisioningStatusInfo")]),
    ("ProvisioningSteps", &[G("provisioningSteps")]),
    (
        "ResultDescription",
        &[
            E("resultDescription"),
            G("provisioningStatusInfo/errorInformation/reason"),
        ],
    ),
    ("ResultSignature", &[E("resultSignature")]),
    (
        "ResultType",
        &[E("resultType"), G("provisioningStatusInfo/status")],
    ),
    ("ServicePrincipal", &[G("servicePrincipal")]),
    ("SourceIdentity", &[G("sourceIdentity")]),
    ("TargetIdentity", &[G("targetIdentity")]),
    ("TargetSystem", &[G("targetSystem")]),
    ("TenantId", &[E("tenantId"), G("tenantId")]),
];

/// The provisioning mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &[],
    ..Mapping::EMPTY
};
