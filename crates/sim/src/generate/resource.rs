//! Generic Azure resource logs in the common resource-log schema, here Key Vault `AuditEvent`.

use rand::Rng;

use super::{Built, Ctx, into_map};
use crate::tenant::{AzureResource, ResourceKind};
use crate::util::{guid, hex, iso7, pick, pick_weighted};

/// (operationName, URI path template, HTTP status, weight).
const OPERATIONS: &[((&str, &str, u16), u32)] = &[
    (("SecretGet", "/secrets/{name}/{version}", 200), 40),
    (("SecretList", "/secrets", 200), 8),
    (("KeyGet", "/keys/{name}/{version}", 200), 10),
    (("KeySign", "/keys/{name}/{version}/sign", 200), 8),
    (("KeyUnwrap", "/keys/{name}/{version}/unwrapkey", 200), 6),
    (("CertificateGet", "/certificates/{name}/{version}", 200), 6),
    (("SecretSet", "/secrets/{name}", 200), 2),
    (("VaultGet", "", 200), 4),
    (("Authentication", "", 401), 3),
    (("SecretGet", "/secrets/{name}", 403), 2),
];

const SECRETS: &[&str] = &[
    "db-connection",
    "storage-key",
    "api-token",
    "tls-cert",
    "signing-key",
    "smtp-password",
];

pub(crate) fn key_vault(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let vaults: Vec<&AzureResource> = t.resources_of(ResourceKind::KeyVault).collect();
    let Some(kv) = (if vaults.is_empty() {
        None
    } else {
        Some(vaults[rng.random_range(0..vaults.len())])
    }) else {
        return Built {
            time: ctx.at,
            graph: serde_json::json!({}),
            envelope: None,
        };
    };
    let (op, path, status) = *pick_weighted(rng, OPERATIONS);
    let name = *pick(rng, SECRETS);
    let version = hex(rng, 32);
    let path = path.replace("{name}", name).replace("{version}", &version);
    let host = format!("https://{}.vault.azure.net", kv.name);
    let (claims, ip) = if rng.random_bool(0.7) {
        let mi = pick(rng, &t.managed_identities);
        (
            obj! { "oid" => mi.id.as_str(), "appid" => mi.app_id.as_str(), "idtyp" => "app", "xms_mirid" => mi.resource_id.as_str() },
            format!(
                "10.{}.{}.{}",
                rng.random_range(0..4u8),
                rng.random_range(0..10u8),
                rng.random_range(4..250u8)
            ),
        )
    } else {
        let sp = pick(rng, &t.service_principals);
        (
            obj! { "oid" => sp.id.as_str(), "appid" => sp.app_id.as_str(), "idtyp" => "app" },
            sp.ip.clone(),
        )
    };
    let result = match status {
        200 => "Success",
        401 => "Unauthorized",
        _ => "Forbidden",
    };
    let env = into_map(obj! {
        "time" => iso7(ctx.at),
        "resourceId" => kv.id.to_ascii_uppercase(),
        "operationName" => op,
        "operationVersion" => "7.4",
        "category" => "AuditEvent",
        "resultType" => result,
        "resultSignature" => match status { 200 => "OK", 401 => "Unauthorized", _ => "Forbidden" },
        "resultDescription" => if status == 200 { "" } else { "Caller was not authorized to perform action on resource." },
        "durationMs" => rng.random_range(2..180),
        "callerIpAddress" => ip.as_str(),
        "correlationId" => guid(rng),
        "identity" => obj! { "claim" => claims },
        "location" => kv.location,
    });
    let props = obj! {
        "id" => if path.is_empty() { host.clone() } else { format!("{host}{path}") },
        "clientInfo" => *pick(rng, &["azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.2; Microsoft Windows 10.0.20348)", "azsdk-python-keyvault-secrets/4.7.0 Python/3.11.8 (Linux-5.15.0-1057-azure-x86_64-with-glibc2.35)", "FxVersion/8.0.224.6711 OSName/Linux OSVersion/Ubuntu.22.04 Microsoft.Azure.KeyVault.KeyVaultClient/3.0.5"]),
        "httpStatusCode" => status,
        "requestUri" => format!("{host}{path}?api-version=7.4"),
        "isAccessPolicyMatch" => false,
        "isRbacAuthorized" => status == 200,
        "tlsVersion" => "TLS1_2",
        "properties" => obj! { "id" => format!("{host}/{}/{name}", if op.starts_with("Key") { "keys" } else { "secrets" }) },
    };
    Built {
        time: ctx.at,
        graph: props,
        envelope: Some(env),
    }
}
