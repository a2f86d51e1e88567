//! A record generator that reads a rule: walks its condition and synthesizes field values that satisfy
//! it (a matching record) or violate it (a non-matching one). Independent of the engine's compiler: it
//! reads the rule model and the mapping's first target per field only.
#![allow(dead_code, unreachable_pub)]

use detect::SigmaRule;
use detect::mapping::{Mapping, Target};
use detect::rule::{Condition, Detection, Item, Modifier, Quantifier, RuleValue};
use model::{Category, ColumnType, Record, Value};
use serde_json::{Map, Value as Json, json};

/// What a field must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// This text (the operator it came from decides how two wants of one field combine).
    Text(String, Op),
    /// No value.
    Null,
}

/// How a wanted text is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The whole value.
    Eq,
    /// Inside the value.
    Contains,
    /// At the start.
    Starts,
    /// At the end.
    Ends,
}

/// One assignment: field (as written in the rule; `None` = a keyword) and value.
pub type Assign = (Option<String>, Want);

/// Assignments that make the rule match.
pub fn satisfy(rule: &SigmaRule) -> Vec<Assign> {
    let mut out = Vec::new();
    if let Some(c) = &rule.detection.condition {
        cond(rule, c, true, &mut out);
    }
    out
}

/// Assignments that make the rule not match.
pub fn violate(rule: &SigmaRule) -> Vec<Assign> {
    let mut out = Vec::new();
    if let Some(c) = &rule.detection.condition {
        cond(rule, c, false, &mut out);
    }
    out
}

fn names<'r>(rule: &'r SigmaRule, pattern: Option<&str>) -> Vec<&'r str> {
    rule.detection
        .named
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| match pattern {
            None => true,
            Some(p) => match p.strip_suffix('*') {
                Some(prefix) => n.starts_with(prefix),
                None => *n == p,
            },
        })
        .collect()
}

fn cond(rule: &SigmaRule, c: &Condition, want: bool, out: &mut Vec<Assign>) {
    match (c, want) {
        (Condition::And(v), true) | (Condition::Or(v), false) => {
            v.iter().for_each(|x| cond(rule, x, want, out))
        }
        (Condition::And(v), false) | (Condition::Or(v), true) => {
            if let Some(x) = v.first() {
                cond(rule, x, want, out)
            }
        }
        (Condition::Not(x), w) => cond(rule, x, !w, out),
        (Condition::Ref(n), w) => {
            if let Some(d) = rule.detection.get(n) {
                det(d, w, out)
            }
        }
        (
            Condition::Of {
                quantifier,
                pattern,
            },
            w,
        ) => {
            let picked = names(rule, pattern.as_deref());
            let dets = picked.iter().filter_map(|n| rule.detection.get(n));
            match (quantifier, w) {
                (Quantifier::Any, true) => dets.take(1).for_each(|d| det(d, true, out)),
                (Quantifier::Count(k), true) => {
                    dets.take(*k as usize).for_each(|d| det(d, true, out))
                }
                (Quantifier::All, true) | (Quantifier::Any, false) => {
                    dets.for_each(|d| det(d, w, out))
                }
                (Quantifier::All, false) => dets.take(1).for_each(|d| det(d, false, out)),
                (Quantifier::Count(k), false) => dets
                    .skip((*k as usize).saturating_sub(1))
                    .for_each(|d| det(d, false, out)),
            }
        }
    }
}

fn det(d: &Detection, want: bool, out: &mut Vec<Assign>) {
    match (d, want) {
        (Detection::AllOf(items), true) => items.iter().for_each(|i| item(i, true, out)),
        (Detection::AllOf(items), false) => {
            if let Some(i) = items.first() {
                item(i, false, out)
            }
        }
        (Detection::AnyOf(list), true) => {
            if let Some(d) = list.first() {
                det(d, true, out)
            }
        }
        (Detection::AnyOf(list), false) => list.iter().for_each(|d| det(d, false, out)),
        (Detection::Keywords(i), true) => item(i, true, out),
        (Detection::Keywords(_), false) => {}
    }
}

fn text_of(v: &RuleValue) -> Option<String> {
    match v {
        RuleValue::Str(p) => Some(
            p.parts
                .iter()
                .map(|x| match x {
                    detect::rule::PatternPart::Text(t) => t.as_str(),
                    detect::rule::PatternPart::Any => "",
                    detect::rule::PatternPart::One => "x",
                })
                .collect(),
        ),
        RuleValue::Int(n) => Some(n.to_string()),
        RuleValue::Float(f) => Some(f.to_string()),
        RuleValue::Bool(b) => Some(b.to_string()),
        RuleValue::Null => None,
    }
}

fn item(i: &Item, want: bool, out: &mut Vec<Assign>) {
    let field = i.field.clone();
    if !want {
        let has_null = i.values.contains(&RuleValue::Null);
        let has_empty = i
            .values
            .iter()
            .any(|v| matches!(v, RuleValue::Str(p) if p.original.is_empty()));
        if field.is_some() {
            let v = if has_null || has_empty {
                "present-value"
            } else if i.values.iter().all(|v| matches!(v, RuleValue::Int(_))) {
                "999999"
            } else {
                "zz-no-match-zz"
            };
            out.push((field, Want::Text(v.to_owned(), Op::Eq)));
        }
        return;
    }
    let values: Vec<&RuleValue> = if i.has(Modifier::All) {
        i.values.iter().collect()
    } else {
        i.values.iter().take(1).collect()
    };
    if values.first() == Some(&&RuleValue::Null) {
        out.push((field, Want::Null));
        return;
    }
    let texts: Vec<String> = values.iter().filter_map(|v| text_of(v)).collect();
    let joined = texts.join(" ");
    let op = if i.has(Modifier::Contains) || field.is_none() {
        Op::Contains
    } else if i.has(Modifier::StartsWith) {
        Op::Starts
    } else if i.has(Modifier::EndsWith) {
        Op::Ends
    } else {
        Op::Eq
    };
    out.push((field, Want::Text(joined, op)));
}

/// Merges the wants of each field (in first-seen order): an exact value wins, else prefix, inside and
/// suffix parts are laid out in that order.
fn combine(assigns: &[Assign]) -> Vec<(Option<String>, String)> {
    let mut fields: Vec<Option<String>> = Vec::new();
    for (f, w) in assigns {
        if matches!(w, Want::Text(..)) && !fields.iter().any(|x| same(x, f)) {
            fields.push(f.clone());
        }
    }
    fields
        .into_iter()
        .map(|f| {
            let wants: Vec<(&str, Op)> = assigns
                .iter()
                .filter(|(x, _)| same(x, &f))
                .filter_map(|(_, w)| match w {
                    Want::Text(t, op) => Some((t.as_str(), *op)),
                    Want::Null => None,
                })
                .collect();
            let text = match wants.iter().find(|(_, op)| *op == Op::Eq) {
                Some((t, _)) => (*t).to_owned(),
                None => {
                    let part = |want: Op| {
                        wants
                            .iter()
                            .filter(|(_, op)| *op == want)
                            .map(|(t, _)| *t)
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    let (s, c, e) = (part(Op::Starts), part(Op::Contains), part(Op::Ends));
                    let s = if s.is_empty() { "pre".to_owned() } else { s };
                    let e = if e.is_empty() { "post".to_owned() } else { e };
                    format!("{s} {c} {e}")
                }
            };
            (f, text)
        })
        .collect()
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

/// The column keyword values go to (what full-text search will find).
fn keyword_column(category: Category) -> &'static str {
    match category {
        Category::AzureActivity => "OperationNameValue",
        _ => "OperationName",
    }
}

/// Writes assignments into a record of `category` through `mapping`. The first writer of a target wins.
/// Returns the fields that could not be written.
pub fn build(
    mapping: &Mapping,
    category: Category,
    assigns: &[Assign],
    record: &mut Record,
) -> Vec<String> {
    let mut written: Vec<(usize, String, String)> = Vec::new();
    let mut failed = Vec::new();
    for (field, text) in combine(assigns) {
        let text = &text;
        let targets = match &field {
            Some(f) => match mapping.resolve(f, category) {
                Some(t) => t,
                None => {
                    failed.push(f.clone());
                    continue;
                }
            },
            None => detect::mapping::parse_target(keyword_column(category), category)
                .into_iter()
                .collect(),
        };
        let ok = targets.iter().any(|t| write(t, text, record, &mut written));
        if !ok {
            failed.push(field.clone().unwrap_or_default());
        }
    }
    failed
}

fn write(
    t: &Target,
    text: &str,
    r: &mut Record,
    written: &mut Vec<(usize, String, String)>,
) -> bool {
    let path_key = format!("{:?}", t.path);
    if let Some((_, _, v)) = written
        .iter()
        .find(|(c, p, _)| *c == t.column && *p == path_key)
    {
        // Taken: fine if it holds the same text, else try the field's next target.
        return v == text;
    }
    let done = (t.column, path_key.clone(), text.to_owned());
    if t.outcome {
        let v = if text.eq_ignore_ascii_case("success") {
            "0"
        } else if text.eq_ignore_ascii_case("failure") {
            "50126"
        } else {
            return false;
        };
        r.values[t.column] = Value::String(v.to_owned());
        written.push(done.clone());
        return true;
    }
    if t.path.is_empty() {
        let v = match t.ty {
            ColumnType::String => Value::String(text.to_owned()),
            ColumnType::Dynamic => Value::Dynamic(
                if serde_json::from_str::<Json>(text).is_ok() && !text.trim().is_empty() {
                    text.to_owned()
                } else {
                    json!([{ "displayName": text }]).to_string()
                },
            ),
            ColumnType::Int | ColumnType::Long => match text.parse() {
                Ok(i) => Value::Int(i),
                Err(_) => return false,
            },
            ColumnType::Bool => match text.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return false,
            },
            ColumnType::Real => match text.parse() {
                Ok(f) => Value::Real(f),
                Err(_) => return false,
            },
            ColumnType::DateTime => return false,
        };
        r.values[t.column] = v;
        written.push(done.clone());
        return true;
    }
    let mut root: Json = r.values[t.column]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Json::Null);
    insert(&mut root, &t.path, text);
    let s = root.to_string();
    r.values[t.column] = if t.ty == ColumnType::Dynamic {
        Value::Dynamic(s)
    } else {
        Value::String(s)
    };
    written.push(done.clone());
    true
}

/// Inserts `text` at `path`, creating objects (and, for a `[key=value]` step, an array element carrying
/// that key).
fn insert(node: &mut Json, path: &[detect::mapping::Step], text: &str) {
    let Some((step, rest)) = path.split_first() else {
        *node = Json::String(text.to_owned());
        return;
    };
    // The node an array step works on: the node itself (key "") or its child.
    let slot: &mut Json = if step.key.is_empty() {
        node
    } else {
        if !node.is_object() && !node.is_array() {
            *node = Json::Object(Map::new());
        }
        let obj = match node {
            Json::Array(a) => {
                if a.is_empty() {
                    a.push(Json::Object(Map::new()));
                }
                a.last_mut().unwrap_or_else(|| unreachable!())
            }
            other => other,
        };
        if !obj.is_object() {
            *obj = Json::Object(Map::new());
        }
        obj.as_object_mut()
            .unwrap_or_else(|| unreachable!())
            .entry(key_case(&step.key))
            .or_insert(Json::Null)
    };
    match &step.filter {
        None => insert(slot, rest, text),
        Some((k, v)) => {
            let mut elem = Map::new();
            elem.insert(key_case(k), Json::String(v.clone()));
            let mut e = Json::Object(elem);
            insert(&mut e, rest, text);
            match slot {
                Json::Array(a) => a.push(e),
                other => *other = Json::Array(vec![e]),
            }
        }
    }
}

/// Graph-style camelCase of a lower-cased mapping key (`newvalue` → `newValue` for the keys we know).
fn key_case(k: &str) -> String {
    const KNOWN: &[&str] = &[
        "modifiedProperties",
        "newValue",
        "oldValue",
        "displayName",
        "trustType",
        "isCompliant",
        "deviceId",
        "failureReason",
        "additionalDetails",
        "errorCode",
        "countryOrRegion",
        "userPrincipalName",
    ];
    KNOWN
        .iter()
        .find(|x| x.eq_ignore_ascii_case(k))
        .map_or_else(|| k.to_owned(), |x| (*x).to_owned())
}
