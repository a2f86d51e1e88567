//! Simulated Azure Resource Manager: diagnostic settings list/get/put/delete on the tenant (aadiam), the
//! subscriptions list, Activity Log and resource settings; bearer tokens for ARM only; PUT bodies validated
//! against the documented schema; scenarios.
#![allow(clippy::unwrap_used)]

#[path = "server_util.rs"]
mod util;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sim::server::{
    ArmConfig, ArmScenario, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SIM_EVENT_HUB_RULE_ID,
    SIM_KEY_VAULT_ID, SIM_STORAGE_ACCOUNT_ID, SIM_SUBSCRIPTION_ID, ServerConfig, SimServer,
};
use util::*;

const AAD: &str = "/providers/microsoft.aadiam/diagnosticSettings";
const AAD_V: &str = "api-version=2017-04-01";

async fn token(c: &Client, srv: &SimServer, scope: &str) -> String {
    let r: Value = c
        .post(srv.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

async fn arm_token(c: &Client, srv: &SimServer) -> String {
    token(c, srv, "https://management.azure.com/.default").await
}

fn server(scenario: ArmScenario) -> ServerConfig {
    ServerConfig {
        arm: ArmConfig {
            scenario,
            ..ArmConfig::default()
        },
        ..cfg(5)
    }
}

async fn call(
    c: &Client,
    srv: &SimServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = c.request(method, format!("{}{path}", srv.base_url()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn enabled(setting: &Value) -> Vec<String> {
    setting["properties"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["enabled"] == json!(true))
        .map(|l| l["category"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tokens_for_arm_only_and_arm_error_envelope() {
    let srv = SimServer::start(server(ArmScenario::Complete))
        .await
        .unwrap();
    let c = client();
    let path = format!("{AAD}?{AAD_V}");
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &path, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "AuthenticationFailed");
    let graph = token(&c, &srv, "https://graph.microsoft.com/.default").await;
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &path, Some(&graph), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "InvalidAuthenticationTokenAudience");
    let arm = arm_token(&c, &srv).await;
    let (s, b) = call(&c, &srv, reqwest::Method::GET, AAD, Some(&arm), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "MissingApiVersionParameter");
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &path, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let value = b["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["name"], "entrail-eventhub");
    assert_eq!(
        value[0]["properties"]["eventHubAuthorizationRuleId"],
        SIM_EVENT_HUB_RULE_ID
    );
    assert_eq!(enabled(&value[0]).len(), 15);
    // Graph rejects an ARM token too.
    let resp = c
        .get(format!("{}/v1.0/auditLogs/directoryAudits", srv.base_url()))
        .bearer_auth(&arm)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn put_validates_the_documented_schema() {
    let srv = SimServer::start(server(ArmScenario::Deleted))
        .await
        .unwrap();
    let c = client();
    let arm = arm_token(&c, &srv).await;
    let path = format!("{AAD}/entrail?{AAD_V}");
    let good = json!({"properties": {
        "eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID,
        "eventHubName": "entra-logs",
        "logs": [
            {"category": "AuditLogs", "enabled": true, "retentionPolicy": {"enabled": false, "days": 0}},
            {"category": "SignInLogs", "enabled": true}
        ]
    }});
    let bad_cases = [
        (
            json!({"properties": {"logs": [{"category": "AuditLogs", "enabled": true}]}}),
            "destination",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": "/subscriptions/x/rg", "logs": [{"category": "AuditLogs", "enabled": true}]}}),
            "not a valid resource id",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID, "logs": [{"category": "NoSuchLogs", "enabled": true}]}}),
            "not supported",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID, "logs": [{"category": "AuditLogs"}]}}),
            "enabled",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID, "logs": [{"category": "AuditLogs", "categoryGroup": "allLogs", "enabled": true}]}}),
            "not both",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID, "logs": [{"category": "AuditLogs", "enabled": true, "retentionPolicy": {"days": 900, "enabled": true}}]}}),
            "days",
        ),
        (
            json!({"properties": {"eventHubAuthorizationRuleId": SIM_EVENT_HUB_RULE_ID, "logs": [{"category": "AuditLogs", "enabled": true}], "colour": "red"}}),
            "not recognized",
        ),
        (
            json!({"properties": {"storageAccountId": "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/Bad_Name", "logs": [{"category": "AuditLogs", "enabled": true}]}}),
            "storage account name",
        ),
        (
            json!({"properties": {"eventHubName": "x", "workspaceId": null, "storageAccountId": SIM_STORAGE_ACCOUNT_ID, "logs": [{"category": "AuditLogs", "enabled": true}]}}),
            "eventHubName requires",
        ),
    ];
    for (body, want) in bad_cases {
        let (s, b) = call(
            &c,
            &srv,
            reqwest::Method::PUT,
            &path,
            Some(&arm),
            Some(&body),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} was accepted: {b}");
        assert_eq!(b["error"]["code"], "BadRequest");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(msg.contains(want), "{body}: {msg} lacks {want:?}");
    }
    let (s, b) = call(
        &c,
        &srv,
        reqwest::Method::PUT,
        &path,
        Some(&arm),
        Some(&good),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        b["id"],
        "/providers/microsoft.aadiam/diagnosticSettings/entrail"
    );
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &path, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(enabled(&b), ["AuditLogs", "SignInLogs"]);
    assert_eq!(srv.arm_snapshot()["puts"].as_array().unwrap().len(), 1);
    // The same sink for the same category in a second setting is refused.
    let dup = format!("{AAD}/other?{AAD_V}");
    let (s, b) = call(
        &c,
        &srv,
        reqwest::Method::PUT,
        &dup,
        Some(&arm),
        Some(&good),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let (s, _) = call(&c, &srv, reqwest::Method::DELETE, &path, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &path, Some(&arm), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["error"]["code"], "ResourceNotFound");
}

#[tokio::test]
async fn subscriptions_activity_log_and_resources() {
    let srv = SimServer::start(server(ArmScenario::Complete))
        .await
        .unwrap();
    let c = client();
    let arm = arm_token(&c, &srv).await;
    let (s, b) = call(
        &c,
        &srv,
        reqwest::Method::GET,
        "/subscriptions?api-version=2022-12-01",
        Some(&arm),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["value"][0]["subscriptionId"], SIM_SUBSCRIPTION_ID);
    let activity = format!(
        "/subscriptions/{SIM_SUBSCRIPTION_ID}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview"
    );
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &activity, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(enabled(&b["value"][0]).contains(&"Administrative".to_owned()));
    let kv = format!(
        "{SIM_KEY_VAULT_ID}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview"
    );
    let (s, b) = call(&c, &srv, reqwest::Method::GET, &kv, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b["value"][0]["properties"]["logs"][0]["categoryGroup"],
        "audit"
    );
    let unknown = "/subscriptions/3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/nope/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview";
    let (s, _) = call(&c, &srv, reqwest::Method::GET, unknown, Some(&arm), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = call(
        &c,
        &srv,
        reqwest::Method::GET,
        &activity.replace("2021-05-01-preview", "1999-01-01"),
        Some(&arm),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "InvalidApiVersionParameter");
}

#[tokio::test]
async fn not_licensed_categories_and_forbidden_writes() {
    let mut cfg = server(ArmScenario::NotLicensed);
    cfg.arm.read_only_clients = vec![DEFAULT_CLIENT_ID.to_owned()];
    let srv = SimServer::start(cfg).await.unwrap();
    let c = client();
    let arm = arm_token(&c, &srv).await;
    let cats =
        "/providers/microsoft.aadiam/diagnosticSettingsCategories?api-version=2017-04-01-preview";
    let (s, b) = call(&c, &srv, reqwest::Method::GET, cats, Some(&arm), None).await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"AuditLogs"));
    assert!(!names.contains(&"RiskyUsers"));
    let body = json!({"properties": {"storageAccountId": SIM_STORAGE_ACCOUNT_ID,
        "logs": [{"category": "AuditLogs", "enabled": true}]}});
    let (s, b) = call(
        &c,
        &srv,
        reqwest::Method::PUT,
        &format!("{AAD}/x?{AAD_V}"),
        Some(&arm),
        Some(&body),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(b["error"]["code"], "AuthorizationFailed");
}
