//! The Microsoft identity platform, simulated (wire-formats §4): the client-credentials token endpoint (client
//! secret or a PS256 / RS256 certificate assertion checked like Entra does) and the IMDS managed-identity
//! endpoint. Both issue the opaque bearer tokens of `tokens.rs`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

use super::App;
use super::respond::{aad_error, json_response};
use super::tokens::Audience;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// Longest accepted assertion lifetime (`exp - nbf`): Entra asks for 5–10 minutes; a little slack.
const MAX_ASSERTION_LIFETIME: i64 = 10 * 60 + 30;

/// A certificate credential: public key and `x5t#S256` thumbprint.
#[derive(Debug, Clone)]
pub(crate) struct CertKey {
    key: RsaPublicKey,
    x5t_s256: String,
}

/// Parses a PEM certificate into its RSA key and SHA-256 thumbprint.
pub(crate) fn load_cert(pem: &str) -> Result<CertKey, String> {
    let cert = Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("certificate: {e}"))?;
    let der = cert.to_der().map_err(|e| format!("certificate: {e}"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("certificate key: {e}"))?;
    let key =
        RsaPublicKey::from_public_key_der(&spki).map_err(|e| format!("certificate key: {e}"))?;
    Ok(CertKey {
        key,
        x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
    })
}

fn b64_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks a client assertion as Entra does; `Err((AADSTS code, message))`.
fn verify_assertion(
    jwt: &str,
    cert: &CertKey,
    client_id: &str,
    audience: &str,
    now_secs: &[i64],
) -> Result<(), (u32, String)> {
    let malformed = || (50027, "JWT token is invalid or malformed.".to_owned());
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let header = b64_json(h).ok_or_else(malformed)?;
    let claims = b64_json(p).ok_or_else(malformed)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    let thumb = header.get("x5t#S256").and_then(Value::as_str).unwrap_or("");
    if thumb != cert.x5t_s256 {
        return Err((
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumb}']"
            ),
        ));
    }
    let message = &jwt.as_bytes()[..h.len() + 1 + p.len()];
    let bad_sig = || {
        (
            700027,
            "Client assertion failed signature validation.".to_owned(),
        )
    };
    let verified = match header.get("alg").and_then(Value::as_str) {
        Some("PS256") => {
            let signature = rsa::pss::Signature::try_from(sig.as_slice()).map_err(|_| bad_sig())?;
            rsa::pss::VerifyingKey::<Sha256>::new(cert.key.clone()).verify(message, &signature)
        }
        Some("RS256") => {
            let signature =
                rsa::pkcs1v15::Signature::try_from(sig.as_slice()).map_err(|_| bad_sig())?;
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(cert.key.clone()).verify(message, &signature)
        }
        other => {
            return Err((
                5002738,
                format!(
                    "Invalid JWT token. '{}' is not a supported signature algorithm.",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    verified.map_err(|_| bad_sig())?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(v)) => v.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err((
            700023,
            "Client assertion audience claim does not match Realm issuer.".to_owned(),
        ));
    }
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    if str_claim("iss") != client_id || str_claim("sub") != client_id {
        return Err((
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter."
                .to_owned(),
        ));
    }
    let num = |k: &str| claims.get(k).and_then(Value::as_i64);
    let Some(exp) = num("exp") else {
        return Err((
            700024,
            "Client assertion is not within its valid time range.".to_owned(),
        ));
    };
    let start = num("nbf").or_else(|| num("iat"));
    let in_range = now_secs
        .iter()
        .any(|now| exp > *now && start.is_none_or(|nbf| nbf <= *now + 300));
    if !in_range {
        return Err((
            700024,
            "Client assertion is not within its valid time range.".to_owned(),
        ));
    }
    if start.is_some_and(|nbf| exp - nbf > MAX_ASSERTION_LIFETIME) {
        return Err((
            700024,
            "Client assertion is not within its valid time range. The lifetime (exp - nbf) must not exceed 10 minutes."
                .to_owned(),
        ));
    }
    Ok(())
}

fn expires_in(lifetime: Duration) -> u64 {
    lifetime.as_secs_f64().ceil().max(1.0) as u64
}

/// `POST /{tenant}/oauth2/v2.0/token` (form body).
pub(crate) fn token_endpoint(app: &App, tenant: &str, body: &[u8]) -> Response {
    let now = app.clock.now();
    let trace = app.next_request_id();
    let fail = |status: StatusCode, error: &str, code: u32, msg: String| {
        app.stat(|s| s.token_errors += 1);
        aad_error(status, error, code, &msg, now, &trace)
    };
    if !tenant.eq_ignore_ascii_case(&app.cfg.tenant_id) {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let missing = |k: &str| {
        fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{k}'."),
        )
    };
    let Some(grant) = get("grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return fail(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = get("client_id") else {
        return missing("client_id");
    };
    let Some(registered) = app
        .cfg
        .apps
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    else {
        return fail(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        );
    };
    let Some(scope) = get("scope") else {
        return missing("scope");
    };
    let audience = match scope {
        GRAPH_SCOPE => Audience::Graph,
        ARM_SCOPE => Audience::Arm,
        s if !s.ends_with("/.default") => {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            );
        }
        s => {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {} was not found in the tenant named {tenant}.",
                    s.trim_end_matches("/.default")
                ),
            );
        }
    };
    if let Some(secret) = get("client_secret") {
        if registered.secret.as_deref() != Some(secret) {
            return fail(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
    } else if let Some(assertion) = get("client_assertion") {
        if get("client_assertion_type") != Some(JWT_BEARER) {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90014,
                format!(
                    "The request body must contain the following parameter: 'client_assertion_type' with value '{JWT_BEARER}'."
                ),
            );
        }
        let cert = match app.certs.get(&registered.client_id) {
            Some(Ok(c)) => c,
            _ => {
                return fail(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    700027,
                    "Client assertion contains an invalid signature. [Reason - The key was not found.]".to_owned(),
                );
            }
        };
        let audience_url = format!("{}/{}/oauth2/v2.0/token", app.base_url, app.cfg.tenant_id);
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // Assertions are checked against real time, and also against sim time for collectors that take "now"
        // from the server's Date header.
        if let Err((code, msg)) = verify_assertion(
            assertion,
            cert,
            &registered.client_id,
            &audience_url,
            &[real, now.timestamp()],
        ) {
            let status = if code == 50027 {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNAUTHORIZED
            };
            let error = if code == 50027 {
                "invalid_request"
            } else {
                "invalid_client"
            };
            return fail(status, error, code, msg);
        }
    } else {
        return fail(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        );
    }
    let token = app
        .tokens
        .issue(registered, audience, app.cfg.token_lifetime);
    app.stat(|s| s.tokens_issued += 1);
    let secs = expires_in(app.cfg.token_lifetime);
    json_response(
        StatusCode::OK,
        &json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token}),
    )
}

/// `GET /metadata/identity/oauth2/token` (IMDS): strings throughout. `expires_on` / `not_before` are epoch
/// seconds in sim time (what a collector reading the `Date` header sees); the token itself expires in real time.
pub(crate) fn imds(app: &App, headers: &HeaderMap, query: &str) -> Response {
    let bad = |msg: &str| {
        app.stat(|s| s.token_errors += 1);
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request", "error_description": msg}),
        )
    };
    let metadata = headers.get("metadata").and_then(|v| v.to_str().ok());
    if !metadata.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return bad("Required metadata header not specified");
    }
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if q.get("api-version").is_none_or(String::is_empty) {
        return bad("Required query variable 'api-version' is missing");
    }
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return bad("Required query variable 'resource' is missing");
    };
    let Some(mi) = app.cfg.managed_identity.as_ref() else {
        return bad("Identity not found");
    };
    if q.get("client_id")
        .is_some_and(|c| !c.eq_ignore_ascii_case(&mi.client_id))
    {
        return bad("Identity not found");
    }
    let audience = match resource.trim_end_matches('/') {
        "https://graph.microsoft.com" => Audience::Graph,
        "https://management.azure.com" => Audience::Arm,
        other => {
            app.stat(|s| s.token_errors += 1);
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_resource", "error_description": format!("AADSTS500011: The resource principal named {other} was not found in the tenant named {}.", app.cfg.tenant_id)}),
            );
        }
    };
    let token = app.tokens.issue(mi, audience, app.cfg.token_lifetime);
    app.stat(|s| s.tokens_issued += 1);
    let secs = expires_in(app.cfg.token_lifetime);
    let now = app.clock.now().timestamp();
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": token,
            "client_id": mi.client_id,
            "refresh_token": "",
            "expires_in": secs.to_string(),
            "expires_on": (now + secs as i64).to_string(),
            "ext_expires_in": secs.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}
