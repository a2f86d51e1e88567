//! Serving the simulated ARM: parse the path into a target (Entra settings, a scope's settings, category
//! lists, subscriptions), check the token and api-version, and answer GET, PUT and DELETE with ARM's
//! envelopes and request-id headers.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::arm_validate::{self, ScopeRules};
use super::super::respond::json_response;
use super::super::tokens::{Audience, AuthFail};
use super::super::{App, lock};
use super::{
    AADIAM_VERSIONS, ACTIVITY_CATEGORIES, ArmState, INSIGHTS_VERSIONS, MAX_SETTINGS,
    RESOURCE_CATEGORIES, SUBSCRIPTION_VERSIONS, Settings,
};

/// An ARM error: `{"error":{"code","message"}}` with ARM's request-id headers.
fn arm_error(status: StatusCode, code: &str, message: &str, rid: &str) -> Response {
    let mut r = json_response(
        status,
        &json!({"error": {"code": code, "message": message}}),
    );
    add_ids(&mut r, rid);
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static(
                "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header.\"",
            ),
        );
    }
    r
}

fn add_ids(r: &mut Response, rid: &str) {
    if let Ok(v) = HeaderValue::from_str(rid) {
        r.headers_mut().insert("x-ms-request-id", v.clone());
        r.headers_mut().insert("x-ms-correlation-request-id", v);
    }
}

fn ok(status: StatusCode, body: &Value, rid: &str) -> Response {
    let mut r = json_response(status, body);
    add_ids(&mut r, rid);
    r
}

/// What a path addresses.
enum Target {
    Subscriptions,
    /// Entra settings: list (None) or one.
    Entra(Option<String>),
    EntraCategories,
    /// Microsoft.Insights settings of a scope: list (None) or one.
    Insights(String, Option<String>),
    InsightsCategories(String),
}

fn parse_target(path: &str) -> Option<Target> {
    let lower = path.trim_end_matches('/').to_ascii_lowercase();
    if lower == "/subscriptions" {
        return Some(Target::Subscriptions);
    }
    if let Some(rest) = lower.strip_prefix("/providers/microsoft.aadiam/") {
        let original = &path[path.len() - rest.len()..];
        return match rest.split('/').collect::<Vec<_>>().as_slice() {
            ["diagnosticsettings"] => Some(Target::Entra(None)),
            ["diagnosticsettings", _] => Some(Target::Entra(Some(
                original.rsplit('/').next().unwrap_or("").to_owned(),
            ))),
            ["diagnosticsettingscategories"] => Some(Target::EntraCategories),
            _ => None,
        };
    }
    let at = lower.rfind("/providers/microsoft.insights/")?;
    let scope = path[..at].to_owned();
    let rest = &lower[at + "/providers/microsoft.insights/".len()..];
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["diagnosticsettings"] => Some(Target::Insights(scope, None)),
        ["diagnosticsettings", _] => Some(Target::Insights(
            scope,
            Some(
                path.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            ),
        )),
        ["diagnosticsettingscategories"] => Some(Target::InsightsCategories(scope)),
        _ => None,
    }
}

fn resource_json(id_prefix: &str, kind: &str, name: &str, props: &Value) -> Value {
    json!({"id": format!("{id_prefix}/{name}"), "name": name, "type": kind, "properties": props})
}

fn categories_json(prefix: &str, kind: &str, names: &[String], groups: bool) -> Value {
    let value: Vec<Value> = names
        .iter()
        .map(|n| {
            let mut p = json!({"categoryType": "Logs"});
            if groups {
                p["categoryGroups"] = json!(["audit", "allLogs"]);
            }
            json!({"id": format!("{prefix}/{n}"), "name": n, "type": kind, "properties": p})
        })
        .collect();
    json!({ "value": value })
}

/// Serves one ARM request.
pub(crate) fn serve(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let rid = app.next_request_id();
    let caller = match app
        .tokens
        .authenticate_for(headers, Instant::now(), Audience::Arm)
    {
        Ok(c) => c,
        Err(fail) => {
            let (code, message) = match fail {
                AuthFail::Missing => (
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                ),
                AuthFail::Unknown => ("InvalidAuthenticationToken", "The access token is invalid."),
                AuthFail::Expired | AuthFail::Revoked => (
                    "ExpiredAuthenticationToken",
                    "The access token expiry UTC time is earlier than current UTC time.",
                ),
                AuthFail::WrongAudience => (
                    "InvalidAuthenticationTokenAudience",
                    "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.",
                ),
            };
            return arm_error(StatusCode::UNAUTHORIZED, code, message, &rid);
        }
    };
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Some(target) = parse_target(path) else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("The resource type could not be found for the path '{path}'."),
            &rid,
        );
    };
    let versions = match target {
        Target::Subscriptions => SUBSCRIPTION_VERSIONS,
        Target::Entra(_) | Target::EntraCategories => AADIAM_VERSIONS,
        Target::Insights(..) | Target::InsightsCategories(_) => INSIGHTS_VERSIONS,
    };
    match q.get("api-version").map(String::as_str) {
        None | Some("") => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
                &rid,
            );
        }
        Some(v) if !versions.contains(&v) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{v}' is invalid. The supported versions are '{}'.",
                    versions.join(",")
                ),
                &rid,
            );
        }
        Some(_) => {}
    }
    let cfg = &app.cfg.arm;
    let denied = |list: &[String]| {
        list.iter()
            .any(|c| c.eq_ignore_ascii_case(&caller.client_id))
    };
    let mut state = lock(&app.arm.state);
    if let Target::Subscriptions = target {
        let value: Vec<Value> = if denied(&cfg.denied_clients) {
            Vec::new()
        } else {
            cfg.subscriptions.iter().map(|s| json!({
                "id": format!("/subscriptions/{s}"), "authorizationSource": "RoleBased",
                "managedByTenants": [], "subscriptionId": s, "tenantId": app.cfg.tenant_id,
                "displayName": format!("Simulated subscription {}", &s[..8.min(s.len())]), "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
            })).collect()
        };
        let n = value.len();
        return ok(
            StatusCode::OK,
            &json!({"value": value, "count": {"type": "Total", "value": n}}),
            &rid,
        );
    }
    let (provider, scope_label) = match &target {
        Target::Entra(_) | Target::EntraCategories => (
            "microsoft.aadiam/diagnosticSettings",
            "/providers/microsoft.aadiam".to_owned(),
        ),
        Target::Insights(s, _) | Target::InsightsCategories(s) => {
            ("Microsoft.Insights/diagnosticSettings", s.clone())
        }
        Target::Subscriptions => ("", String::new()),
    };
    let action = match *method {
        Method::PUT => "write",
        Method::DELETE => "delete",
        _ => "read",
    };
    if denied(&cfg.denied_clients) || (action != "read" && denied(&cfg.read_only_clients)) {
        return arm_error(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            &format!(
                "The client '{c}' with object id '{c}' does not have authorization to perform action '{provider}/{action}' over scope '{scope_label}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                c = caller.client_id
            ),
            &rid,
        );
    }
    // Which scope, and does it exist?
    let scope_key = match &target {
        Target::Insights(s, _) | Target::InsightsCategories(s) => {
            let key = s.to_ascii_lowercase();
            let sub_of = |k: &str| k.split('/').nth(2).map(str::to_owned).unwrap_or_default();
            let sub = sub_of(&key);
            if !cfg
                .subscriptions
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&sub))
            {
                return arm_error(
                    StatusCode::NOT_FOUND,
                    "SubscriptionNotFound",
                    &format!("The subscription '{sub}' could not be found."),
                    &rid,
                );
            }
            let is_sub = key == format!("/subscriptions/{sub}");
            if !is_sub && !cfg.resources.iter().any(|r| r.eq_ignore_ascii_case(s)) {
                return arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    &format!("The Resource '{s}' was not found."),
                    &rid,
                );
            }
            Some((key, is_sub))
        }
        _ => None,
    };
    let categories: Vec<String> = match &scope_key {
        None => state.licensed.clone(),
        Some((_, true)) => ACTIVITY_CATEGORIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
        Some((_, false)) => RESOURCE_CATEGORIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    };
    let id_prefix = match &scope_key {
        None => "/providers/microsoft.aadiam/diagnosticSettings".to_owned(),
        Some(_) => format!("{scope_label}/providers/microsoft.insights/diagnosticSettings"),
    };
    let kind = provider;
    match (&target, method.clone()) {
        (Target::EntraCategories, Method::GET) => ok(
            StatusCode::OK,
            &categories_json(
                "/providers/microsoft.aadiam/diagnosticSettingsCategories",
                "microsoft.aadiam/diagnosticSettingsCategories",
                &categories,
                false,
            ),
            &rid,
        ),
        (Target::InsightsCategories(s), Method::GET) => ok(
            StatusCode::OK,
            &categories_json(
                &format!("{s}/providers/microsoft.insights/diagnosticSettingsCategories"),
                "microsoft.insights/diagnosticSettingsCategories",
                &categories,
                scope_key.as_ref().is_some_and(|k| !k.1),
            ),
            &rid,
        ),
        (Target::Entra(None) | Target::Insights(_, None), Method::GET) => {
            let settings = settings_of(&mut state, scope_key.as_ref());
            let value: Vec<Value> = settings
                .values()
                .map(|(n, p)| resource_json(&id_prefix, kind, n, p))
                .collect();
            ok(StatusCode::OK, &json!({ "value": value }), &rid)
        }
        (Target::Entra(Some(name)) | Target::Insights(_, Some(name)), m) => {
            let key = name.to_ascii_lowercase();
            match m {
                Method::GET => match settings_of(&mut state, scope_key.as_ref()).get(&key) {
                    Some((n, p)) => {
                        ok(StatusCode::OK, &resource_json(&id_prefix, kind, n, p), &rid)
                    }
                    None => arm_error(
                        StatusCode::NOT_FOUND,
                        "ResourceNotFound",
                        &format!("The diagnostic setting '{name}' doesn't exist."),
                        &rid,
                    ),
                },
                Method::DELETE => match settings_of(&mut state, scope_key.as_ref()).remove(&key) {
                    Some(_) => ok(StatusCode::OK, &Value::Null, &rid),
                    None => ok(StatusCode::NO_CONTENT, &Value::Null, &rid),
                },
                Method::PUT => {
                    let parsed: Value = match serde_json::from_slice(body) {
                        Ok(v) => v,
                        Err(e) => {
                            return arm_error(
                                StatusCode::BAD_REQUEST,
                                "InvalidRequestContent",
                                &format!(
                                    "The request content was invalid and could not be deserialized: '{e}'."
                                ),
                                &rid,
                            );
                        }
                    };
                    if let Err(m) = arm_validate::check_name(name) {
                        return arm_error(StatusCode::BAD_REQUEST, "BadRequest", &m, &rid);
                    }
                    let groups: &[&str] = if matches!(scope_key, Some((_, false))) {
                        &["allLogs", "audit"]
                    } else {
                        &["allLogs"]
                    };
                    let props = match arm_validate::validate_body(
                        &parsed,
                        &ScopeRules {
                            categories: &categories,
                            groups,
                        },
                    ) {
                        Ok(p) => p,
                        Err(m) => {
                            return arm_error(StatusCode::BAD_REQUEST, "BadRequest", &m, &rid);
                        }
                    };
                    let settings = settings_of(&mut state, scope_key.as_ref());
                    if !settings.contains_key(&key) && settings.len() >= MAX_SETTINGS {
                        return arm_error(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            &format!(
                                "Diagnostic settings limit of {MAX_SETTINGS} reached for '{scope_label}'."
                            ),
                            &rid,
                        );
                    }
                    if let Some(m) = sink_conflict(settings, &key, &props) {
                        return arm_error(StatusCode::BAD_REQUEST, "BadRequest", &m, &rid);
                    }
                    let created = !settings.contains_key(&key);
                    settings.insert(key, (name.clone(), props.clone()));
                    state.puts.push((path.to_owned(), parsed));
                    let status = if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    ok(status, &resource_json(&id_prefix, kind, name, &props), &rid)
                }
                _ => method_not_allowed(method, &rid),
            }
        }
        _ => method_not_allowed(method, &rid),
    }
}

fn method_not_allowed(method: &Method, rid: &str) -> Response {
    arm_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        &format!("The HTTP method '{method}' is not supported at this path."),
        rid,
    )
}

fn settings_of<'a>(state: &'a mut ArmState, scope: Option<&(String, bool)>) -> &'a mut Settings {
    match scope {
        None => &mut state.entra,
        Some((k, _)) => state.scoped.entry(k.clone()).or_default(),
    }
}

/// ARM refuses a destination used by another setting of the same scope for the same category.
fn sink_conflict(settings: &Settings, key: &str, props: &Value) -> Option<String> {
    let cats = arm_validate::enabled_logs(props);
    let dests = arm_validate::destinations(props);
    for (other_key, (other_name, other)) in settings {
        if other_key == key {
            continue;
        }
        let other_cats = arm_validate::enabled_logs(other);
        for d in arm_validate::destinations(other)
            .iter()
            .filter(|d| dests.contains(d))
        {
            if let Some(c) = cats.iter().find(|c| other_cats.contains(c)) {
                return Some(format!(
                    "Data sink '{d}' is already used in diagnostic setting '{other_name}' for category '{c}'. Data sinks can't be reused in different settings on the same category for the same resource."
                ));
            }
        }
    }
    None
}
