//! Any other Azure resource log (Key Vault `AuditEvent`, Storage `StorageRead`, …) → AzureDiagnostics, in the
//! resource-log common schema (`time, resourceId, category, operationName, resultType, …, properties`).
//!
//! There is no Graph object: paths address the whole record. Storage logs' `statusText`/`statusCode` stand in
//! for `resultType`/`resultSignature`. Keys are content hashes (over the event columns, plus the event time).
//!
//! Rows of resource-specific Log Analytics tables (`AZKVAuditLogs`) are rebuilt into the resource-log record
//! first ([`from_resource_table`]).

use super::derive::{resource_group, resource_name, resource_provider, subscription_id};
use super::engine::{Mapping, Src};
use super::lenient::{to_bool, to_i64};
use super::tree::{Entries, Node, Num, Obj, get_ci};
use crate::schema::ColumnType;
use Src::{D, G};
use std::borrow::Cow;

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("CallerIpAddress", &[G("callerIpAddress")]),
    ("Category", &[G("category")]),
    ("CorrelationId", &[G("correlationId")]),
    ("DurationMs", &[G("durationMs")]),
    ("Identity", &[G("identity")]),
    ("Level", &[G("level")]),
    ("Location", &[G("location")]),
    ("OperationName", &[G("operationName")]),
    ("OperationVersion", &[G("operationVersion")]),
    ("Properties", &[G("properties")]),
    ("Resource", &[D(resource_name)]),
    ("ResourceGroup", &[D(resource_group)]),
    ("ResourceId", &[G("resourceId")]),
    ("ResourceProvider", &[D(resource_provider)]),
    ("ResultDescription", &[G("resultDescription")]),
    ("ResultSignature", &[G("resultSignature"), G("statusCode")]),
    ("ResultType", &[G("resultType"), G("statusText")]),
    ("SubscriptionId", &[D(subscription_id)]),
    ("TenantId", &[G("tenantId")]),
];

/// The resource-log mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    // Log Analytics keeps the workspace in `TenantId` and may lower-case the resource id.
    unhashed: &["Level", "TenantId"],
    folded: &["ResourceId"],
    whole_record: true,
    ..Mapping::EMPTY
};

/// Resource-specific Log Analytics tables and the resource-log `category` their rows carry.
const RESOURCE_TABLES: &[(&str, &str)] = &[("AZKVAuditLogs", "AuditEvent")];

/// Log Analytics columns that are resource-log envelope fields (the rest were `properties`).
const ENVELOPE_COLUMNS: &[(&str, &str)] = &[
    ("TimeGenerated", "time"),
    ("_ResourceId", "resourceId"),
    ("ResourceId", "resourceId"),
    ("OperationName", "operationName"),
    ("OperationVersion", "operationVersion"),
    ("ResultType", "resultType"),
    ("ResultSignature", "resultSignature"),
    ("ResultDescription", "resultDescription"),
    ("DurationMs", "durationMs"),
    ("CallerIpAddress", "callerIpAddress"),
    ("CorrelationId", "correlationId"),
    ("Identity", "identity"),
    ("Level", "level"),
    ("Location", "location"),
];

/// Log Analytics bookkeeping columns, dropped.
const LA_META: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "Type",
    "_BilledSize",
    "_IsBillable",
    "_SubscriptionId",
];

/// A row of a resource-specific table (`AZKVAuditLogs`) rebuilt as the resource-log record it came from:
/// envelope columns back to their camelCase fields, every other column into `properties` (`HttpStatusCode`
/// → `httpStatusCode`, the row's own `Properties` → `properties.properties`), `category` from the table.
/// `None` for other tables.
pub(crate) fn from_resource_table<'a>(row: &'a Entries<'a>) -> Option<Obj<'a>> {
    let table = get_ci(row, "Type").and_then(Node::as_str)?;
    let (_, category) = RESOURCE_TABLES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(table))?;
    let mut env: Obj<'a> = vec![(
        Cow::Borrowed("category"),
        Node::Str(Cow::Borrowed(category)),
    )];
    let mut props: Obj<'a> = Vec::new();
    for (k, v) in row {
        if LA_META.iter().any(|m| m.eq_ignore_ascii_case(k)) {
            continue;
        }
        if let Some((_, field)) = ENVELOPE_COLUMNS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(k))
        {
            if !env.iter().any(|(e, _)| e == field) {
                env.push((Cow::Borrowed(field), v.clone()));
            }
            continue;
        }
        props.push((Cow::Owned(lower_camel(k)), retype(k, v)));
    }
    env.push((Cow::Borrowed("properties"), Node::Obj(props)));
    Some(env)
}

/// Non-string columns of the resource-specific tables, whose CSV cells arrive as text.
const TYPED: &[(&str, ColumnType)] = &[
    ("HttpStatusCode", ColumnType::Int),
    ("IsAccessPolicyMatch", ColumnType::Bool),
    ("IsRbacAuthorized", ColumnType::Bool),
];

/// A property value as the diagnostic record has it: text holding a JSON object or array parsed, typed
/// columns given as text read as their type.
fn retype<'a>(column: &str, v: &Node<'a>) -> Node<'a> {
    let Node::Str(text) = v else { return v.clone() };
    let t = text.trim();
    if (t.starts_with('{') || t.starts_with('['))
        && let Ok(parsed) = Node::parse(t)
    {
        return parsed.into_owned();
    }
    match TYPED
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(column))
        .map(|(_, ty)| *ty)
    {
        Some(ColumnType::Int) => to_i64(v).map_or_else(|| v.clone(), |n| Node::Num(Num::I(n))),
        Some(ColumnType::Bool) => to_bool(v).map_or_else(|| v.clone(), Node::Bool),
        _ => v.clone(),
    }
}

/// `HttpStatusCode` → `httpStatusCode`, `IPAddress` → `ipAddress`.
fn lower_camel(name: &str) -> String {
    let run = name.chars().take_while(char::is_ascii_uppercase).count();
    let next_lower = name
        .chars()
        .nth(run)
        .is_some_and(|c| c.is_ascii_lowercase());
    let n = if run > 1 && next_lower { run - 1 } else { run };
    name.char_indices()
        .map(|(i, c)| if i < n { c.to_ascii_lowercase() } else { c })
        .collect()
}
