//! The diagnostic-settings envelope of Entra records, derived from the Graph object (wire-formats.md §5.3),
//! and the envelope-level quirks.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{
    Q_DURATION_STRING, Q_GRAPH_STRINGS, Q_LEVEL_LOWER, Q_LEVEL_STRING, Q_LOWER_KEYS,
    Q_SP_BARE_GUID, Q_US_TIME, path, str_of,
};
use crate::category::Category;
use crate::tenant::Tenant;
use crate::util::{hit, iso7, us_locale};

fn s(g: &Value, p: &str) -> Option<String> {
    path(g, p)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn operation_name(cat: Category, g: &Value) -> String {
    match cat {
        c if c.is_sign_in() => "Sign-in activity".to_owned(),
        Category::AuditLogs => s(g, "activityDisplayName").unwrap_or_default(),
        Category::ProvisioningLogs => "Provisioning activity".to_owned(),
        Category::RiskyUsers => "Risky user".to_owned(),
        Category::UserRiskEvents => "User Risk Detection".to_owned(),
        Category::RiskyServicePrincipals => "Risky service principal".to_owned(),
        Category::ServicePrincipalRiskEvents => "Service principal risk detection".to_owned(),
        Category::RiskyAgents => "Risky agent".to_owned(),
        Category::AgentRiskEvents => "Agent risk detection".to_owned(),
        Category::NetworkAccessTrafficLogs => "Network access traffic log".to_owned(),
        Category::NetworkAccessConnectionEvents => "Network access connection event".to_owned(),
        Category::RemoteNetworkHealthLogs => "Remote network health event".to_owned(),
        Category::NetworkAccessAlerts => "Network access alert".to_owned(),
        Category::MicrosoftGraphActivityLogs => "Microsoft Graph Activity".to_owned(),
        Category::EnrichedOffice365AuditLogs => s(g, "Operation").unwrap_or_default(),
        other => other.name().to_owned(),
    }
}

/// Builds the envelope (all top-level fields except `properties`) of an Entra record.
pub(super) fn entra(
    g: &Value,
    cat: Category,
    time: DateTime<Utc>,
    tenant: &Tenant,
) -> Map<String, Value> {
    let mut e = Map::new();
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    let risk_time = |field: &str| s(g, field).unwrap_or_else(|| iso7(time));
    put(
        "time",
        Value::String(match cat {
            Category::UserRiskEvents | Category::ServicePrincipalRiskEvents => {
                risk_time("lastUpdatedDateTime")
            }
            Category::AgentRiskEvents => risk_time("lastModifiedDateTime"),
            _ => iso7(time),
        }),
    );
    put("resourceId", tenant.aadiam_resource_id().into());
    put("operationName", operation_name(cat, g).into());
    let version = if cat == Category::MicrosoftGraphActivityLogs {
        s(g, "apiVersion").unwrap_or_else(|| "v1.0".into())
    } else {
        "1.0".into()
    };
    put("operationVersion", version.into());
    put("category", cat.name().into());
    put("tenantId", tenant.tenant_id.as_str().into());
    let lower = |v: Option<String>| v.map(|x| x.to_ascii_lowercase());
    let none = || Some("None".to_owned());
    let f = match cat {
        c if c.is_sign_in() => {
            let code = path(g, "status.errorCode")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let workload = matches!(
                c,
                Category::ServicePrincipalSignInLogs | Category::ManagedIdentitySignInLogs
            );
            let signature = match c {
                Category::AdfsSignInLogs if code == 0 => "SUCCESS",
                Category::AdfsSignInLogs => "FAILURE",
                _ => "None",
            };
            Fields {
                result_type: Some(code.to_string()),
                signature: Some(signature.into()),
                description: s(g, "status.failureReason"),
                caller: s(g, "ipAddress"),
                correlation: s(g, "correlationId"),
                identity: if workload {
                    None
                } else {
                    s(g, "userDisplayName")
                },
                location: s(g, "location.countryOrRegion"),
                ..Fields::default()
            }
        }
        Category::AuditLogs => {
            let ok = s(g, "result").as_deref() == Some("success");
            Fields {
                result_type: Some(if ok { "Success" } else { "Failure" }.into()),
                signature: none(),
                description: if ok { None } else { s(g, "resultReason") },
                caller: s(g, "initiatedBy.user.ipAddress"),
                correlation: s(g, "correlationId"),
                identity: s(g, "initiatedBy.user.userPrincipalName")
                    .or_else(|| s(g, "initiatedBy.app.displayName")),
                ..Fields::default()
            }
        }
        Category::ProvisioningLogs => {
            let mut status = s(g, "provisioningStatusInfo.status").unwrap_or_default();
            if let Some(first) = status.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            Fields {
                result_type: Some(status),
                description: s(g, "provisioningStatusInfo.errorInformation.reason"),
                duration: path(g, "durationInMilliseconds").cloned(),
                correlation: s(g, "changeId"),
                identity: s(g, "id"),
                ..Fields::default()
            }
        }
        Category::UserRiskEvents
        | Category::ServicePrincipalRiskEvents
        | Category::AgentRiskEvents => Fields {
            signature: none(),
            caller: s(g, "ipAddress"),
            correlation: s(g, "id"),
            identity: lower(
                s(g, "userDisplayName")
                    .or_else(|| s(g, "servicePrincipalDisplayName"))
                    .or_else(|| s(g, "agentDisplayName")),
            ),
            location: lower(s(g, "location.countryOrRegion")),
            ..Fields::default()
        },
        Category::RiskyUsers | Category::RiskyServicePrincipals | Category::RiskyAgents => Fields {
            signature: none(),
            correlation: s(g, "id"),
            identity: lower(
                s(g, "userDisplayName")
                    .or_else(|| s(g, "displayName"))
                    .or_else(|| s(g, "agentDisplayName")),
            ),
            ..Fields::default()
        },
        Category::MicrosoftGraphActivityLogs => Fields {
            signature: path(g, "responseStatusCode")
                .map(|v| v.to_string().trim_matches('"').to_owned()),
            duration: path(g, "durationMs").cloned(),
            caller: s(g, "ipAddress"),
            correlation: s(g, "operationId"),
            location: s(g, "location"),
            ..Fields::default()
        },
        Category::EnrichedOffice365AuditLogs => Fields {
            result_type: s(g, "ResultStatus"),
            signature: none(),
            caller: s(g, "ClientIP"),
            correlation: s(g, "Id"),
            identity: s(g, "UserId"),
            ..Fields::default()
        },
        Category::NetworkAccessTrafficLogs | Category::NetworkAccessConnectionEvents => Fields {
            result_type: s(g, "action").or_else(|| s(g, "status")),
            signature: none(),
            caller: s(g, "sourceIp"),
            correlation: s(g, "connectionId"),
            identity: s(g, "userPrincipalName"),
            ..Fields::default()
        },
        Category::RemoteNetworkHealthLogs => Fields {
            result_type: s(g, "status"),
            signature: none(),
            description: s(g, "description"),
            caller: s(g, "sourceIp"),
            correlation: s(g, "remoteNetworkId"),
            ..Fields::default()
        },
        _ => Fields {
            result_type: s(g, "severity"),
            signature: none(),
            description: s(g, "description"),
            correlation: s(g, "id"),
            ..Fields::default()
        },
    };
    let mut put_opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            e.insert(k.to_owned(), v.into());
        }
    };
    put_opt("resultType", f.result_type);
    put_opt("resultSignature", f.signature);
    put_opt("resultDescription", f.description);
    put_opt("callerIpAddress", f.caller);
    put_opt("correlationId", f.correlation);
    put_opt("identity", f.identity);
    put_opt("location", f.location);
    e.insert(
        "durationMs".into(),
        f.duration.unwrap_or_else(|| Value::from(0)),
    );
    e.insert("Level".into(), 4.into());
    e
}

/// Envelope fields that vary by category.
#[derive(Default)]
struct Fields {
    result_type: Option<String>,
    signature: Option<String>,
    description: Option<String>,
    duration: Option<Value>,
    caller: Option<String>,
    correlation: Option<String>,
    identity: Option<String>,
    location: Option<String>,
}

fn rename(env: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = env.remove(from) {
        env.insert(to.to_owned(), v);
    }
}

fn stringify(env: &mut Map<String, Value>, k: &str) {
    if let Some(v) = env.get_mut(k)
        && v.is_number()
    {
        *v = Value::String(v.to_string());
    }
}

/// Envelope quirks (see the table in the module docs of [`crate::shape`]).
pub(super) fn quirks(
    env: &mut Map<String, Value>,
    g: &Value,
    cat: Category,
    seed: u64,
    tenant: &Tenant,
) {
    match cat {
        Category::AuditLogs => {
            if hit(seed, Q_LEVEL_LOWER, 350) {
                env.remove("Level");
                env.insert("level".into(), "Informational".into());
            }
            if hit(seed, Q_DURATION_STRING, 400) {
                stringify(env, "durationMs");
            }
            let app = path(g, "initiatedBy.app").is_some_and(Value::is_object);
            if app || str_of(env, "callerIpAddress").is_none() {
                env.insert("callerIpAddress".into(), "<null>".into());
            }
        }
        c if c.is_sign_in() => {
            if hit(seed, Q_LEVEL_STRING, 150) {
                env.insert("Level".into(), "4".into());
            }
            if hit(
                seed,
                Q_DURATION_STRING,
                if c == Category::AdfsSignInLogs {
                    1000
                } else {
                    100
                },
            ) {
                stringify(env, "durationMs");
            }
            if c == Category::ServicePrincipalSignInLogs && hit(seed, Q_SP_BARE_GUID, 500) {
                env.insert("resourceId".into(), tenant.tenant_id.as_str().into());
            }
        }
        Category::ProvisioningLogs if hit(seed, Q_DURATION_STRING, 200) => {
            stringify(env, "durationMs")
        }
        Category::UserRiskEvents | Category::RiskyUsers => {
            if hit(seed, Q_US_TIME, 800) {
                let t = str_of(env, "time").and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                if let Some(t) = t {
                    env.insert("time".into(), us_locale(t.with_timezone(&Utc)).into());
                }
                env.insert(
                    "resourceId".into(),
                    format!("/tenants/{}/providers/microsoft.aadiam", tenant.tenant_id).into(),
                );
            }
            if cat == Category::UserRiskEvents && hit(seed, Q_LEVEL_STRING, 200) {
                env.insert("Level".into(), "Information".into());
            }
        }
        Category::MicrosoftGraphActivityLogs if hit(seed, Q_GRAPH_STRINGS, 900) => {
            stringify(env, "durationMs");
            env.insert(
                "resourceId".into(),
                tenant.aadiam_resource_id().to_ascii_uppercase().into(),
            );
        }
        Category::KeyVaultAuditEvent if hit(seed, Q_DURATION_STRING, 500) => {
            stringify(env, "durationMs")
        }
        _ => {}
    }
    if cat.is_entra() && hit(seed, Q_LOWER_KEYS, 30) {
        rename(env, "callerIpAddress", "calleripaddress");
        rename(env, "correlationId", "correlationid");
    }
}
