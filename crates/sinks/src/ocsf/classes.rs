//! The OCSF mapping per category, as data: which class a record becomes, the ordered rules that pick its
//! activity, status and severity, and which canonical column (or `Column.path` inside a dynamic column,
//! numeric segments index arrays) fills which OCSF attribute. `docs/ocsf.md` documents the same table;
//! keep both in step.

use model::{Category, Family};

/// How a looked-up value becomes an attribute value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Text (objects and arrays as compact JSON).
    Str,
    /// Integer (numbers, or text that parses as one).
    Int,
    /// Milliseconds since the epoch (from a `datetime` column).
    Time,
    /// `true` when the text equals this (ASCII case ignored), else `false`.
    Is(&'static str),
    /// An integer id by exact text (case ignored); no attribute when nothing matches.
    Enum(&'static [(&'static str, i64)]),
    /// Text renamed by exact match (case ignored); unmatched text is kept.
    Rename(&'static [(&'static str, &'static str)]),
    /// A constant text.
    Const(&'static str),
    /// A constant integer.
    ConstInt(i64),
}

/// One attribute: its dotted OCSF path, its kind and the columns tried in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) path: &'static str,
    pub(crate) kind: Kind,
    pub(crate) columns: &'static [&'static str],
}

/// How a rule compares the (lower-cased) value with its table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Match {
    Exact,
    Prefix,
    Contains,
}

/// One rule: the first column with a value is compared with the table (needles lower case); the first
/// hit gives `(id, name)`; with a value but no hit, `otherwise` (or the next rule when `None`).
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) columns: &'static [&'static str],
    pub(crate) matching: Match,
    pub(crate) table: &'static [(&'static str, i64, &'static str)],
    pub(crate) otherwise: Option<(i64, &'static str)>,
}

/// One OCSF class as the records of a category family fill it.
#[derive(Debug)]
pub(crate) struct Class {
    pub(crate) uid: i64,
    pub(crate) name: &'static str,
    pub(crate) category_name: &'static str,
    /// The record takes this class only if one of these rules gives a non-zero id (empty: always).
    pub(crate) select: &'static [Rule],
    pub(crate) activity: &'static [Rule],
    pub(crate) activity_default: (i64, &'static str),
    /// Empty: the class has no status for this family.
    pub(crate) status: &'static [Rule],
    pub(crate) severity: &'static [Rule],
    pub(crate) fields: &'static [Field],
}

macro_rules! f {
    ($path:literal, $kind:expr, [$($c:literal),*]) => {
        Field { path: $path, kind: $kind, columns: &[$($c),*] }
    };
    ($path:literal, [$($c:literal),*]) => {
        Field { path: $path, kind: Kind::Str, columns: &[$($c),*] }
    };
}

macro_rules! rule {
    ($m:ident [$($c:literal),*] { $($k:literal => $id:literal $name:literal),* $(,)? } else $o:expr) => {
        Rule { columns: &[$($c),*], matching: Match::$m, table: &[$(($k, $id, $name)),*], otherwise: $o }
    };
}

const SEV_RISK: Rule = rule!(Exact ["RiskLevel", "Severity"] {
    "high" => 4 "High", "medium" => 3 "Medium", "low" => 2 "Low", "none" => 1 "Informational",
} else None);

/// Sign-ins of every kind -> Authentication (3002).
pub(crate) const AUTHENTICATION: Class = Class {
    uid: 3002,
    name: "Authentication",
    category_name: "Identity & Access Management",
    select: &[],
    activity: &[],
    activity_default: (1, "Logon"),
    status: &[rule!(Exact ["ResultType"] { "0" => 1 "Success" } else Some((2, "Failure")))],
    severity: &[
        rule!(Exact ["RiskLevelDuringSignIn"] { "high" => 4 "High", "medium" => 3 "Medium" } else None),
        rule!(Exact ["ResultType"] { "0" => 1 "Informational" } else Some((2, "Low"))),
    ],
    fields: &[
        f!(
            "user.name",
            ["UserPrincipalName", "ServicePrincipalName", "Identity"]
        ),
        f!("user.uid", ["UserId", "ServicePrincipalId"]),
        f!("user.full_name", ["UserDisplayName"]),
        f!("user.type", ["UserType"]),
        f!("actor.app_name", ["AppDisplayName", "ServicePrincipalName"]),
        f!("actor.app_uid", ["AppId"]),
        f!("src_endpoint.ip", ["IPAddress"]),
        f!("src_endpoint.uid", ["DeviceDetail.deviceId"]),
        f!("src_endpoint.name", ["DeviceDetail.displayName"]),
        f!(
            "src_endpoint.location.country",
            ["LocationDetails.countryOrRegion", "Location"]
        ),
        f!("src_endpoint.location.city", ["LocationDetails.city"]),
        f!("dst_endpoint.svc_name", ["ResourceDisplayName"]),
        f!("service.name", ["ResourceDisplayName"]),
        f!(
            "service.uid",
            ["ResourceIdentity", "ResourceServicePrincipalId"]
        ),
        f!("http_request.user_agent", ["UserAgent"]),
        f!("auth_protocol", ["AuthenticationProtocol"]),
        f!(
            "is_mfa",
            Kind::Is("multiFactorAuthentication"),
            ["AuthenticationRequirement"]
        ),
        f!("status_code", ["ResultType"]),
        f!("status_detail", ["ResultDescription"]),
        f!("metadata.correlation_uid", ["CorrelationId"]),
        f!("session.uid", ["UniqueTokenIdentifier"]),
    ],
};

const AUDIT_ACTOR: [Field; 6] = [
    f!("actor.user.name", ["InitiatedBy.user.userPrincipalName"]),
    f!("actor.user.uid", ["InitiatedBy.user.id"]),
    f!("actor.app_name", ["InitiatedBy.app.displayName"]),
    f!(
        "actor.app_uid",
        [
            "InitiatedBy.app.appId",
            "InitiatedBy.app.servicePrincipalId"
        ]
    ),
    f!("src_endpoint.ip", ["InitiatedBy.user.ipAddress"]),
    f!("metadata.correlation_uid", ["CorrelationId"]),
];

const AUDIT_STATUS: [Rule; 1] = [rule!(Exact ["Result"] {
    "success" => 1 "Success", "failure" => 2 "Failure",
} else Some((99, "Other")))];

const AUDIT_SEVERITY: [Rule; 1] =
    [rule!(Exact ["Result"] { "failure" => 2 "Low" } else Some((1, "Informational")))];

/// Directory audits of users, roles and credentials -> Account Change (3001).
pub(crate) const ACCOUNT_CHANGE: Class = Class {
    uid: 3001,
    name: "Account Change",
    category_name: "Identity & Access Management",
    select: &[
        rule!(Exact ["Category"] { "usermanagement" => 1 "", "rolemanagement" => 1 "" } else None),
        rule!(Contains ["OperationName", "ActivityDisplayName"] {
            "password" => 1 "", "credential" => 1 "", "security info" => 1 "",
        } else None),
    ],
    activity: &[rule!(Contains ["OperationName", "ActivityDisplayName"] {
        "reset" => 4 "Password Reset",
        "password" => 3 "Password Change",
        "deleted security info" => 11 "MFA Factor Disable",
        "security info" => 10 "MFA Factor Enable",
        "remove member from role" => 8 "Detach Policy",
        "remove eligible member from role" => 8 "Detach Policy",
        "member to role" => 7 "Attach Policy",
        "disable account" => 5 "Disable",
        "enable account" => 2 "Enable",
        "delete user" => 6 "Delete",
        "add user" => 1 "Create",
    } else None)],
    activity_default: (99, "Other"),
    status: &AUDIT_STATUS,
    severity: &AUDIT_SEVERITY,
    fields: &[
        AUDIT_ACTOR[0],
        AUDIT_ACTOR[1],
        AUDIT_ACTOR[2],
        AUDIT_ACTOR[3],
        AUDIT_ACTOR[4],
        AUDIT_ACTOR[5],
        f!(
            "user.name",
            [
                "TargetResources.0.userPrincipalName",
                "TargetResources.0.displayName"
            ]
        ),
        f!("user.uid", ["TargetResources.0.id"]),
        f!("user.type", ["TargetResources.0.type"]),
        f!("message", ["OperationName", "ActivityDisplayName"]),
        f!("status_detail", ["ResultReason", "ResultDescription"]),
        f!("metadata.log_provider", ["LoggedByService"]),
    ],
};

/// Every other directory audit (applications, groups, policies, devices) -> Entity Management (3004).
pub(crate) const ENTITY_MANAGEMENT: Class = Class {
    uid: 3004,
    name: "Entity Management",
    category_name: "Identity & Access Management",
    select: &[],
    activity: &[rule!(Exact ["AADOperationType"] {
        "add" => 1 "Create", "create" => 1 "Create", "read" => 2 "Read", "get" => 2 "Read",
        "update" => 3 "Update", "delete" => 4 "Delete", "remove" => 4 "Delete",
    } else None)],
    activity_default: (99, "Other"),
    status: &AUDIT_STATUS,
    severity: &AUDIT_SEVERITY,
    fields: &[
        AUDIT_ACTOR[0],
        AUDIT_ACTOR[1],
        AUDIT_ACTOR[2],
        AUDIT_ACTOR[3],
        AUDIT_ACTOR[4],
        AUDIT_ACTOR[5],
        f!("entity.uid", ["TargetResources.0.id"]),
        f!(
            "entity.name",
            [
                "TargetResources.0.displayName",
                "TargetResources.0.userPrincipalName"
            ]
        ),
        f!("entity.type", ["TargetResources.0.type", "Category"]),
        f!("message", ["OperationName", "ActivityDisplayName"]),
        f!("status_detail", ["ResultReason", "ResultDescription"]),
        f!("metadata.log_provider", ["LoggedByService"]),
    ],
};

/// Microsoft Graph activity -> API Activity (6003), activity from the HTTP method.
pub(crate) const API_GRAPH: Class = Class {
    uid: 6003,
    name: "API Activity",
    category_name: "Application Activity",
    select: &[],
    activity: &[rule!(Exact ["RequestMethod"] {
        "post" => 1 "Create", "get" => 2 "Read", "head" => 2 "Read", "put" => 3 "Update",
        "patch" => 3 "Update", "delete" => 4 "Delete",
    } else None)],
    activity_default: (99, "Other"),
    status: &[rule!(Prefix ["ResponseStatusCode"] {
        "2" => 1 "Success", "3" => 1 "Success", "4" => 2 "Failure", "5" => 2 "Failure",
    } else Some((99, "Other")))],
    severity: &[rule!(Prefix ["ResponseStatusCode"] { "4" => 2 "Low", "5" => 2 "Low" } else None)],
    fields: &[
        f!("api.operation", ["RequestMethod"]),
        f!("api.version", ["ApiVersion"]),
        f!("api.request.uid", ["RequestId"]),
        f!("api.service.name", Kind::Const("Microsoft Graph"), []),
        f!("actor.user.uid", ["UserId"]),
        f!("actor.app_uid", ["AppId"]),
        f!("actor.session.uid", ["SignInActivityId"]),
        f!("src_endpoint.ip", ["IPAddress"]),
        f!("src_endpoint.location.region", ["Location"]),
        f!("http_request.http_method", ["RequestMethod"]),
        f!("http_request.url.url_string", ["RequestUri"]),
        f!("http_request.user_agent", ["UserAgent"]),
        f!("http_request.uid", ["ClientRequestId"]),
        f!("http_response.code", Kind::Int, ["ResponseStatusCode"]),
        f!("http_response.length", Kind::Int, ["ResponseSizeBytes"]),
        f!("status_code", ["ResponseStatusCode"]),
        f!("duration", Kind::Int, ["DurationMs"]),
        f!("metadata.correlation_uid", ["OperationId"]),
    ],
};

/// Azure Activity Log -> API Activity (6003), activity from the operation's last segment.
pub(crate) const API_AZURE: Class = Class {
    uid: 6003,
    name: "API Activity",
    category_name: "Application Activity",
    select: &[],
    activity: &[rule!(Contains ["OperationNameValue", "OperationName"] {
        "/write" => 3 "Update", "/delete" => 4 "Delete", "/read" => 2 "Read", "/list" => 2 "Read",
    } else None)],
    activity_default: (99, "Other"),
    status: &[rule!(Exact ["ActivityStatusValue", "ActivityStatus"] {
        "succeeded" => 1 "Success", "success" => 1 "Success", "failed" => 2 "Failure",
        "failure" => 2 "Failure",
    } else Some((99, "Other")))],
    severity: &[rule!(Exact ["Level"] {
        "critical" => 5 "Critical", "error" => 4 "High", "warning" => 3 "Medium",
        "informational" => 1 "Informational", "verbose" => 1 "Informational",
    } else None)],
    fields: &[
        f!("api.operation", ["OperationNameValue", "OperationName"]),
        f!(
            "api.service.name",
            ["ResourceProviderValue", "ResourceProvider"]
        ),
        f!("api.request.uid", ["EventDataId"]),
        f!("actor.user.name", ["Caller"]),
        // System events (alerts, autoscale, service health) have no caller: the provider acts.
        f!(
            "actor.app_name",
            ["ResourceProviderValue", "ResourceProvider"]
        ),
        f!("src_endpoint.ip", ["CallerIpAddress"]),
        f!(
            "src_endpoint.svc_name",
            ["ResourceProviderValue", "ResourceProvider"]
        ),
        f!("resources.0.uid", ["ResourceId"]),
        f!("resources.0.name", ["Resource"]),
        f!("resources.0.group.name", ["ResourceGroup"]),
        f!("cloud.account.uid", ["SubscriptionId"]),
        f!("status", ["ActivityStatusValue", "ActivityStatus"]),
        f!(
            "status_detail",
            ["ActivitySubstatusValue", "ActivitySubstatus"]
        ),
        f!("metadata.correlation_uid", ["CorrelationId"]),
        f!("metadata.event_code", ["CategoryValue", "Category"]),
    ],
};

const FLOW_PROTOCOL: &[(&str, &str)] = &[("T", "tcp"), ("U", "udp")];

/// NSG and VNet flow tuples -> Network Activity (4001).
pub(crate) const NETWORK_FLOW: Class = Class {
    uid: 4001,
    name: "Network Activity",
    category_name: "Network Activity",
    select: &[],
    activity: &[
        rule!(Exact ["FlowStatus"] { "d" => 5 "Refuse" } else None),
        rule!(Exact ["FlowState"] {
            "b" => 1 "Open", "e" => 2 "Close", "c" => 6 "Traffic", "d" => 5 "Refuse",
        } else None),
    ],
    activity_default: (6, "Traffic"),
    status: &[],
    severity: &[],
    fields: &[
        f!("src_endpoint.ip", ["SrcIp"]),
        f!("src_endpoint.port", Kind::Int, ["SrcPort"]),
        f!("dst_endpoint.ip", ["DestIp"]),
        f!("dst_endpoint.port", Kind::Int, ["DestPort"]),
        f!(
            "connection_info.protocol_name",
            Kind::Rename(FLOW_PROTOCOL),
            ["L4Protocol"]
        ),
        f!(
            "connection_info.protocol_num",
            Kind::Enum(&[("T", 6), ("U", 17)]),
            ["L4Protocol"]
        ),
        f!(
            "connection_info.direction_id",
            Kind::Enum(&[("I", 1), ("O", 2)]),
            ["FlowDirection"]
        ),
        f!(
            "connection_info.direction",
            Kind::Rename(&[("I", "Inbound"), ("O", "Outbound")]),
            ["FlowDirection"]
        ),
        f!("traffic.bytes_out", Kind::Int, ["BytesSrcToDest"]),
        f!("traffic.packets_out", Kind::Int, ["PacketsSrcToDest"]),
        f!("traffic.bytes_in", Kind::Int, ["BytesDestToSrc"]),
        f!("traffic.packets_in", Kind::Int, ["PacketsDestToSrc"]),
        f!(
            "action_id",
            Kind::Enum(&[("A", 1), ("D", 2)]),
            ["FlowStatus"]
        ),
        f!(
            "action",
            Kind::Rename(&[("A", "Allowed"), ("D", "Denied")]),
            ["FlowStatus"]
        ),
        f!("firewall_rule.name", ["AclRule"]),
        f!("start_time", Kind::Time, ["FlowStartTime"]),
        f!("device.uid", ["TargetResourceId", "ResourceId"]),
        f!("device.mac", ["MacAddress"]),
        f!("device.type_id", Kind::ConstInt(0), []),
    ],
};

/// Global Secure Access traffic and connection events -> Network Activity (4001).
pub(crate) const NETWORK_ACCESS: Class = Class {
    uid: 4001,
    name: "Network Activity",
    category_name: "Network Activity",
    select: &[],
    activity: &[
        rule!(Exact ["Action"] { "block" => 5 "Refuse", "deny" => 5 "Refuse" } else None),
        rule!(Exact ["ConnectionStatus", "Status"] { "open" => 1 "Open", "closed" => 2 "Close" } else None),
    ],
    activity_default: (6, "Traffic"),
    status: &[],
    severity: &[],
    fields: &[
        f!("src_endpoint.ip", ["SourceIp"]),
        f!("src_endpoint.port", Kind::Int, ["SourcePort"]),
        f!("src_endpoint.uid", ["DeviceId"]),
        f!("dst_endpoint.ip", ["DestinationIp"]),
        f!("dst_endpoint.port", Kind::Int, ["DestinationPort"]),
        f!("dst_endpoint.hostname", ["DestinationFqdn"]),
        f!("url.url_string", ["DestinationUrl"]),
        f!("connection_info.uid", ["ConnectionId"]),
        f!("connection_info.protocol_name", ["TransportProtocol"]),
        f!("traffic.bytes_out", Kind::Int, ["SentBytes"]),
        f!("traffic.bytes_in", Kind::Int, ["ReceivedBytes"]),
        f!("actor.user.name", ["UserPrincipalName"]),
        f!("actor.user.uid", ["UserId"]),
        f!("actor.process.name", ["InitiatingProcessName"]),
        f!("action", ["Action"]),
        f!(
            "action_id",
            Kind::Enum(&[("allow", 1), ("block", 2), ("deny", 2)]),
            ["Action"]
        ),
        f!("firewall_rule.name", ["RuleName"]),
        f!("firewall_rule.uid", ["PolicyRuleId"]),
        f!("session.uid", ["SessionId"]),
        f!("end_time", Kind::Time, ["EndDateTime"]),
    ],
};

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

/// The candidate classes of a category, tried in order (the first whose selector matches wins), and
/// whether the canonical record also goes into `unmapped`.
pub(crate) fn classes(category: Category) -> (&'static [Class], bool) {
    match category.family() {
        Family::SignIn => (std::slice::from_ref(&AUTHENTICATION), false),
        Family::Audit => (&AUDIT_CLASSES, false),
        Family::GraphActivity => (std::slice::from_ref(&API_GRAPH), false),
        Family::Activity => (std::slice::from_ref(&API_AZURE), false),
        Family::Flow => (std::slice::from_ref(&NETWORK_FLOW), false),
        Family::Risk => match category {
            Category::RiskyUsers | Category::RiskyServicePrincipals | Category::RiskyAgents => {
                (std::slice::from_ref(&RISK_STATE), false)
            }
            _ => (std::slice::from_ref(&DETECTION_FINDING), false),
        },
        Family::NetworkAccess => match category {
            Category::NetworkAccessTrafficLogs | Category::NetworkAccessConnectionEvents => {
                (std::slice::from_ref(&NETWORK_ACCESS), false)
            }
            Category::NetworkAccessAlerts => (std::slice::from_ref(&DETECTION_FINDING), false),
            _ => (std::slice::from_ref(&BASE), true),
        },
        Family::Syslog => (std::slice::from_ref(&SYSLOG), true),
        Family::Provisioning | Family::Office | Family::Resource => {
            (std::slice::from_ref(&BASE), true)
        }
    }
}

const AUDIT_CLASSES: [Class; 2] = [ACCOUNT_CHANGE, ENTITY_MANAGEMENT];

/// `metadata.product`: (vendor, product) of the records of a category.
pub(crate) const fn product(category: Category) -> (&'static str, &'static str) {
    match category.family() {
        Family::Audit | Family::SignIn | Family::Provisioning | Family::Risk => {
            ("Microsoft", "Microsoft Entra ID")
        }
        Family::NetworkAccess => ("Microsoft", "Microsoft Entra Global Secure Access"),
        Family::GraphActivity => ("Microsoft", "Microsoft Graph"),
        Family::Office => ("Microsoft", "Microsoft 365"),
        Family::Activity => ("Microsoft", "Azure Activity Log"),
        Family::Flow => ("Microsoft", "Azure Network Watcher"),
        Family::Resource => ("Microsoft", "Azure Monitor"),
        Family::Syslog => ("Unknown", "Syslog"),
    }
}
