//! ARM client against a mock server: token with ARM's scope, listing with `nextLink`, PUT body shape, error
//! classification, refusal of plain http to a non-loopback host.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::graph::{GraphAuth, GraphSourceConfig};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(base: &str) -> ArmClientConfig {
    let mut creds = GraphSourceConfig::new(
        "arm",
        "tenant-1",
        GraphAuth::ClientSecret {
            client_id: "app".into(),
            secret: SecretString::from("s3cret"),
        },
    );
    creds.authority_host = base.to_owned();
    let mut c = ArmClientConfig::new(creds);
    c.endpoint = base.to_owned();
    c
}

async fn mock_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/tenant-1/oauth2/v2.0/token"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "arm-token"}),
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn lists_with_next_link_and_puts_documented_body() {
    let server = MockServer::start().await;
    mock_token(&server).await;
    let next = format!(
        "{}/providers/microsoft.aadiam/diagnosticSettings?api-version=2017-04-01&$skiptoken=2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/providers/microsoft.aadiam/diagnosticSettings"))
        .and(query_param("$skiptoken", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": "x/b", "name": "b", "properties": {"workspaceId": "/w", "logs": null}}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/providers/microsoft.aadiam/diagnosticSettings"))
        .and(header("authorization", "Bearer arm-token"))
        .and(query_param("api-version", AADIAM_API_VERSION))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"id": "x/a", "name": "a", "properties": {"eventHubAuthorizationRuleId": "/eh", "logs": [
                {"category": "SignInLogs", "enabled": true, "retentionPolicy": {"enabled": false, "days": 0}},
                {"category": "AuditLogs", "enabled": false}]}}],
            "nextLink": next})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/providers/microsoft.aadiam/diagnosticSettings/entrail"))
        .and(body_string_contains("\"eventHubAuthorizationRuleId\":\"/eh\""))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "x/entrail", "name": "entrail",
            "properties": {"eventHubAuthorizationRuleId": "/eh", "logs": [{"category": "AuditLogs", "enabled": true}]}})))
        .mount(&server)
        .await;
    let client = ArmClient::new(&config(&server.uri())).unwrap();
    let settings = client.entra_settings().await.unwrap();
    assert_eq!(settings.len(), 2);
    assert!(settings[0].properties.enabled_entry("signinlogs").is_some());
    assert!(settings[0].properties.enabled_entry("AuditLogs").is_none());
    assert_eq!(
        settings[1].properties.destinations()[0].0,
        DestinationKind::LogAnalytics
    );
    let props = SettingProperties {
        event_hub_authorization_rule_id: Some("/eh".into()),
        logs: vec![LogSetting {
            category: Some("AuditLogs".into()),
            category_group: None,
            enabled: true,
            retention_policy: None,
        }],
        ..SettingProperties::default()
    };
    let body = put_body(&props);
    assert_eq!(
        body,
        json!({"properties": {"eventHubAuthorizationRuleId": "/eh", "logs": [{"category": "AuditLogs", "enabled": true}]}})
    );
    let put = client.put_entra_setting("entrail", &props).await.unwrap();
    assert_eq!(put.name, "entrail");
}

#[tokio::test]
async fn errors_are_classified() {
    let server = MockServer::start().await;
    mock_token(&server).await;
    for (status, code, want) in [
        (403, "AuthorizationFailed", ErrorKind::Auth),
        (404, "ResourceNotFound", ErrorKind::NotFound),
        (400, "BadRequest", ErrorKind::Fatal),
        (503, "ServiceUnavailable", ErrorKind::Transient),
    ] {
        let scope = format!("/subscriptions/s{status}");
        Mock::given(method("GET"))
            .and(path(format!(
                "{scope}/providers/Microsoft.Insights/diagnosticSettings"
            )))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"error": {"code": code, "message": "no"}})),
            )
            .mount(&server)
            .await;
        let client = ArmClient::new(&config(&server.uri())).unwrap();
        let err = client.scope_settings(&scope).await.unwrap_err();
        assert_eq!(err.kind(), want, "{err}");
        assert!(err.to_string().contains(code), "{err}");
    }
    Mock::given(method("GET"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    let client = ArmClient::new(&config(&server.uri())).unwrap();
    let err = client.subscriptions().await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Throttled {
            retry_after: Some(std::time::Duration::from_secs(7))
        }
    );
}

#[test]
fn plain_http_only_to_loopback() {
    let err = ArmClient::new(&config("http://management.example.com")).unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");
    assert!(check_endpoint("http://127.0.0.1:8080").is_ok());
    assert!(check_endpoint("https://management.usgovcloudapi.net").is_ok());
    let mut c = config("https://management.usgovcloudapi.net");
    c.endpoint = "https://management.usgovcloudapi.net/".into();
    assert_eq!(c.scope(), "https://management.usgovcloudapi.net/.default");
}
