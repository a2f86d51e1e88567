//! Workload sign-ins: service principals (client credentials) and managed identities.

use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::Value;

use super::parts::{empty_location, failure, location, strip};
use super::{Built, Ctx};
use crate::catalog::{self, CITIES, FirstParty};
use crate::util::{guid, iso7, pick, pick_weighted, token_id};

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
