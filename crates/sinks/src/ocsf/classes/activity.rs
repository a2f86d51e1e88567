//! OCSF classes of API activity (Microsoft Graph, Azure Activity Log) and network activity (NSG and VNet
//! flow tuples, Global Secure Access traffic).

use super::{Class, Field, Kind, Match, Rule};

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
