//! Graph token flows against wiremock: client secret, certificate assertion (PS256 checked with the test
//! certificate), managed identity (IMDS strings), workload identity, 401 refresh, refusals without secrets.
#![allow(clippy::unwrap_used)]

mod graph_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graph_support::*;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sources::graph::{ErrorKind, GraphAuth, GraphSource, MemoryCursors};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const NOW: &str = "2026-10-05T12:00:00Z";

fn token(t: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "token_type": "Bearer", "expires_in": 3599, "access_token": t
    }))
}

/// Captures token-endpoint forms and answers with a token.
struct CaptureForm {
    forms: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
    answer: ResponseTemplate,
}

impl Respond for CaptureForm {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.forms.lock().unwrap().push(form(&r.body));
        self.answer.clone()
    }
}

async fn capture(
    server: &MockServer,
    answer: ResponseTemplate,
) -> Arc<Mutex<Vec<BTreeMap<String, String>>>> {
    let forms = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(CaptureForm {
            forms: forms.clone(),
            answer,
        })
        .mount(server)
        .await;
    forms
}

async fn graph_expects(server: &MockServer, bearer: &str) {
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/directoryAudits"))
        .and(header("authorization", format!("Bearer {bearer}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(vec![audit("a1", "2026-10-05T11:00:00Z")], None)),
        )
        .mount(server)
        .await;
}

async fn poll(src: &GraphSource) -> sources::graph::PollReport {
    src.poll_once(&Recorder::default(), &MemoryCursors::new())
        .await
        .unwrap()
}

#[tokio::test]
async fn client_secret_flow_posts_the_form_and_caches_the_token() {
    let server = MockServer::start().await;
    let forms = capture(&server, token("tok-secret")).await;
    graph_expects(&server, "tok-secret").await;
    let src = GraphSource::new(config(&server, &["AuditLogs"]), FixedClock::at(NOW)).unwrap();
    assert!(poll(&src).await.is_ok());
    assert!(poll(&src).await.is_ok());
    let forms = forms.lock().unwrap();
    assert_eq!(forms.len(), 1, "the token is cached");
    let f = &forms[0];
    assert_eq!(f["client_id"], CLIENT);
    assert_eq!(f["client_secret"], SECRET);
    assert_eq!(f["grant_type"], "client_credentials");
    assert_eq!(f["scope"], "https://graph.microsoft.com/.default");
    assert!(!format!("{src:?}").contains(SECRET));
}

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/testdata/graph-cert")
        .join(name)
}

#[tokio::test]
async fn certificate_flow_sends_a_ps256_assertion_that_verifies_with_the_certificate() {
    let server = MockServer::start().await;
    let forms = capture(&server, token("tok-cert")).await;
    graph_expects(&server, "tok-cert").await;
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.auth = GraphAuth::Certificate {
        client_id: CLIENT.into(),
        certificate_pem_path: testdata("client-cert.pem"),
        key_pem_path: testdata("client-key.pem"),
    };
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    assert!(poll(&src).await.is_ok());
    let f = forms.lock().unwrap()[0].clone();
    assert_eq!(
        f["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!f.contains_key("client_secret"));
    let jwt = &f["client_assertion"];
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let cert = CertificateDer::from_pem_file(testdata("client-cert.pem")).unwrap();
    let thumb = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, cert.as_ref()));
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t#S256"], thumb);
    assert_eq!(
        claims["aud"],
        format!("{}/{TENANT}/oauth2/v2.0/token", server.uri())
    );
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    assert_eq!(claims["nbf"], 1_791_201_600);
    assert_eq!(claims["iat"], 1_791_201_600);
    assert_eq!(claims["exp"], 1_791_201_600 + 600);
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 36);
    assert_eq!(jti.as_bytes()[14], b'4');
    // The signature verifies against the certificate's public key with RSASSA-PSS SHA-256.
    let ee = webpki::EndEntityCert::try_from(&cert).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    ee.verify_signature(
        webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        signed.as_bytes(),
        &sig,
    )
    .unwrap();
    let mut tampered = sig.clone();
    tampered[10] ^= 1;
    assert!(
        ee.verify_signature(
            webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            signed.as_bytes(),
            &tampered
        )
        .is_err()
    );
}

#[tokio::test]
async fn managed_identity_reads_imds_string_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/metadata/identity/oauth2/token"))
        .and(header("metadata", "true"))
        .and(query_param("api-version", "2018-02-01"))
        .and(query_param("resource", "https://graph.microsoft.com"))
        .and(query_param("client_id", "mi-client"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tok-imds", "refresh_token": "", "expires_in": "3599", "expires_on": "1791205199",
            "not_before": "1791201600", "resource": "https://graph.microsoft.com", "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    graph_expects(&server, "tok-imds").await;
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.auth = GraphAuth::ManagedIdentity {
        client_id: Some("mi-client".into()),
        endpoint: server.uri(),
    };
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    let report = poll(&src).await;
    assert!(report.is_ok(), "{report:?}");
    assert!(poll(&src).await.is_ok());
}

#[tokio::test]
async fn workload_identity_sends_the_token_file_as_assertion() {
    let server = MockServer::start().await;
    let forms = capture(&server, token("tok-wi")).await;
    graph_expects(&server, "tok-wi").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated.jwt.value\n").unwrap();
    let mut cfg = config(&server, &["AuditLogs"]);
    cfg.auth = GraphAuth::WorkloadIdentity {
        client_id: CLIENT.into(),
        token_file: file,
    };
    let src = GraphSource::new(cfg, FixedClock::at(NOW)).unwrap();
    assert!(poll(&src).await.is_ok());
    let f = forms.lock().unwrap()[0].clone();
    assert_eq!(f["client_assertion"], "federated.jwt.value");
    assert_eq!(f["client_id"], CLIENT);
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_retries_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(Sequence::new(vec![token("tok-old"), token("tok-new")]))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-old"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    graph_expects(&server, "tok-new").await;
    let src = GraphSource::new(config(&server, &["AuditLogs"]), FixedClock::at(NOW)).unwrap();
    let report = poll(&src).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.categories[0].seen, 1);
}

#[tokio::test]
async fn a_401_after_refresh_and_a_refused_credential_are_auth_errors_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
            "error_codes": [7000215]
        })))
        .mount(&server)
        .await;
    let src = GraphSource::new(
        config(&server, &["AuditLogs", "SignInLogs"]),
        FixedClock::at(NOW),
    )
    .unwrap();
    let report = poll(&src).await;
    for c in &report.categories {
        assert_eq!(
            c.error_kind.as_deref(),
            Some(format!("{:?}", ErrorKind::Auth).as_str())
        );
        let e = c.error.as_deref().unwrap();
        assert!(
            e.contains("invalid_client") && e.contains("AADSTS7000215"),
            "{e}"
        );
        assert!(!e.contains(SECRET) && !e.contains("Trace ID"), "{e}");
    }
    let status = serde_json::to_string(&src.status()).unwrap();
    assert!(!status.contains(SECRET));
    // Both categories failed on one token request: a refusal is remembered briefly.
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1);

    let server = MockServer::start().await;
    mount_token(&server, "tok-x").await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let src = GraphSource::new(config(&server, &["AuditLogs"]), FixedClock::at(NOW)).unwrap();
    let report = poll(&src).await;
    let e = report.categories[0].error.as_deref().unwrap();
    assert!(e.contains("401") && !e.contains("tok-x"), "{e}");
    assert_eq!(
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == "GET")
            .count(),
        3
    );
}
