//! Normalization: decoders from the three wire shapes (Graph object, diagnostic-settings record, Log Analytics
//! row) into canonical [`Record`]s. Pure: reads from a caller's `BufRead`, opens nothing.
//!
//! - [`decode_record`] decodes one JSON record (a flow-log record expands to one record per tuple; an Event
//!   Hubs body `{"records":[…]}` or a Graph page `{"value":[…]}` to its records).
//! - [`decode_stream`] frames a whole input ([`Format`], [`detect_format`]) and yields one
//!   `Result<Record, Rejected>` per record; a bad item becomes a [`Rejected`] with its position, raw bytes and
//!   reason, and decoding goes on with the next.
//!
//! Decoding is strict about structure (a record is an object; a diagnostic Entra record has a `properties`
//! object; the event time is present and parses) and lenient about values ([`lenient`]).
//!
//! Layout: `stream` drives the decoding of a whole input; `framing` and `scan` cut it into items; `tree` parses an item once into a borrowed JSON
//! tree (`parse` is its hand-written fast path, serde_json the fallback); `detect` tells shape and category (rules in its module docs); one file per family holds its column
//! table (`signin`, `audit`, `provisioning`, `risk`, `network`, `graph_activity`, `office`, `activity`, `flow`,
//! `resource`, `syslog`); `engine` applies a table, `keys` computes the dedupe key and content hash: the same event in
//! any shape gets the same `key` and `content_hash`.

mod activity;
mod audit;
mod derive;
mod detect;
mod engine;
mod flow;
mod framing;
mod graph_activity;
mod keys;
pub mod lenient;
mod network;
mod office;
mod parse;
#[cfg(test)]
mod parse_tests;
mod projection;
mod provisioning;
mod resource;
mod risk;
mod scan;
mod signin;
mod slots;
mod stream;
mod syslog;
#[cfg(test)]
mod tests;
mod tree;

pub use framing::{Format, detect_format};
pub use lenient::parse_timestamp;
pub use projection::Projection;
pub use stream::{DecodeStream, decode_stream, decode_stream_projected};

use crate::record::{Record, Shape};
use crate::{Category, Family};
use engine::{Input, Mapping};
use serde::Deserialize;
use serde_json::value::RawValue;
use tree::{Entries, Node};

/// What the caller knows about the input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodeContext {
    /// Source name, copied into every record and rejection.
    pub source: String,
    /// File, blob, topic/partition or URL, for rejection positions.
    pub location: String,
    /// When entrail accepted the input, microseconds since the epoch (UTC).
    pub ingest_time: i64,
    /// The category, when the caller knows it (overrides detection).
    pub category: Option<Category>,
    /// The shape, when the caller knows it (overrides detection).
    pub shape: Option<Shape>,
}

/// Why one record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match &self.field { Some(f) => format!("field {f}: {}", self.message), None => self.message.clone() })]
pub struct DecodeError {
    /// The field at fault (`properties.createdDateTime`), if one is.
    pub field: Option<String>,
    /// What was wrong.
    pub message: String,
    /// The category the record seemed to be, if detection got that far.
    pub category: Option<Category>,
}

impl DecodeError {
    /// An error not tied to one field.
    pub fn new(message: impl Into<String>) -> DecodeError {
        DecodeError {
            field: None,
            message: message.into(),
            category: None,
        }
    }

    /// An error naming the field at fault.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> DecodeError {
        DecodeError {
            field: Some(field.into()),
            message: message.into(),
            category: None,
        }
    }

    fn in_category(mut self, c: Category) -> DecodeError {
        self.category.get_or_insert(c);
        self
    }
}

/// The column table of `category`'s family.
pub(crate) fn mapping(category: Category) -> &'static Mapping {
    match category.family() {
        Family::SignIn => &signin::MAPPING,
        Family::Audit => &audit::MAPPING,
        Family::Provisioning => &provisioning::MAPPING,
        Family::Risk => &risk::MAPPING,
        Family::NetworkAccess => &network::MAPPING,
        Family::GraphActivity => &graph_activity::MAPPING,
        Family::Office => &office::MAPPING,
        Family::Activity => &activity::MAPPING,
        Family::Flow => &flow::MAPPING,
        Family::Resource => &resource::MAPPING,
        Family::Syslog => &syslog::MAPPING,
    }
}

/// Decodes one JSON record (or wrapper of records) into canonical records.
pub fn decode_record(raw_json: &str, cx: &DecodeContext) -> Result<Vec<Record>, DecodeError> {
    decode_record_with(raw_json, cx, None)
}

/// [`decode_record`] filling only the columns of `projection` (see [`Projection`]).
pub fn decode_record_projected(
    raw_json: &str,
    cx: &DecodeContext,
    projection: &Projection,
) -> Result<Vec<Record>, DecodeError> {
    decode_record_with(raw_json, cx, Some(projection))
}

fn decode_record_with(
    raw_json: &str,
    cx: &DecodeContext,
    projection: Option<&Projection>,
) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    let mut todo = vec![(raw_json.to_owned(), None::<String>)];
    while let Some((text, context)) = todo.pop() {
        match decode_text(text, cx, context.as_deref(), projection).map_err(|(e, _)| e)? {
            Parsed::Records(r) => out.extend(r),
            Parsed::Wrapper(elems, ctx) => {
                todo.extend(elems.into_iter().rev().map(|e| (e, ctx.clone())))
            }
        }
    }
    Ok(out)
}

/// A decode error with the raw text it was about, handed back for the rejection.
type Fail = (DecodeError, String);

/// What one JSON text decoded to.
enum Parsed {
    /// Its records.
    Records(Vec<Record>),
    /// A wrapper's elements (re-serialized) and its `@odata.context`.
    Wrapper(Vec<String>, Option<String>),
}

/// A wrapper's records as raw JSON (Event Hubs body or Graph page).
#[derive(Deserialize)]
struct Wrapper<'a> {
    #[serde(borrow, default, alias = "Records")]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default, alias = "Value")]
    value: Option<Vec<&'a RawValue>>,
    #[serde(rename = "@odata.context", default)]
    context: Option<String>,
}

/// Whether JSON text starts like a wrapper (`{"records"`, `{"value"`, `{"@odata…`): then its elements are cut
/// out as raw text without re-serializing them.
fn looks_like_wrapper(text: &str) -> bool {
    let t = text
        .trim_start()
        .strip_prefix('{')
        .map(str::trim_start)
        .unwrap_or_default();
    let t = t.strip_prefix('"').unwrap_or_default();
    let head = |n: usize| t.get(..n).unwrap_or_default();
    head(8).eq_ignore_ascii_case("records\"")
        || head(6).eq_ignore_ascii_case("value\"")
        || t.starts_with("@odata.")
}

/// The elements of a wrapper that starts like one, as borrowed raw text, and its context.
fn raw_wrapper(text: &str) -> Option<(Vec<&RawValue>, Option<String>)> {
    if !looks_like_wrapper(text) {
        return None;
    }
    let w: Wrapper<'_> = serde_json::from_str(text).ok()?;
    let list = w.records.or(w.value)?;
    Some((list, w.context))
}

fn malformed(e: serde_json::Error) -> DecodeError {
    DecodeError::new(format!("malformed JSON: {e}"))
}

/// Decodes one JSON text: its records (with `raw` set), or the elements of a wrapper.
fn decode_text(
    text: String,
    cx: &DecodeContext,
    context: Option<&str>,
    projection: Option<&Projection>,
) -> Result<Parsed, Fail> {
    let result = match Node::parse(&text) {
        Ok(node) => decode_node(&node, cx, context, projection),
        Err(e) => Err(malformed(e)),
    };
    match result {
        Ok(Parsed::Records(mut recs)) => {
            if let [one] = recs.as_mut_slice()
                && one.raw.is_empty()
            {
                one.raw = text;
            }
            Ok(Parsed::Records(recs))
        }
        Ok(wrapper) => Ok(wrapper),
        Err(e) => Err((e, text)),
    }
}

/// Whether an object is a wrapper: a `records`/`value` array and otherwise only `@odata.*` keys.
fn wrapper_elements<'n, 'a>(obj: &'n Entries<'a>) -> Option<&'n [Node<'a>]> {
    let mut list = None;
    for (k, v) in obj {
        match v {
            Node::Arr(a)
                if k.eq_ignore_ascii_case("records") || k.eq_ignore_ascii_case("value") =>
            {
                list = Some(a.as_slice())
            }
            _ if k.starts_with("@odata.") => {}
            _ => return None,
        }
    }
    list
}

/// Decodes one parsed record; a non-flow record comes back with an empty `raw` for the caller to fill.
fn decode_node(
    node: &Node<'_>,
    cx: &DecodeContext,
    context: Option<&str>,
    projection: Option<&Projection>,
) -> Result<Parsed, DecodeError> {
    let Node::Obj(obj) = node else {
        return Err(DecodeError::new(format!(
            "a record must be a JSON object, found {}",
            node.kind()
        )));
    };
    if let Some(elems) = wrapper_elements(obj) {
        let ctx = tree::get_ci(obj, "@odata.context")
            .and_then(Node::as_str)
            .map(str::to_owned)
            .or(context.map(str::to_owned));
        return Ok(Parsed::Wrapper(
            elems.iter().map(lenient::canonical).collect(),
            ctx,
        ));
    }
    let d = detect::detect(obj, cx.shape, cx.category, context)?;
    let records = if d.category.family() == Family::Flow {
        flow::decode(
            obj,
            d.category,
            d.shape,
            cx.ingest_time,
            &cx.source,
            projection,
        )
    } else if d.shape == Shape::LogAnalytics
        && d.category == Category::ResourceDiagnostics
        && let Some(rebuilt) = resource::from_resource_table(obj)
    {
        let d2 = detect::Detected {
            shape: Shape::Diagnostic,
            category: d.category,
        };
        decode_one(&rebuilt, d2, cx, projection).map(|mut r| {
            r.shape = Shape::LogAnalytics;
            vec![r]
        })
    } else {
        decode_one(obj, d, cx, projection).map(|r| vec![r])
    };
    records
        .map(Parsed::Records)
        .map_err(|e| e.in_category(d.category))
}

/// Decodes one non-flow record of a detected shape and category.
fn decode_one(
    obj: &Entries<'_>,
    d: detect::Detected,
    cx: &DecodeContext,
    projection: Option<&Projection>,
) -> Result<Record, DecodeError> {
    let m = mapping(d.category);
    let parsed_props: Node<'_>;
    let mut input = Input {
        category: d.category,
        shape: d.shape,
        graph: None,
        env: None,
        row: None,
        graph_prefix: "",
    };
    match d.shape {
        Shape::Graph => input.graph = Some(obj),
        Shape::LogAnalytics => input.row = Some(obj),
        Shape::Diagnostic if m.whole_record => {
            input.env = Some(obj);
            input.graph = Some(obj);
        }
        Shape::Diagnostic => {
            input.env = Some(obj);
            input.graph_prefix = "properties.";
            input.graph = Some(match tree::get_ci(obj, "properties") {
                Some(Node::Obj(p)) => p,
                Some(Node::Str(s)) => {
                    parsed_props = Node::parse(s).unwrap_or(Node::Null);
                    parsed_props.as_obj().ok_or_else(|| {
                        DecodeError::field("properties", "a string that is not a JSON object")
                    })?
                }
                Some(other) => {
                    return Err(DecodeError::field(
                        "properties",
                        format!("not an object: {}", other.kind()),
                    ));
                }
                None => {
                    return Err(DecodeError::field(
                        "properties",
                        "missing (a diagnostic record carries the event in properties)",
                    ));
                }
            });
        }
    }
    engine::build(&input, cx.ingest_time, &cx.source, projection)
}
