//! Shape and category detection for one record object. A caller's hint (shape, category) overrides it.
//!
//! **Shape**, in this order:
//! 1. ARM Activity Log REST object (`eventTimestamp`/`eventDataId`, no `time`): Graph shape (the pull API's
//!    own object), category `AzureActivity`.
//! 2. Log Analytics: an exact-case `TimeGenerated`, `SourceSystem` or `Type` naming a known table.
//! 3. Diagnostic: a `properties` object or `flowRecords` next to an envelope key (`time`, `category`,
//!    `operationName`, `resourceId`); or `time` with `category`/`operationName` and no `properties`
//!    (Activity Log lines).
//! 4. Office 365 Management API object (`CreationTime` + `Operation` + `RecordType`/`Workload`): Graph shape,
//!    category `EnrichedOffice365AuditLogs` (its schema is that common schema).
//! 5. Log Analytics again when most keys are PascalCase; otherwise Graph.
//!
//! **Category** of a diagnostic record: its `category` via [`Category::from_name`], except that on an Entra
//! envelope (`resourceId` under `microsoft.aadiam`, or a bare GUID) whose `category` is not an Entra category —
//! Panther's `Policy`, `DirectoryManagement`, `ApplicationManagement` copy the directoryAudit's own category —
//! the `properties` object decides ([`graph_category`]: a directoryAudit is `AuditLogs`). Other unknown
//! categories, and records with none, are `ResourceDiagnostics` (the resource-log common schema); flow
//! records without a category are told by `flowRecords` (VNet) or `properties.flows` (NSG).
//!
//! **Category** of a Log Analytics row: its `Type` (the resource-specific `AZKVAuditLogs` is
//! `ResourceDiagnostics`); without one, or when `Type` names no known table (a query
//! export may overwrite it), the Graph rules applied to its columns.
//! **Category** of a Graph object: `@odata.type`, then the field sets in [`graph_category`], then the page's
//! `@odata.context`.

use super::DecodeError;
use super::lenient::{is_nullish, to_bool};
use super::tree::{Entries, Node, get_ci, get_path};
use crate::Category;
use crate::category::ACTIVITY_CATEGORIES;
use crate::record::Shape;

type Obj<'a> = Entries<'a>;

/// The outcome of detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detected {
    /// The wire shape.
    pub shape: Shape,
    /// The category.
    pub category: Category,
}

/// Whether `obj` has a non-null value under `key` (ignoring case).
fn has(obj: &Obj<'_>, key: &str) -> bool {
    get_ci(obj, key).is_some_and(|v| !is_nullish(v))
}

/// The text under `key` (ignoring case), if it is a string.
fn text<'a>(obj: &'a Obj<'_>, key: &str) -> Option<&'a str> {
    get_ci(obj, key).and_then(Node::as_str)
}

/// Detects shape and category, hints first. `context` is the `@odata.context` of the Graph page the object
/// came from, if any.
pub(crate) fn detect(
    obj: &Obj<'_>,
    shape: Option<Shape>,
    category: Option<Category>,
    context: Option<&str>,
) -> Result<Detected, DecodeError> {
    let shape = shape.unwrap_or_else(|| detect_shape(obj));
    let category = match category {
        Some(c) => c,
        None => detect_category(obj, shape, context)?,
    };
    Ok(Detected { shape, category })
}

/// Whether `obj` is an ARM Activity Log REST object: camelCase `eventTimestamp`/`eventDataId` (the Log
/// Analytics row has `EventDataId`), no envelope `time`.
fn is_activity_rest(obj: &Obj<'_>) -> bool {
    obj.iter()
        .any(|(k, v)| (k == "eventTimestamp" || k == "eventDataId") && !is_nullish(v))
        && !has(obj, "time")
}

/// Whether `obj` is an Office 365 Management Activity API record.
fn is_office(obj: &Obj<'_>) -> bool {
    has(obj, "CreationTime")
        && has(obj, "Operation")
        && (has(obj, "RecordType") || has(obj, "Workload"))
}

/// Detects the wire shape of a record object (see the module docs for the order of the rules).
pub(crate) fn detect_shape(obj: &Obj<'_>) -> Shape {
    if is_activity_rest(obj) {
        return Shape::Graph;
    }
    let exact = |key: &str| obj.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    if exact("TimeGenerated").is_some()
        || exact("SourceSystem").is_some()
        || exact("Type")
            .and_then(Node::as_str)
            .is_some_and(|t| Category::from_name(t).is_some())
    {
        return Shape::LogAnalytics;
    }
    let envelope = ["time", "category", "operationName", "resourceId"]
        .iter()
        .any(|k| has(obj, k));
    let props = get_ci(obj, "properties").is_some_and(|p| matches!(p, Node::Obj(_) | Node::Str(_)));
    if envelope && (props || has(obj, "flowRecords")) {
        return Shape::Diagnostic;
    }
    if has(obj, "time") && (has(obj, "category") || has(obj, "operationName")) {
        return Shape::Diagnostic;
    }
    if is_office(obj) {
        return Shape::Graph;
    }
    let keys = obj
        .iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with(|c: char| c.is_ascii_alphabetic()));
    let (upper, total) = keys.fold((0, 0), |(u, t), k| {
        (
            u + usize::from(k.starts_with(|c: char| c.is_ascii_uppercase())),
            t + 1,
        )
    });
    if total > 0 && upper * 3 >= total * 2 {
        return Shape::LogAnalytics;
    }
    Shape::Graph
}

/// Detects the category of a record of a known shape.
pub(crate) fn detect_category(
    obj: &Obj<'_>,
    shape: Shape,
    context: Option<&str>,
) -> Result<Category, DecodeError> {
    match shape {
        Shape::Diagnostic => Ok(diagnostic_category(obj)),
        Shape::LogAnalytics => la_category(obj),
        Shape::Graph => {
            if is_activity_rest(obj) {
                return Ok(Category::AzureActivity);
            }
            if is_office(obj) {
                return Ok(Category::EnrichedOffice365AuditLogs);
            }
            if let Some(c) = odata_category(obj) {
                return c;
            }
            if let Some(c) = graph_category(obj) {
                return Ok(c);
            }
            if let Some(c) = context.and_then(context_category) {
                return Ok(if c == Category::SignInLogs {
                    signin_kind(obj)
                } else {
                    c
                });
            }
            Err(unknown_object(obj))
        }
    }
}

/// Whether an envelope belongs to Entra (`/tenants/{tid}/providers/Microsoft.aadiam`, any case, or the bare
/// GUID some service-principal sign-ins carry).
fn is_entra_envelope(obj: &Obj<'_>) -> bool {
    let Some(rid) = text(obj, "resourceId") else {
        return false;
    };
    let lower = rid.to_ascii_lowercase();
    lower.contains("microsoft.aadiam")
        || (!rid.contains('/') && rid.len() == 36 && rid.matches('-').count() == 4)
}

fn diagnostic_category(obj: &Obj<'_>) -> Category {
    let props = get_ci(obj, "properties").and_then(Node::as_obj);
    let name = text(obj, "category")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let known = name.and_then(Category::from_name);
    let entra_name = known.is_some_and(|c| {
        c.family() != crate::Family::Activity && c != Category::ResourceDiagnostics
    });
    if !entra_name
        && is_entra_envelope(obj)
        && let Some(c) = props.and_then(|p| graph_category(p))
    {
        return c;
    }
    if let Some(c) = known {
        return c;
    }
    if has(obj, "flowRecords") {
        return Category::VnetFlowLogs;
    }
    if props.is_some_and(|p| has(p, "flows")) {
        return Category::NsgFlowLogs;
    }
    Category::ResourceDiagnostics
}

fn la_category(obj: &Obj<'_>) -> Result<Category, DecodeError> {
    let Some(t) = text(obj, "Type").map(str::trim).filter(|t| !t.is_empty()) else {
        return graph_category(obj).ok_or_else(|| unknown_object(obj));
    };
    if t.eq_ignore_ascii_case("AZKVAuditLogs") {
        return Ok(Category::ResourceDiagnostics);
    }
    match Category::from_name(t) {
        Some(c)
            if !ACTIVITY_CATEGORIES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(t)) =>
        {
            Ok(c)
        }
        // Query exports may overwrite `Type` with a projected column (OTRF: `"Type":"Application"` after
        // `"Type":"AuditLogs"`): the columns decide then.
        _ => graph_category(obj).ok_or_else(|| {
            DecodeError::field(
                "Type",
                format!(
                    "Log Analytics table {t:?} is not an entrail category{}",
                    la_table_note(t)
                ),
            )
        }),
    }
}

/// Why a known foreign Log Analytics table is not taken.
fn la_table_note(table: &str) -> &'static str {
    if table.eq_ignore_ascii_case("OfficeActivity") {
        " (the Office 365 connector table, with renamed columns and no CreationTime; entrail's Office \
         category is EnrichedOffice365AuditLogs)"
    } else {
        ""
    }
}

/// The category named by an `@odata.type`, if it has one (`Some(Err)` for known unsupported objects).
fn odata_category(obj: &Obj<'_>) -> Option<Result<Category, DecodeError>> {
    let t = text(obj, "@odata.type")?
        .trim_start_matches('#')
        .to_ascii_lowercase();
    let t = t.strip_prefix("microsoft.graph.").unwrap_or(&t);
    Some(Ok(match t {
        "signin" => signin_kind(obj),
        "directoryaudit" => Category::AuditLogs,
        "provisioningobjectsummary" => Category::ProvisioningLogs,
        "riskyuser" => Category::RiskyUsers,
        "riskyserviceprincipal" => Category::RiskyServicePrincipals,
        "riskdetection" => Category::UserRiskEvents,
        "serviceprincipalriskdetection" => Category::ServicePrincipalRiskEvents,
        "agentriskdetection" => Category::AgentRiskEvents,
        t if t.starts_with("riskyagent") => Category::RiskyAgents,
        "networkaccess.networkaccesstraffic" => Category::NetworkAccessTrafficLogs,
        t if t.starts_with("networkaccess.") && t.ends_with("healthevent") => {
            Category::RemoteNetworkHealthLogs
        }
        t if t.starts_with("networkaccess.") && t.contains("alert") => {
            Category::NetworkAccessAlerts
        }
        t if t.starts_with("networkaccess.") && t.contains("connection") => {
            Category::NetworkAccessConnectionEvents
        }
        t if t.starts_with("security.alert") => return Some(Err(security_alert())),
        _ => return None,
    }))
}

fn security_alert() -> DecodeError {
    DecodeError::new("a Microsoft Graph security alert (alerts_v2) is not an entrail category")
}

/// The category of an `@odata.context` (`…$metadata#auditLogs/signIns`).
fn context_category(context: &str) -> Option<Category> {
    let tail = context.rsplit('#').next()?.to_ascii_lowercase();
    let tail = tail.split(['(', '/']).collect::<Vec<_>>().join("/");
    Some(match tail.as_str() {
        t if t.starts_with("auditlogs/signins") => Category::SignInLogs,
        t if t.starts_with("auditlogs/directoryaudits") => Category::AuditLogs,
        t if t.starts_with("auditlogs/provisioning") => Category::ProvisioningLogs,
        t if t.starts_with("identityprotection/riskyusers") => Category::RiskyUsers,
        t if t.starts_with("identityprotection/riskdetections") => Category::UserRiskEvents,
        t if t.starts_with("identityprotection/riskyserviceprincipals") => {
            Category::RiskyServicePrincipals
        }
        t if t.starts_with("identityprotection/serviceprincipalriskdetections") => {
            Category::ServicePrincipalRiskEvents
        }
        t if t.starts_with("identityprotection/riskyagents") => Category::RiskyAgents,
        t if t.starts_with("identityprotection/agentriskdetections") => Category::AgentRiskEvents,
        t if t.starts_with("networkaccess/logs/traffic") => Category::NetworkAccessTrafficLogs,
        t if t.starts_with("networkaccess/logs/remotenetworks") => {
            Category::RemoteNetworkHealthLogs
        }
        _ => return None,
    })
}

/// The category of a Graph object (or a Log Analytics row, whose columns match these names ignoring case)
/// from its field set. `None` when nothing matches.
pub(crate) fn graph_category(obj: &Obj<'_>) -> Option<Category> {
    if is_office(obj) {
        return Some(Category::EnrichedOffice365AuditLogs);
    }
    if has(obj, "requestUri") && has(obj, "requestMethod") {
        return Some(Category::MicrosoftGraphActivityLogs);
    }
    if has(obj, "transactionId") && (has(obj, "createdDateTime") || has(obj, "trafficType")) {
        return Some(Category::NetworkAccessTrafficLogs);
    }
    if has(obj, "remoteNetworkId") {
        return Some(Category::RemoteNetworkHealthLogs);
    }
    if has(obj, "alertType") && has(obj, "createdDateTime") {
        return Some(Category::NetworkAccessAlerts);
    }
    if has(obj, "connectionId") && has(obj, "createdDateTime") && !has(obj, "userAgent") {
        return Some(Category::NetworkAccessConnectionEvents);
    }
    if has(obj, "timeCreated")
        && (has(obj, "eventId") || has(obj, "providerName") || has(obj, "channel"))
    {
        return Some(Category::PrivateNetworkConnectorLogs);
    }
    if has(obj, "riskEventType") && (has(obj, "detectedDateTime") || has(obj, "activityDateTime")) {
        return Some(if has(obj, "agentId") {
            Category::AgentRiskEvents
        } else if has(obj, "servicePrincipalId")
            && !has(obj, "userId")
            && !has(obj, "userPrincipalName")
        {
            Category::ServicePrincipalRiskEvents
        } else {
            Category::UserRiskEvents
        });
    }
    if has(obj, "riskLastModifiedDateTime") {
        return Some(Category::RiskyAgents);
    }
    if has(obj, "riskLastUpdatedDateTime") {
        return Some(
            if has(obj, "userPrincipalName") || has(obj, "userDisplayName") {
                Category::RiskyUsers
            } else {
                Category::RiskyServicePrincipals
            },
        );
    }
    if has(obj, "jobId")
        || has(obj, "cycleId")
        || has(obj, "provisioningAction")
        || has(obj, "provisioningStatusInfo")
    {
        return Some(Category::ProvisioningLogs);
    }
    if has(obj, "activityDateTime")
        && (has(obj, "activityDisplayName") || has(obj, "loggedByService"))
    {
        return Some(Category::AuditLogs);
    }
    let who = has(obj, "userPrincipalName")
        || has(obj, "userId")
        || has(obj, "appId")
        || has(obj, "servicePrincipalId");
    let what = [
        "status",
        "signInEventTypes",
        "isInteractive",
        "ipAddress",
        "clientAppUsed",
        "resourceDisplayName",
    ];
    if has(obj, "createdDateTime") && who && what.iter().any(|k| has(obj, k)) {
        return Some(signin_kind(obj));
    }
    None
}

/// Which sign-in category a signIn object belongs to: `tokenIssuerType` ADFederationServices → ADFS; else
/// `signInEventTypes`; else a managed identity (`managedIdentity`/`managedIdentityType`/`managedServiceIdentity`
/// not "none"); else `isInteractive`; else a service principal without a user; else interactive.
pub(crate) fn signin_kind(obj: &Obj<'_>) -> Category {
    if text(obj, "tokenIssuerType").is_some_and(|t| t.eq_ignore_ascii_case("ADFederationServices"))
    {
        return Category::AdfsSignInLogs;
    }
    let types: Vec<String> = match get_ci(obj, "signInEventTypes") {
        Some(Node::Arr(a)) => a
            .iter()
            .filter_map(Node::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        Some(Node::Str(s)) => s
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
            .map(str::to_ascii_lowercase)
            .collect(),
        _ => Vec::new(),
    };
    for (name, c) in [
        ("managedidentity", Category::ManagedIdentitySignInLogs),
        ("serviceprincipal", Category::ServicePrincipalSignInLogs),
        ("noninteractiveuser", Category::NonInteractiveUserSignInLogs),
        ("interactiveuser", Category::SignInLogs),
    ] {
        if types.iter().any(|t| t == name) {
            return c;
        }
    }
    let msi = [
        "managedIdentityType",
        "managedIdentity/msiType",
        "managedServiceIdentity/msiType",
    ]
    .iter()
    .any(|p| {
        get_path(obj, p)
            .and_then(Node::as_str)
            .is_some_and(|t| !t.is_empty() && !t.eq_ignore_ascii_case("none"))
    });
    if msi {
        return Category::ManagedIdentitySignInLogs;
    }
    let user = has(obj, "userPrincipalName") || has(obj, "userId");
    match get_ci(obj, "isInteractive").and_then(to_bool) {
        Some(true) => Category::SignInLogs,
        Some(false) if user => Category::NonInteractiveUserSignInLogs,
        _ if !user && has(obj, "servicePrincipalId") => Category::ServicePrincipalSignInLogs,
        _ => Category::SignInLogs,
    }
}

/// The error for an object no rule recognises, saying what was looked at.
fn unknown_object(obj: &Obj<'_>) -> DecodeError {
    if has(obj, "serviceSource") && has(obj, "title") {
        return security_alert();
    }
    let mut keys: Vec<&str> = obj.iter().map(|(k, _)| k.as_ref()).take(12).collect();
    if obj.len() > 12 {
        keys.push("…");
    }
    DecodeError::new(format!(
        "unknown record: no envelope category, Log Analytics Type or @odata.type, and its fields ({}) match no \
         known Graph object (looked for createdDateTime+userPrincipalName/appId, activityDateTime+activityDisplayName, \
         jobId/cycleId, riskEventType+detectedDateTime, riskLastUpdatedDateTime, transactionId, requestUri, \
         CreationTime+Operation)",
        keys.join(", ")
    ))
}
