//! Directory audit records (Graph `directoryAudit`). Ids follow the real pattern
//! `Directory_<correlationId>_<5 letters>_<number>`. `modifiedProperties[].oldValue/newValue` are plain
//! strings here; the renderer JSON-encodes them when quirks are on, as Graph does.

use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::Value;

use super::{Built, Ctx, office_ip};
use crate::catalog::{ADMIN_ROLES, DEPARTMENTS};
use crate::tenant::{Tenant, User};
use crate::util::{guid, iso7, pick, pick_weighted, upper_letters};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    User,
    Group,
    Role,
    Application,
    ServicePrincipal,
    Policy,
    Device,
    Domain,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Actor {
    Admin,
    User,
    App,
    /// Privileged Identity Management (`MS-PIM`): role assignments in a PIM-governed tenant.
    Pim,
}

/// (activityDisplayName, category, loggedByService, operationType, target, actor, id prefix).
type Activity = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Target,
    Actor,
    &'static str,
);

#[rustfmt::skip]
const ACTIVITIES: &[(Activity, u32)] = &[
    (("Add user", "UserManagement", "Core Directory", "Add", Target::User, Actor::Admin, "Directory"), 4),
    (("Update user", "UserManagement", "Core Directory", "Update", Target::User, Actor::Admin, "Directory"), 12),
    (("Delete user", "UserManagement", "Core Directory", "Delete", Target::User, Actor::Admin, "Directory"), 1),
    (("Add member to group", "GroupManagement", "Core Directory", "Assign", Target::Group, Actor::Admin, "Directory"), 10),
    (("Remove member from group", "GroupManagement", "Core Directory", "Unassign", Target::Group, Actor::Admin, "Directory"), 4),
    (("Add member to role", "RoleManagement", "Core Directory", "Assign", Target::Role, Actor::Pim, "Directory"), 1),
    (("Reset password (self-service)", "UserManagement", "Self-service Password Management", "Update", Target::User, Actor::User, "SSPR"), 4),
    (("User registered security info", "UserManagement", "Authentication Methods", "Add", Target::User, Actor::User, "UserManagement"), 4),
    (("Change user password", "UserManagement", "Core Directory", "Update", Target::User, Actor::User, "Directory"), 2),
    (("Update application", "ApplicationManagement", "Core Directory", "Update", Target::Application, Actor::Admin, "Directory"), 4),
    (("Add service principal", "ApplicationManagement", "Core Directory", "Add", Target::ServicePrincipal, Actor::Admin, "Directory"), 1),
    (("Consent to application", "ApplicationManagement", "Core Directory", "Assign", Target::ServicePrincipal, Actor::User, "Directory"), 2),
    (("Add delegated permission grant", "ApplicationManagement", "Core Directory", "Assign", Target::ServicePrincipal, Actor::User, "Directory"), 2),
    (("Add app role assignment to service principal", "ApplicationManagement", "Core Directory", "Assign", Target::ServicePrincipal, Actor::Admin, "Directory"), 1),
    (("Update service principal", "ApplicationManagement", "Core Directory", "Update", Target::ServicePrincipal, Actor::App, "Directory"), 6),
    (("Update conditional access policy", "Policy", "Conditional Access", "Update", Target::Policy, Actor::Admin, "IPCGraph"), 1),
    (("Update policy", "Policy", "Core Directory", "Update", Target::Policy, Actor::Admin, "Directory"), 1),
    (("Add device", "Device", "Core Directory", "Add", Target::Device, Actor::App, "Directory"), 3),
    (("Update device", "Device", "Core Directory", "Update", Target::Device, Actor::App, "Directory"), 6),
    (("Update StsRefreshTokenValidFrom Timestamp", "UserManagement", "Core Directory", "Update", Target::User, Actor::App, "Directory"), 4),
    (("GroupLifecyclePolicies_Get", "GroupManagement", "Self-service Group Management", "Update", Target::Other, Actor::User, "SSGM"), 2),
    (("Update domain", "DirectoryManagement", "Core Directory", "Update", Target::Domain, Actor::Admin, "Directory"), 1),
];

/// First-party callers that act on the directory: (displayName, appId).
#[rustfmt::skip]
const SYSTEM_APPS: &[(&str, &str)] = &[
    ("Device Registration Service", "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"),
    ("Microsoft Substrate Management", "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"),
    ("Managed Service Identity", "ef5d5c69-a5df-46bb-acaf-426f161a21a2"),
    ("Microsoft Intune", "0000000a-0000-0000-c000-000000000000"),
];

/// The caller of role assignments made through PIM.
const PIM_APP: (&str, &str) = ("MS-PIM", "01fc33a7-78ba-4d2f-a4b7-768e336e890e");

fn admin<'a>(tenant: &'a Tenant, rng: &mut SmallRng) -> &'a User {
    for _ in 0..64 {
        let u = &tenant.users[rng.random_range(0..tenant.users.len())];
        if u.is_admin() && u.enabled {
            return u;
        }
    }
    &tenant.users[0]
}

fn prop(name: &str, old: Option<String>, new: Option<String>) -> Value {
    obj! { "displayName" => name, "oldValue" => old, "newValue" => new }
}

fn user_target(u: &User, props: Vec<Value>) -> Value {
    obj! {
        "id" => u.id.as_str(), "displayName" => Value::Null, "type" => "User", "userPrincipalName" => u.upn.as_str(),
        "groupType" => Value::Null, "modifiedProperties" => props, "administrativeUnits" => Vec::<Value>::new(),
    }
}

fn target(id: &str, name: &str, kind: &str, props: Vec<Value>) -> Value {
    obj! {
        "id" => id, "displayName" => name, "type" => kind, "userPrincipalName" => Value::Null,
        "groupType" => Value::Null, "modifiedProperties" => props, "administrativeUnits" => Vec::<Value>::new(),
    }
}

pub(crate) fn build(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let (name, category, service, op_type, tgt, actor, prefix) = *pick_weighted(rng, ACTIVITIES);
    let correlation = guid(rng);
    let id = format!(
        "{prefix}_{correlation}_{}_{}",
        upper_letters(rng, 5),
        rng.random_range(10_000_000..999_999_999u32)
    );
    let subject = ctx.user(rng);
    let initiated_by: Value = match actor {
        Actor::Pim => {
            let (app_name, app_id) = PIM_APP;
            let app = obj! { "appId" => app_id, "displayName" => app_name, "servicePrincipalId" => t.sp_id_for(app_id), "servicePrincipalName" => Value::Null };
            obj! { "app" => app, "user" => Value::Null }
        }
        Actor::App => {
            let (app_name, app_id) = *pick(rng, SYSTEM_APPS);
            let app = obj! { "appId" => app_id, "displayName" => app_name, "servicePrincipalId" => t.sp_id_for(app_id), "servicePrincipalName" => Value::Null };
            obj! { "app" => app, "user" => Value::Null }
        }
        Actor::Admin | Actor::User => {
            let who = if actor == Actor::Admin {
                admin(t, rng)
            } else {
                subject
            };
            let ip = if rng.random_bool(0.6) {
                office_ip(who.home_city, rng)
            } else {
                who.home_ip.clone()
            };
            let roles: Vec<&str> = who.admin_role.iter().map(|(n, _)| *n).collect();
            let user = obj! {
                "id" => who.id.as_str(), "displayName" => Value::Null, "userPrincipalName" => who.upn.as_str(),
                "ipAddress" => ip.as_str(), "roles" => roles, "userType" => if who.guest { "Guest" } else { "Member" },
                "homeTenantId" => t.tenant_id.as_str(), "homeTenantName" => Value::Null,
            };
            obj! { "app" => Value::Null, "user" => user }
        }
    };
    let targets: Vec<Value> = match tgt {
        Target::User => {
            let props = match name {
                "Update user" => {
                    let (old, _) = *pick(rng, DEPARTMENTS);
                    vec![
                        prop(
                            "Department",
                            Some(old.to_owned()),
                            Some(subject.department.to_owned()),
                        ),
                        prop(
                            "Included Updated Properties",
                            None,
                            Some("Department".to_owned()),
                        ),
                    ]
                }
                "Add user" => vec![
                    prop("AccountEnabled", None, Some("true".to_owned())),
                    prop("DisplayName", None, Some(subject.display_name.clone())),
                    prop("UserPrincipalName", None, Some(subject.upn.clone())),
                ],
                "Update StsRefreshTokenValidFrom Timestamp" => {
                    vec![prop("StsRefreshTokensValidFrom", None, Some(iso7(ctx.at)))]
                }
                _ => vec![],
            };
            vec![user_target(subject, props)]
        }
        Target::Group => {
            let g = pick(rng, &t.groups);
            let group_prop = |n: &str, v: &str| prop(n, None, Some(v.to_owned()));
            vec![
                target(
                    &g.id,
                    &g.display_name,
                    "Group",
                    vec![
                        group_prop("Group.ObjectID", &g.id),
                        group_prop("Group.DisplayName", &g.display_name),
                    ],
                ),
                user_target(subject, vec![]),
            ]
        }
        Target::Role => {
            let (role, role_id) = *pick(rng, ADMIN_ROLES);
            vec![
                target(
                    role_id,
                    role,
                    "Role",
                    vec![
                        prop("Role.DisplayName", None, Some(role.to_owned())),
                        prop("Role.TemplateId", None, Some(role_id.to_owned())),
                    ],
                ),
                user_target(subject, vec![]),
            ]
        }
        Target::Application => {
            let app = pick(rng, &t.apps);
            let key = guid(rng);
            vec![target(
                &app.object_id,
                &app.display_name,
                "Application",
                vec![
                    prop(
                        "KeyDescription",
                        Some("[]".to_owned()),
                        Some(format!(
                            "[KeyIdentifier={key},KeyType=Password,KeyUsage=Verify,DisplayName=ci-secret]"
                        )),
                    ),
                    prop(
                        "Included Updated Properties",
                        None,
                        Some("KeyDescription".to_owned()),
                    ),
                ],
            )]
        }
        Target::ServicePrincipal => {
            let app = pick(rng, &t.apps);
            let props = if name == "Consent to application" {
                vec![
                    prop(
                        "ConsentContext.IsAdminConsent",
                        None,
                        Some(rng.random_bool(0.2).to_string()),
                    ),
                    prop(
                        "ConsentAction.Permissions",
                        None,
                        Some(format!(
                            "[] => [[Id: {}, ClientId: {}, Scope: User.Read openid profile offline_access]]",
                            guid(rng),
                            app.sp_id
                        )),
                    ),
                ]
            } else {
                vec![prop("AppPrincipalId", None, Some(app.app_id.clone()))]
            };
            vec![target(
                &app.sp_id,
                &app.display_name,
                "ServicePrincipal",
                props,
            )]
        }
        Target::Policy => {
            let p = pick(rng, &t.ca_policies);
            vec![target(
                &p.id,
                p.display_name,
                "Policy",
                vec![prop(
                    "ConditionalAccessPolicy",
                    None,
                    Some(format!(
                        "{{\"id\":\"{}\",\"displayName\":\"{}\",\"state\":\"enabled\"}}",
                        p.id, p.display_name
                    )),
                )],
            )]
        }
        Target::Device => {
            let d = &subject.devices[0];
            vec![target(
                if d.id.is_empty() {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    &d.id
                },
                &d.display_name,
                "Device",
                vec![prop("DeviceOSType", None, Some(d.os.to_owned()))],
            )]
        }
        Target::Domain => vec![target(
            &guid(rng),
            &t.federated_domain,
            "Domain",
            vec![prop(
                "PasswordNotificationWindowInDays",
                Some("14".to_owned()),
                Some("30".to_owned()),
            )],
        )],
        Target::Other => vec![target(
            "00000000-0000-0000-0000-000000000000",
            "",
            "N/A",
            vec![],
        )],
    };
    let ok = rng.random_bool(0.97);
    let user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66";
    let details = if ctx.partial {
        vec![]
    } else {
        vec![
            obj! { "key" => "User-Agent", "value" => user_agent },
            obj! { "key" => "UserType", "value" => "Member" },
        ]
    };
    let g = obj! {
        "id" => id,
        "category" => category,
        "correlationId" => correlation,
        "result" => if ok { "success" } else { "failure" },
        "resultReason" => if ok { "" } else { "Microsoft.Online.Workflows.ObjectAlreadyExistsException" },
        "activityDisplayName" => name,
        "activityDateTime" => iso7(ctx.at),
        "loggedByService" => service,
        "operationType" => op_type,
        "initiatedBy" => initiated_by,
        "userAgent" => if matches!(actor, Actor::App | Actor::Pim) { None } else { Some(user_agent) },
        "targetResources" => targets,
        "additionalDetails" => details,
    };
    Built::entra(ctx.at, g)
}
