//! The CEF / LEEF field mapping per category, as data: which canonical column (or path inside a dynamic
//! column) fills which CEF and LEEF key, what the signature id, name and severity come from.
//! `crates/sinks/docs/syslog-mapping.md` documents the same table; keep both in step.

use model::{Category, Family, FieldLookup, Record};

/// One extension attribute: CEF key, LEEF key, optional CEF `csN` label, and the columns (or
/// `Column.path` lookups) tried in order; the first non-empty one wins.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) cef: &'static str,
    pub(crate) leef: &'static str,
    pub(crate) label: Option<&'static str>,
    pub(crate) columns: &'static [&'static str],
}

/// How the 0-10 severity is derived.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Severity {
    /// Sign-ins: 3 on `ResultType` 0, 5 on failure, 8 when `RiskLevelDuringSignIn` is high.
    SignIn,
    /// Audit: 3, or 5 when `Result` is not success.
    Audit,
    /// Activity `Level`: Critical 9, Error 7, Warning 5, else 3.
    Level,
    /// Identity Protection `RiskLevel`: high 8, medium 6, low 4, else 3.
    Risk,
    /// Always 3.
    Fixed,
}

/// The mapping of one group of categories.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// Signature id / LEEF event id: `<table>` or `<table>:<first non-empty of these>`.
    pub(crate) signature: &'static [&'static str],
    /// CEF name: first non-empty of these, else the table name.
    pub(crate) name: &'static [&'static str],
    pub(crate) severity: Severity,
    pub(crate) fields: &'static [Field],
    /// Whether the whole canonical record also goes into `msg` (the generic fallback).
    pub(crate) full_record: bool,
}

macro_rules! f {
    ($cef:literal, $leef:literal, [$($c:literal),+]) => {
        Field { cef: $cef, leef: $leef, label: None, columns: &[$($c),+] }
    };
    ($cef:literal / $label:literal, $leef:literal, [$($c:literal),+]) => {
        Field { cef: $cef, leef: $leef, label: Some($label), columns: &[$($c),+] }
    };
}

/// Every sign-in kind (interactive, non-interactive, service principal, managed identity, AD FS).
pub(crate) const SIGN_IN: Mapping = Mapping {
    signature: &["ResultType"],
    name: &["ResultDescription", "OperationName"],
    severity: Severity::SignIn,
    full_record: false,
    fields: &[
        f!("externalId", "externalId", ["Id"]),
        f!(
            "suser",
            "usrName",
            ["UserPrincipalName", "ServicePrincipalName", "Identity"]
        ),
        f!("suid", "userId", ["UserId", "ServicePrincipalId"]),
        f!("src", "src", ["IPAddress"]),
        f!("requestClientApplication", "userAgent", ["UserAgent"]),
        f!(
            "destinationServiceName",
            "resource",
            ["ResourceDisplayName"]
        ),
        f!("outcome", "resultType", ["ResultType"]),
        f!("reason", "reason", ["ResultDescription"]),
        f!(
            "cs1" / "AppDisplayName",
            "appName",
            ["AppDisplayName", "ServicePrincipalName"]
        ),
        f!(
            "cs2" / "ConditionalAccessStatus",
            "conditionalAccessStatus",
            ["ConditionalAccessStatus"]
        ),
        f!(
            "cs3" / "RiskLevelDuringSignIn",
            "riskLevel",
            ["RiskLevelDuringSignIn"]
        ),
        f!("cs4" / "CorrelationId", "correlationId", ["CorrelationId"]),
        f!("cs5" / "Location", "location", ["Location"]),
        f!("cs6" / "ClientAppUsed", "clientApp", ["ClientAppUsed"]),
    ],
};

/// Entra directory audit logs.
pub(crate) const AUDIT: Mapping = Mapping {
    signature: &["Category"],
    name: &["OperationName", "ActivityDisplayName"],
    severity: Severity::Audit,
    full_record: false,
    fields: &[
        f!("externalId", "externalId", ["Id"]),
        f!("act", "action", ["OperationName", "ActivityDisplayName"]),
        f!(
            "suser",
            "usrName",
            [
                "InitiatedBy.user.userPrincipalName",
                "InitiatedBy.app.displayName"
            ]
        ),
        f!(
            "suid",
            "userId",
            ["InitiatedBy.user.id", "InitiatedBy.app.servicePrincipalId"]
        ),
        f!("src", "src", ["InitiatedBy.user.ipAddress"]),
        f!("outcome", "result", ["Result"]),
        f!("reason", "reason", ["ResultReason"]),
        f!("cs1" / "Category", "auditCategory", ["Category"]),
        f!("cs2" / "LoggedByService", "service", ["LoggedByService"]),
        f!("cs3" / "CorrelationId", "correlationId", ["CorrelationId"]),
        f!(
            "cs4" / "TargetResources",
            "targetResources",
            ["TargetResources"]
        ),
    ],
};

/// Azure Activity Log.
pub(crate) const ACTIVITY: Mapping = Mapping {
    signature: &["OperationNameValue", "OperationName"],
    name: &["OperationName", "OperationNameValue"],
    severity: Severity::Level,
    full_record: false,
    fields: &[
        f!("externalId", "externalId", ["EventDataId"]),
        f!("act", "action", ["OperationNameValue", "OperationName"]),
        f!("suser", "usrName", ["Caller"]),
        f!("src", "src", ["CallerIpAddress"]),
        f!(
            "outcome",
            "result",
            ["ActivityStatusValue", "ActivityStatus"]
        ),
        f!(
            "cs1" / "ResourceId",
            "resource",
            ["ResourceId", "_ResourceId"]
        ),
        f!(
            "cs2" / "SubscriptionId",
            "subscriptionId",
            ["SubscriptionId", "_SubscriptionId"]
        ),
        f!("cs3" / "CorrelationId", "correlationId", ["CorrelationId"]),
        f!(
            "cs4" / "ActivityCategory",
            "activityCategory",
            ["CategoryValue", "Category"]
        ),
        f!("cs5" / "Level", "level", ["Level"]),
        f!("cs6" / "ResourceGroup", "resourceGroup", ["ResourceGroup"]),
    ],
};

/// Identity Protection detections (user, service principal and agent risk events).
pub(crate) const RISK_EVENT: Mapping = Mapping {
    signature: &["RiskEventType"],
    name: &["RiskEventType", "OperationName"],
    severity: Severity::Risk,
    full_record: false,
    fields: &[
        f!("externalId", "externalId", ["Id"]),
        f!("act", "action", ["RiskEventType"]),
        f!(
            "suser",
            "usrName",
            ["UserPrincipalName", "ServicePrincipalDisplayName"]
        ),
        f!("suid", "userId", ["UserId", "ServicePrincipalId"]),
        f!("src", "src", ["IpAddress"]),
        f!("cs1" / "RiskLevel", "riskLevel", ["RiskLevel"]),
        f!("cs2" / "RiskState", "riskState", ["RiskState"]),
        f!("cs3" / "RiskDetail", "riskDetail", ["RiskDetail"]),
        f!(
            "cs4" / "DetectionTimingType",
            "detectionTiming",
            ["DetectionTimingType"]
        ),
        f!("cs5" / "CorrelationId", "correlationId", ["CorrelationId"]),
        f!("cs6" / "Location", "location", ["Location"]),
    ],
};

/// Identity Protection state (risky users, service principals, agents).
pub(crate) const RISK_STATE: Mapping = Mapping {
    signature: &["RiskState"],
    name: &["OperationName"],
    severity: Severity::Risk,
    full_record: false,
    fields: &[
        f!("externalId", "externalId", ["Id"]),
        f!("suser", "usrName", ["UserPrincipalName", "DisplayName"]),
        f!("cs1" / "RiskLevel", "riskLevel", ["RiskLevel"]),
        f!("cs2" / "RiskState", "riskState", ["RiskState"]),
        f!("cs3" / "RiskDetail", "riskDetail", ["RiskDetail"]),
    ],
};

/// Every other category: a few common columns plus the whole canonical record in `msg`.
pub(crate) const GENERIC: Mapping = Mapping {
    signature: &[],
    name: &["OperationName"],
    severity: Severity::Fixed,
    full_record: true,
    fields: &[
        f!("externalId", "externalId", ["Id"]),
        f!("act", "action", ["OperationName"]),
    ],
};

/// The device product in the CEF / LEEF header: `Azure` for Azure platform logs, else `Entra ID`.
pub(crate) fn product(category: Category) -> &'static str {
    match category.family() {
        Family::Activity | Family::Flow | Family::Resource => "Azure",
        _ => "Entra ID",
    }
}

/// The mapping of a category.
pub(crate) fn mapping(category: Category) -> &'static Mapping {
    match category.family() {
        Family::SignIn => &SIGN_IN,
        Family::Audit => &AUDIT,
        Family::Activity => &ACTIVITY,
        Family::Risk if category.is_state() => &RISK_STATE,
        Family::Risk => &RISK_EVENT,
        _ => &GENERIC,
    }
}

/// The text of a column or path (strings as is, other JSON compact), `None` when absent or empty.
pub(crate) fn text(record: &Record, column: &str) -> Option<String> {
    // Plain text columns directly (no JSON value in between); everything else as the lookup renders it.
    if let Some(model::Value::String(s)) = record.get(column) {
        return (!s.is_empty()).then(|| s.clone());
    }
    let v = record.lookup(column)?;
    let s = match v {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// The first non-empty of `columns`.
pub(crate) fn first(record: &Record, columns: &[&str]) -> Option<String> {
    columns.iter().find_map(|c| text(record, c))
}

/// The 0-10 severity of `record` under `rule`.
pub(crate) fn severity(record: &Record, rule: Severity) -> u8 {
    let lower = |c: &str| text(record, c).map(|s| s.to_ascii_lowercase());
    match rule {
        Severity::SignIn => {
            if lower("RiskLevelDuringSignIn").as_deref() == Some("high") {
                8
            } else if lower("ResultType").is_some_and(|r| r != "0") {
                5
            } else {
                3
            }
        }
        Severity::Audit => match lower("Result").as_deref() {
            Some("success") | None => 3,
            Some(_) => 5,
        },
        Severity::Level => match lower("Level").as_deref() {
            Some("critical") => 9,
            Some("error") => 7,
            Some("warning") => 5,
            _ => 3,
        },
        Severity::Risk => match lower("RiskLevel").as_deref() {
            Some("high") => 8,
            Some("medium") => 6,
            Some("low") => 4,
            _ => 3,
        },
        Severity::Fixed => 3,
    }
}
