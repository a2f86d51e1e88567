//! The CEF / LEEF mapping compiled per category: every column name of [`Mapping`] resolved once to the
//! column's index in the category's schema (or to a column index plus a path inside that dynamic column),
//! so a record's fields are read by position, borrowed where they are text, and a dynamic column that
//! several paths reach into is parsed once per record.
//!
//! The values are exactly those of [`mapping::text`] / [`mapping::first`] / [`mapping::severity`] (the
//! reference, by name); `tests.rs` compares both over every category.

use super::super::mapping::{self, Mapping, Severity};
use model::{Category, Record, TableSchema, Value};
use serde_json::Value as Json;
use std::borrow::Cow;

/// Where one mapped name reads from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Src {
    /// A column, by index.
    Col(usize),
    /// `path` (dot-separated, case ignored) inside the column at index `col`.
    Path { col: usize, path: &'static str },
    /// No such column in this category.
    Missing,
}

impl Src {
    fn resolve(schema: &TableSchema, name: &'static str) -> Src {
        if let Some(i) = schema.index_of(name) {
            return Src::Col(i);
        }
        match name.split_once('.') {
            Some((column, path)) => match schema.index_of(column) {
                Some(col) => Src::Path { col, path },
                None => Src::Missing,
            },
            None => Src::Missing,
        }
    }

    fn all(schema: &TableSchema, names: &'static [&'static str]) -> Vec<Src> {
        names.iter().map(|n| Src::resolve(schema, n)).collect()
    }
}

/// The compiled mapping of one category.
#[derive(Debug)]
pub(super) struct Plan {
    /// The category this plan is for.
    pub(super) category: Category,
    /// The mapping it was compiled from.
    pub(super) map: &'static Mapping,
    /// The RFC 5424 MSGID (the table name as a header token).
    pub(super) msgid: String,
    /// Where the signature id's value comes from.
    pub(super) signature: Vec<Src>,
    /// Where the CEF name comes from.
    pub(super) name: Vec<Src>,
    /// The columns the severity rule reads (first, second).
    severity: [Src; 2],
    /// Per field of `map.fields`, where its value comes from.
    pub(super) fields: Vec<Vec<Src>>,
    /// The canonical JSON object's keys in written order (`None`: not unique, no fast JSON path).
    pub(super) json: Option<Vec<(String, super::json::Slot)>>,
}

impl Plan {
    /// Compiles the mapping of `category`.
    pub(super) fn new(category: Category) -> Plan {
        let map = mapping::mapping(category);
        let schema = model::schema(category);
        let one = |name: &'static str| Src::resolve(schema, name);
        let severity = match map.severity {
            Severity::SignIn => [one("RiskLevelDuringSignIn"), one("ResultType")],
            Severity::Audit => [one("Result"), Src::Missing],
            Severity::Level => [one("Level"), Src::Missing],
            Severity::Risk => [one("RiskLevel"), Src::Missing],
            Severity::Fixed => [Src::Missing, Src::Missing],
        };
        Plan {
            category,
            map,
            msgid: super::header_token(category.table(), 32),
            signature: Src::all(schema, map.signature),
            name: Src::all(schema, map.name),
            severity,
            fields: map
                .fields
                .iter()
                .map(|f| Src::all(schema, f.columns))
                .collect(),
            json: super::json::keys(category),
        }
    }

    /// The 0-10 severity of the record in `view`, as [`mapping::severity`] computes it.
    pub(super) fn severity(&self, view: &mut View<'_>) -> u8 {
        let [a, b] = self.severity;
        let is = |v: &Option<Cow<'_, str>>, word: &str| {
            v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(word))
        };
        match self.map.severity {
            Severity::SignIn => {
                if is(&view.text(a), "high") {
                    8
                } else if view.text(b).is_some_and(|r| r != "0") {
                    5
                } else {
                    3
                }
            }
            Severity::Audit => {
                let r = view.text(a);
                if r.is_none() || is(&r, "success") {
                    3
                } else {
                    5
                }
            }
            Severity::Level => {
                let l = view.text(a);
                if is(&l, "critical") {
                    9
                } else if is(&l, "error") {
                    7
                } else if is(&l, "warning") {
                    5
                } else {
                    3
                }
            }
            Severity::Risk => {
                let l = view.text(a);
                if is(&l, "high") {
                    8
                } else if is(&l, "medium") {
                    6
                } else if is(&l, "low") {
                    4
                } else {
                    3
                }
            }
            Severity::Fixed => 3,
        }
    }
}

/// Field access to one record through a [`Plan`]; dynamic columns reached by paths are parsed once.
#[derive(Debug)]
pub(super) struct View<'r> {
    record: &'r Record,
    /// Parsed dynamic columns, by column index.
    roots: Vec<(usize, Json)>,
}

impl<'r> View<'r> {
    /// A view of `record`.
    pub(super) fn new(record: &'r Record) -> View<'r> {
        View {
            record,
            roots: Vec::new(),
        }
    }

    /// The first non-empty of `srcs` (as [`mapping::first`]).
    pub(super) fn first(&mut self, srcs: &[Src]) -> Option<Cow<'r, str>> {
        srcs.iter().find_map(|&s| self.text(s))
    }

    /// The text of `src`, `None` when absent or empty (as [`mapping::text`]).
    pub(super) fn text(&mut self, src: Src) -> Option<Cow<'r, str>> {
        match src {
            Src::Col(i) => {
                let record: &'r Record = self.record;
                match record.values.get(i)? {
                    Value::String(s) => (!s.is_empty()).then_some(Cow::Borrowed(s.as_str())),
                    Value::Null => None,
                    other => json_text(&other.to_json()).map(Cow::Owned),
                }
            }
            Src::Path { col, path } => {
                let at = match self.roots.iter().position(|(c, _)| *c == col) {
                    Some(at) => at,
                    None => {
                        let root = self.record.values.get(col)?.to_json();
                        self.roots.push((col, root));
                        self.roots.len() - 1
                    }
                };
                let (_, root) = self.roots.get(at)?;
                let leaf = walk(root, path)?;
                json_text(&leaf).map(Cow::Owned)
            }
            Src::Missing => None,
        }
    }
}

/// Strings as they are, null as absent, anything else as compact JSON; `None` when empty.
fn json_text(v: &Json) -> Option<String> {
    let s = match v {
        Json::Null => return None,
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// Follows `path` (dot-separated, keys matched ignoring ASCII case, the first match in key order) from
/// `v`; a string on the way is parsed as JSON (nested JSON text), as `FieldLookup::lookup` does.
fn walk<'a>(v: &'a Json, path: &str) -> Option<Cow<'a, Json>> {
    let (part, rest) = match path.split_once('.') {
        Some((part, rest)) => (part, Some(rest)),
        None => (path, None),
    };
    let child = |m: &'a serde_json::Map<String, Json>| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(part))
            .map(|(_, v)| v)
    };
    match v {
        Json::Object(m) => {
            let next = child(m)?;
            match rest {
                Some(rest) => walk(next, rest),
                None => Some(Cow::Borrowed(next)),
            }
        }
        Json::String(s) => {
            let parsed: Json = serde_json::from_str(s).ok()?;
            let next = parsed
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)?;
            let owned = match rest {
                Some(rest) => walk(next, rest)?.into_owned(),
                None => next.clone(),
            };
            Some(Cow::Owned(owned))
        }
        _ => None,
    }
}
