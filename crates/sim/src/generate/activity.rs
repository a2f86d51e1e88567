//! Azure Activity Log records in the Event Hubs / Storage (resource-log) form (wire-formats.md §6):
//! the envelope carries operation, caller, identity and result; `properties` the event properties.

use chrono::TimeDelta;
use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::{Map, Value};

use super::{Built, Ctx, into_map, office_ip};
use crate::category::Category;
use crate::tenant::{AzureResource, ResourceKind, Tenant};
use crate::util::{guid, hex, iso7, pick, pick_weighted};

/// Administrative operations: (resource kind, action suffix, statusCode, weight).
const ADMIN_OPS: &[((ResourceKind, &str, &str), u32)] = &[
    ((ResourceKind::VirtualMachine, "write", "OK"), 6),
    (
        (ResourceKind::VirtualMachine, "start/action", "Accepted"),
        5,
    ),
    (
        (
            ResourceKind::VirtualMachine,
            "deallocate/action",
            "Accepted",
        ),
        4,
    ),
    (
        (ResourceKind::VirtualMachine, "restart/action", "Accepted"),
        2,
    ),
    ((ResourceKind::KeyVault, "write", "OK"), 1),
    ((ResourceKind::KeyVault, "accessPolicies/write", "OK"), 1),
    ((ResourceKind::StorageAccount, "listKeys/action", "OK"), 3),
    ((ResourceKind::StorageAccount, "write", "OK"), 1),
    (
        (
            ResourceKind::NetworkSecurityGroup,
            "securityRules/write",
            "Created",
        ),
        2,
    ),
    (
        (
            ResourceKind::NetworkSecurityGroup,
            "securityRules/delete",
            "OK",
        ),
        1,
    ),
    ((ResourceKind::WebApp, "restart/action", "OK"), 2),
    ((ResourceKind::WebApp, "config/write", "OK"), 2),
];

fn resource<'a>(t: &'a Tenant, rng: &mut SmallRng, kind: ResourceKind) -> &'a AzureResource {
    let all: Vec<&AzureResource> = t.resources_of(kind).collect();
    if all.is_empty() {
        &t.resources[rng.random_range(0..t.resources.len())]
    } else {
        all[rng.random_range(0..all.len())]
    }
}

fn hierarchy(t: &Tenant, r: &AzureResource) -> String {
    format!(
        "{}/{}-mg/{}",
        t.tenant_id,
        t.name.to_ascii_lowercase(),
        t.subscriptions[r.subscription].id
    )
}

fn admin_identity(ctx: &Ctx<'_>, rng: &mut SmallRng, scope: &str, action: &str) -> (Value, String) {
    let t = ctx.tenant;
    let at = ctx.at.timestamp();
    if rng.random_bool(0.3) {
        let sp = pick(rng, &t.service_principals);
        let identity = obj! {
            "authorization" => obj! {
                "scope" => scope, "action" => action,
                "evidence" => obj! {
                    "role" => "Contributor", "roleAssignmentScope" => format!("/subscriptions/{}", t.subscriptions[0].id),
                    "roleAssignmentId" => hex(rng, 32), "roleDefinitionId" => "b24988ac618042a0ab8820f7382dd24c",
                    "principalId" => sp.id.replace('-', ""), "principalType" => "ServicePrincipal",
                },
            },
            "claims" => obj! {
                "aud" => "https://management.core.windows.net/", "iss" => format!("https://sts.windows.net/{}/", t.tenant_id),
                "iat" => (at - 600).to_string(), "nbf" => (at - 600).to_string(), "exp" => (at + 3000).to_string(),
                "appid" => sp.app_id.as_str(), "appidacr" => "1", "idtyp" => "app",
                "http://schemas.microsoft.com/identity/claims/objectidentifier" => sp.id.as_str(),
                "http://schemas.microsoft.com/identity/claims/tenantid" => t.tenant_id.as_str(),
            },
        };
        return (identity, sp.ip.clone());
    }
    let u = &t.users[rng.random_range(0..t.users.len().min(12))];
    let ip = office_ip(u.home_city, rng);
    let identity = obj! {
        "authorization" => obj! {
            "scope" => scope, "action" => action,
            "evidence" => obj! {
                "role" => if u.is_admin() { "Owner" } else { "Contributor" }, "roleAssignmentScope" => format!("/subscriptions/{}", t.subscriptions[0].id),
                "roleAssignmentId" => hex(rng, 32), "roleDefinitionId" => "8e3af657a8ff443ca75c2fe8c4bcb635",
                "principalId" => u.id.replace('-', ""), "principalType" => "User",
            },
        },
        "claims" => obj! {
            "aud" => "https://management.core.windows.net/", "iss" => format!("https://sts.windows.net/{}/", t.tenant_id),
            "iat" => (at - 900).to_string(), "nbf" => (at - 900).to_string(), "exp" => (at + 3600).to_string(),
            "appid" => "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "appidacr" => "0", "ipaddr" => ip.as_str(),
            "name" => u.display_name.as_str(),
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" => u.upn.as_str(),
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" => u.upn.as_str(),
            "http://schemas.microsoft.com/identity/claims/objectidentifier" => u.id.as_str(),
            "http://schemas.microsoft.com/identity/claims/scope" => "user_impersonation",
            "http://schemas.microsoft.com/identity/claims/tenantid" => t.tenant_id.as_str(),
        },
    };
    (identity, ip)
}

fn envelope(
    ctx: &Ctx<'_>,
    resource_id: &str,
    op: &str,
    cat: Category,
    result: &str,
    signature: &str,
    level: &str,
) -> Map<String, Value> {
    into_map(obj! {
        "time" => iso7(ctx.at),
        "resourceId" => resource_id.to_ascii_uppercase(),
        "operationName" => op,
        "category" => cat.name(),
        "resultType" => result,
        "resultSignature" => signature,
        "durationMs" => 0,
        "level" => level,
        "location" => "global",
    })
}

pub(crate) fn build(ctx: &Ctx<'_>, cat: Category) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let correlation = guid(rng);
    let (mut env, props) = match cat {
        Category::Administrative => {
            let (kind, action, status) = *pick_weighted(rng, ADMIN_OPS);
            let r = resource(t, rng, kind);
            let action = format!("{}/{action}", kind.provider_type());
            let (identity, ip) = admin_identity(ctx, rng, &r.id, &action);
            let failed = rng.random_bool(0.03);
            let (result, sig, status) = if failed {
                ("Failure", "Failed.Forbidden", "Forbidden")
            } else {
                (
                    "Success",
                    if status == "Created" {
                        "Succeeded.Created"
                    } else {
                        "Succeeded.OK"
                    },
                    status,
                )
            };
            let mut env = envelope(
                ctx,
                &r.id,
                &action.to_ascii_uppercase(),
                cat,
                result,
                sig,
                if failed { "Error" } else { "Information" },
            );
            env.insert("durationMs".into(), rng.random_range(50..4000).into());
            env.insert("callerIpAddress".into(), ip.into());
            env.insert("identity".into(), identity);
            let props = obj! {
                "statusCode" => status, "serviceRequestId" => guid(rng), "eventCategory" => "Administrative",
                "entity" => r.id.as_str(), "message" => action.as_str(), "hierarchy" => hierarchy(t, r),
            };
            (env, props)
        }
        Category::Policy => {
            let r = &t.resources[rng.random_range(0..t.resources.len())];
            let (effect, op) = *pick(
                rng,
                &[
                    ("Audit", "audit"),
                    ("AuditIfNotExists", "auditIfNotExists"),
                    ("Deny", "deny"),
                ],
            );
            let policy = format!(
                "[{{\"policyDefinitionId\":\"/providers/Microsoft.Authorization/policyDefinitions/{}\",\"policyDefinitionName\":\"{}\",\"policyDefinitionEffect\":\"{effect}\",\"policyAssignmentId\":\"/subscriptions/{}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn\",\"policyAssignmentName\":\"SecurityCenterBuiltIn\"}}]",
                guid(rng),
                guid(rng),
                t.subscriptions[r.subscription].id
            );
            let env = envelope(
                ctx,
                &r.id,
                &format!(
                    "MICROSOFT.AUTHORIZATION/POLICIES/{}/ACTION",
                    op.to_ascii_uppercase()
                ),
                cat,
                "Success",
                "Succeeded",
                "Warning",
            );
            let props = obj! {
                "isComplianceCheck" => "True", "resourceLocation" => r.location, "ancestors" => format!("{}-mg,{}", t.name.to_ascii_lowercase(), t.tenant_id),
                "policies" => policy, "eventCategory" => "Policy", "entity" => r.id.as_str(),
                "message" => format!("Microsoft.Authorization/policies/{op}/action"), "hierarchy" => hierarchy(t, r),
            };
            (env, props)
        }
        Category::Security => {
            let r = resource(t, rng, ResourceKind::VirtualMachine);
            let (alert, severity, intent) = *pick(
                rng,
                &[
                    (
                        "Suspicious PowerShell command line detected",
                        "High",
                        "Execution",
                    ),
                    ("Failed SSH brute force attack", "Medium", "PreAttack"),
                    (
                        "Access from a suspicious IP address",
                        "Medium",
                        "InitialAccess",
                    ),
                ],
            );
            let env = envelope(
                ctx,
                &r.id,
                "Microsoft.Security/locations/alerts/activate/action",
                cat,
                "Succeeded",
                "Succeeded",
                "Warning",
            );
            let props = obj! {
                "eventCategory" => "Security", "eventName" => "Security Alert", "operationId" => guid(rng),
                "alertDisplayName" => alert, "severity" => severity, "intent" => intent, "compromisedEntity" => r.name.as_str(),
                "attackedResourceType" => "Virtual Machine", "remediationSteps" => "[\"Review the alert in Microsoft Defender for Cloud\"]",
                "entity" => r.id.as_str(),
            };
            (env, props)
        }
        Category::ServiceHealth => {
            let sub = &t.subscriptions[rng.random_range(0..t.subscriptions.len())];
            let service = *pick(
                rng,
                &[
                    "Virtual Machines",
                    "Azure Storage",
                    "Key Vault",
                    "App Service",
                ],
            );
            let region = super::graph_activity::region_display(crate::catalog::CITIES[0].region);
            let tracking = format!(
                "{}-{}",
                hex(rng, 4).to_ascii_uppercase(),
                hex(rng, 3).to_ascii_uppercase()
            );
            let stage = *pick(rng, &["Active", "Resolved"]);
            let env = envelope(
                ctx,
                &format!("/subscriptions/{}", sub.id),
                "Microsoft.ServiceHealth/incident/action",
                cat,
                stage,
                "",
                "Warning",
            );
            let props = obj! {
                "eventCategory" => "ServiceHealth",
                "eventProperties" => obj! {
                    "title" => format!("Degraded performance for {service} - {region}"), "service" => service, "region" => region,
                    "communication" => format!("Starting at {} UTC, a subset of customers using {service} in {region} may experience failures.", iso7(ctx.at - TimeDelta::minutes(40))),
                    "incidentType" => "Incident", "trackingId" => tracking,
                    "impactStartTime" => iso7(ctx.at - TimeDelta::minutes(40)),
                    "impactedServices" => format!("[{{\"ImpactedRegions\":[{{\"RegionName\":\"{region}\"}}],\"ServiceName\":\"{service}\"}}]"),
                    "stage" => stage, "version" => "0.1.1",
                },
            };
            (env, props)
        }
        Category::ResourceHealth => {
            let r = resource(t, rng, ResourceKind::VirtualMachine);
            let (verb, current, previous) = *pick(
                rng,
                &[
                    ("Activated", "Unavailable", "Available"),
                    ("Resolved", "Available", "Unavailable"),
                    ("Updated", "Unknown", "Unknown"),
                ],
            );
            let env = envelope(
                ctx,
                &r.id,
                &format!("Microsoft.Resourcehealth/healthevent/{verb}/action"),
                cat,
                verb,
                "",
                "Informational",
            );
            let props = obj! {
                "eventCategory" => "ResourceHealth",
                "eventProperties" => obj! {
                    "title" => if current == "Unavailable" { "We're sorry, your virtual machine isn't available because of connectivity loss." } else { "Your virtual machine is available." },
                    "details" => "VirtualMachineStartInitiatedByControlPlane", "currentHealthStatus" => current,
                    "previousHealthStatus" => previous, "type" => "Downtime", "cause" => *pick(rng, &["PlatformInitiated", "UserInitiated"]),
                },
            };
            (env, props)
        }
        Category::Alert => {
            let r = resource(t, rng, ResourceKind::VirtualMachine);
            let rule = format!("High CPU on {}", r.name);
            let env = envelope(
                ctx,
                &r.id,
                "Microsoft.Insights/AlertRules/Activated/Action",
                cat,
                "Activated",
                "",
                "Critical",
            );
            let props = obj! {
                "eventCategory" => "Alert", "RuleUri" => format!("/subscriptions/{}/resourceGroups/{}/providers/microsoft.insights/alertrules/{rule}", t.subscriptions[r.subscription].id, r.resource_group),
                "RuleName" => rule.as_str(), "RuleDescription" => "", "Threshold" => "80", "WindowSizeInMinutes" => "5",
                "Aggregation" => "Average", "Operator" => "GreaterThan", "MetricName" => "Percentage CPU", "MetricUnit" => "Percent",
            };
            (env, props)
        }
        Category::Recommendation => {
            let r = &t.resources[rng.random_range(0..t.resources.len())];
            let (name, category) = *pick(
                rng,
                &[
                    ("Enable soft delete for your Key Vault", "HighAvailability"),
                    (
                        "Right-size or shutdown underutilized virtual machines",
                        "Cost",
                    ),
                    (
                        "Storage accounts should restrict network access",
                        "Security",
                    ),
                ],
            );
            let env = envelope(
                ctx,
                &r.id,
                "Microsoft.Advisor/recommendations/available/action",
                cat,
                "Succeeded",
                "",
                "Informational",
            );
            let props = obj! {
                "eventCategory" => "Recommendation", "recommendationSchemaVersion" => "1.0", "recommendationCategory" => category,
                "recommendationImpact" => "Medium", "recommendationName" => name, "recommendationType" => guid(rng),
                "recommendationResourceLink" => format!("https://portal.azure.com/#blade/Microsoft_Azure_Expert/RecommendationListBlade/source/ActivityLog/recommendationTypeId/{}", guid(rng)),
            };
            (env, props)
        }
        _ => {
            let r = resource(t, rng, ResourceKind::WebApp);
            let old = rng.random_range(1..4);
            let up = rng.random_bool(0.5);
            let new = if up { old + 1 } else { (old - 1).max(1) };
            let env = envelope(
                ctx,
                &r.id,
                if up {
                    "Microsoft.Insights/AutoscaleSettings/Scaleup/Action"
                } else {
                    "Microsoft.Insights/AutoscaleSettings/Scaledown/Action"
                },
                cat,
                "Succeeded",
                "",
                "Informational",
            );
            let props = obj! {
                "eventCategory" => "Autoscale", "Description" => format!("The autoscale engine changed the instance count from {old} to {new}."),
                "ResourceName" => r.id.as_str(), "OldInstancesCount" => old.to_string(), "NewInstancesCount" => new.to_string(),
                "ActiveAutoscaleProfile" => "{\"Name\":\"Default\",\"Capacity\":{\"Minimum\":\"1\",\"Maximum\":\"5\",\"Default\":\"1\"}}",
                "LastScaleActionTime" => iso7(ctx.at),
            };
            (env, props)
        }
    };
    env.insert("correlationId".into(), correlation.into());
    Built {
        time: ctx.at,
        graph: props,
        envelope: Some(env),
    }
}
