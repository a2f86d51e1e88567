//! Simulated tenant server: the certificate client-assertion flow (PS256 and RS256) and each way Entra refuses
//! an assertion (bad signature, malformed, wrong aud, expired, too long-lived, wrong x5t#S256, wrong iss/sub).
#![allow(clippy::unwrap_used)]

#[path = "server_util.rs"]
mod util;

use serde_json::Value;
use sim::server::{AppConfig, DEFAULT_CLIENT_ID, SimServer};
use util::*;

const CERT_APP: &str = "c3e7a1b2-0000-4000-8000-00000000cafe";

async fn cert_server() -> SimServer {
    let mut c = cfg(10);
    c.categories = Some(vec![sim::Category::AuditLogs]);
    c.apps.push(AppConfig {
        client_id: CERT_APP.to_owned(),
        secret: None,
        certificate_pem: Some(testdata("client-cert.pem")),
        permissions: sim::server::all_permissions(),
    });
    SimServer::start(c).await.unwrap()
}

#[tokio::test]
async fn certificate_assertion_flow() {
    let srv = cert_server().await;
    let c = client();
    let cert = testdata("client-cert.pem");
    let key = testdata("client-key.pem");
    let x5t = thumbprint(&cert);
    let aud = srv.token_url();
    let request = |jwt: String| {
        let c = c.clone();
        let srv_url = srv.token_url();
        async move {
            let form = [
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", CERT_APP.to_owned()),
                ("scope", "https://graph.microsoft.com/.default".to_owned()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ),
                ("client_assertion", jwt),
            ];
            let r = c.post(srv_url).form(&form).send().await.unwrap();
            let s = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (s, body["error_codes"][0].as_u64().unwrap_or(0), body)
        }
    };
    let good = claims(CERT_APP, &aud, 0, 600);
    let (s, _, body) = request(assertion("PS256", &key, &x5t, &good)).await;
    assert_eq!(s, 200, "{body}");
    let r = get(
        &c,
        &srv,
        body["access_token"].as_str().unwrap(),
        "/v1.0/auditLogs/directoryAudits",
    )
    .await;
    assert_eq!(r.status(), 200);
    let (s, _, body) = request(assertion("RS256", &key, &x5t, &good)).await;
    assert_eq!(s, 200, "RS256 too: {body}");

    // Bad signature: a valid token with its payload swapped.
    let jwt = assertion("PS256", &key, &x5t, &good);
    let mut other_claims = good.clone();
    other_claims["jti"] = "a-different-jti".into();
    let other = assertion("PS256", &key, &x5t, &other_claims);
    let parts: Vec<&str> = jwt.split('.').collect();
    let other_payload = other.split('.').nth(1).unwrap();
    let tampered = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    let (s, code, _) = request(tampered).await;
    assert_eq!((s, code), (401, 700027), "bad signature");
    let (s, code, _) = request("not-a-jwt".to_owned()).await;
    assert_eq!((s, code), (400, 50027), "malformed");
    let (s, code, _) = request(assertion(
        "PS256",
        &key,
        &x5t,
        &claims(
            CERT_APP,
            "https://login.microsoftonline.com/x/oauth2/v2.0/token",
            0,
            600,
        ),
    ))
    .await;
    assert_eq!((s, code), (401, 700023), "wrong aud");
    let (s, code, _) = request(assertion(
        "PS256",
        &key,
        &x5t,
        &claims(CERT_APP, &aud, -3600, 600),
    ))
    .await;
    assert_eq!((s, code), (401, 700024), "expired");
    let (s, code, _) = request(assertion(
        "PS256",
        &key,
        &x5t,
        &claims(CERT_APP, &aud, 0, 3600),
    ))
    .await;
    assert_eq!((s, code), (401, 700024), "lifetime over 10 min");
    let (s, code, body) = request(assertion(
        "PS256",
        &key,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &good,
    ))
    .await;
    assert_eq!((s, code), (401, 700027), "wrong x5t#S256");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("The key was not found")
    );
    let (s, code, _) = request(assertion(
        "PS256",
        &key,
        &x5t,
        &claims(DEFAULT_CLIENT_ID, &aud, 0, 600),
    ))
    .await;
    assert_eq!((s, code), (401, 700021), "iss/sub must be the client id");
    srv.shutdown().await;
}
