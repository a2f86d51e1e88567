//! Sign-in records (Graph `signIn`, beta fields included): interactive, non-interactive, AD FS, service
//! principal and managed identity. A record built with `partial` lacks what Entra adds later (MFA details,
//! risk, processing details) and is republished complete.

use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::{Value, json};

use super::{Built, Ctx, Origin, origin};
use crate::catalog::{self, CITIES, City, FirstParty};
use crate::tenant::{Tenant, User};
use crate::util::{add_ms, guid, iso7, pick, pick_weighted, token_id};

/// Microsoft's own tenant, owner of first-party applications.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Interactive,
    NonInteractive,
    Adfs,
}

pub(crate) fn interactive(ctx: &Ctx<'_>) -> Built {
    user_sign_in(ctx, Kind::Interactive)
}

pub(crate) fn non_interactive(ctx: &Ctx<'_>) -> Built {
    user_sign_in(ctx, Kind::NonInteractive)
}

pub(crate) fn adfs(ctx: &Ctx<'_>) -> Built {
    user_sign_in(ctx, Kind::Adfs)
}

pub(crate) fn location(rng: &mut SmallRng, city: &City) -> Value {
    let jitter = |rng: &mut SmallRng| rng.random_range(-0.04..0.04);
    obj! {
        "city" => city.name,
        "state" => city.state,
        "countryOrRegion" => city.country,
        "geoCoordinates" => obj! {
            "altitude" => Value::Null,
            "latitude" => city.lat + jitter(rng),
            "longitude" => city.lon + jitter(rng),
        },
    }
}

fn empty_location() -> Value {
    obj! {
        "city" => "", "state" => "", "countryOrRegion" => "",
        "geoCoordinates" => obj! { "latitude" => 0.0, "longitude" => 0.0 },
    }
}

fn asn(rng: &mut SmallRng, o: &Origin) -> u32 {
    if o.hostile {
        *pick(rng, &[9009, 60068, 208_091, 51_167])
    } else {
        let i = CITIES
            .iter()
            .position(|c| c.name == o.city.name)
            .unwrap_or(0);
        [
            7922, 7018, 7018, 22773, 812, 28573, 5089, 6830, 3215, 3320, 1136, 3301, 3352, 37457,
            5384, 24560, 4773, 2516, 1221, 9500,
        ][i % 20]
    }
}

fn failure(rng: &mut SmallRng, table: &[(u32, &'static str, u32)]) -> (u32, &'static str) {
    let rows: Vec<((u32, &'static str), u32)> =
        table.iter().map(|(c, r, w)| ((*c, *r), *w)).collect();
    *pick_weighted(rng, &rows)
}

fn federated_user<'a>(ctx: &Ctx<'a>, rng: &mut SmallRng) -> &'a User {
    let t: &'a Tenant = ctx.tenant;
    if let Some(list) = t.by_city.get(ctx.slot as usize) {
        for _ in 0..32 {
            if list.is_empty() {
                break;
            }
            let u = &t.users[*pick(rng, list) as usize];
            if u.federated {
                return u;
            }
        }
    }
    for _ in 0..256 {
        let u = &t.users[rng.random_range(0..t.users.len())];
        if u.federated {
            return u;
        }
    }
    &t.users[0]
}

fn step(
    at: &str,
    method: &str,
    detail: &str,
    ok: bool,
    result: &str,
    requirement: &str,
    seq: u32,
) -> Value {
    obj! {
        "authenticationStepDateTime" => at,
        "authenticationMethod" => method,
        "authenticationMethodDetail" => detail,
        "succeeded" => ok,
        "authenticationStepResultDetail" => result,
        "authenticationStepRequirement" => requirement,
        "StatusSequence" => 0,
        "RequestSequence" => seq,
    }
}

fn user_sign_in(ctx: &Ctx<'_>, kind: Kind) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let tenant = ctx.tenant;
    let user: &User = if kind == Kind::Adfs {
        federated_user(ctx, rng)
    } else {
        ctx.user(rng)
    };
    let now = iso7(ctx.at);
    let id = guid(rng);

    // Client and resource.
    let custom = kind == Kind::Interactive && rng.random_bool(0.08);
    let (app_name, app_id, res_name, res_id, client_app, first_party): (
        String,
        String,
        String,
        String,
        &str,
        bool,
    ) = match kind {
        Kind::Adfs => {
            let rp = pick(rng, &tenant.apps);
            (
                rp.display_name.clone(),
                rp.app_id.clone(),
                rp.display_name.clone(),
                format!(
                    "https://{}.{}",
                    rp.display_name.to_ascii_lowercase().replace(' ', "-"),
                    tenant.federated_domain
                ),
                "Browser",
                false,
            )
        }
        _ if custom => {
            let app = pick(rng, &tenant.apps);
            (
                app.display_name.clone(),
                app.app_id.clone(),
                app.display_name.clone(),
                app.app_id.clone(),
                "Browser",
                false,
            )
        }
        Kind::Interactive => {
            let rows: Vec<((FirstParty, FirstParty, &str), u32)> = catalog::INTERACTIVE_APPS
                .iter()
                .map(|(a, r, c, w)| {
                    (
                        (*a, *r, *c),
                        if user.is_admin() && a.name == "Azure Portal" {
                            w * 6
                        } else {
                            *w
                        },
                    )
                })
                .collect();
            let (a, r, c) = *pick_weighted(rng, &rows);
            (
                a.name.to_owned(),
                a.app_id.to_owned(),
                r.name.to_owned(),
                r.app_id.to_owned(),
                c,
                true,
            )
        }
        Kind::NonInteractive => {
            let rows: Vec<((FirstParty, FirstParty), u32)> = catalog::NON_INTERACTIVE_APPS
                .iter()
                .map(|(a, r, w)| ((*a, *r), *w))
                .collect();
            let (a, r) = *pick_weighted(rng, &rows);
            (
                a.name.to_owned(),
                a.app_id.to_owned(),
                r.name.to_owned(),
                r.app_id.to_owned(),
                "Mobile Apps and Desktop clients",
                true,
            )
        }
    };

    let device = if kind == Kind::NonInteractive || user.devices.len() == 1 || rng.random_bool(0.7)
    {
        &user.devices[0]
    } else {
        &user.devices[1]
    };
    let hostile_p = match kind {
        Kind::Interactive => 0.006,
        Kind::NonInteractive => 0.0005,
        Kind::Adfs => 0.004,
    };
    let o = origin(rng, tenant, user, hostile_p);
    let on_prem = kind == Kind::Adfs && !o.hostile && rng.random_bool(0.7);
    let ip = if on_prem {
        format!(
            "10.{}.{}.{}",
            user.home_city,
            rng.random_range(0..=255u8),
            rng.random_range(2..=254u8)
        )
    } else {
        o.ip.clone()
    };

    // Outcome.
    let (code, reason): (u32, &str) = if !user.enabled {
        (
            50057,
            "User account is disabled. The account has been disabled by an administrator.",
        )
    } else if o.hostile {
        if rng.random_bool(0.85) {
            (
                50126,
                "Error validating credentials due to invalid username or password.",
            )
        } else {
            (0, "")
        }
    } else {
        let fail_p = match kind {
            Kind::Interactive => 0.07,
            Kind::NonInteractive => 0.025,
            Kind::Adfs => 0.03,
        };
        if rng.random_bool(fail_p) {
            match kind {
                Kind::NonInteractive => failure(rng, catalog::NON_INTERACTIVE_ERRORS),
                Kind::Adfs => (
                    50126,
                    "Error validating credentials due to invalid username or password.",
                ),
                Kind::Interactive => failure(rng, catalog::INTERACTIVE_ERRORS),
            }
        } else {
            (0, "")
        }
    };
    let ok = code == 0;
    let office = ip.starts_with("203.0.113.") || ip.starts_with("198.51.100.");
    let mfa_required = kind != Kind::Adfs
        && (user.is_admin()
            || res_name == catalog::ARM.name
            || (!office && rng.random_bool(0.35))
            || matches!(code, 50074 | 500121 | 50076));
    let mfa_done = mfa_required && matches!(code, 0 | 50140);
    let mfa_method = *pick_weighted(
        rng,
        &catalog::MFA_METHODS
            .iter()
            .map(|(m, d, w)| ((*m, *d), *w))
            .collect::<Vec<_>>(),
    );
    let step2_at = iso7(add_ms(ctx.at, rng.random_range(3000..25_000)));

    let mut auth = Vec::new();
    match kind {
        Kind::Adfs => auth.push(step(
            &now,
            "Password",
            "Forms Authentication",
            ok,
            if ok {
                ""
            } else {
                "Invalid username or password"
            },
            "",
            1,
        )),
        Kind::NonInteractive => {
            auth.push(step(
                &now,
                "Previously satisfied",
                "",
                true,
                "First factor requirement satisfied by claim in the token",
                "Primary authentication",
                0,
            ));
            if mfa_done {
                auth.push(step(
                    &now,
                    "Previously satisfied",
                    "",
                    true,
                    "MFA requirement satisfied by claim in the token",
                    "MFA",
                    0,
                ));
            }
        }
        Kind::Interactive => {
            let password_ok = !matches!(code, 50126 | 50053 | 50055 | 50057);
            auth.push(step(
                &now,
                "Password",
                "Password in the cloud",
                password_ok,
                if password_ok {
                    "Correct password"
                } else {
                    reason
                },
                "Primary authentication",
                1,
            ));
            if mfa_required && password_ok {
                let mfa_ok = mfa_done;
                auth.push(step(
                    &step2_at,
                    mfa_method.0,
                    "",
                    mfa_ok,
                    if mfa_ok {
                        "MFA successfully completed"
                    } else if code == 500121 {
                        "MFA denied; user declined the authentication"
                    } else {
                        "MFA required in Azure AD"
                    },
                    "MFA",
                    2,
                ));
            }
        }
    }
    let mfa_detail = if mfa_done && kind == Kind::Interactive {
        obj! { "authMethod" => mfa_method.0, "authDetail" => mfa_method.1 }
    } else {
        json!({})
    };

    // Risk.
    let risk = if o.hostile {
        *pick(rng, &["medium", "high"])
    } else if rng.random_bool(0.02) {
        "low"
    } else {
        "none"
    };
    let risk_types: Vec<&str> = match risk {
        "none" => vec![],
        _ if o.hostile => vec!["anonymizedIPAddress"],
        _ => vec!["unfamiliarFeatures"],
    };

    // Conditional Access.
    let mut any_success = false;
    let mut any_failure = false;
    let policies: Vec<Value> = tenant
        .ca_policies
        .iter()
        .map(|p| {
            let applies = (!p.admins_only || user.is_admin()) && kind != Kind::Adfs;
            let result = if !applies || !ok && !matches!(code, 50074 | 500121 | 50076 | 53003) {
                "notApplied"
            } else if p.display_name.starts_with("Block legacy")
                || p.display_name.starts_with("Block access")
            {
                if code == 53003 {
                    "failure"
                } else {
                    "notApplied"
                }
            } else if p.display_name.starts_with("Sign-in risk") {
                if risk == "none" {
                    "notApplied"
                } else if mfa_done {
                    "success"
                } else {
                    "failure"
                }
            } else if p.grant_controls.contains(&"Mfa") {
                if !mfa_required {
                    "notApplied"
                } else if mfa_done {
                    "success"
                } else {
                    "failure"
                }
            } else if device.is_compliant || !matches!(kind, Kind::Interactive) {
                "success"
            } else {
                "reportOnlyFailure"
            };
            any_success |= result == "success";
            any_failure |= result == "failure";
            let enforced: Vec<&str> = if result == "notApplied" {
                vec![]
            } else {
                p.grant_controls.to_vec()
            };
            let mut policy = obj! {
                "id" => p.id.as_str(),
                "displayName" => p.display_name,
                "enforcedGrantControls" => enforced,
                "enforcedSessionControls" => Vec::<Value>::new(),
                "result" => result,
            };
            if result != "notApplied" {
                if let Some(m) = policy.as_object_mut() {
                    m.insert("conditionsSatisfied".into(), 3.into());
                }
            }
            policy
        })
        .collect();
    let ca_status = if any_failure {
        "failure"
    } else if any_success {
        "success"
    } else {
        "notApplied"
    };
    let loc = if on_prem {
        empty_location()
    } else {
        location(rng, o.city)
    };
    let gsa = kind == Kind::Interactive && rng.random_bool(0.1);
    let user_agent = match kind {
        Kind::Adfs => "",
        Kind::Interactive if client_app == "Browser" => device.user_agent,
        _ => {
            if rng.random_bool(0.5) {
                device.user_agent
            } else {
                *pick(rng, catalog::RICH_CLIENT_AGENTS)
            }
        }
    };
    let processing = match kind {
        Kind::Interactive => rng.random_range(40..450),
        Kind::NonInteractive => rng.random_range(8..160),
        Kind::Adfs => 0,
    };
    let (issuer_type, issuer_name) = if kind == Kind::Adfs {
        (
            "ADFederationServices",
            format!("sts.{}", tenant.federated_domain),
        )
    } else {
        ("AzureAD", String::new())
    };
    let event_type = if kind == Kind::NonInteractive {
        "nonInteractiveUser"
    } else {
        "interactiveUser"
    };
    let mut processing_details = vec![
        obj! { "key" => "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value" => "False" },
        obj! { "key" => "Is CAE Token", "value" => if rng.random_bool(0.3) { "True" } else { "False" } },
    ];
    if kind == Kind::Adfs {
        processing_details.insert(0, obj! { "key" => "Server name", "value" => format!("ADFS{:02}", 1 + rng.random_range(0..3)) });
    }

    let mut g = obj! {
        "id" => id.as_str(),
        "createdDateTime" => now.as_str(),
        "userDisplayName" => user.display_name.as_str(),
        "userPrincipalName" => user.upn.as_str(),
        "userId" => user.id.as_str(),
        "appId" => app_id.as_str(),
        "appDisplayName" => app_name.as_str(),
        "ipAddress" => ip.as_str(),
        "status" => obj! { "errorCode" => code, "failureReason" => if ok { None } else { Some(reason) }, "additionalDetails" => if ok && mfa_done { Some("MFA requirement satisfied by strong authentication") } else { None } },
        "clientAppUsed" => client_app,
        "userAgent" => user_agent,
        "deviceDetail" => obj! {
            "deviceId" => device.id.as_str(),
            "displayName" => if device.id.is_empty() { "" } else { device.display_name.as_str() },
            "operatingSystem" => device.os,
            "browser" => if client_app == "Browser" { device.browser.to_owned() } else { format!("Rich Client {}.{}", 4 + rng.random_range(0..2), rng.random_range(30..70)) },
            "isCompliant" => device.is_compliant,
            "isManaged" => device.is_managed,
            "trustType" => device.trust_type,
        },
        "location" => loc,
        "mfaDetail" => mfa_detail,
        "correlationId" => guid(rng),
        "conditionalAccessStatus" => ca_status,
        "appliedConditionalAccessPolicies" => policies,
        "originalRequestId" => id.as_str(),
        "isInteractive" => kind != Kind::NonInteractive,
        "tokenIssuerName" => issuer_name,
        "tokenIssuerType" => issuer_type,
        "authenticationProcessingDetails" => processing_details,
        "networkLocationDetails" => if office { vec![obj! { "networkType" => "namedNetwork", "networkNames" => vec!["Corporate offices"] }] } else { vec![] },
        "processingTimeInMilliseconds" => processing,
        "riskDetail" => if kind == Kind::Adfs { "hidden" } else { "none" },
        "riskLevelAggregated" => risk,
        "riskLevelDuringSignIn" => risk,
        "riskState" => if risk == "none" { "none" } else { "atRisk" },
        "riskEventTypes" => risk_types.clone(),
        "riskEventTypes_v2" => risk_types,
        "resourceDisplayName" => res_name.as_str(),
        "resourceId" => res_id.as_str(),
        "resourceTenantId" => tenant.tenant_id.as_str(),
        "homeTenantId" => tenant.tenant_id.as_str(),
        "authenticationDetails" => auth,
        "authenticationRequirementPolicies" => if mfa_required { vec![obj! { "requirementProvider" => "multiConditionalAccess", "detail" => "Conditional Access" }] } else { vec![] },
        "authenticationRequirement" => if mfa_required { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
        "authenticationMethodsUsed" => if mfa_done && kind == Kind::Interactive { vec!["Password", mfa_method.0] } else { vec![] },
        "alternateSignInName" => user.upn.as_str(),
        "servicePrincipalId" => "",
        "servicePrincipalName" => "",
        "resourceServicePrincipalId" => tenant.sp_id_for(&res_id),
        "userType" => if user.guest { "Guest" } else { "Member" },
        "flaggedForReview" => false,
        "isTenantRestricted" => false,
        "isThroughGlobalSecureAccess" => gsa,
        "autonomousSystemNumber" => asn(rng, &o),
        "crossTenantAccessType" => if user.guest { "b2bCollaboration" } else { "none" },
        "uniqueTokenIdentifier" => token_id(rng),
        "incomingTokenType" => if app_name == "Windows Sign In" && kind == Kind::NonInteractive { "primaryRefreshToken" } else { "none" },
        "authenticationProtocol" => "none",
        "signInEventTypes" => vec![event_type],
    };
    if gsa {
        if let Some(m) = g.as_object_mut() {
            m.insert("globalSecureAccessIpAddress".into(), ip.as_str().into());
        }
    }
    if ctx.partial {
        strip(&mut g);
    }
    Built::entra(ctx.at, g)
}

/// Removes what Entra fills in after the first publication.
fn strip(g: &mut Value) {
    let Some(m) = g.as_object_mut() else { return };
    if m.contains_key("mfaDetail") {
        m.insert("mfaDetail".into(), json!({}));
    }
    if let Some(Value::Array(steps)) = m.get_mut("authenticationDetails") {
        steps.truncate(1);
    }
    for k in ["riskLevelAggregated", "riskLevelDuringSignIn", "riskState"] {
        if m.contains_key(k) {
            m.insert(k.into(), "none".into());
        }
    }
    for k in [
        "riskEventTypes",
        "riskEventTypes_v2",
        "authenticationMethodsUsed",
    ] {
        if m.contains_key(k) {
            m.insert(k.into(), json!([]));
        }
    }
    if let Some(Value::Array(d)) = m.get_mut("authenticationProcessingDetails") {
        d.truncate(1);
    }
}

fn workload_common(rng: &mut SmallRng) -> (String, String, FirstParty) {
    let id = guid(rng);
    let res = *pick_weighted(rng, catalog::WORKLOAD_RESOURCES);
    (id, guid(rng), res)
}

pub(crate) fn service_principal(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let sp = pick(rng, &t.service_principals);
    let (id, correlation, res) = workload_common(rng);
    let (code, reason) = if rng.random_bool(0.015) {
        failure(rng, catalog::SP_ERRORS)
    } else {
        (0, "")
    };
    let federated = sp.credential_type == "federatedIdentityCredential";
    let risk = if rng.random_bool(0.01) { "low" } else { "none" };
    let mut g = obj! {
        "id" => id.as_str(),
        "createdDateTime" => iso7(ctx.at),
        "userId" => Value::Null,
        "appId" => sp.app_id.as_str(),
        "appDisplayName" => sp.display_name.as_str(),
        "ipAddress" => sp.ip.as_str(),
        "status" => obj! { "errorCode" => code, "failureReason" => if code == 0 { None } else { Some(reason) }, "additionalDetails" => Value::Null },
        "location" => location(rng, &CITIES[sp.city]),
        "correlationId" => correlation,
        "conditionalAccessStatus" => "notApplied",
        "appliedConditionalAccessPolicies" => Vec::<Value>::new(),
        "isInteractive" => false,
        "tokenIssuerType" => "AzureAD",
        "authenticationProcessingDetails" => vec![obj! { "key" => "Azure AD App Authentication Library", "value" => "Family: MSAL Library: MSAL.NET 4.59.0 Platform: .NET 8" }, obj! { "key" => "Is CAE Token", "value" => "False" }],
        "processingTimeInMilliseconds" => rng.random_range(3..80),
        "riskDetail" => "none",
        "riskLevelAggregated" => risk,
        "riskLevelDuringSignIn" => risk,
        "riskState" => if risk == "none" { "none" } else { "atRisk" },
        "resourceDisplayName" => res.name,
        "resourceId" => res.app_id,
        "resourceServicePrincipalId" => t.sp_id_for(res.app_id),
        "servicePrincipalName" => sp.display_name.as_str(),
        "servicePrincipalId" => sp.id.as_str(),
        "servicePrincipalCredentialKeyId" => if federated { "" } else { sp.credential_key_id.as_str() },
        "servicePrincipalCredentialThumbprint" => sp.thumbprint.as_str(),
        "clientCredentialType" => sp.credential_type,
        "federatedCredentialId" => if federated { sp.credential_key_id.as_str() } else { "" },
        "flaggedForReview" => false,
        "isTenantRestricted" => false,
        "crossTenantAccessType" => "none",
        "uniqueTokenIdentifier" => token_id(rng),
        "incomingTokenType" => "none",
        "authenticationProtocol" => "none",
        "resourceTenantId" => t.tenant_id.as_str(),
        "homeTenantId" => t.tenant_id.as_str(),
        "signInEventTypes" => vec!["servicePrincipal"],
        "conditionalAccessAudiences" => vec![res.app_id],
    };
    if ctx.partial {
        strip(&mut g);
    }
    Built::entra(ctx.at, g)
}

pub(crate) fn managed_identity(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let mi = pick(rng, &t.managed_identities);
    let (id, correlation, res) = workload_common(rng);
    let mut g = obj! {
        "id" => id.as_str(),
        "createdDateTime" => iso7(ctx.at),
        "userId" => Value::Null,
        "appId" => mi.app_id.as_str(),
        "appDisplayName" => mi.display_name.as_str(),
        "ipAddress" => "",
        "status" => obj! { "errorCode" => 0, "failureReason" => Value::Null, "additionalDetails" => Value::Null },
        "location" => empty_location(),
        "correlationId" => correlation,
        "conditionalAccessStatus" => "notApplied",
        "appliedConditionalAccessPolicies" => Vec::<Value>::new(),
        "isInteractive" => false,
        "tokenIssuerType" => "AzureAD",
        "authenticationProcessingDetails" => vec![obj! { "key" => "Is CAE Token", "value" => "False" }, obj! { "key" => "Managed Identity", "value" => "True" }],
        "processingTimeInMilliseconds" => 0,
        "riskDetail" => "none",
        "riskLevelAggregated" => "none",
        "riskLevelDuringSignIn" => "none",
        "riskState" => "none",
        "resourceDisplayName" => res.name,
        "resourceId" => res.app_id,
        "resourceServicePrincipalId" => t.sp_id_for(res.app_id),
        "servicePrincipalName" => mi.display_name.as_str(),
        "servicePrincipalId" => mi.id.as_str(),
        "flaggedForReview" => false,
        "isTenantRestricted" => false,
        "crossTenantAccessType" => "none",
        "uniqueTokenIdentifier" => token_id(rng),
        "incomingTokenType" => "none",
        "authenticationProtocol" => "none",
        "resourceTenantId" => t.tenant_id.as_str(),
        "homeTenantId" => t.tenant_id.as_str(),
        "signInEventTypes" => vec!["managedIdentity"],
        "managedServiceIdentity" => obj! {
            "msiType" => mi.msi_type,
            "associatedResourceId" => mi.resource_id.as_str(),
            "federatedTokenId" => "",
            "federatedTokenIssuer" => "",
        },
    };
    if ctx.partial {
        strip(&mut g);
    }
    Built::entra(ctx.at, g)
}
