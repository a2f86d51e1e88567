//! Canonical record → the three wire shapes → decoded again. The record is turned into the Graph object
//! (or, for the Activity Log, the diagnostic envelope and its properties) that `sim` renders in each
//! shape; `model::normalize` decodes the result.
#![allow(dead_code, unreachable_pub)]

use chrono::{TimeZone, Utc};
use model::{Category, Family, Record, Value, schema};
use serde_json::{Map, Value as Json, json};
use sim::{EventKind, SimEvent, Tenant, TenantConfig};

/// The three shapes.
pub const SHAPES: [sim::Shape; 3] = [
    sim::Shape::Graph,
    sim::Shape::Diagnostic,
    sim::Shape::LogAnalytics,
];

/// The model's shape of a sim shape.
pub fn model_shape(s: sim::Shape) -> model::Shape {
    match s {
        sim::Shape::Graph => model::Shape::Graph,
        sim::Shape::Diagnostic => model::Shape::Diagnostic,
        sim::Shape::LogAnalytics => model::Shape::LogAnalytics,
    }
}

fn lower_camel(col: &str) -> String {
    let run = col.chars().take_while(char::is_ascii_uppercase).count();
    let next_lower = col.chars().nth(run).is_some_and(|c| c.is_ascii_lowercase());
    let n = if run > 1 && next_lower { run - 1 } else { run };
    col.char_indices()
        .map(|(i, c)| if i < n { c.to_ascii_lowercase() } else { c })
        .collect()
}

fn json_of(v: &Value) -> Json {
    match v {
        Value::Dynamic(s) => serde_json::from_str(s).unwrap_or(Json::String(s.clone())),
        other => other.to_json(),
    }
}

fn merge(into: &mut Map<String, Json>, key: &str, v: Json) {
    match (into.get_mut(key), v) {
        (Some(Json::Object(a)), Json::Object(b)) => a.extend(b),
        (_, v) => {
            into.insert(key.to_owned(), v);
        }
    }
}

/// The Graph object (and envelope, for the Activity Log) carrying a canonical record.
fn to_event(r: &Record, time: chrono::DateTime<Utc>) -> (Json, Option<Map<String, Json>>) {
    let s = schema(r.category);
    let iso = time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut g = Map::new();
    let mut env = Map::new();
    let mut resource_id: Option<String> = None;
    let mut provider: Option<String> = None;
    for (col, v) in s.columns.iter().zip(&r.values) {
        if v.is_null() {
            continue;
        }
        let name = col.name.as_str();
        let jv = json_of(v);
        match (r.category.family(), name) {
            (Family::SignIn, "ResultType") => {
                let n = v.as_str().and_then(|x| x.parse::<i64>().ok());
                merge(
                    &mut g,
                    "status",
                    json!({ "errorCode": n.map_or(jv.clone(), Json::from) }),
                );
            }
            (Family::SignIn, "ResultDescription") => {
                merge(&mut g, "status", json!({ "failureReason": jv }))
            }
            (Family::SignIn, "Status") => merge(&mut g, "status", jv),
            (Family::SignIn, "Location") => {
                merge(&mut g, "location", json!({ "countryOrRegion": jv }))
            }
            (Family::SignIn, "LocationDetails") => merge(&mut g, "location", jv),
            (Family::SignIn, "ConditionalAccessPolicies") => {
                merge(&mut g, "appliedConditionalAccessPolicies", jv)
            }
            (Family::SignIn, "ResourceIdentity") => merge(&mut g, "resourceId", jv),
            (Family::SignIn, "NetworkLocationDetails" | "AuthenticationDetails") => {
                let parsed = v
                    .as_str()
                    .and_then(|x| serde_json::from_str(x).ok())
                    .unwrap_or(jv);
                merge(&mut g, &lower_camel(name), parsed);
            }
            (Family::Audit, "OperationName") => {
                env.insert("operationName".into(), jv.clone());
                g.entry("activityDisplayName").or_insert(jv);
            }
            (Family::Audit, "AADOperationType") => merge(&mut g, "operationType", jv),
            (Family::Audit | Family::SignIn, "ResultDescription" | "Identity") => {
                env.insert(lower_camel(name), jv);
            }
            // The envelope has one `operationName`: the value; OperationName falls back to it.
            (Family::Activity, "OperationName" | "OperationNameValue") => {
                env.insert("operationName".into(), jv);
            }
            (Family::Activity, "CategoryValue") => {
                env.insert("category".into(), jv);
            }
            (Family::Activity, "ActivityStatusValue") => {
                env.insert("resultType".into(), jv);
            }
            (Family::Activity, "CallerIpAddress") => {
                env.insert("callerIpAddress".into(), jv);
            }
            (Family::Activity, "ResourceId") => resource_id = v.as_str().map(str::to_owned),
            (Family::Activity, "ResourceProviderValue") => provider = v.as_str().map(str::to_owned),
            (Family::Activity, "Properties_d") => {
                if let Json::Object(m) = jv {
                    g.extend(m);
                }
            }
            (_, n) => merge(&mut g, &lower_camel(n), jv),
        }
    }
    g.insert("id".into(), Json::String(r.key.clone()));
    match r.category.family() {
        Family::SignIn => {
            g.insert("createdDateTime".into(), iso.clone().into());
        }
        Family::Audit => {
            g.insert("activityDateTime".into(), iso.clone().into());
            g.entry("activityDisplayName")
                .or_insert("Some activity".into());
        }
        Family::Risk => {
            g.insert("activityDateTime".into(), iso.clone().into());
            g.insert("detectedDateTime".into(), iso.clone().into());
            g.insert("lastUpdatedDateTime".into(), iso.clone().into());
        }
        _ => {}
    }
    if r.category != Category::AzureActivity {
        return (Json::Object(g), None);
    }
    g.remove("id");
    let provider = provider.unwrap_or_else(|| "MICROSOFT.RESOURCES".to_owned());
    let rid = format!(
        "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG1/PROVIDERS/{}/THINGS/{}",
        provider,
        resource_id.unwrap_or_else(|| "X1".to_owned())
    );
    env.insert("time".into(), iso.into());
    env.insert("resourceId".into(), rid.into());
    env.entry("operationName")
        .or_insert("MICROSOFT.RESOURCES/NOTHING/READ".into());
    env.entry("category").or_insert("Administrative".into());
    env.entry("resultType").or_insert("Success".into());
    env.insert("correlationId".into(), r.key.clone().into());
    env.insert("level".into(), "Informational".into());
    (Json::Object(g), Some(env))
}

/// The sim category name of a model category.
fn sim_name(c: Category) -> &'static str {
    match c {
        Category::AzureActivity => "Administrative",
        other => sim::Category::from_name(other.name()).map_or("", |s| s.name()),
    }
}

/// Renders `r` in `shape` and decodes it back. `None` when the shape does not exist for the category
/// (the Activity Log has no Graph API).
pub fn round_trip(
    r: &Record,
    shape: sim::Shape,
    tenant: &Tenant,
) -> Option<Result<Record, String>> {
    let time = Utc
        .timestamp_micros(r.event_time)
        .single()
        .unwrap_or_default();
    let (graph, envelope) = to_event(r, time);
    let ev = SimEvent {
        category: sim_name(r.category),
        time,
        received: time,
        graph,
        envelope,
        kind: EventKind::Original,
        seed: 7,
    };
    let wire = sim::render(&ev, shape, false, tenant)?;
    let cx = model::DecodeContext {
        source: "test".into(),
        location: "round-trip".into(),
        ingest_time: r.ingest_time,
        // A source knows what it reads (the Graph endpoint, the diagnostic category it subscribed to).
        category: Some(r.category),
        shape: None,
    };
    Some(
        model::decode_record(&wire.to_string(), &cx)
            .map_err(|e| format!("{e}: {wire}"))
            .and_then(|mut v| v.pop().ok_or_else(|| "no record".to_owned())),
    )
}

/// A small simulated tenant for rendering.
pub fn tenant() -> Tenant {
    Tenant::new(&TenantConfig {
        users: 5,
        ..TenantConfig::default()
    })
}
