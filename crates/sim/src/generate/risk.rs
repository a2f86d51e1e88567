//! Identity Protection: user, service principal and agent risk detections, and the risky-state records
//! they cascade into. A detection and its state update are built from the same seed, so both name the same
//! principal and risk level.

use chrono::TimeDelta;
use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::Value;

use super::parts::location;
use super::{Built, Ctx};
use crate::catalog::{FOREIGN, HOSTILE_PREFIXES};
use crate::tenant::{Agent, ServicePrincipal, User};
use crate::util::{guid, hex, iso3, pick, pick_weighted};

/// (riskEventType, detectionTimingType, activity).
const USER_RISKS: &[((&str, &str, &str), u32)] = &[
    (("unfamiliarFeatures", "realtime", "signin"), 30),
    (("anonymizedIPAddress", "realtime", "signin"), 20),
    (("unlikelyTravel", "offline", "signin"), 12),
    (("maliciousIPAddress", "offline", "signin"), 6),
    (("passwordSpray", "offline", "signin"), 8),
    (("leakedCredentials", "offline", "user"), 6),
    (("investigationsThreatIntelligence", "offline", "signin"), 4),
    (("anomalousToken", "offline", "signin"), 5),
    (("attackerinTheMiddle", "offline", "signin"), 2),
    (("suspiciousInboxForwarding", "offline", "user"), 3),
];

const SP_RISKS: &[&str] = &[
    "investigationsThreatIntelligence",
    "suspiciousSignins",
    "leakedCredentials",
    "anomalousServicePrincipalActivity",
];

const AGENT_RISKS: &[&str] = &[
    "unfamiliarResourceAccess",
    "signInSpike",
    "failedAccessAttempt",
    "riskyUserImpersonation",
];

fn level(rng: &mut SmallRng) -> &'static str {
    pick_weighted::<&str>(rng, &[("low", 30), ("medium", 50), ("high", 20)])
}

/// A benign user's risk: (level, riskState, riskDetail). Identity Protection rates the background of a
/// healthy tenant low or medium; the odd high detection there is one an admin dismissed or the user
/// remediated (secure password change). Open high risk on a user is an incident: the labelled scenarios
/// of `crate::attacks` inject it.
type UserRisk = (&'static str, &'static str, &'static str);

fn user_risk(rng: &mut SmallRng) -> UserRisk {
    match *pick_weighted::<&str>(rng, &[("low", 55), ("medium", 42), ("high", 3)]) {
        "high" => *pick(
            rng,
            &[
                ("high", "dismissed", "adminDismissedAllRiskForUser"),
                ("high", "remediated", "userPerformedSecuredPasswordChange"),
            ],
        ),
        other => (other, "atRisk", "none"),
    }
}

/// The first draws of a user detection and of its RiskyUsers update: they must match.
fn user_core<'a>(
    ctx: &Ctx<'a>,
    rng: &mut SmallRng,
) -> (
    &'a User,
    (&'static str, &'static str, &'static str),
    UserRisk,
) {
    let user = ctx.any_user(rng);
    let kind = *pick_weighted(rng, USER_RISKS);
    (user, kind, user_risk(rng))
}

fn sp_core<'a>(
    ctx: &Ctx<'a>,
    rng: &mut SmallRng,
) -> (&'a ServicePrincipal, &'static str, &'static str) {
    let sp = pick(rng, &ctx.tenant.service_principals);
    (sp, *pick(rng, SP_RISKS), level(rng))
}

fn agent_core<'a>(ctx: &Ctx<'a>, rng: &mut SmallRng) -> (&'a Agent, &'static str, &'static str) {
    let a = pick(rng, &ctx.tenant.agents);
    (a, *pick(rng, AGENT_RISKS), level(rng))
}

fn hostile_ip(rng: &mut SmallRng) -> String {
    let [a, b, c] = *pick(rng, HOSTILE_PREFIXES);
    format!("{a}.{b}.{c}.{}", rng.random_range(2..250u8))
}

fn info(partial: bool, pairs: &[(&str, String)]) -> Value {
    let n = if partial { 1 } else { pairs.len() };
    Value::Array(
        pairs[..n.min(pairs.len())]
            .iter()
            .map(|(k, v)| obj! { "Key" => *k, "Value" => v.as_str() })
            .collect(),
    )
}

pub(crate) fn user_detection(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (user, (event_type, timing, activity), (risk_level, risk_state, risk_detail)) =
        user_core(ctx, rng);
    let detected = ctx.at - TimeDelta::seconds(rng.random_range(1..90));
    let activity_at = if timing == "realtime" {
        detected - TimeDelta::seconds(rng.random_range(0..5))
    } else {
        detected - TimeDelta::minutes(rng.random_range(60..1200))
    };
    let ip = hostile_ip(rng);
    let city = pick(rng, FOREIGN);
    let agent = "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/115.0";
    let g = obj! {
        "id" => hex(rng, 64),
        "requestId" => guid(rng),
        "correlationId" => guid(rng),
        "riskType" => if event_type == "passwordSpray" { "generic" } else { event_type },
        "riskEventType" => event_type,
        "riskState" => risk_state,
        "riskLevel" => risk_level,
        "riskDetail" => risk_detail,
        "source" => "IdentityProtection",
        "detectionTimingType" => timing,
        "activity" => activity,
        "tokenIssuerType" => "AzureAD",
        "ipAddress" => ip.as_str(),
        "location" => location(rng, city),
        "activityDateTime" => iso3(activity_at),
        "detectedDateTime" => iso3(detected),
        "lastUpdatedDateTime" => iso3(ctx.at),
        "userId" => user.id.as_str(),
        "userDisplayName" => user.display_name.as_str(),
        "userPrincipalName" => user.upn.as_str(),
        "userType" => if user.guest { "guest" } else { "member" },
        "homeTenantId" => ctx.tenant.tenant_id.as_str(),
        "resourceTenantId" => Value::Null,
        "crossTenantAccessType" => "none",
        "additionalInfo" => info(ctx.partial, &[
            ("userAgent", agent.to_owned()),
            ("relatedEventTimeInUtc", iso3(activity_at)),
            ("riskReasons", "[\"UnfamiliarASN\",\"UnfamiliarLocation\"]".to_owned()),
        ]),
    };
    Built::entra(activity_at, g)
}

pub(crate) fn risky_user(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (user, _, (risk_level, risk_state, risk_detail)) = user_core(ctx, rng);
    let g = obj! {
        "id" => user.id.as_str(),
        "isDeleted" => false,
        "isProcessing" => ctx.partial,
        "riskLastUpdatedDateTime" => iso3(ctx.at),
        "riskLevel" => risk_level,
        "riskState" => risk_state,
        "riskDetail" => risk_detail,
        "userDisplayName" => user.display_name.as_str(),
        "userPrincipalName" => user.upn.as_str(),
    };
    Built::entra(ctx.at, g)
}

pub(crate) fn sp_detection(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (sp, event_type, risk_level) = sp_core(ctx, rng);
    let activity_at = ctx.at - TimeDelta::minutes(rng.random_range(30..600));
    let ip = hostile_ip(rng);
    let city = pick(rng, FOREIGN);
    let g = obj! {
        "id" => hex(rng, 64),
        "requestId" => guid(rng),
        "correlationId" => guid(rng),
        "riskEventType" => event_type,
        "riskState" => "atRisk",
        "riskLevel" => risk_level,
        "riskDetail" => "none",
        "source" => "IdentityProtection",
        "detectionTimingType" => "offline",
        "activity" => "servicePrincipal",
        "tokenIssuerType" => "AzureAD",
        "ipAddress" => ip.as_str(),
        "location" => location(rng, city),
        "activityDateTime" => iso3(activity_at),
        "detectedDateTime" => iso3(ctx.at),
        "lastUpdatedDateTime" => iso3(ctx.at),
        "servicePrincipalId" => sp.id.as_str(),
        "servicePrincipalDisplayName" => sp.display_name.as_str(),
        "appId" => sp.app_id.as_str(),
        "keyIds" => vec![sp.credential_key_id.as_str()],
        "additionalInfo" => info(ctx.partial, &[
            ("clientIp", ip.clone()),
            ("alertUrl", format!("https://security.microsoft.com/alerts/{}", guid(rng))),
        ]),
    };
    Built::entra(activity_at, g)
}

pub(crate) fn risky_sp(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (sp, _, risk_level) = sp_core(ctx, rng);
    let g = obj! {
        "id" => sp.id.as_str(),
        "appId" => sp.app_id.as_str(),
        "displayName" => sp.display_name.as_str(),
        "servicePrincipalType" => "Application",
        "accountEnabled" => true,
        "isProcessing" => ctx.partial,
        "riskLastUpdatedDateTime" => iso3(ctx.at),
        "riskLevel" => risk_level,
        "riskState" => "atRisk",
        "riskDetail" => "none",
    };
    Built::entra(ctx.at, g)
}

pub(crate) fn agent_detection(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (agent, event_type, risk_level) = agent_core(ctx, rng);
    let activity_at = ctx.at - TimeDelta::minutes(rng.random_range(5..240));
    let g = obj! {
        "id" => guid(rng),
        "agentId" => agent.id.as_str(),
        "agentDisplayName" => agent.display_name.as_str(),
        "blueprintId" => agent.blueprint_id.as_str(),
        "identityType" => agent.identity_type,
        "activityDateTime" => iso3(activity_at),
        "detectedDateTime" => iso3(ctx.at),
        "lastModifiedDateTime" => iso3(ctx.at),
        "detectionTimingType" => "offline",
        "riskDetail" => "none",
        "riskLevel" => risk_level,
        "riskState" => "atRisk",
        "riskEventType" => event_type,
        "source" => "IdentityProtection",
        "additionalInfo" => info(ctx.partial, &[
            ("resourceCount", rng.random_range(12..400).to_string()),
            ("baselineResourceCount", rng.random_range(1..10).to_string()),
        ]),
    };
    Built::entra(activity_at, g)
}

pub(crate) fn risky_agent(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let (agent, _, risk_level) = agent_core(ctx, rng);
    let odata = match agent.identity_type {
        "agentUser" => "#microsoft.graph.riskyAgentUser",
        "agentIdentityBlueprintPrincipal" => {
            "#microsoft.graph.riskyAgentIdentityBlueprintPrincipal"
        }
        _ => "#microsoft.graph.riskyAgentIdentity",
    };
    let g = obj! {
        "@odata.type" => odata,
        "id" => agent.id.as_str(),
        "agentDisplayName" => agent.display_name.as_str(),
        "isDeleted" => false,
        "isEnabled" => true,
        "isProcessing" => ctx.partial,
        "riskLastModifiedDateTime" => iso3(ctx.at),
        "riskState" => "atRisk",
        "riskLevel" => risk_level,
        "riskDetail" => "none",
    };
    Built::entra(ctx.at, g)
}
