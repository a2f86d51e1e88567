//! OCSF classes of findings (Identity Protection detections, risky-object states, Global Secure Access
//! alerts), syslog and the base event for everything else.

use super::{Class, Field, Kind, Match, Rule};

const SEV_RISK: Rule = rule!(Exact ["RiskLevel", "Severity"] {
    "high" => 4 "High", "medium" => 3 "Medium", "low" => 2 "Low", "none" => 1 "Informational",
} else None);

/// Identity Protection detections and risky-object states, Global Secure Access alerts -> Detection
/// Finding (2004).
pub(crate) const DETECTION_FINDING: Class = Class {
    uid: 2004,
    name: "Detection Finding",
    category_name: "Findings",
    select: &[],
    activity: &[rule!(Exact ["RiskState"] {
            "dismissed" => 3 "Close", "remediated" => 3 "Close", "confirmedsafe" => 3 "Close",
        } else None)],
    activity_default: (1, "Create"),
    status: &[rule!(Exact ["RiskState"] {
        "atrisk" => 1 "New", "confirmedcompromised" => 2 "In Progress", "dismissed" => 3 "Suppressed",
        "remediated" => 4 "Resolved", "confirmedsafe" => 4 "Resolved",
    } else Some((99, "Other")))],
    severity: &[SEV_RISK],
    fields: &[
        // Overwritten by the detection type or alert type where the record has one.
        f!(
            "finding_info.title",
            Kind::Const("Identity Protection risk state"),
            []
        ),
        f!("finding_info.uid", ["Id"]),
        f!(
            "finding_info.title",
            ["RiskEventType", "AlertType", "OperationName"]
        ),
        f!("finding_info.types.0", ["RiskEventType", "AlertType"]),
        f!("finding_info.desc", ["Description", "RiskDetail"]),
        f!(
            "finding_info.created_time",
            Kind::Time,
            ["DetectedDateTime", "CreatedDateTime"]
        ),
        f!(
            "finding_info.modified_time",
            Kind::Time,
            [
                "LastUpdatedDateTime",
                "RiskLastUpdatedDateTime",
                "RiskLastModifiedDateTime",
                "LastModifiedDateTime"
            ]
        ),
        f!("finding_info.src_url", ["Source", "VendorName"]),
        f!("risk_level", ["RiskLevel", "Severity"]),
        f!(
            "risk_level_id",
            Kind::Enum(&[("none", 0), ("low", 1), ("medium", 2), ("high", 3)]),
            ["RiskLevel", "Severity"]
        ),
        f!("resources.0.type", ["IdentityType", "AgentType"]),
        f!(
            "resources.0.uid",
            ["UserId", "ServicePrincipalId", "AgentId", "Id"]
        ),
        f!(
            "resources.0.name",
            [
                "UserPrincipalName",
                "ServicePrincipalDisplayName",
                "AgentDisplayName",
                "UserDisplayName"
            ]
        ),
        f!("evidences.0.src_endpoint.ip", ["IpAddress"]),
        f!(
            "evidences.0.src_endpoint.location.country",
            ["Location.countryOrRegion"]
        ),
        f!("evidences.0.src_endpoint.location.city", ["Location.city"]),
        f!("evidences.0.actor.user.name", ["UserPrincipalName"]),
        f!("evidences.0.actor.user.uid", ["UserId"]),
        f!("metadata.correlation_uid", ["CorrelationId", "RequestId"]),
    ],
};

/// Risky users, service principals and agents (state objects, the latest revision wins) -> Detection
/// Finding (2004), activity Update (2) unless the risk was closed.
pub(crate) const RISK_STATE: Class = Class {
    activity_default: (2, "Update"),
    ..DETECTION_FINDING
};

/// Syslog -> Base Event (0): OCSF has no class for free-form OS and appliance messages; the message,
/// host, process and severity fill the base attributes, the rest goes to `unmapped`.
pub(crate) const SYSLOG: Class = Class {
    uid: 0,
    name: "Base Event",
    category_name: "Uncategorized",
    select: &[],
    activity: &[],
    activity_default: (0, "Unknown"),
    status: &[],
    severity: &[rule!(Exact ["SeverityLevel"] {
        "emerg" => 6 "Fatal", "panic" => 6 "Fatal", "alert" => 5 "Critical", "crit" => 5 "Critical",
        "err" => 4 "High", "error" => 4 "High", "warning" => 3 "Medium", "warn" => 3 "Medium",
        "notice" => 2 "Low", "info" => 1 "Informational", "debug" => 1 "Informational",
    } else None)],
    fields: &[
        f!("message", ["SyslogMessage"]),
        f!("device.hostname", ["HostName", "Computer"]),
        f!("device.ip", ["HostIP"]),
        f!("device.type_id", Kind::ConstInt(0), []),
        f!("actor.process.name", ["ProcessName"]),
        f!("actor.process.pid", Kind::Int, ["ProcessID"]),
        f!("metadata.product.vendor_name", ["CefDeviceVendor"]),
        f!("metadata.product.name", ["CefDeviceProduct"]),
        f!("metadata.product.version", ["CefDeviceVersion"]),
        f!("metadata.event_code", ["CefSignatureId", "MsgId"]),
    ],
};

/// Everything else -> Base Event (0), the canonical record in `unmapped`.
pub(crate) const BASE: Class = Class {
    uid: 0,
    name: "Base Event",
    category_name: "Uncategorized",
    select: &[],
    activity: &[],
    activity_default: (0, "Unknown"),
    status: &[],
    severity: &[rule!(Exact ["Level", "Severity"] {
            "critical" => 5 "Critical", "error" => 4 "High", "warning" => 3 "Medium",
        } else None)],
    fields: &[
        f!(
            "message",
            ["OperationName", "Operation", "Message", "Description"]
        ),
        f!("status", ["ResultType", "ResultStatus", "Status"]),
    ],
};
