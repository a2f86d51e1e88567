//! Validation of a diagnostic-setting PUT body against the documented schema ("Diagnostic Settings - Create
//! Or Update", `Microsoft.Insights` 2021-05-01-preview, and `microsoft.aadiam` 2017-04-01): `properties.logs[]`
//! entries with exactly one of `category` / `categoryGroup` and a boolean `enabled`, an optional
//! `retentionPolicy {enabled, days}`, at least one destination, and well-formed resource ids. Unknown keys are
//! refused, so a client that sends anything undocumented finds out in tests.

use serde_json::{Map, Value};

/// What a scope accepts.
pub(crate) struct ScopeRules<'a> {
    /// Log categories the scope supports (case-insensitive).
    pub(crate) categories: &'a [String],
    /// Category groups the scope supports (`allLogs`, `audit`).
    pub(crate) groups: &'a [&'a str],
}

/// Keys of `properties` the schema documents.
const PROPERTY_KEYS: &[&str] = &[
    "storageAccountId",
    "serviceBusRuleId",
    "eventHubAuthorizationRuleId",
    "eventHubName",
    "metrics",
    "logs",
    "workspaceId",
    "marketplacePartnerId",
    "logAnalyticsDestinationType",
];

/// Read-only keys ARM ignores on PUT.
const TOP_KEYS: &[&str] = &["properties", "id", "name", "type", "systemData"];

/// Checks a setting name from the URL (ARM: 1–260 characters, none of `<>*%&:\?/+#`, no trailing dot/space).
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 260 {
        return Err(format!(
            "The diagnostic setting name '{name}' must be 1 to 260 characters long."
        ));
    }
    if name
        .chars()
        .any(|c| "<>*%&:\\?/+#".contains(c) || c.is_control())
        || name.ends_with(['.', ' '])
    {
        return Err(format!(
            "The diagnostic setting name '{name}' contains invalid characters."
        ));
    }
    Ok(())
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parses `/subscriptions/{guid}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}...]` and
/// returns the provider namespace and the `type/name` pairs.
pub(crate) fn parse_resource_id(id: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut parts = id.strip_prefix('/')?.split('/');
    let (Some(s), Some(sub), Some(rg_key), Some(rg), Some(p), Some(ns)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let rg_ok = !rg.is_empty()
        && rg.len() <= 90
        && rg
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.()".contains(c));
    if !s.eq_ignore_ascii_case("subscriptions")
        || !is_guid(sub)
        || !rg_key.eq_ignore_ascii_case("resourceGroups")
        || !rg_ok
        || !p.eq_ignore_ascii_case("providers")
        || !ns.contains('.')
    {
        return None;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || !rest.len().is_multiple_of(2) || rest.iter().any(|x| x.is_empty()) {
        return None;
    }
    let pairs = rest
        .chunks(2)
        .map(|c| (c[0].to_owned(), c[1].to_owned()))
        .collect();
    Some((ns.to_owned(), pairs))
}

/// Checks a destination id is a resource of `namespace` with the given type path (`workspaces`,
/// `namespaces/authorizationrules`).
fn check_destination(field: &str, id: &str, namespace: &str, types: &[&str]) -> Result<(), String> {
    let bad = || {
        format!(
            "The {field} '{id}' is not a valid resource id: expected /subscriptions/{{id}}/resourceGroups/{{group}}/providers/{namespace}/{}.",
            types
                .iter()
                .map(|t| format!("{t}/{{name}}"))
                .collect::<Vec<_>>()
                .join("/")
        )
    };
    let (ns, pairs) = parse_resource_id(id).ok_or_else(bad)?;
    if !ns.eq_ignore_ascii_case(namespace)
        || pairs.len() != types.len()
        || !pairs
            .iter()
            .zip(types)
            .all(|((t, _), want)| t.eq_ignore_ascii_case(want))
    {
        return Err(bad());
    }
    if namespace.eq_ignore_ascii_case("Microsoft.Storage") {
        let name = &pairs[0].1;
        if !(3..=24).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(format!(
                "The storage account name '{name}' is invalid: 3 to 24 lower-case letters and digits."
            ));
        }
    }
    Ok(())
}

fn optional_string<'a>(
    props: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, String> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(format!(
            "The property '{key}' must be a non-empty string or null."
        )),
    }
}

fn check_retention(where_: &str, v: &Value) -> Result<(), String> {
    let Value::Object(r) = v else {
        return Err(format!("{where_}.retentionPolicy must be an object."));
    };
    if let Some(k) = r.keys().find(|k| !matches!(k.as_str(), "enabled" | "days")) {
        return Err(format!(
            "{where_}.retentionPolicy has an unknown property '{k}'."
        ));
    }
    if !matches!(r.get("enabled"), Some(Value::Bool(_))) {
        return Err(format!(
            "{where_}.retentionPolicy.enabled is required and must be a boolean."
        ));
    }
    match r.get("days") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|d| d <= 365) => Ok(()),
        _ => Err(format!(
            "{where_}.retentionPolicy.days is required and must be an integer from 0 to 365."
        )),
    }
}

/// Validates a PUT body for a scope; returns the normalized `properties` (every documented key present,
/// missing ones `null`) or ARM's `BadRequest` message.
pub(crate) fn validate_body(body: &Value, rules: &ScopeRules<'_>) -> Result<Value, String> {
    let Value::Object(top) = body else {
        return Err("The request body must be a JSON object.".to_owned());
    };
    if let Some(k) = top.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(format!("The request body has an unknown property '{k}'."));
    }
    let Some(Value::Object(props)) = top.get("properties") else {
        return Err("The request body must contain 'properties'.".to_owned());
    };
    if let Some(k) = props.keys().find(|k| !PROPERTY_KEYS.contains(&k.as_str())) {
        return Err(format!("The property 'properties.{k}' is not recognized."));
    }
    let workspace = optional_string(props, "workspaceId")?;
    let storage = optional_string(props, "storageAccountId")?;
    let event_hub = optional_string(props, "eventHubAuthorizationRuleId")?;
    let hub_name = optional_string(props, "eventHubName")?;
    let partner = optional_string(props, "marketplacePartnerId")?;
    optional_string(props, "serviceBusRuleId")?;
    match optional_string(props, "logAnalyticsDestinationType")? {
        None | Some("Dedicated") | Some("AzureDiagnostics") => {}
        Some(other) => {
            return Err(format!(
                "The logAnalyticsDestinationType '{other}' is invalid: 'Dedicated' or null."
            ));
        }
    }
    if workspace.is_none() && storage.is_none() && event_hub.is_none() && partner.is_none() {
        return Err("At least one destination must be specified: a Log Analytics workspace (workspaceId), a storage account (storageAccountId), an event hub (eventHubAuthorizationRuleId) or a partner solution (marketplacePartnerId).".to_owned());
    }
    if let Some(id) = workspace {
        check_destination(
            "workspaceId",
            id,
            "Microsoft.OperationalInsights",
            &["workspaces"],
        )?;
    }
    if let Some(id) = storage {
        check_destination(
            "storageAccountId",
            id,
            "Microsoft.Storage",
            &["storageAccounts"],
        )?;
    }
    if let Some(id) = event_hub {
        check_destination(
            "eventHubAuthorizationRuleId",
            id,
            "Microsoft.EventHub",
            &["namespaces", "authorizationrules"],
        )?;
    }
    if let Some(name) = hub_name {
        if event_hub.is_none() {
            return Err("eventHubName requires eventHubAuthorizationRuleId.".to_owned());
        }
        let ok = name.len() <= 256
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !ok {
            return Err(format!("The event hub name '{name}' is invalid."));
        }
    }
    if let Some(id) = partner
        && parse_resource_id(id).is_none()
    {
        return Err(format!(
            "The marketplacePartnerId '{id}' is not a valid resource id."
        ));
    }
    let logs = match props.get("logs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("properties.logs must be an array.".to_owned()),
    };
    let metrics = match props.get("metrics") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("properties.metrics must be an array.".to_owned()),
    };
    let mut seen: Vec<String> = Vec::new();
    let mut normalized_logs = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let at = format!("properties.logs[{i}]");
        let Value::Object(l) = log else {
            return Err(format!("{at} must be an object."));
        };
        if let Some(k) = l.keys().find(|k| {
            !matches!(
                k.as_str(),
                "category" | "categoryGroup" | "enabled" | "retentionPolicy"
            )
        }) {
            return Err(format!("{at} has an unknown property '{k}'."));
        }
        let category = optional_string(l, "category")?;
        let group = optional_string(l, "categoryGroup")?;
        let name = match (category, group) {
            (Some(c), None) => {
                let Some(known) = rules.categories.iter().find(|k| k.eq_ignore_ascii_case(c))
                else {
                    return Err(format!(
                        "Category '{c}' is not supported. Supported categories: {}.",
                        rules.categories.join(", ")
                    ));
                };
                known.clone()
            }
            (None, Some(g)) => {
                let Some(known) = rules.groups.iter().find(|k| k.eq_ignore_ascii_case(g)) else {
                    return Err(format!("Category group '{g}' is not supported."));
                };
                format!("group:{known}")
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{at}: specify either 'category' or 'categoryGroup', not both."
                ));
            }
            (None, None) => {
                return Err(format!("{at}: 'category' or 'categoryGroup' is required."));
            }
        };
        let key = name.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(format!("{at}: '{name}' is listed more than once."));
        }
        seen.push(key);
        if !matches!(l.get("enabled"), Some(Value::Bool(_))) {
            return Err(format!("{at}.enabled is required and must be a boolean."));
        }
        if let Some(r) = l.get("retentionPolicy").filter(|r| !r.is_null()) {
            check_retention(&at, r)?;
        }
        let (category_out, group_out) = match name.strip_prefix("group:") {
            Some(g) => (Value::Null, Value::from(g)),
            None => (Value::from(name.as_str()), Value::Null),
        };
        normalized_logs.push(serde_json::json!({
            "category": category_out,
            "categoryGroup": group_out,
            "enabled": l.get("enabled"),
            "retentionPolicy": l.get("retentionPolicy").cloned().unwrap_or_else(|| serde_json::json!({"enabled": false, "days": 0})),
        }));
    }
    for (i, m) in metrics.iter().enumerate() {
        let at = format!("properties.metrics[{i}]");
        let Value::Object(m) = m else {
            return Err(format!("{at} must be an object."));
        };
        if !matches!(m.get("enabled"), Some(Value::Bool(_))) {
            return Err(format!("{at}.enabled is required and must be a boolean."));
        }
    }
    if normalized_logs.is_empty() && metrics.is_empty() {
        return Err(
            "At least one log or metric setting is required in properties.logs.".to_owned(),
        );
    }
    Ok(serde_json::json!({
        "storageAccountId": storage,
        "serviceBusRuleId": props.get("serviceBusRuleId").cloned().unwrap_or(Value::Null),
        "eventHubAuthorizationRuleId": event_hub,
        "eventHubName": hub_name,
        "workspaceId": workspace,
        "marketplacePartnerId": partner,
        "logAnalyticsDestinationType": props.get("logAnalyticsDestinationType").cloned().unwrap_or(Value::Null),
        "metrics": metrics,
        "logs": normalized_logs,
    }))
}

/// The enabled categories (or `group:x`) of normalized properties, lower-cased.
pub(crate) fn enabled_logs(props: &Value) -> Vec<String> {
    props
        .get("logs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| l.get("enabled") == Some(&Value::Bool(true)))
        .filter_map(|l| {
            l.get("category")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    l.get("categoryGroup")
                        .and_then(Value::as_str)
                        .map(|g| format!("group:{g}"))
                })
        })
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// The destination ids of normalized properties, lower-cased.
pub(crate) fn destinations(props: &Value) -> Vec<String> {
    [
        "workspaceId",
        "storageAccountId",
        "eventHubAuthorizationRuleId",
        "marketplacePartnerId",
    ]
    .iter()
    .filter_map(|k| props.get(*k).and_then(Value::as_str))
    .map(str::to_ascii_lowercase)
    .collect()
}
