//! Simulated tenant server: token flows (client secret, IMDS), 401 / 403, throttling, the
//! `_sim` control endpoints and the sim-time `Date` header.
#![allow(clippy::unwrap_used)]

#[path = "server_util.rs"]
mod util;

use std::time::Duration;

use serde_json::Value;
use sim::server::{
    ALL_READ_PERMISSIONS, AppConfig, DEFAULT_CLIENT_ID, DEFAULT_MI_CLIENT_ID, GraphTruth, Limits,
    ServerStats, SimServer,
};
use util::*;

#[tokio::test]
async fn client_secret_flow_and_errors() {
    let srv = SimServer::start(cfg(10)).await.unwrap();
    let c = client();
    let graph = "https://graph.microsoft.com/.default";
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("scope", graph),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let (s, body) = token_request(&c, &srv, &with(&[("client_secret", "sim-client-secret")])).await;
    assert_eq!(s, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body["expires_in"].is_u64() && body["ext_expires_in"].is_u64(),
        "numbers in v2: {body}"
    );
    let token = body["access_token"].as_str().unwrap();
    let r = get(&c, &srv, token, "/v1.0/auditLogs/directoryAudits?$top=1").await;
    assert_eq!(r.status(), 200);

    let (s, body) = token_request(&c, &srv, &with(&[("client_secret", "wrong")])).await;
    assert_eq!(
        (s, body["error"].as_str().unwrap()),
        (401, "invalid_client")
    );
    assert_eq!(body["error_codes"][0], 7000215);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215:")
    );
    let (s, body) = token_request(&c, &srv, &with(&[])).await;
    assert_eq!((s, body["error_codes"][0].as_u64()), (401, Some(7000218)));

    let unknown_app = [
        ("grant_type", "client_credentials"),
        ("client_id", "00000000-0000-0000-0000-00000000beef"),
        ("scope", graph),
        ("client_secret", "x"),
    ];
    let (s, body) = token_request(&c, &srv, &unknown_app).await;
    assert_eq!(
        (
            s,
            body["error"].as_str().unwrap(),
            body["error_codes"][0].as_u64()
        ),
        (400, "unauthorized_client", Some(700016))
    );

    let mut bad_scope = with(&[("client_secret", "sim-client-secret")]);
    bad_scope[2] = ("scope", "https://graph.microsoft.com/AuditLog.Read.All");
    let (s, body) = token_request(&c, &srv, &bad_scope).await;
    assert_eq!((s, body["error"].as_str().unwrap()), (400, "invalid_scope"));

    let r = c
        .post(format!(
            "{}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
            srv.base_url()
        ))
        .form(&with(&[("client_secret", "sim-client-secret")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unknown tenant");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 90002);

    // An ARM token is issued but Graph refuses it.
    let mut arm = with(&[("client_secret", "sim-client-secret")]);
    arm[2] = ("scope", "https://management.azure.com/.default");
    let (s, body) = token_request(&c, &srv, &arm).await;
    assert_eq!(s, 200);
    let r = get(
        &c,
        &srv,
        body["access_token"].as_str().unwrap(),
        "/v1.0/auditLogs/directoryAudits",
    )
    .await;
    assert_eq!(r.status(), 401);
    let st = srv.stats();
    assert_eq!(st.tokens_issued, 2);
    assert_eq!(st.token_errors, 5);
}

#[tokio::test]
async fn imds_strings_and_metadata_header() {
    let srv = SimServer::start(cfg(10)).await.unwrap();
    let c = client();
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://graph.microsoft.com/",
        srv.base_url()
    );
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 400, "Metadata header required");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let r = c.get(&url).header("Metadata", "true").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    for k in [
        "access_token",
        "expires_in",
        "expires_on",
        "not_before",
        "resource",
        "token_type",
        "refresh_token",
    ] {
        assert!(body[k].is_string(), "{k} is a string: {body}");
    }
    assert!(body["expires_in"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(body["resource"], "https://graph.microsoft.com/");
    let r = get(
        &c,
        &srv,
        body["access_token"].as_str().unwrap(),
        "/v1.0/auditLogs/directoryAudits",
    )
    .await;
    assert_eq!(r.status(), 200);
    let wrong = format!("{url}&client_id=00000000-0000-0000-0000-000000000000");
    assert_eq!(
        c.get(&wrong)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let right = format!("{url}&client_id={DEFAULT_MI_CLIENT_ID}");
    assert_eq!(
        c.get(&right)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn expired_and_unknown_tokens_get_401() {
    let mut config = cfg(10);
    config.token_lifetime = Duration::from_millis(300);
    let srv = SimServer::start(config).await.unwrap();
    let c = client();
    let token = default_token(&c, &srv).await;
    assert_eq!(
        get(&c, &srv, &token, "/v1.0/auditLogs/directoryAudits")
            .await
            .status(),
        200
    );
    // Token lifetime is real time; nothing signals expiry, so wait it out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = get(&c, &srv, &token, "/v1.0/auditLogs/directoryAudits").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let r = get(&c, &srv, "nonsense", "/v1.0/auditLogs/directoryAudits").await;
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{}/v1.0/auditLogs/signIns", srv.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no Authorization header");
}

#[tokio::test]
async fn each_missing_permission_gets_403() {
    let mut config = cfg(10);
    config.categories = Some(vec![sim::Category::AuditLogs]);
    // One app per permission, holding every permission but that one.
    for (i, p) in ALL_READ_PERMISSIONS.iter().enumerate() {
        config.apps.push(AppConfig {
            client_id: format!("00000000-0000-4000-8000-{i:012}"),
            secret: Some(format!("secret-{i}")),
            certificate_pem: None,
            permissions: sim::server::all_permissions()
                .into_iter()
                .filter(|g| g != p)
                .collect(),
        });
    }
    let srv = SimServer::start(config).await.unwrap();
    let c = client();
    let full = default_token(&c, &srv).await;
    let endpoints: &[(&str, &[&str])] = &[
        ("/v1.0/auditLogs/directoryAudits", &["AuditLog.Read.All"]),
        (
            "/v1.0/auditLogs/signIns",
            &["AuditLog.Read.All", "Directory.Read.All"],
        ),
        ("/v1.0/auditLogs/provisioning", &["AuditLog.Read.All"]),
        (
            "/v1.0/identityProtection/riskyUsers",
            &["IdentityRiskyUser.Read.All"],
        ),
        (
            "/v1.0/identityProtection/riskDetections",
            &["IdentityRiskEvent.Read.All"],
        ),
        (
            "/v1.0/identityProtection/riskyServicePrincipals",
            &["IdentityRiskyServicePrincipal.Read.All"],
        ),
        (
            "/v1.0/identityProtection/servicePrincipalRiskDetections",
            &["IdentityRiskEvent.Read.All"],
        ),
        (
            "/beta/identityProtection/riskyAgents",
            &["IdentityRiskyAgent.Read.All"],
        ),
        (
            "/beta/identityProtection/agentRiskDetections",
            &["IdentityRiskEvent.Read.All"],
        ),
        (
            "/beta/networkAccess/logs/traffic",
            &["NetworkAccess.Read.All"],
        ),
        (
            "/beta/networkAccess/logs/remoteNetworks",
            &["NetworkAccess.Read.All"],
        ),
    ];
    for (i, p) in ALL_READ_PERMISSIONS.iter().enumerate() {
        let token = secret_token(
            &c,
            &srv,
            &format!("00000000-0000-4000-8000-{i:012}"),
            &format!("secret-{i}"),
        )
        .await;
        for (path, needs) in endpoints {
            let r = get(&c, &srv, &token, path).await;
            let expected = if needs.contains(p) { 403 } else { 200 };
            assert_eq!(r.status().as_u16(), expected, "{path} without {p}");
            if expected == 403 {
                let body: Value = r.json().await.unwrap();
                assert_eq!(error_code(&body), "Authorization_RequestDenied");
            }
        }
    }
    for (path, _) in endpoints {
        assert_eq!(get(&c, &srv, &full, path).await.status(), 200, "{path}");
    }
    assert_eq!(
        get(&c, &srv, &full, "/v1.0/identityProtection/riskyAgents")
            .await
            .status(),
        400,
        "beta only"
    );
}

#[tokio::test]
async fn throttling_with_and_without_retry_after() {
    let mut config = cfg(10);
    config.categories = Some(vec![sim::Category::AuditLogs, sim::Category::RiskyUsers]);
    config.limits = Limits::default();
    config.apps.push(AppConfig {
        client_id: "00000000-0000-4000-8000-0000000000b2".to_owned(),
        secret: Some("second".to_owned()),
        certificate_pem: None,
        permissions: sim::server::all_permissions(),
    });
    let srv = SimServer::start(config).await.unwrap();
    let c = client();
    let a = default_token(&c, &srv).await;
    let b = secret_token(&c, &srv, "00000000-0000-4000-8000-0000000000b2", "second").await;
    for _ in 0..5 {
        assert_eq!(
            get(&c, &srv, &a, "/v1.0/auditLogs/directoryAudits")
                .await
                .status(),
            200
        );
    }
    let r = get(&c, &srv, &a, "/v1.0/auditLogs/directoryAudits").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(srv.stats().retry_after_violations, 0);
    // Per app: the other app is not throttled; per class: identity protection is a separate budget.
    assert_eq!(
        get(&c, &srv, &b, "/v1.0/auditLogs/directoryAudits")
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&c, &srv, &a, "/v1.0/identityProtection/riskyUsers")
            .await
            .status(),
        200
    );
    assert_eq!(srv.stats().retry_after_violations, 0);
    // Ignoring Retry-After is a violation.
    assert_eq!(
        get(&c, &srv, &a, "/v1.0/auditLogs/signIns").await.status(),
        429
    );
    assert_eq!(srv.stats().retry_after_violations, 1);
    // Identity protection: 1 per second per tenant across apps, 429 without Retry-After.
    let r = get(&c, &srv, &b, "/v1.0/identityProtection/riskyUsers").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    let st = srv.stats();
    assert_eq!(
        (
            st.throttled_reports,
            st.throttled_identity_protection,
            st.throttled
        ),
        (2, 1, 3)
    );
    assert_eq!(st.by_status[&429], 3);
    assert_eq!(st.retry_after_violations, 1);
}

#[tokio::test]
async fn sim_endpoints_clock_and_date_header() {
    let mut config = cfg(10);
    config.categories = Some(vec![sim::Category::AuditLogs]);
    let srv = SimServer::start(config).await.unwrap();
    let c = client();
    let base = srv.base_url();
    let start = srv.clock().now();
    let r = c.get(format!("{base}/_sim/clock")).send().await.unwrap();
    let date = r.headers()["date"].to_str().unwrap().to_owned();
    assert_eq!(
        date,
        start.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        "Date is sim time"
    );

    let truth: GraphTruth = c
        .get(format!("{base}/_sim/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(truth, srv.truth());
    assert!(!truth.category("AuditLogs").ids.is_empty());

    // Drive the clock from "another process": back to the start of the day, then forward an hour.
    let day_start = start - chrono::TimeDelta::days(1);
    let r = c
        .post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({"set": day_start}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(srv.clock().now(), day_start);
    assert!(
        srv.truth().category("AuditLogs").ids.is_empty(),
        "nothing visible at the start of the day"
    );
    let r = c
        .post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({"advance_secs": 3600}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["frozen"], true);
    assert_eq!(srv.clock().now(), day_start + chrono::TimeDelta::hours(1));
    let r = c
        .post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({"bogus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let stats: ServerStats = c
        .get(format!("{base}/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats.requests >= 5);
    assert_eq!(stats.by_endpoint["_sim/clock"], 4);
    assert!(stats.records_generated > 0);
}
