//! Sign-in records (Graph `signIn`, beta fields included): interactive, non-interactive, AD FS, service
//! principal and managed identity. A record built with `partial` lacks what Entra adds later (MFA details,
//! risk, processing details) and is republished complete.

use rand::Rng;
use serde_json::{Value, json};

use super::parts::{asn, client, empty_location, failure, federated_user, location, step, strip};
use super::{Built, Ctx, origin};
use crate::catalog;
use crate::tenant::User;
use crate::util::{add_ms, guid, iso7, pick, pick_by, token_id};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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

    let c = client(ctx, rng, user, kind);
    let (app_name, app_id, res_name, res_id, client_app) =
        (c.app_name, c.app_id, c.res_name, c.res_id, c.client_app);

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
        // Background attacks fail: a wrong password, or the right one blocked by the sign-in risk policy.
        // (Successful attacker sign-ins are compromises: the labelled scenarios of `crate::attacks`
        // inject those; a benign week with dozens of them made every week an incident.)
        if rng.random_bool(0.85) {
            (
                50126,
                "Error validating credentials due to invalid username or password.",
            )
        } else {
            (
                53003,
                "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            )
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
    let (mfa_name, mfa_detail_text, _) = *pick_by(rng, catalog::MFA_METHODS, |(_, _, w)| *w);
    let mfa_method = (mfa_name, mfa_detail_text);
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
            if result != "notApplied"
                && let Some(m) = policy.as_object_mut()
            {
                m.insert("conditionsSatisfied".into(), 3.into());
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
        "alternateSignInName" => user.upn.as_str(),
        "appDisplayName" => app_name.as_str(),
        "appId" => app_id.as_str(),
        "appliedConditionalAccessPolicies" => policies,
        "authenticationDetails" => auth,
        "authenticationMethodsUsed" => if mfa_done && kind == Kind::Interactive { vec!["Password", mfa_method.0] } else { vec![] },
        "authenticationProcessingDetails" => processing_details,
        "authenticationProtocol" => "none",
        "authenticationRequirement" => if mfa_required { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
        "authenticationRequirementPolicies" => if mfa_required { vec![obj! { "requirementProvider" => "multiConditionalAccess", "detail" => "Conditional Access" }] } else { vec![] },
        "autonomousSystemNumber" => asn(rng, &o),
        "clientAppUsed" => client_app,
        "conditionalAccessStatus" => ca_status,
        "correlationId" => guid(rng),
        "createdDateTime" => now.as_str(),
        "crossTenantAccessType" => if user.guest { "b2bCollaboration" } else { "none" },
        "deviceDetail" => obj! {
            "deviceId" => device.id.as_str(),
            "displayName" => if device.id.is_empty() { "" } else { device.display_name.as_str() },
            "operatingSystem" => device.os,
            "browser" => if client_app == "Browser" { device.browser.to_owned() } else { format!("Rich Client {}.{}", 4 + rng.random_range(0..2), rng.random_range(30..70)) },
            "isCompliant" => device.is_compliant,
            "isManaged" => device.is_managed,
            "trustType" => device.trust_type,
        },
        "flaggedForReview" => false,
        "homeTenantId" => tenant.tenant_id.as_str(),
        "id" => id.as_str(),
        "incomingTokenType" => if app_name == "Windows Sign In" && kind == Kind::NonInteractive { "primaryRefreshToken" } else { "none" },
        "ipAddress" => ip.as_str(),
        "isInteractive" => kind != Kind::NonInteractive,
        "isTenantRestricted" => false,
        "isThroughGlobalSecureAccess" => gsa,
        "location" => loc,
        "mfaDetail" => mfa_detail,
        "networkLocationDetails" => if office { vec![obj! { "networkType" => "namedNetwork", "networkNames" => vec!["Corporate offices"] }] } else { vec![] },
        "originalRequestId" => id.as_str(),
        "processingTimeInMilliseconds" => processing,
        "resourceDisplayName" => res_name.as_str(),
        "resourceId" => res_id.as_str(),
        "resourceServicePrincipalId" => tenant.sp_id_for(&res_id),
        "resourceTenantId" => tenant.tenant_id.as_str(),
        "riskDetail" => if kind == Kind::Adfs { "hidden" } else { "none" },
        "riskEventTypes" => risk_types.clone(),
        "riskEventTypes_v2" => risk_types,
        "riskLevelAggregated" => risk,
        "riskLevelDuringSignIn" => risk,
        "riskState" => if risk == "none" { "none" } else { "atRisk" },
        "servicePrincipalId" => "",
        "servicePrincipalName" => "",
        "signInEventTypes" => vec![event_type],
        "status" => obj! { "errorCode" => code, "failureReason" => if ok { None } else { Some(reason) }, "additionalDetails" => if ok && mfa_done { Some("MFA requirement satisfied by strong authentication") } else { None } },
        "tokenIssuerName" => issuer_name,
        "tokenIssuerType" => issuer_type,
        "uniqueTokenIdentifier" => token_id(rng),
        "userAgent" => user_agent,
        "userDisplayName" => user.display_name.as_str(),
        "userId" => user.id.as_str(),
        "userPrincipalName" => user.upn.as_str(),
        "userType" => if user.guest { "Guest" } else { "Member" },
    };
    if gsa && let Some(m) = g.as_object_mut() {
        m.insert("globalSecureAccessIpAddress".into(), ip.as_str().into());
    }
    if ctx.partial {
        strip(&mut g);
    }
    Built::entra(ctx.at, g)
}
