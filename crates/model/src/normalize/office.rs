//! Office 365 audit → EnrichedMicrosoft365AuditLogs: the diagnostic category `EnrichedOffice365AuditLogs`
//! (the Office 365 Management Activity common schema in `properties`) and bare Management API records
//! (`CreationTime`, `Operation`, `RecordType`, `Workload`), which carry the same object.
//!
//! `AdditionalProperties` is the object's own (enriched records carry one); for Management API records, which
//! have none, it keeps the common-schema fields without a column (`Actor`, `Target`, `ExtendedProperties`, …).
//! It is hashed like the other event columns. The Log Analytics table lacks `CreationTime`, `AppId` and
//! `IsManagedDevice`, so those are not hashed and a row's event time is its `TimeGenerated`. The Log Analytics `OfficeActivity`
//! table is not this category (see `detect`).

use super::engine::{Input, Mapping, Src};
use super::tree::{Node, Obj};
use crate::Category;
use Src::{D, E, G};
use std::borrow::Cow;

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    (
        "AdditionalProperties",
        &[G("AdditionalProperties"), D(additional_properties)],
    ),
    ("AppId", &[G("AppId"), G("ApplicationId")]),
    (
        "ClientIp",
        &[G("ClientIp"), G("ClientIPAddress"), G("ActorIpAddress")],
    ),
    ("CreationTime", &[G("CreationTime")]),
    ("DeviceId", &[G("DeviceId")]),
    ("DeviceOperatingSystem", &[G("DeviceOperatingSystem")]),
    ("Id", &[G("Id")]),
    ("IsManagedDevice", &[G("IsManagedDevice")]),
    ("ObjectId", &[G("ObjectId")]),
    ("Operation", &[G("Operation")]),
    ("OrganizationId", &[G("OrganizationId")]),
    ("RecordType", &[G("RecordType")]),
    ("ResultStatus", &[G("ResultStatus")]),
    ("SourceIp", &[G("SourceIp"), G("SourceIPAddress")]),
    ("TenantId", &[E("tenantId"), G("OrganizationId")]),
    ("UserId", &[G("UserId")]),
    ("UserKey", &[G("UserKey")]),
    ("UserType", &[G("UserType")]),
    ("Workload", &[G("Workload")]),
];

/// The Office mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    hashed: &["AdditionalProperties"],
    la_narrow: &[(Category::EnrichedOffice365AuditLogs, OFFICE_LA)],
    ..Mapping::EMPTY
};

/// The canonical columns the Log Analytics `EnrichedMicrosoft365AuditLogs` table has (MicrosoftDocs
/// azure-reference-other include file, as listed in `sim`'s `la_schema`; it has no `CreationTime`, `AppId`
/// or `IsManagedDevice`).
const OFFICE_LA: &[&str] = &[
    "AdditionalProperties",
    "ClientIp",
    "DeviceId",
    "DeviceOperatingSystem",
    "Id",
    "ObjectId",
    "Operation",
    "OrganizationId",
    "RecordType",
    "ResultStatus",
    "SourceIp",
    "TenantId",
    "UserId",
    "UserKey",
    "UserType",
    "Workload",
];

/// Every field of the Office object that no other column takes (when it has no `AdditionalProperties` of its
/// own, as Management API records do not).
fn additional_properties<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    let obj = i.graph?;
    let taken = |k: &str| {
        COLUMNS
            .iter()
            .flat_map(|(_, srcs)| srcs.iter())
            .any(|s| match s {
                Src::G(p) => p
                    .split('/')
                    .next()
                    .is_some_and(|first| first.eq_ignore_ascii_case(k)),
                _ => false,
            })
    };
    let rest: Obj<'a> = obj.iter().filter(|(k, _)| !taken(k)).cloned().collect();
    (!rest.is_empty()).then_some(Cow::Owned(Node::Obj(rest)))
}
