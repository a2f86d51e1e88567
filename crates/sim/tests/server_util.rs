//! Helpers shared by the `server*` integration tests (included with `#[path]`; this file's own test binary is
//! empty).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Client;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sim::TenantConfig;
use sim::server::{
    ClockConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Limits, ServerConfig, SimServer,
};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

/// A small tenant with the clock frozen at the end of its day (everything received that day is visible) and
/// throttling limits out of the way.
pub(crate) fn cfg(users: u32) -> ServerConfig {
    ServerConfig {
        limits: Limits {
            reports_per_window: 1_000_000,
            identity_protection_per_window: 1_000_000,
            ..Limits::default()
        },
        tenant: TenantConfig {
            users,
            days: 1,
            ..TenantConfig::default()
        },
        clock: ClockConfig {
            frozen: true,
            ..ClockConfig::default()
        },
        ..ServerConfig::default()
    }
}

pub(crate) fn client() -> Client {
    // In a workspace build reqwest's features unify with the Graph source's (`rustls-no-provider`), which needs
    // a process-wide crypto provider even for plain http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().unwrap()
}

/// Reads a file of the test certificate folder.
pub(crate) fn testdata(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/testdata/graph-cert")
        .join(name);
    let mut s = String::new();
    std::fs::File::open(&path)
        .unwrap()
        .take(1 << 20)
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// `x5t#S256` of a PEM certificate.
pub(crate) fn thumbprint(cert_pem: &str) -> String {
    let der = Certificate::from_pem(cert_pem.as_bytes())
        .unwrap()
        .to_der()
        .unwrap();
    URL_SAFE_NO_PAD.encode(Sha256::digest(&der))
}

/// A deterministic RNG for PSS salts (tests only).
struct TestRng(u64);

impl rsa::rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for TestRng {}

/// A signed client assertion (`alg` PS256 or RS256) with the given header thumbprint and claims.
pub(crate) fn assertion(alg: &str, key_pem: &str, x5t: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "typ": "JWT", "x5t#S256": x5t});
    let msg = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = RsaPrivateKey::from_pkcs8_pem(key_pem).unwrap();
    let sig = if alg == "PS256" {
        rsa::pss::SigningKey::<Sha256>::new(key)
            .sign_with_rng(&mut TestRng(0x9E37_79B9_7F4A_7C15), msg.as_bytes())
            .to_vec()
    } else {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
            .sign(msg.as_bytes())
            .to_vec()
    };
    format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Standard assertion claims for `client_id` against `aud`, valid from now for `lifetime_s`.
pub(crate) fn claims(client_id: &str, aud: &str, nbf_offset_s: i64, lifetime_s: i64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let nbf = now + nbf_offset_s;
    json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": "0b1c2d3e-0000-4000-8000-000000000001",
           "nbf": nbf, "iat": nbf, "exp": nbf + lifetime_s})
}

/// Posts a token request form; returns (status, body).
pub(crate) async fn token_request(
    c: &Client,
    srv: &SimServer,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = c.post(srv.token_url()).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// A Graph token for an app with a client secret.
pub(crate) async fn secret_token(
    c: &Client,
    srv: &SimServer,
    client_id: &str,
    secret: &str,
) -> String {
    let (status, body) = token_request(
        c,
        srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A Graph token for the default app.
pub(crate) async fn default_token(c: &Client, srv: &SimServer) -> String {
    secret_token(c, srv, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).await
}

/// GET `{base}{path_and_query}` with a bearer token.
pub(crate) async fn get(
    c: &Client,
    srv: &SimServer,
    token: &str,
    path_and_query: &str,
) -> reqwest::Response {
    get_url(c, token, &format!("{}{path_and_query}", srv.base_url())).await
}

pub(crate) async fn get_url(c: &Client, token: &str, url: &str) -> reqwest::Response {
    c.get(url).bearer_auth(token).send().await.unwrap()
}

#[derive(serde::Deserialize)]
struct RawPage {
    #[serde(rename = "@odata.context")]
    context: String,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
    value: Vec<Box<serde_json::value::RawValue>>,
}

/// Follows nextLinks from `first` to the end; returns every object exactly as served (serde_json does not
/// round-trip every float, so compare these, not re-serialized values) and the number of pages. Panics on
/// non-200.
pub(crate) async fn get_all_raw(c: &Client, token: &str, first: &str) -> (Vec<String>, usize) {
    let mut url = first.to_owned();
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = get_url(c, token, &url).await;
        assert_eq!(r.status(), 200, "{url}");
        let page: RawPage = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert!(!page.context.is_empty());
        pages += 1;
        all.extend(page.value.iter().map(|v| v.get().to_owned()));
        match page.next {
            Some(next) => url = next,
            None => return (all, pages),
        }
    }
}

/// Like [`get_all_raw`], parsed.
pub(crate) async fn get_all(c: &Client, token: &str, first: &str) -> (Vec<Value>, usize) {
    let (raw, pages) = get_all_raw(c, token, first).await;
    (
        raw.iter()
            .map(|r| serde_json::from_str(r).unwrap())
            .collect(),
        pages,
    )
}

/// The Graph error code of a response body.
pub(crate) fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
