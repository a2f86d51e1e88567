//! Log Analytics rows. Every column of the table's list ([`super::la_columns`]) is filled, in order: table
//! specials (AzureActivity, aliases where the column and Graph names differ), envelope-derived columns, the
//! Graph field of the same name (camelCase, then case-insensitive), then the envelope. Values are coerced
//! to the column type: `string` columns hold nested objects as JSON text (which is why
//! AADNonInteractiveUserSignInLogs has `Status`, `DeviceDetail`… as strings), `dynamic` columns keep JSON.

use serde_json::{Map, Value};

use super::la_schema::{ColType, la_columns};
use super::{Q_LA_JSON_STRINGS, envelope, path, str_of};
use crate::SimEvent;
use crate::category::Category;
use crate::tenant::Tenant;
use crate::util::{guid_of, hit, iso7, mix};

struct Ctx<'a> {
    ev: &'a SimEvent,
    cat: Category,
    env: &'a Map<String, Value>,
    g: &'a Value,
    tenant: &'a Tenant,
    table: &'static str,
}

enum Src {
    Graph(&'static str),
    Env(&'static str),
    Const(&'static str),
    Val(Value),
}

fn lower_camel(col: &str) -> String {
    let run = col.chars().take_while(char::is_ascii_uppercase).count();
    let next_lower = col.chars().nth(run).is_some_and(|c| c.is_ascii_lowercase());
    let n = if run > 1 && next_lower { run - 1 } else { run };
    col.char_indices()
        .map(|(i, c)| if i < n { c.to_ascii_lowercase() } else { c })
        .collect()
}

fn sign_in_alias(col: &str) -> Option<Src> {
    Some(match col {
        "Location" => Src::Env("location"),
        "LocationDetails" => Src::Graph("location"),
        "ConditionalAccessPolicies" => Src::Graph("appliedConditionalAccessPolicies"),
        "ResourceIdentity" => Src::Graph("resourceId"),
        "ProcessingTimeInMs" => Src::Graph("processingTimeInMilliseconds"),
        "RiskLevel" => Src::Graph("riskLevelDuringSignIn"),
        "Requirement" => Src::Graph("authenticationRequirement"),
        _ => return None,
    })
}

fn alias(c: &Ctx<'_>, col: &str) -> Option<Src> {
    match c.table {
        "SigninLogs"
        | "AADNonInteractiveUserSignInLogs"
        | "ADFSSignInLogs"
        | "AADServicePrincipalSignInLogs"
        | "AADManagedIdentitySignInLogs" => {
            if col == "IsRisky" {
                let risky = path(c.g, "riskLevelDuringSignIn")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r != "none");
                return Some(Src::Val(risky.into()));
            }
            sign_in_alias(col)
        }
        "AuditLogs" => match col {
            "Category" => Some(Src::Graph("category")),
            "AADOperationType" => Some(Src::Graph("operationType")),
            _ => None,
        },
        "NetworkAccessTraffic" => Some(Src::Graph(match col {
            "DestinationWebCategories" => "destinationWebCategory.displayName",
            "OriginHeader" => "headers.origin",
            "ReferrerHeader" => "headers.referrer",
            "XForwardedFor" => "headers.xForwardedFor",
            "RuleName" => "policyRuleName",
            "AppId" => "applicationSnapshot.appId",
            "ConnectorId" => "privateAccessDetails.connectorId",
            "ConnectorIp" => "privateAccessDetails.connectorIp",
            "ConnectorName" => "privateAccessDetails.connectorName",
            "ProcessingRegion" => "popProcessingRegion",
            _ => return None,
        })),
        "AADRiskyAgents" if col == "AgentType" => Some(Src::Graph("@odata.type")),
        "MicrosoftGraphActivityLogs" if col == "TimeGenerated" => {
            Some(Src::Val(iso7(c.ev.time).into()))
        }
        "AZKVAuditLogs" if col == "_ResourceId" => Some(Src::Val(
            str_of(c.env, "resourceId")
                .unwrap_or("")
                .to_ascii_lowercase()
                .into(),
        )),
        "FlowLogFlowEvent" if col == "FlowRecords" => Some(Src::Val(c.g.clone())),
        "AzureActivity" => activity(c, col),
        _ => None,
    }
}

/// Splits an ARM id into (subscription, resource group, provider, last name).
fn arm_parts(id: &str) -> (String, String, String, String) {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let after = |key: &str| {
        segs.iter()
            .position(|s| s.eq_ignore_ascii_case(key))
            .and_then(|i| segs.get(i + 1))
            .map_or(String::new(), |s| (*s).to_owned())
    };
    (
        after("subscriptions"),
        after("resourceGroups"),
        after("providers").to_ascii_uppercase(),
        segs.last().map_or(String::new(), |s| (*s).to_owned()),
    )
}

fn activity(c: &Ctx<'_>, col: &str) -> Option<Src> {
    let rid = str_of(c.env, "resourceId").unwrap_or("");
    let (sub, rg, provider, name) = arm_parts(rid);
    let identity = c.env.get("identity");
    let claims = identity.and_then(|i| i.get("claims")).cloned();
    Some(match col {
        "ActivityStatus" | "ActivitySubstatus" | "Authorization" | "Category" | "Claims" | "ResourceProvider" => Src::Const(""),
        "ActivityStatusValue" => Src::Env("resultType"),
        "ActivitySubstatusValue" => Src::Graph("statusCode"),
        "Authorization_d" => Src::Val(identity.and_then(|i| i.get("authorization")).cloned().unwrap_or(Value::Null)),
        "Claims_d" => Src::Val(claims.clone().unwrap_or(Value::Null)),
        "Caller" => {
            let caller = claims.as_ref().and_then(|cl| {
                cl.get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn").or_else(|| cl.get("appid")).cloned()
            });
            Src::Val(caller.unwrap_or_else(|| Value::from(operation_caller(c.cat))))
        }
        "CategoryValue" => Src::Env("category"),
        "EventDataId" => Src::Val(guid_of(mix(c.ev.seed ^ 0xE7D1)).into()),
        "EventSubmissionTimestamp" => Src::Val(iso7(c.ev.received).into()),
        "Hierarchy" => Src::Graph("hierarchy"),
        "HTTPRequest" => match str_of(c.env, "callerIpAddress") {
            Some(ip) => Src::Val(format!("{{\"clientRequestId\":\"{}\",\"clientIpAddress\":\"{ip}\",\"method\":\"PUT\"}}", guid_of(mix(c.ev.seed ^ 0x4774))).into()),
            None => Src::Const(""),
        },
        "Level" => Src::Env("level"),
        "OperationId" => Src::Val(path(c.g, "operationId").or_else(|| c.env.get("correlationId")).cloned().unwrap_or(Value::Null)),
        "OperationName" | "OperationNameValue" => Src::Env("operationName"),
        "Properties" => Src::Val(c.g.to_string().into()),
        "Properties_d" => Src::Val(c.g.clone()),
        "Resource" => Src::Val(name.into()),
        "ResourceGroup" => Src::Val(rg.into()),
        "_ResourceId" => Src::Val(rid.to_ascii_lowercase().into()),
        "ResourceProviderValue" => Src::Val(provider.into()),
        "SubscriptionId" | "_SubscriptionId" => Src::Val(sub.into()),
        "TimeGenerated" => Src::Val(iso7(c.ev.time).into()),
        "SourceSystem" => Src::Const("Azure"),
        _ => return None,
    })
}

fn operation_caller(cat: Category) -> &'static str {
    match cat {
        Category::Policy => "Microsoft.Authorization/policies",
        Category::Security => "Microsoft.Security",
        Category::Autoscale | Category::Alert => "Microsoft.Insights",
        _ => "",
    }
}

fn common(c: &Ctx<'_>, col: &str) -> Option<Src> {
    Some(match col {
        // Entra tables stamp the time Log Analytics received the record; resource-log tables (AZKV...) the
        // record's own `time`.
        "TimeGenerated" => Src::Val(
            iso7(if c.cat.is_entra() {
                c.ev.received
            } else {
                c.ev.time
            })
            .into(),
        ),
        "Type" => Src::Val(c.table.into()),
        "TenantId" => Src::Val(c.tenant.workspace_id.as_str().into()),
        "SourceSystem" => Src::Const(if c.cat.is_entra() {
            "Azure AD"
        } else {
            "Azure"
        }),
        "_IsBillable" => Src::Const("True"),
        "AADTenantId" | "AadTenantId" => Src::Val(c.tenant.tenant_id.as_str().into()),
        "Category" => Src::Env("category"),
        "OperationName" => Src::Env("operationName"),
        "OperationVersion" => Src::Env("operationVersion"),
        "ResultType" => Src::Env("resultType"),
        "ResultSignature" => Src::Env("resultSignature"),
        "ResultDescription" => Src::Env("resultDescription"),
        "DurationMs" => Src::Env("durationMs"),
        "Identity" => Src::Env("identity"),
        "CallerIpAddress" => Src::Env("callerIpAddress"),
        "ResourceId" => Src::Env("resourceId"),
        "Level" => Src::Val(
            c.env
                .get("Level")
                .or_else(|| c.env.get("level"))
                .cloned()
                .unwrap_or(Value::Null),
        ),
        "Resource" | "ResourceGroup" | "ResourceProvider" if c.cat.is_entra() => {
            Src::Const("Microsoft.aadiam")
        }
        "CorrelationId" => Src::Val(
            c.g.get("correlationId")
                .or_else(|| c.env.get("correlationId"))
                .cloned()
                .unwrap_or(Value::Null),
        ),
        _ => return None,
    })
}

fn lookup(c: &Ctx<'_>, col: &str) -> Option<Value> {
    let src = alias(c, col).or_else(|| common(c, col));
    match src {
        Some(Src::Graph(p)) => return path(c.g, p).cloned(),
        Some(Src::Env(k)) => return c.env.get(k).cloned(),
        Some(Src::Const(s)) => return Some(s.into()),
        Some(Src::Val(v)) => return Some(v),
        None => {}
    }
    let camel = lower_camel(col);
    if let Some(v) = c.g.get(&camel) {
        return Some(v.clone());
    }
    let ci = |m: &Map<String, Value>| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(col))
            .map(|(_, v)| v.clone())
    };
    c.g.as_object().and_then(ci).or_else(|| ci(c.env))
}

fn coerce(v: Option<Value>, ty: ColType) -> Value {
    match (ty, v) {
        (ColType::S, None | Some(Value::Null)) => Value::String(String::new()),
        (ColType::S, Some(Value::String(s))) => Value::String(s),
        (ColType::S, Some(other)) => Value::String(other.to_string()),
        (ColType::D, v) => v.unwrap_or(Value::Null),
        (ColType::B, Some(Value::Bool(b))) => Value::Bool(b),
        (ColType::B, Some(Value::String(s))) => s
            .parse::<bool>()
            .or_else(|_| s.to_ascii_lowercase().parse())
            .map_or(Value::Null, Value::Bool),
        (ColType::T, Some(Value::String(s))) => Value::String(s),
        (ColType::L | ColType::I | ColType::R, Some(Value::Number(n))) => Value::Number(n),
        (ColType::L | ColType::I, Some(Value::String(s))) => {
            s.parse::<i64>().map_or(Value::Null, Value::from)
        }
        _ => Value::Null,
    }
}

/// Renders the Log Analytics row of an event.
pub(super) fn render(ev: &SimEvent, quirks: bool, tenant: &Tenant) -> Value {
    let Some(cat) = ev.category_enum() else {
        return Value::Null;
    };
    let table = cat.la_table();
    let cols = la_columns(table).unwrap_or(&[]);
    let derived;
    let env = match &ev.envelope {
        Some(e) => e,
        None => {
            derived = envelope::entra(&ev.graph, cat, ev.time, tenant);
            &derived
        }
    };
    let c = Ctx {
        ev,
        cat,
        env,
        g: &ev.graph,
        tenant,
        table,
    };
    let mut row = Map::new();
    for (name, ty) in cols {
        if *name == "_BilledSize" {
            continue;
        }
        row.insert((*name).to_owned(), coerce(lookup(&c, name), *ty));
    }
    if quirks && cat == Category::AuditLogs && hit(ev.seed, Q_LA_JSON_STRINGS, 300) {
        for k in ["TargetResources", "InitiatedBy", "AdditionalDetails"] {
            if let Some(v) = row.get_mut(k)
                && !v.is_string()
            {
                *v = Value::String(v.to_string());
            }
        }
    }
    if cols.iter().any(|(n, _)| *n == "_BilledSize") {
        let size = serde_json::to_string(&row).map_or(0, |s| s.len()) + 20;
        row.insert("_BilledSize".to_owned(), (size as f64).into());
    }
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::lower_camel;

    #[test]
    fn camel() {
        assert_eq!(lower_camel("IPAddress"), "ipAddress");
        assert_eq!(lower_camel("AADTenantId"), "aadTenantId");
        assert_eq!(lower_camel("ATContentH"), "atContentH");
        assert_eq!(lower_camel("Id"), "id");
        assert_eq!(lower_camel("UserPrincipalName"), "userPrincipalName");
    }
}
