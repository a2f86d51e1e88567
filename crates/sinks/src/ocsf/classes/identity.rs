//! OCSF classes of sign-ins (Authentication) and directory audits (Account Change, Entity Management).

use super::{Class, Field, Kind, Match, Rule};

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
