//! Global Secure Access: traffic logs (NetworkAccessTraffic), remote network health, alerts, connection
//! events, and private network connector logs (wire-formats.md §3.7; derived schemas in
//! `data/schemas/derived_tables.json`).
//!
//! Graph nests some traffic fields (`privateAccessDetails`, `headers`, `applicationSnapshot`); flat fields
//! win when both exist. `EventType` is the health event's `@odata.type` and is not hashed.

use super::engine::{Mapping, Src};
use Src::{E, G};

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    (
        "AccessType",
        &[G("accessType"), G("privateAccessDetails/accessType")],
    ),
    ("Action", &[G("action")]),
    ("Actions", &[G("actions")]),
    ("AgentVersion", &[G("agentVersion")]),
    ("AlertType", &[G("alertType")]),
    ("AppId", &[G("appId"), G("applicationSnapshot/appId")]),
    ("BgpRoutesAdvertisedCount", &[G("bgpRoutesAdvertisedCount")]),
    ("Channel", &[G("channel")]),
    ("Computer", &[G("computer")]),
    ("ConnectionId", &[G("connectionId")]),
    (
        "ConnectionStatus",
        &[
            G("connectionStatus"),
            G("privateAccessDetails/connectionStatus"),
        ],
    ),
    (
        "ConnectorId",
        &[G("connectorId"), G("privateAccessDetails/connectorId")],
    ),
    (
        "ConnectorIp",
        &[G("connectorIp"), G("privateAccessDetails/connectorIp")],
    ),
    (
        "ConnectorName",
        &[G("connectorName"), G("privateAccessDetails/connectorName")],
    ),
    ("CreatedDateTime", &[G("createdDateTime")]),
    ("Description", &[G("description")]),
    ("DestinationFqdn", &[G("destinationFqdn")]),
    ("DestinationIp", &[G("destinationIp")]),
    ("DestinationPort", &[G("destinationPort")]),
    ("DestinationUrl", &[G("destinationUrl")]),
    (
        "DestinationWebCategories",
        &[
            G("destinationWebCategories"),
            G("destinationWebCategory/displayName"),
        ],
    ),
    ("DeviceCategory", &[G("deviceCategory")]),
    ("DeviceId", &[G("deviceId")]),
    ("DeviceOperatingSystem", &[G("deviceOperatingSystem")]),
    (
        "DeviceOperatingSystemVersion",
        &[G("deviceOperatingSystemVersion")],
    ),
    ("EndDateTime", &[G("endDateTime")]),
    ("EventData", &[G("eventData")]),
    ("EventId", &[G("eventId")]),
    ("EventType", &[G("eventType"), G("@odata.type")]),
    ("FilteringProfileId", &[G("filteringProfileId")]),
    ("FilteringProfileName", &[G("filteringProfileName")]),
    ("Id", &[G("id")]),
    ("InitiatingProcessName", &[G("initiatingProcessName")]),
    ("Level", &[G("level")]),
    ("Message", &[G("message")]),
    ("NetworkProtocol", &[G("networkProtocol")]),
    ("OperationName", &[E("operationName")]),
    ("OriginHeader", &[G("originHeader"), G("headers/origin")]),
    ("PolicyId", &[G("policyId")]),
    ("PolicyName", &[G("policyName")]),
    ("PolicyRuleId", &[G("policyRuleId")]),
    (
        "ProcessingRegion",
        &[G("processingRegion"), G("popProcessingRegion")],
    ),
    ("ProviderName", &[G("providerName")]),
    ("ReceivedBytes", &[G("receivedBytes")]),
    (
        "ReferrerHeader",
        &[G("referrerHeader"), G("headers/referrer")],
    ),
    ("RelatedResources", &[G("relatedResources")]),
    ("RemoteNetworkId", &[G("remoteNetworkId")]),
    ("ResourceTenantId", &[G("resourceTenantId")]),
    ("RuleName", &[G("ruleName"), G("policyRuleName")]),
    ("SentBytes", &[G("sentBytes")]),
    ("SessionId", &[G("sessionId")]),
    ("Severity", &[G("severity")]),
    ("SourceIp", &[G("sourceIp")]),
    ("SourcePort", &[G("sourcePort")]),
    ("Status", &[G("status")]),
    ("TenantId", &[E("tenantId"), G("tenantId")]),
    ("ThreatType", &[G("threatType")]),
    ("TimeCreated", &[G("timeCreated")]),
    ("TrafficType", &[G("trafficType")]),
    ("TransactionId", &[G("transactionId")]),
    ("TransportProtocol", &[G("transportProtocol")]),
    ("UserId", &[G("userId")]),
    ("UserPrincipalName", &[G("userPrincipalName")]),
    ("VendorName", &[G("vendorName")]),
    (
        "XForwardedFor",
        &[G("xForwardedFor"), G("headers/xForwardedFor")],
    ),
];

/// The Global Secure Access mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &["EventType"],
    ..Mapping::EMPTY
};
