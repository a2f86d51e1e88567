//! Directory and Azure attack scenarios: directory audits (Graph `directoryAudit`) for credentials,
//! consent, roles, authentication methods, federation, Conditional Access and cross-tenant access, and
//! an Activity Log record deleting a diagnostic setting.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::{Cx, Injected, Scenario, event, event_with};
use crate::catalog::ADMIN_ROLES;
use crate::category::Category;
use crate::tenant::{ResourceKind, User};
use crate::util::{guid, iso7, mix2, upper_letters};

const PIM_APP: (&str, &str) = ("MS-PIM", "01fc33a7-78ba-4d2f-a4b7-768e336e890e");

fn prop(name: &str, old: Option<&str>, new: Option<&str>) -> Value {
    json!({"displayName": name, "oldValue": old, "newValue": new})
}

fn user_by(u: &User, ip: &str, roles: &[&str]) -> Value {
    json!({"user": {"id": u.id, "displayName": Value::Null, "userPrincipalName": u.upn, "ipAddress": ip,
        "roles": roles, "userType": "Member", "homeTenantId": Value::Null, "homeTenantName": Value::Null}, "app": Value::Null})
}

fn target(id: &str, name: &str, kind: &str, upn: Option<&str>, props: Vec<Value>) -> Value {
    json!({"id": id, "displayName": name, "type": kind, "userPrincipalName": upn, "groupType": Value::Null,
        "modifiedProperties": props, "administrativeUnits": []})
}

/// One audit record, as the generator builds them.
struct Audit<'a> {
    name: &'a str,
    category: &'a str,
    service: &'a str,
    op: &'a str,
    by: Value,
    targets: Vec<Value>,
}

fn audit(cx: &Cx<'_>, minute: i64, a: Audit<'_>, seed: u64) -> crate::SimEvent {
    let mut rng = SmallRng::seed_from_u64(seed);
    let rng = &mut rng;
    let correlation = guid(rng);
    let id = format!(
        "Directory_{correlation}_{}_{}",
        upper_letters(rng, 5),
        rng.random_range(10_000_000..999_999_999u32)
    );
    let at = cx.t(minute);
    let g = json!({
        "id": id, "category": a.category, "correlationId": correlation, "result": "success", "resultReason": "",
        "activityDisplayName": a.name, "activityDateTime": iso7(at), "loggedByService": a.service,
        "operationType": a.op, "initiatedBy": a.by, "targetResources": a.targets,
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}],
    });
    event(Category::AuditLogs, at, g, seed)
}

fn key(id: &str, name: &str) -> String {
    format!("[KeyIdentifier={id},KeyType=Password,KeyUsage=Verify,DisplayName={name}]")
}

fn admin<'a>(cx: &Cx<'a>) -> &'a User {
    cx.tenant
        .users
        .iter()
        .skip(1)
        .find(|u| u.enabled && u.is_admin())
        .unwrap_or(&cx.tenant.users[0])
}

pub(super) fn build(s: Scenario, cx: &Cx<'_>) -> Injected {
    let mut rng = SmallRng::seed_from_u64(cx.seed);
    let rng = &mut rng;
    let ip = format!("45.155.205.{}", 2 + cx.seed % 250);
    let v = cx.victim(0);
    let t = cx.tenant;
    let mut events = Vec::new();
    let mut add = |minute: i64, a: Audit<'_>| {
        let seed = mix2(cx.seed, events.len() as u64 + 1);
        events.push(audit(cx, minute, a, seed));
    };
    let app_audit = |name, op, by, targets| Audit {
        name,
        category: "ApplicationManagement",
        service: "Core Directory",
        op,
        by,
        targets,
    };
    let entity = match s {
        Scenario::AppCredential => {
            let sp = &t.service_principals
                [(cx.seed % t.service_principals.len().max(1) as u64) as usize];
            let old = key(&sp.credential_key_id, "prod");
            let new = format!("{old}, {}", key(&guid(rng), "backup"));
            let tg = target(
                &sp.id,
                &sp.display_name,
                "ServicePrincipal",
                None,
                vec![
                    prop(
                        "KeyDescription",
                        Some(&format!("[\"{old}\"]")),
                        Some(&format!("[\"{}\"]", new.replace(", ", "\",\""))),
                    ),
                    prop("Included Updated Properties", None, Some("KeyDescription")),
                ],
            );
            add(
                0,
                app_audit(
                    "Add service principal credentials",
                    "Update",
                    user_by(v, &ip, &[]),
                    vec![tg],
                ),
            );
            sp.display_name.clone()
        }
        Scenario::CredentialAfterConsent | Scenario::HighPrivilegeConsent => {
            let after = s == Scenario::CredentialAfterConsent;
            let name = if after {
                "Invoice Viewer"
            } else {
                "Mail Sync Pro"
            };
            let (sp_id, app_obj) = (guid(rng), guid(rng));
            let scope = if after {
                "Mail.Read offline_access openid"
            } else {
                "Mail.ReadWrite Mail.Send offline_access openid profile"
            };
            let perms = format!(
                "[] => [[Id: {}, ClientId: {sp_id}, PrincipalId: , ResourceId: {}, ConsentType: {}, Scope: {scope}, CreatedDateTime: , LastModifiedDateTime ]]",
                guid(rng),
                guid(rng),
                if after { "AllPrincipals" } else { "Principal" }
            );
            let is_admin = if after { "True" } else { "False" };
            let consenter = if after { admin(cx) } else { v };
            let tg = target(
                &sp_id,
                name,
                "ServicePrincipal",
                None,
                vec![
                    prop("ConsentContext.IsAdminConsent", None, Some(is_admin)),
                    prop("ConsentContext.IsAppOnly", None, Some("False")),
                    prop("ConsentAction.Permissions", None, Some(&perms)),
                ],
            );
            add(
                0,
                app_audit(
                    "Consent to application",
                    "Assign",
                    user_by(consenter, &ip, &[]),
                    vec![tg],
                ),
            );
            if after {
                let tg = target(
                    &app_obj,
                    name,
                    "Application",
                    None,
                    vec![
                        prop(
                            "KeyDescription",
                            Some("[]"),
                            Some(&format!("[\"{}\"]", key(&guid(rng), "sync"))),
                        ),
                        prop("Included Updated Properties", None, Some("KeyDescription")),
                    ],
                );
                add(
                    35,
                    app_audit(
                        "Update application – Certificates and secrets management ",
                        "Update",
                        user_by(consenter, &ip, &[]),
                        vec![tg],
                    ),
                );
            }
            name.to_owned()
        }
        Scenario::RoleOutsidePim => {
            let (role, role_id) = ADMIN_ROLES[0];
            let by = admin(cx);
            let tg = vec![
                target(
                    role_id,
                    role,
                    "Role",
                    None,
                    vec![
                        prop("Role.DisplayName", None, Some(role)),
                        prop("Role.TemplateId", None, Some(role_id)),
                    ],
                ),
                target(&v.id, "", "User", Some(&v.upn), vec![]),
            ];
            add(
                0,
                Audit {
                    name: "Add member to role",
                    category: "RoleManagement",
                    service: "Core Directory",
                    op: "Assign",
                    by: user_by(by, &ip, &[]),
                    targets: tg,
                },
            );
            v.upn.clone()
        }
        Scenario::PrivilegedAuthMethods => {
            // A Global Administrator activates the role in PIM in the morning; later a compromised helpdesk
            // account registers a new phone for that administrator.
            let boss = admin(cx);
            let (role, role_id) = ADMIN_ROLES[0];
            let pim = json!({"app": {"appId": PIM_APP.1, "displayName": PIM_APP.0, "servicePrincipalId": Value::Null, "servicePrincipalName": Value::Null}, "user": Value::Null});
            let tg = vec![
                target(role_id, role, "Role", None, vec![]),
                target(&boss.id, "", "User", Some(&boss.upn), vec![]),
            ];
            add(
                0,
                Audit {
                    name: "Add member to role completed (PIM activation)",
                    category: "RoleManagement",
                    service: "PIM",
                    op: "Assign",
                    by: pim,
                    targets: tg,
                },
            );
            let tg = vec![target(
                &boss.id,
                "",
                "User",
                Some(&boss.upn),
                vec![
                    prop("StrongAuthenticationPhoneAppDetail", None, None),
                    prop(
                        "StrongAuthenticationUserDetails",
                        Some("[]"),
                        Some("[{\"PhoneNumber\":\"+44 7700 900123\"}]"),
                    ),
                ],
            )];
            add(
                30,
                Audit {
                    name: "Admin registered security info",
                    category: "UserManagement",
                    service: "Authentication Methods",
                    op: "Add",
                    by: user_by(v, &ip, &[]),
                    targets: tg,
                },
            );
            boss.upn.clone()
        }
        Scenario::FederationChanged => {
            let domain = &t.domain;
            let by = admin(cx);
            let tg = vec![target(
                &guid(rng),
                domain,
                "Domain",
                None,
                vec![
                    prop("LiveType", Some("Managed"), Some("Federated")),
                    prop(
                        "IssuerUri",
                        None,
                        Some("http://any.sts.example/adfs/services/trust"),
                    ),
                ],
            )];
            add(
                0,
                Audit {
                    name: "Set domain authentication",
                    category: "DirectoryManagement",
                    service: "Core Directory",
                    op: "Set",
                    by: user_by(by, &ip, &[]),
                    targets: tg,
                },
            );
            domain.clone()
        }
        Scenario::CaPolicyDisabled => {
            let p = t
                .ca_policies
                .iter()
                .find(|p| p.grant_controls.contains(&"Mfa"))
                .unwrap_or(&t.ca_policies[0]);
            let policy = |state: &str| {
                format!(
                    "{{\"id\":\"{}\",\"displayName\":\"{}\",\"state\":\"{state}\"}}",
                    p.id, p.display_name
                )
            };
            let tg = vec![target(
                &p.id,
                p.display_name,
                "Policy",
                None,
                vec![prop(
                    "ConditionalAccessPolicy",
                    Some(&policy("enabled")),
                    Some(&policy("disabled")),
                )],
            )];
            add(
                0,
                Audit {
                    name: "Update conditional access policy",
                    category: "Policy",
                    service: "Conditional Access",
                    op: "Update",
                    by: user_by(admin(cx), &ip, &[]),
                    targets: tg,
                },
            );
            p.display_name.to_owned()
        }
        Scenario::CrossTenantPartner => {
            let partner = guid(rng);
            let tg = vec![target(
                &partner,
                "",
                "Policy",
                None,
                vec![
                    prop("tenantId", None, Some(&format!("\"{partner}\""))),
                    prop(
                        "inboundTrust",
                        None,
                        Some("{\"isMfaAccepted\":true,\"isCompliantDeviceAccepted\":true}"),
                    ),
                ],
            )];
            add(
                0,
                Audit {
                    name: "Add a partner to cross-tenant access setting",
                    category: "CrossTenantAccessSettings",
                    service: "Core Directory",
                    op: "Add",
                    by: user_by(admin(cx), &ip, &[]),
                    targets: tg,
                },
            );
            partner
        }
        Scenario::DiagnosticSettings => return diagnostic(cx, rng, &ip),
        _ => String::new(),
    };
    Injected { events, entity }
}

/// `MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE` on a key vault: the Start and Succeeded records.
fn diagnostic(cx: &Cx<'_>, rng: &mut SmallRng, ip: &str) -> Injected {
    let t = cx.tenant;
    let kv = t
        .resources_of(ResourceKind::KeyVault)
        .next()
        .unwrap_or(&t.resources[0]);
    let id = format!(
        "{}/providers/microsoft.insights/diagnosticSettings/send-to-sentinel",
        kv.id
    )
    .to_ascii_uppercase();
    let correlation = guid(rng);
    let who = admin(cx);
    let mut events = Vec::new();
    for (i, (status, sig)) in [("Start", "Started."), ("Success", "Succeeded.OK")]
        .iter()
        .enumerate()
    {
        let at = cx.t(i as i64);
        let mut env = Map::new();
        for (k, v) in [
            ("time", json!(iso7(at))),
            ("resourceId", json!(id)),
            (
                "operationName",
                json!("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"),
            ),
            ("category", json!("Administrative")),
            ("resultType", json!(status)),
            ("resultSignature", json!(sig)),
            ("durationMs", json!(if i == 0 { 0 } else { 412 })),
            ("callerIpAddress", json!(ip)),
            ("correlationId", json!(correlation)),
            ("level", json!("Information")),
            ("location", json!("global")),
            (
                "identity",
                json!({"claims": {
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": who.upn,
                "http://schemas.microsoft.com/identity/claims/objectidentifier": who.id,
                "ipaddr": ip, "name": who.display_name}}),
            ),
        ] {
            env.insert(k.to_owned(), v);
        }
        let props = json!({"statusCode": if i == 0 { "Started" } else { "OK" }, "serviceRequestId": guid(rng),
            "eventCategory": "Administrative", "entity": id, "message": "microsoft.insights/diagnosticSettings/delete",
            "hierarchy": format!("{}/{}", t.tenant_id, t.subscriptions[kv.subscription].id)});
        events.push(event_with(
            Category::Administrative,
            at,
            props,
            Some(env),
            mix2(cx.seed, i as u64 + 1),
        ));
    }
    Injected { events, entity: id }
}
