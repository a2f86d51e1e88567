//! Sign-in attack scenarios: interactive sign-ins (Graph `signIn`) as Entra logs them for spray, brute
//! force, MFA fatigue, impossible travel, multiple countries, success after failures, disabled or locked
//! accounts and high-risk sign-ins.

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::{Value, json};

use super::{Cx, Injected, Scenario, event};
use crate::catalog::{CITIES, City, FOREIGN};
use crate::category::Category;
use crate::tenant::User;
use crate::util::{guid, iso7, mix2};

const BAD_PASSWORD: (u32, &str) = (
    50126,
    "Error validating credentials due to invalid username or password.",
);
const DISABLED: (u32, &str) = (
    50057,
    "User account is disabled. The account has been disabled by an administrator.",
);
const LOCKED: (u32, &str) = (
    50053,
    "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
);
const MFA_DENIED: (u32, &str) = (
    500121,
    "Authentication failed during strong authentication request.",
);
const OK: (u32, &str) = (0, "");

/// One interactive sign-in.
struct SignIn<'a> {
    user: &'a User,
    ip: String,
    city: &'a City,
    at: DateTime<Utc>,
    outcome: (u32, &'a str),
    details: Option<&'a str>,
    risk: &'a str,
}

fn sign_in(s: &SignIn<'_>, seed: u64) -> crate::SimEvent {
    let mut rng = SmallRng::seed_from_u64(seed);
    let rng = &mut rng;
    let id = guid(rng);
    let ok = s.outcome.0 == 0;
    let password_ok = !matches!(s.outcome.0, 50126 | 50053 | 50055 | 50057);
    let mut auth = vec![json!({
        "authenticationStepDateTime": iso7(s.at), "authenticationMethod": "Password",
        "authenticationMethodDetail": "Password in the cloud", "succeeded": password_ok,
        "authenticationStepResultDetail": if password_ok { "Correct password" } else { s.outcome.1 },
        "authenticationStepRequirement": "Primary authentication",
    })];
    if password_ok && s.outcome.0 != 50057 {
        let mfa_ok = ok;
        auth.push(json!({
            "authenticationStepDateTime": iso7(s.at), "authenticationMethod": "Mobile app notification",
            "authenticationMethodDetail": "", "succeeded": mfa_ok,
            "authenticationStepResultDetail": if mfa_ok { "MFA successfully completed" } else { s.details.unwrap_or("MFA denied; user declined the authentication") },
            "authenticationStepRequirement": "MFA",
        }));
    }
    let risk_types: Vec<&str> = match s.risk {
        "none" => vec![],
        _ => vec!["unfamiliarFeatures", "anonymizedIPAddress"],
    };
    let g = json!({
        "id": id,
        "createdDateTime": iso7(s.at),
        "userDisplayName": s.user.display_name,
        "userPrincipalName": s.user.upn,
        "userId": s.user.id,
        "userType": "Member",
        "appId": "4765445b-32c6-49b0-83e6-1d93765276ca",
        "appDisplayName": "OfficeHome",
        "resourceDisplayName": "Office 365 Exchange Online",
        "resourceId": "00000002-0000-0ff1-ce00-000000000000",
        "ipAddress": s.ip,
        "clientAppUsed": "Browser",
        "correlationId": guid(rng),
        "conditionalAccessStatus": if ok { "success" } else { "notApplied" },
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": s.risk,
        "riskLevelDuringSignIn": s.risk,
        "riskState": if s.risk == "none" { "none" } else { "atRisk" },
        "riskEventTypes": risk_types.clone(),
        "riskEventTypes_v2": risk_types,
        "authenticationRequirement": "multiFactorAuthentication",
        "authenticationDetails": auth,
        "authenticationMethodsUsed": if ok { vec!["Password", "Mobile app notification"] } else { vec![] },
        "signInEventTypes": ["interactiveUser"],
        "tokenIssuerType": "AzureAD",
        "tokenIssuerName": "",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
        "homeTenantId": Value::Null,
        "networkLocationDetails": [],
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows10", "browser": "Firefox 124.0", "isCompliant": false, "isManaged": false, "trustType": ""},
        "location": {
            "city": s.city.name, "state": s.city.state, "countryOrRegion": s.city.country,
            "geoCoordinates": {"altitude": Value::Null, "latitude": s.city.lat, "longitude": s.city.lon},
        },
        "status": {
            "errorCode": s.outcome.0,
            "failureReason": if ok { None } else { Some(s.outcome.1) },
            "additionalDetails": s.details,
        },
        "appliedConditionalAccessPolicies": [],
    });
    event(Category::SignInLogs, s.at, g, seed)
}

/// An attacker's address (anonymiser and hosting ranges), one per scenario.
fn hostile_ip(cx: &Cx<'_>, n: u64) -> String {
    format!("185.220.101.{}", 2 + (mix2(cx.seed, n) % 250))
}

pub(super) fn build(s: Scenario, cx: &Cx<'_>) -> Injected {
    let mut events = Vec::new();
    let mut push = |e: &SignIn<'_>| {
        let seed = mix2(cx.seed, events.len() as u64 + 1);
        events.push(sign_in(e, seed));
    };
    let home = |u: &User| &CITIES[u.home_city];
    let attacker = &FOREIGN[(cx.seed % FOREIGN.len() as u64) as usize];
    let ip = hostile_ip(cx, 0);
    let v = cx.victim(0);
    let base = |at: DateTime<Utc>, outcome: (u32, &'static str)| SignIn {
        user: v,
        ip: ip.clone(),
        city: attacker,
        at,
        outcome,
        details: None,
        risk: "none",
    };
    let entity = match s {
        Scenario::PasswordSpray => {
            for i in 0..8 {
                let mut e = base(cx.t(i), BAD_PASSWORD);
                e.user = cx.victim(i as usize);
                push(&e);
            }
            ip.clone()
        }
        Scenario::BruteForce => {
            for i in 0..12 {
                push(&base(
                    cx.t(0) + chrono::TimeDelta::seconds(45 * i),
                    BAD_PASSWORD,
                ));
            }
            v.upn.clone()
        }
        Scenario::MfaFatigue => {
            // The attacker holds the password: every attempt passes it and triggers a push.
            for i in 0..6 {
                let mut e = base(cx.t(i), MFA_DENIED);
                e.details = Some("MFA denied; user declined the authentication");
                push(&e);
            }
            push(&base(cx.t(7), OK));
            v.upn.clone()
        }
        Scenario::ImpossibleTravel => {
            let mut e = base(cx.t(0), OK);
            e.city = home(v);
            e.ip = v.home_ip.clone();
            push(&e);
            push(&base(cx.t(30), OK));
            v.upn.clone()
        }
        Scenario::MultipleCountries => {
            let next = ((cx.seed % FOREIGN.len() as u64) as usize + 1) % FOREIGN.len();
            let far = [home(v), attacker, &FOREIGN[next]];
            for (i, city) in far.iter().enumerate() {
                let mut e = base(cx.t(20 * i as i64), OK);
                e.city = city;
                e.ip = if i == 0 {
                    v.home_ip.clone()
                } else {
                    hostile_ip(cx, i as u64)
                };
                push(&e);
            }
            v.upn.clone()
        }
        Scenario::SuccessAfterFailures => {
            for i in 0..6 {
                push(&base(cx.t(i), BAD_PASSWORD));
            }
            push(&base(cx.t(7), OK));
            v.upn.clone()
        }
        Scenario::DisabledAccount => {
            let disabled: Vec<&User> = cx
                .tenant
                .users
                .iter()
                .filter(|u| !u.enabled)
                .take(4)
                .collect();
            for i in 0..4 {
                let (user, outcome) = match disabled.get(i) {
                    Some(u) => (*u, DISABLED),
                    None => (cx.victim(i), LOCKED),
                };
                let mut e = base(cx.t(2 * i as i64), outcome);
                e.user = user;
                push(&e);
            }
            ip.clone()
        }
        Scenario::HighRisk => {
            let mut e = base(cx.t(0), OK);
            e.risk = "high";
            push(&e);
            v.upn.clone()
        }
        _ => String::new(),
    };
    Injected { events, entity }
}
