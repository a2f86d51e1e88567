//! Azure Activity Log → AzureActivity, from the three forms of wire-formats.md §6: the Event Hubs/Storage
//! line (resource-log schema: `operationName`, `category`, `resultType` as strings, `identity.{authorization,
//! claims}`), the ARM REST object (`operationName.value`, `status.value`, `eventTimestamp`, `eventDataId`, …)
//! and the Log Analytics row. Paths address the whole record; each column lists the REST path first, then the
//! envelope one (a string where REST has an object).
//!
//! There is no id (`EventDataId` exists only in REST and Log Analytics), so the key is a content hash over
//! what every form carries — event time, correlation id, operation, resource, status, caller IP — with
//! operation, resource and status compared ignoring case (Log Analytics upper-cases them at will). The legacy
//! string twins `Authorization`, `Claims`, `Properties` of the `_d` columns, `Hierarchy` and the LA-internal
//! `_ResourceId`/`_SubscriptionId` come from Log Analytics rows only.

use super::derive::{resource_group, resource_name, resource_provider, subscription_id};
use super::engine::{Input, Mapping, Src};
use super::lenient::is_nullish;
use super::tree::{Node, get_ci};
use Src::{D, G};
use std::borrow::Cow;

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    (
        "ActivityStatus",
        &[
            G("status/localizedValue"),
            G("status/value"),
            G("resultType"),
            G("status"),
        ],
    ),
    (
        "ActivityStatusValue",
        &[G("status/value"), G("resultType"), G("status")],
    ),
    (
        "ActivitySubstatus",
        &[
            G("subStatus/localizedValue"),
            G("subStatus/value"),
            G("resultSignature"),
        ],
    ),
    (
        "ActivitySubstatusValue",
        &[G("subStatus/value"), G("resultSignature")],
    ),
    (
        "Authorization_d",
        &[G("authorization"), G("identity/authorization")],
    ),
    ("Caller", &[G("caller"), D(claims_caller)]),
    (
        "CallerIpAddress",
        &[G("callerIpAddress"), G("httpRequest/clientIpAddress")],
    ),
    (
        "Category",
        &[
            G("category/localizedValue"),
            G("category/value"),
            G("category"),
        ],
    ),
    ("CategoryValue", &[G("category/value"), G("category")]),
    ("Claims_d", &[G("claims"), G("identity/claims")]),
    ("CorrelationId", &[G("correlationId")]),
    ("EventDataId", &[G("eventDataId")]),
    ("EventSubmissionTimestamp", &[G("submissionTimestamp")]),
    ("HTTPRequest", &[G("httpRequest")]),
    ("Level", &[G("level")]),
    (
        "OperationId",
        &[G("operationId"), G("properties/operationId")],
    ),
    (
        "OperationName",
        &[
            G("operationName/localizedValue"),
            G("operationName/value"),
            G("operationName"),
        ],
    ),
    (
        "OperationNameValue",
        &[G("operationName/value"), G("operationName")],
    ),
    ("Properties_d", &[G("properties")]),
    ("Resource", &[D(resource_name)]),
    (
        "ResourceGroup",
        &[G("resourceGroupName"), D(resource_group)],
    ),
    ("ResourceId", &[G("resourceId")]),
    (
        "ResourceProvider",
        &[
            G("resourceProviderName/localizedValue"),
            G("resourceProviderName/value"),
            D(resource_provider),
        ],
    ),
    (
        "ResourceProviderValue",
        &[G("resourceProviderName/value"), D(resource_provider)],
    ),
    ("SubscriptionId", &[G("subscriptionId"), D(subscription_id)]),
    ("TenantId", &[G("tenantId")]),
];

/// The Activity Log mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &[
        "ActivityStatus",
        "ActivitySubstatus",
        "ActivitySubstatusValue",
        "Authorization_d",
        "Category",
        "Claims_d",
        "EventDataId",
        "EventSubmissionTimestamp",
        "HTTPRequest",
        "Level",
        "OperationId",
        "OperationName",
        "Properties_d",
        "ResourceGroup",
        "SubscriptionId",
        "TenantId",
    ],
    folded: &[
        "ActivityStatusValue",
        "CategoryValue",
        "OperationNameValue",
        "ResourceId",
    ],
    not_derived: &[
        "Authorization",
        "Claims",
        "Hierarchy",
        "Properties",
        "_ResourceId",
        "_SubscriptionId",
    ],
    whole_record: true,
    time_fields: &["eventTimestamp"],
    ..Mapping::EMPTY
};

/// The caller from the envelope's claims: UPN, then name, then app id.
fn claims_caller<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    let claims = i.g("identity/claims").or_else(|| i.g("claims"))?.as_obj()?;
    [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "name",
        "appid",
    ]
    .iter()
    .find_map(|k| get_ci(claims, k).filter(|v| !is_nullish(v)))
    .map(Cow::Borrowed)
}
