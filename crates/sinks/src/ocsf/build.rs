//! The mapping engine: looks columns up (with paths into dynamic columns and arrays), converts them to the
//! OCSF attribute types, evaluates the ordered rules that pick activity, status and severity, and writes
//! dotted attribute paths into the event object.

use super::classes::{Class, Field, Kind, Match, Rule};
use model::{Record, Value};
use serde_json::{Map, Value as Json};

/// The first non-empty value of `specs` (`Column` or `Column.path.0.inside`), as JSON.
pub(super) fn lookup_first(record: &Record, specs: &[&str]) -> Option<Json> {
    specs.iter().find_map(|s| lookup(record, s))
}

/// One column or a path inside a dynamic column; empty strings and nulls count as absent.
fn lookup(record: &Record, spec: &str) -> Option<Json> {
    let (column, path) = match spec.split_once('.') {
        Some((c, p)) => (c, Some(p)),
        None => (spec, None),
    };
    let value = record.get(column)?;
    let mut json = match (value, path) {
        (Value::Null, _) => return None,
        (Value::DateTime(t), None) => Json::from(t.div_euclid(1000)),
        (v, None) => v.to_json(),
        (v, Some(_)) => reparse(v.to_json()),
    };
    if let Some(path) = path {
        for part in path.split('.') {
            json = reparse(json);
            json = match json {
                Json::Object(mut m) => {
                    let key = m.keys().find(|k| k.eq_ignore_ascii_case(part)).cloned()?;
                    m.remove(&key)?
                }
                Json::Array(mut a) => {
                    let i: usize = part.parse().ok()?;
                    (i < a.len()).then(|| a.swap_remove(i))?
                }
                _ => return None,
            };
        }
    }
    match &json {
        Json::Null => None,
        Json::String(s) if s.is_empty() => None,
        _ => Some(json),
    }
}

/// Dynamic values sometimes arrive JSON-encoded twice (a string holding JSON): decode once more.
fn reparse(json: Json) -> Json {
    match json {
        Json::String(s) if s.starts_with(['{', '[', '"']) => {
            serde_json::from_str(&s).unwrap_or(Json::String(s))
        }
        other => other,
    }
}

/// The value as text (objects and arrays as compact JSON).
fn text(json: &Json) -> String {
    match json {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Converts a looked-up value to the attribute's type; `None` when it does not convert.
fn convert(kind: &Kind, json: Json) -> Option<Json> {
    Some(match kind {
        Kind::Str => Json::String(text(&json)),
        Kind::Int => match json {
            Json::Number(n) if n.is_i64() || n.is_u64() => Json::Number(n),
            Json::Number(n) => Json::from(n.as_f64()? as i64),
            Json::String(s) => Json::from(s.trim().parse::<i64>().ok()?),
            _ => return None,
        },
        Kind::Time => match json {
            Json::Number(n) => Json::Number(n),
            _ => return None,
        },
        Kind::Is(expected) => Json::Bool(text(&json).eq_ignore_ascii_case(expected)),
        Kind::Enum(table) => {
            let t = text(&json);
            let (_, id) = table.iter().find(|(k, _)| k.eq_ignore_ascii_case(&t))?;
            Json::from(*id)
        }
        Kind::Rename(table) => {
            let t = text(&json);
            table
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&t))
                .map_or(Json::String(t), |(_, v)| Json::from(*v))
        }
        Kind::Const(_) | Kind::ConstInt(_) => return None,
    })
}

/// Writes every field of `fields` that has a value.
pub(super) fn apply_fields(record: &Record, fields: &[Field], out: &mut Map<String, Json>) {
    for f in fields {
        let value = match f.kind {
            Kind::Const(v) => Some(Json::from(v)),
            Kind::ConstInt(v) => Some(Json::from(v)),
            ref kind => lookup_first(record, f.columns).and_then(|j| convert(kind, j)),
        };
        if let Some(v) = value {
            set_path(out, f.path, v);
        }
    }
}

/// The first rule that matches decides `(id, name)`; `default` otherwise.
pub(super) fn eval(
    record: &Record,
    rules: &[Rule],
    default: (i64, &'static str),
) -> (i64, &'static str) {
    for rule in rules {
        let Some(v) = lookup_first(record, rule.columns) else {
            continue;
        };
        let v = text(&v).to_ascii_lowercase();
        let hit = rule.table.iter().find(|(needle, ..)| match rule.matching {
            Match::Exact => v == *needle,
            Match::Prefix => v.starts_with(needle),
            Match::Contains => v.contains(needle),
        });
        if let Some((_, id, name)) = hit {
            return (*id, name);
        }
        if let Some(d) = rule.otherwise {
            return d;
        }
    }
    default
}

/// Sets `a.b.c` (numeric segments index arrays, which grow as needed) to `value`, creating objects on
/// the way; an existing value of another type on the way is left alone.
pub(super) fn set_path(out: &mut Map<String, Json>, path: &str, value: Json) {
    let mut parts = path.split('.').peekable();
    let Some(first) = parts.next() else { return };
    if parts.peek().is_none() {
        out.insert(first.to_owned(), value);
        return;
    }
    let mut slot = out
        .entry(first.to_owned())
        .or_insert_with(|| container_for(parts.peek().copied()));
    while let Some(part) = parts.next() {
        let next = parts.peek().copied();
        let child = match slot {
            Json::Object(m) => match next {
                None => {
                    m.insert(part.to_owned(), value);
                    return;
                }
                Some(n) => m
                    .entry(part.to_owned())
                    .or_insert_with(|| container_for(Some(n))),
            },
            Json::Array(a) => {
                let Ok(i) = part.parse::<usize>() else { return };
                while a.len() <= i {
                    a.push(container_for(next));
                }
                match next {
                    None => {
                        a[i] = value;
                        return;
                    }
                    Some(_) => &mut a[i],
                }
            }
            _ => return,
        };
        slot = child;
    }
}

fn container_for(next: Option<&str>) -> Json {
    match next {
        Some(n) if n.parse::<usize>().is_ok() => Json::Array(Vec::new()),
        _ => Json::Object(Map::new()),
    }
}

/// Whether the record belongs to `class` by its selector (no selector: always).
pub(super) fn selected(record: &Record, class: &Class) -> bool {
    class.select.is_empty()
        || class
            .select
            .iter()
            .any(|rule| eval(record, std::slice::from_ref(rule), (0, "")).0 != 0)
}
