//! The mapping engine: turns one detected input (Graph object, diagnostic envelope or Log Analytics row)
//! into a [`Record`] by following its family's column table, then computes the event time, the dedupe key
//! and the content hash.
//!
//! A family table ([`Mapping`]) lists, per canonical column, where its value comes from in order of
//! preference ([`Src`]): a path in the Graph object (`G`), a path in the diagnostic envelope (`E`), fixed
//! text, or a derivation. Log Analytics rows need no table: canonical columns *are* the Log Analytics
//! columns, matched by name ignoring case.
//!
//! Every table also gets the universal columns: `TimeGenerated` (envelope `time`, Log Analytics
//! `TimeGenerated`, else the event time), `Type` (the table name) and the Log Analytics-only `SourceSystem`,
//! `_BilledSize`, `_IsBillable`.
//!
//! **Hashing.** The content hash covers exactly the columns whose every source is a Graph path (`G`), plus
//! a family's `hashed` list, minus its `unhashed` list: those come from the event itself, so all three shapes
//! of one event hash alike. Envelope-only and derived columns, `TimeGenerated` and `_Raw` are left out.
//! Categories without an id also hash the event time.
//!
//! **Speed.** A plan is compiled once per category. Per record, one pass over each object's keys files the
//! values a table needs into slots (a hash lookup per key, ignoring case, exact case winning), so no column
//! scans the object.

use super::DecodeError;
use super::keys;
use super::lenient::{is_nullish, parse_timestamp, to_column};
use super::projection::Projection;
use super::slots::Slots;
use super::tree::{Entries, Node, get_path};
use crate::Category;
use crate::record::{Record, Shape, Value};
use crate::schema::{ColumnType, schema};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A computed column value, from the whole input.
pub(crate) type Derive = for<'a> fn(&Input<'a>) -> Option<Cow<'a, Node<'a>>>;

/// Where a column's value comes from.
#[derive(Clone, Copy)]
pub(crate) enum Src {
    /// A `/`-separated path in the Graph object (in `properties` for a diagnostic record).
    G(&'static str),
    /// A `/`-separated path in the diagnostic envelope (absent in Graph shape).
    E(&'static str),
    /// Fixed text, for Graph and diagnostic shapes.
    Lit(&'static str),
    /// Computed.
    D(Derive),
}

/// One family's column table.
pub(crate) struct Mapping {
    /// Canonical column, and its sources in order of preference. Columns a category's schema lacks are skipped.
    pub columns: &'static [(&'static str, &'static [Src])],
    /// Columns whose sources are all Graph paths but which must not be hashed (they differ between shapes).
    pub unhashed: &'static [&'static str],
    /// Columns hashed although not all their sources are Graph paths (derived event content).
    pub hashed: &'static [&'static str],
    /// Hashed columns whose text is hashed ignoring ASCII case.
    pub folded: &'static [&'static str],
    /// Schema columns deliberately left empty in Graph and diagnostic shapes (documented gaps; tests check
    /// that every schema column is either mapped or listed here).
    #[cfg_attr(not(test), allow(dead_code))]
    pub not_derived: &'static [&'static str],
    /// `G` paths address the whole record rather than a Graph object inside it (activity, resource logs).
    pub whole_record: bool,
    /// More event-time paths in the Graph object, after the category's time fields and before the envelope
    /// `time` (the REST `eventTimestamp`, a flow tuple's start).
    pub time_fields: &'static [&'static str],
    /// Other names of a canonical column in some Log Analytics table (`ProcessingTimeInMs`).
    pub la_aliases: &'static [(&'static str, &'static str)],
    /// Categories whose Log Analytics table has fewer columns than the canonical schema: only these columns
    /// are hashed, so that the row hashes like the Graph object.
    pub la_narrow: &'static [(Category, &'static [&'static str])],
}

impl Mapping {
    /// A mapping with no columns, for struct-update syntax.
    pub(crate) const EMPTY: Mapping = Mapping {
        columns: &[],
        unhashed: &[],
        hashed: &[],
        folded: &[],
        not_derived: &[],
        whole_record: false,
        time_fields: &[],
        la_aliases: &[],
        la_narrow: &[],
    };
}

/// What the mapping reads: the detected pieces of one input record.
pub(crate) struct Input<'a> {
    /// The category.
    pub category: Category,
    /// The shape.
    pub shape: Shape,
    /// The Graph object (Graph shape: the record; diagnostic: `properties`; whole-record families: the record).
    pub graph: Option<&'a Entries<'a>>,
    /// The diagnostic envelope (the record), diagnostic shape only.
    pub env: Option<&'a Entries<'a>>,
    /// The Log Analytics row.
    pub row: Option<&'a Entries<'a>>,
    /// How messages name a Graph path's parent (`properties.` for diagnostic records, else empty).
    pub graph_prefix: &'static str,
}

impl<'a> Input<'a> {
    /// The non-null value at a Graph path.
    pub(crate) fn g(&self, path: &str) -> Option<&'a Node<'a>> {
        self.graph
            .and_then(|m| get_path(m, path))
            .filter(|v| !is_nullish(v))
    }

    /// The non-null value at an envelope path.
    pub(crate) fn e(&self, path: &str) -> Option<&'a Node<'a>> {
        self.env
            .and_then(|m| get_path(m, path))
            .filter(|v| !is_nullish(v))
    }

    /// The non-null value of a Log Analytics column.
    pub(crate) fn la(&self, column: &str) -> Option<&'a Node<'a>> {
        self.row
            .and_then(|m| get_path(m, column))
            .filter(|v| !is_nullish(v))
    }
}

/// A compiled source: `G`/`E` paths point at a slot (the path's first key) and the rest of the path.
#[derive(Clone, Copy)]
enum PSrc {
    G(u16, &'static str),
    E(u16, &'static str),
    Lit(&'static str),
    D(Derive),
}

/// One column of a compiled plan.
struct PlanCol {
    ty: ColumnType,
    name: &'static str,
    srcs: Vec<PSrc>,
    hashed: bool,
    folded: bool,
    universal: Universal,
}

/// Columns every table gets from the engine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Universal {
    No,
    TimeGenerated,
    Type,
    LaOnly,
}

/// A category's compiled mapping: one entry per schema column, in schema order.
pub(crate) struct Plan {
    cols: Vec<PlanCol>,
    graph: Slots,
    env: Slots,
    la: Slots,
}

/// Columns only Log Analytics fills.
const LA_ONLY: &[&str] = &["SourceSystem", "_BilledSize", "_IsBillable"];

/// Splits `a/b/c` into `a` and `b/c`.
fn first_key(path: &'static str) -> (&'static str, &'static str) {
    path.split_once('/').unwrap_or((path, ""))
}

impl Plan {
    fn compile(category: Category, mapping: &'static Mapping) -> Plan {
        let s = schema(category);
        let (mut graph, mut env, mut la) = (Slots::default(), Slots::default(), Slots::default());
        let cols = s
            .columns
            .iter()
            .map(|c| {
                let name: &'static str = &c.name;
                la.slot(name);
                let universal = match name {
                    "TimeGenerated" => Universal::TimeGenerated,
                    "Type" => Universal::Type,
                    n if LA_ONLY.contains(&n) => Universal::LaOnly,
                    _ => Universal::No,
                };
                let table: &'static [Src] = mapping
                    .columns
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map_or(&[], |(_, s)| *s);
                let srcs = table
                    .iter()
                    .map(|src| match *src {
                        Src::G(p) => {
                            let (k, rest) = first_key(p);
                            PSrc::G(graph.slot(k), rest)
                        }
                        Src::E(p) => {
                            let (k, rest) = first_key(p);
                            PSrc::E(env.slot(k), rest)
                        }
                        Src::Lit(t) => PSrc::Lit(t),
                        Src::D(f) => PSrc::D(f),
                    })
                    .collect();
                let listed = |list: &[&str]| list.iter().any(|u| u.eq_ignore_ascii_case(name));
                let hashed = universal == Universal::No
                    && !table.is_empty()
                    && (table.iter().all(|s| matches!(s, Src::G(_))) || listed(mapping.hashed))
                    && !listed(mapping.unhashed);
                let narrow = mapping
                    .la_narrow
                    .iter()
                    .find(|(c, _)| *c == category)
                    .map(|(_, cols)| *cols);
                let hashed = hashed
                    && narrow.is_none_or(|cols| cols.iter().any(|c| c.eq_ignore_ascii_case(name)));
                let folded = hashed && listed(mapping.folded);
                PlanCol {
                    ty: c.ty,
                    name,
                    srcs,
                    hashed,
                    folded,
                    universal,
                }
            })
            .collect();
        for (canonical, other) in mapping.la_aliases {
            if s.index_of(canonical).is_some() {
                la.alias(canonical, other);
            }
        }
        Plan {
            cols,
            graph,
            env,
            la,
        }
    }

    /// The names of the hashed columns.
    #[cfg(test)]
    pub(crate) fn hashed_columns(&self) -> Vec<&'static str> {
        self.cols
            .iter()
            .filter(|c| c.hashed)
            .map(|c| c.name)
            .collect()
    }

    /// Schema columns with no source in Graph and diagnostic shapes.
    #[cfg(test)]
    pub(crate) fn unmapped_columns(&self) -> Vec<&'static str> {
        self.cols
            .iter()
            .filter(|c| c.universal == Universal::No && c.srcs.is_empty())
            .map(|c| c.name)
            .collect()
    }
}

/// The compiled plan of `category` (built once).
pub(crate) fn plan(category: Category) -> &'static Plan {
    static PLANS: OnceLock<Vec<Plan>> = OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        Category::ALL
            .iter()
            .map(|c| Plan::compile(*c, super::mapping(*c)))
            .collect()
    });
    let i = Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0);
    &plans[i]
}

/// Builds the record of one input (with an empty `raw`, which the caller fills). With a projection, only its
/// columns (and, where the content hash is needed, the hashed ones) are built; see [`Projection`].
pub(crate) fn build(
    input: &Input<'_>,
    ingest_time: i64,
    source: &str,
    projection: Option<&Projection>,
) -> Result<Record, DecodeError> {
    let mapping = super::mapping(input.category);
    let event_time = event_time(input, mapping)?;
    let plan = plan(input.category);
    let empty = Vec::new();
    let (gs, es, ls) = match input.shape {
        Shape::LogAnalytics => (
            empty.clone(),
            empty.clone(),
            input.row.map_or_else(Vec::new, |r| plan.la.fill(r)),
        ),
        _ => (
            input.graph.map_or_else(Vec::new, |g| plan.graph.fill(g)),
            input.env.map_or_else(Vec::new, |e| plan.env.fill(e)),
            empty,
        ),
    };
    let id = keys::id_key(input);
    let mask = projection.map(|p| p.mask(input.category));
    let need_hash = projection.is_none_or(Projection::keeps_content_hash) || id.is_none();
    let mut values = Vec::with_capacity(plan.cols.len());
    for (i, col) in plan.cols.iter().enumerate() {
        let wanted = mask.is_none_or(|m| m.get(i).copied().unwrap_or(false));
        let needed = wanted || (need_hash && col.hashed);
        if !needed {
            values.push(Value::Null);
            continue;
        }
        values.push(column_value(
            input,
            col,
            event_time,
            &gs,
            &es,
            ls.get(i).copied().flatten(),
        ));
    }
    let content_hash = if need_hash {
        keys::content_hash(
            input.category,
            plan.cols.iter().map(|c| (c.name, c.hashed, c.folded)),
            &values,
            event_time,
        )
    } else {
        0
    };
    if let Some(mask) = mask {
        for (i, v) in values.iter_mut().enumerate() {
            if !mask.get(i).copied().unwrap_or(false) {
                *v = Value::Null;
            }
        }
    }
    let key = id.unwrap_or_else(|| keys::hash_key(content_hash));
    Ok(Record {
        category: input.category,
        event_time,
        ingest_time,
        key,
        content_hash,
        revision: 0,
        source: source.to_owned(),
        shape: input.shape,
        values,
        raw: String::new(),
    })
}

/// Follows the rest of a path from a slot's value.
fn follow<'a>(slot: Option<&'a Node<'a>>, rest: &str) -> Option<&'a Node<'a>> {
    let mut cur = slot?;
    if !rest.is_empty() {
        for part in rest.split('/') {
            cur = super::tree::get_ci(cur.as_obj()?, part)?;
        }
    }
    (!is_nullish(cur)).then_some(cur)
}

fn column_value<'a>(
    input: &Input<'a>,
    col: &PlanCol,
    event_time: i64,
    gs: &[Option<&'a Node<'a>>],
    es: &[Option<&'a Node<'a>>],
    la: Option<&'a Node<'a>>,
) -> Value {
    match col.universal {
        Universal::Type => return Value::String(input.category.table().to_owned()),
        Universal::TimeGenerated => {
            let t = match input.shape {
                Shape::LogAnalytics => la,
                Shape::Diagnostic => input.e("time"),
                Shape::Graph => None,
            };
            let t = t
                .and_then(Node::as_str)
                .and_then(parse_timestamp)
                .unwrap_or(event_time);
            return Value::DateTime(t);
        }
        Universal::LaOnly | Universal::No if input.shape == Shape::LogAnalytics => {
            return la.map_or(Value::Null, |v| to_column(v, col.ty));
        }
        Universal::LaOnly => return Value::Null,
        Universal::No => {}
    }
    for src in &col.srcs {
        let v: Option<Cow<'a, Node<'a>>> = match *src {
            PSrc::G(s, rest) => {
                follow(gs.get(usize::from(s)).copied().flatten(), rest).map(Cow::Borrowed)
            }
            PSrc::E(s, rest) => {
                follow(es.get(usize::from(s)).copied().flatten(), rest).map(Cow::Borrowed)
            }
            PSrc::Lit(t) => Some(Cow::Owned(Node::Str(Cow::Borrowed(t)))),
            PSrc::D(f) => f(input),
        };
        if let Some(v) = v {
            let out = to_column(&v, col.ty);
            if !out.is_null() {
                return out;
            }
        }
    }
    Value::Null
}

/// The event time: the category's time fields (Graph paths; Log Analytics: the same-named columns), the
/// family's extra time fields, then the envelope `time` / `TimeGenerated`. A present but unparseable value is
/// an error naming its field.
pub(crate) fn event_time(input: &Input<'_>, mapping: &Mapping) -> Result<i64, DecodeError> {
    let mut looked = Vec::new();
    let parse = |v: &Node<'_>, field: String| -> Result<i64, DecodeError> {
        v.as_str()
            .and_then(parse_timestamp)
            .ok_or_else(|| DecodeError::field(field, format!("not a timestamp: {v}")))
    };
    let fields = input
        .category
        .time_fields()
        .iter()
        .chain(mapping.time_fields);
    if input.shape == Shape::LogAnalytics {
        for f in fields.chain(&["TimeGenerated"]) {
            if let Some(v) = input.la(f) {
                return parse(v, pascal(f));
            }
            looked.push(pascal(f));
        }
    } else {
        let name = |f: &str| format!("{}{}", input.graph_prefix, f.replace('/', "."));
        for f in fields {
            if let Some(v) = input.g(f) {
                // The name is only needed for an error: build it then.
                return match v.as_str().and_then(parse_timestamp) {
                    Some(t) => Ok(t),
                    None => parse(v, name(f)),
                };
            }
            looked.push(name(f));
        }
        if let Some(v) = input.e("time").or_else(|| {
            if mapping.whole_record {
                input.g("time")
            } else {
                None
            }
        }) {
            return parse(v, "time".to_owned());
        }
        if input.shape == Shape::Diagnostic || mapping.whole_record {
            looked.push("time".to_owned());
        }
    }
    let first = looked.first().cloned().unwrap_or_else(|| "time".to_owned());
    Err(DecodeError::field(
        first,
        format!("no event time (looked at {})", looked.join(", ")),
    ))
}

/// `createdDateTime` → `CreatedDateTime`: the Log Analytics column of a Graph field.
pub(crate) fn pascal(f: &str) -> String {
    let mut c = f.chars();
    c.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + c.as_str()
    })
}
