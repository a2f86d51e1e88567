//! `[[routes]]` and `[sink_priority]` as written, and their validation (every problem at once, no I/O).

use super::{Condition, Op, Route, Routes};
use crate::config::ConfigError;
use model::Category;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Meta fields a condition may name besides the canonical columns.
pub(crate) const META_FIELDS: &[&str] = &["_Category", "_Source", "_Shape", "_Key", "_Revision"];

/// `[[routes]]`: which records of the log go to one sink. Several routes for one sink are ORed; a sink
/// without any route gets every record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// The sink id this route feeds.
    pub sink: String,
    /// Categories (category or table names); empty or absent: every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Field conditions, all of which must hold (AND).
    #[serde(default, rename = "where")]
    pub conditions: Vec<RawCondition>,
    /// Share of the matching records sent, `0.0..=1.0` (default 1.0), chosen by a hash of the record's
    /// dedupe key so that replays and restarts pick the same records.
    pub sample: Option<f64>,
}

/// One `where` condition: `{ field = "ResultType", op = "ne", value = "0" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// A canonical column (case ignored), `Column.path` into a dynamic column, or a meta field
    /// (`_Category`, `_Source`, `_Shape`, `_Key`, `_Revision`).
    pub field: String,
    /// `eq`, `ne`, `in`, `not_in`, `contains` or `exists`.
    pub op: String,
    /// The operand: text, number or boolean for `eq`/`ne`/`contains`, a list for `in`/`not_in`, a boolean
    /// (default true) for `exists`.
    pub value: Option<serde_json::Value>,
}

/// A scalar operand as the text it is compared by (numbers and booleans by their JSON text).
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether `field` names a column (or a path into one) of `category`, or a meta field.
fn field_exists(field: &str, category: Category) -> bool {
    if META_FIELDS.iter().any(|m| m.eq_ignore_ascii_case(field)) {
        return true;
    }
    let schema = model::schema(category);
    if schema.index_of(field).is_some() {
        return true;
    }
    field.split_once('.').is_some_and(|(column, _)| {
        schema
            .index_of(column)
            .and_then(|i| schema.column(i))
            .is_some_and(|c| c.ty == model::ColumnType::Dynamic)
    })
}

fn condition(c: &RawCondition, path: &str, errors: &mut Vec<ConfigError>) -> Option<Condition> {
    let value = c.value.as_ref();
    let one = |errors: &mut Vec<ConfigError>| {
        let s = value.and_then(scalar);
        if s.is_none() {
            errors.push(ConfigError::new(
                format!("{path}.value"),
                format!("op {:?} needs a text, number or boolean value", c.op),
            ));
        }
        s
    };
    let list = |errors: &mut Vec<ConfigError>| {
        let items = match value {
            Some(serde_json::Value::Array(items)) => items.iter().map(scalar).collect(),
            _ => None,
        };
        if items.is_none() {
            errors.push(ConfigError::new(
                format!("{path}.value"),
                format!(
                    "op {:?} needs a list of text, number or boolean values",
                    c.op
                ),
            ));
        }
        items
    };
    let op = match c.op.as_str() {
        "eq" => Op::Eq(one(errors)?),
        "ne" => Op::Ne(one(errors)?),
        "contains" => Op::Contains(one(errors)?.to_lowercase()),
        "in" => Op::In(list(errors)?),
        "not_in" => Op::NotIn(list(errors)?),
        "exists" => match value {
            None => Op::Exists(true),
            Some(serde_json::Value::Bool(b)) => Op::Exists(*b),
            Some(_) => {
                errors.push(ConfigError::new(
                    format!("{path}.value"),
                    "op \"exists\" takes true (default) or false",
                ));
                return None;
            }
        },
        other => {
            errors.push(ConfigError::new(
                format!("{path}.op"),
                format!("unknown op {other:?}; use eq, ne, in, not_in, contains or exists"),
            ));
            return None;
        }
    };
    Some(Condition {
        field: c.field.clone(),
        op,
    })
}

/// Validates `[[routes]]` and `[sink_priority]` against the sink ids; every problem goes to `errors`.
pub(crate) fn validate(
    raw: &[RawRoute],
    priority: &BTreeMap<String, i64>,
    sink_ids: &[&str],
    errors: &mut Vec<ConfigError>,
) -> Routes {
    let mut routes = Routes::default();
    let known = |id: &str| sink_ids.contains(&id);
    let unknown = |id: &str| {
        format!(
            "unknown sink {id:?} (lake sinks take no routes); sinks: {}",
            if sink_ids.is_empty() {
                "(none)".to_owned()
            } else {
                sink_ids.join(", ")
            }
        )
    };
    for (i, r) in raw.iter().enumerate() {
        let p = format!("routes[{i}]");
        if !known(&r.sink) {
            errors.push(ConfigError::new(format!("{p}.sink"), unknown(&r.sink)));
        }
        let mut categories = Vec::new();
        for (j, name) in r.categories.iter().enumerate() {
            match Category::from_name(name) {
                Some(c) => categories.push(c),
                None => errors.push(ConfigError::new(
                    format!("{p}.categories[{j}]"),
                    format!("unknown category {name:?}"),
                )),
            }
        }
        let sample = r.sample.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample) {
            errors.push(ConfigError::new(
                format!("{p}.sample"),
                format!("must be 0.0..=1.0, got {sample}"),
            ));
        }
        let mut conditions = Vec::new();
        for (j, c) in r.conditions.iter().enumerate() {
            let cp = format!("{p}.where[{j}]");
            let scope: &[Category] = if categories.is_empty() {
                Category::ALL
            } else {
                &categories
            };
            let missing: Vec<&str> = scope
                .iter()
                .filter(|cat| !field_exists(&c.field, **cat))
                .map(|cat| cat.name())
                .collect();
            // With every category in scope a field must exist in at least one; with named categories in each.
            let bad = if categories.is_empty() {
                missing.len() == scope.len()
            } else {
                !missing.is_empty()
            };
            if bad {
                errors.push(ConfigError::new(
                    format!("{cp}.field"),
                    format!(
                        "unknown column {:?} for {}",
                        c.field,
                        if categories.is_empty() {
                            "any category".to_owned()
                        } else {
                            missing.join(", ")
                        }
                    ),
                ));
            }
            if let Some(c) = condition(c, &cp, errors) {
                conditions.push(c);
            }
        }
        routes
            .by_sink
            .entry(r.sink.clone())
            .or_default()
            .push(Route {
                categories,
                conditions,
                sample,
            });
    }
    for (id, p) in priority {
        if !known(id) {
            errors.push(ConfigError::new(format!("sink_priority.{id}"), unknown(id)));
        }
        routes.priority.insert(id.clone(), *p);
    }
    routes
}
