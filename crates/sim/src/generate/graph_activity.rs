//! Microsoft Graph activity log records (the `properties` of the diagnostic record; there is no Graph API
//! for them). Delegated calls come from users, app-only calls from the automation service principals.

use chrono::TimeDelta;
use rand::Rng;
use serde_json::Value;

use super::{Built, Ctx, keep, origin};
use crate::catalog::{CITIES, GRAPH_REQUESTS};
use crate::util::{guid, iso0, iso7, pick, pick_weighted, token_id};

/// Azure region display name for a region code (`westus2` → `West US 2`).
pub(crate) fn region_display(code: &str) -> &'static str {
    match code {
        "westus2" => "West US 2",
        "eastus" => "East US",
        "centralus" => "Central US",
        "southcentralus" => "South Central US",
        "canadacentral" => "Canada Central",
        "brazilsouth" => "Brazil South",
        "uksouth" => "UK South",
        "northeurope" => "North Europe",
        "francecentral" => "France Central",
        "germanywestcentral" => "Germany West Central",
        "westeurope" => "West Europe",
        "swedencentral" => "Sweden Central",
        "spaincentral" => "Spain Central",
        "southafricanorth" => "South Africa North",
        "uaenorth" => "UAE North",
        "southindia" => "South India",
        "southeastasia" => "Southeast Asia",
        "japaneast" => "Japan East",
        "australiaeast" => "Australia East",
        "newzealandnorth" => "New Zealand North",
        _ => "West US 2",
    }
}

struct Caller {
    app_id: String,
    sp_id: Option<String>,
    user_id: Option<String>,
    ip: String,
    region: &'static str,
    roles: Option<&'static str>,
    scopes: Option<&'static str>,
    wids: Option<String>,
    auth_method: u32,
    user_agent: &'static str,
}

const DELEGATED_CLIENTS: &[(&str, u32)] = &[
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", 10),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", 8),
    ("de8bc8b5-d9f9-48b1-a8ad-b748da725064", 2),
    ("14d82eec-204b-4c2f-b7e8-296a70dab67e", 3),
];

pub(crate) fn build(ctx: &Ctx<'_>, app_only: bool) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let rows: Vec<((&str, &str), u32)> = GRAPH_REQUESTS
        .iter()
        .filter(|(_, _, app_ok, _)| !app_only || *app_ok)
        .map(|(m, p, _, w)| ((*m, *p), *w))
        .collect();
    let (method, path) = *pick_weighted(rng, &rows);
    let api = if rng.random_bool(0.75) {
        "v1.0"
    } else {
        "beta"
    };
    let target_user = &t.users[rng.random_range(0..t.users.len())];
    let group = pick(rng, &t.groups);
    let path = path
        .replace("{user}", &target_user.id)
        .replace("{group}", &group.id);
    let status = match rng.random_range(0..1000) {
        0..=939 => {
            if method == "POST" {
                202
            } else {
                200
            }
        }
        940..=969 => 404,
        970..=984 => 403,
        985..=994 => 429,
        _ => 500,
    };
    let request_id = guid(rng);
    let c = if app_only {
        let sp = pick(rng, &t.service_principals);
        Caller {
            app_id: sp.app_id.clone(),
            sp_id: Some(sp.id.clone()),
            user_id: None,
            ip: sp.ip.clone(),
            region: CITIES[sp.city].region,
            roles: Some("User.Read.All Group.Read.All AuditLog.Read.All Directory.Read.All"),
            scopes: None,
            wids: Some("0997a1d0-0d1d-4acb-b408-d5ca73121e90".to_owned()),
            auth_method: if sp.credential_type == "clientSecret" {
                1
            } else {
                2
            },
            user_agent: pick::<&str>(
                rng,
                &[
                    "python-requests/2.31.0",
                    "Microsoft.Graph/5.44.0",
                    "PowerShell/7.4 Microsoft.Graph/2.15.0",
                ],
            ),
        }
    } else {
        let user = ctx.user(rng);
        let o = origin(rng, t, user, 0.0);
        let wids = match user.admin_role {
            Some((_, role)) => format!("{role} b79fbf4d-3ef9-4689-8143-76b194e85509"),
            None => "b79fbf4d-3ef9-4689-8143-76b194e85509".to_owned(),
        };
        Caller {
            app_id: (*pick_weighted(rng, DELEGATED_CLIENTS)).to_owned(),
            sp_id: None,
            user_id: Some(user.id.clone()),
            ip: o.ip,
            region: CITIES[user.home_city].region,
            roles: None,
            scopes: Some("User.Read Mail.ReadWrite Files.ReadWrite.All openid profile email"),
            wids: Some(wids),
            auth_method: 0,
            user_agent: user.devices[0].user_agent,
        }
    };
    let issued = ctx.at - TimeDelta::seconds(rng.random_range(30..3500));
    let g = obj! {
        "timeGenerated" => iso7(ctx.at),
        "requestId" => request_id.as_str(),
        "operationId" => if method == "POST" && path.contains("$batch") { guid(rng) } else { request_id.clone() },
        "clientRequestId" => guid(rng),
        "apiVersion" => api,
        "requestMethod" => method,
        "requestUri" => format!("https://graph.microsoft.com/{api}{path}"),
        "responseStatusCode" => status,
        "responseSizeBytes" => if status == 200 { rng.random_range(300..60_000) } else { rng.random_range(0..400) },
        "durationMs" => rng.random_range(15_000..2_500_000),
        "ipAddress" => c.ip.as_str(),
        "userAgent" => c.user_agent,
        "location" => region_display(c.region),
        "appId" => c.app_id.as_str(),
        "servicePrincipalId" => c.sp_id,
        "userId" => c.user_id.clone(),
        "roles" => c.roles,
        "scopes" => c.scopes,
        "wids" => c.wids,
        "clientAuthMethod" => c.auth_method,
        "identityProvider" => format!("https://sts.windows.net/{}/", t.tenant_id),
        "atContent" => "",
        "signInActivityId" => keep(ctx.partial, token_id(rng)),
        "tokenIssuedAt" => iso0(issued),
        "tenantId" => t.tenant_id.as_str(),
        "C_Idtyp" => if app_only { "app" } else { "user" },
        "C_Iat" => issued.timestamp().to_string(),
        "UserPrincipalObjectID" => c.user_id.map_or(Value::Null, Value::from),
    };
    Built {
        time: ctx.at,
        graph: g,
        envelope: None,
    }
}
