//! [`decode_stream`]: decodes a whole input item by item ([`DecodeStream`]), turning every item that cannot be
//! framed or decoded into a [`Rejected`] with its position, raw bytes and reason, and going on with the next.

use super::framing::{Body, Format, Framer, Item};
use super::tree::Node;
use super::{DecodeContext, Parsed, Projection, decode_node, decode_text, lenient, raw_wrapper};
use crate::Category;
use crate::quarantine::{Position, Rejected};
use crate::record::{Record, Shape};
use std::collections::VecDeque;
use std::io::BufRead;

/// Decodes a whole input, one item at a time, never stopping at a bad item.
pub fn decode_stream<R: BufRead>(reader: R, format: Format, cx: DecodeContext) -> DecodeStream<R> {
    decode_stream_with(reader, format, cx, None)
}

/// [`decode_stream`] filling only the columns of `projection` in each record (rejections are the same):
///
/// ```
/// use model::normalize::{decode_stream_projected, DecodeContext, Format, Projection};
/// let input = br#"{"time":"2024-03-04T00:00:01Z","category":"SignInLogs","properties":{"id":"x1","createdDateTime":"2024-03-04T00:00:01Z","userPrincipalName":"a@b.c","ipAddress":"10.0.0.1"}}"#;
/// let projection = Projection::columns(["UserPrincipalName"]);
/// let recs: Vec<_> = decode_stream_projected(&input[..], Format::JsonLines, DecodeContext::default(), projection)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(recs[0].key, "x1");
/// assert_eq!(recs[0].get("UserPrincipalName").and_then(|v| v.as_str()), Some("a@b.c"));
/// assert!(recs[0].get("IPAddress").is_some_and(|v| v.is_null()));
/// ```
pub fn decode_stream_projected<R: BufRead>(
    reader: R,
    format: Format,
    cx: DecodeContext,
    projection: Projection,
) -> DecodeStream<R> {
    decode_stream_with(reader, format, cx, Some(projection))
}

fn decode_stream_with<R: BufRead>(
    reader: R,
    format: Format,
    cx: DecodeContext,
    projection: Option<Projection>,
) -> DecodeStream<R> {
    let mut cx = cx;
    if format == Format::Csv && cx.shape.is_none() {
        cx.shape = Some(Shape::LogAnalytics);
    }
    DecodeStream {
        framer: Framer::new(reader, format),
        cx,
        pending: VecDeque::new(),
        projection,
    }
}

/// The iterator of [`decode_stream`]: every record, or the rejection of every bad item.
pub struct DecodeStream<R> {
    framer: Framer<R>,
    cx: DecodeContext,
    pending: VecDeque<Result<Record, Rejected>>,
    projection: Option<Projection>,
}

impl<R: BufRead> Iterator for DecodeStream<R> {
    type Item = Result<Record, Rejected>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Some(r);
            }
            match self.framer.next()? {
                Err(f) => return Some(Err(self.rejected(f.at, f.raw, f.reason, None))),
                Ok(item) => self.decode_item(item),
            }
        }
    }
}

// `Rejected` is large, but it is the public item type and rare; boxing it would cost every caller.
#[allow(clippy::result_large_err)]
impl<R> DecodeStream<R> {
    fn rejected(
        &self,
        at: String,
        raw: Vec<u8>,
        reason: String,
        category: Option<Category>,
    ) -> Rejected {
        Rejected {
            position: Position {
                source: self.cx.source.clone(),
                location: self.cx.location.clone(),
                at,
            },
            raw,
            reason,
            category: category.map(|c| c.name().to_owned()),
        }
    }

    fn decode_item(&mut self, item: Item) {
        let Item { at, body, context } = item;
        match body {
            Body::Row(row, raw) => {
                let node = Node::Obj(row);
                match decode_node(&node, &self.cx, None, self.projection.as_ref()) {
                    Ok(Parsed::Records(recs)) => {
                        let text = lenient::canonical(&node);
                        self.pending.extend(recs.into_iter().map(|mut r| {
                            r.raw.clone_from(&text);
                            Ok(r)
                        }));
                    }
                    Ok(Parsed::Wrapper(..)) => {
                        let r = self.rejected(
                            at,
                            raw.into_bytes(),
                            "a CSV row cannot be a wrapper".to_owned(),
                            None,
                        );
                        self.pending.push_back(Err(r));
                    }
                    Err(e) => {
                        let r = self.rejected(at, raw.into_bytes(), e.to_string(), e.category);
                        self.pending.push_back(Err(r));
                    }
                }
            }
            Body::Json(text) => self.decode_json(at, text, context),
        }
    }

    fn decode_json(&mut self, at: String, text: String, context: Option<String>) {
        if let Some((list, ctx)) = raw_wrapper(&text) {
            let ctx = ctx.or(context);
            for (i, raw) in list.iter().enumerate() {
                self.decode_json(
                    format!("{at} record {}", i + 1),
                    raw.get().to_owned(),
                    ctx.clone(),
                );
            }
            return;
        }
        match decode_text(text, &self.cx, context.as_deref(), self.projection.as_ref()) {
            Ok(Parsed::Records(recs)) => self.pending.extend(recs.into_iter().map(Ok)),
            Ok(Parsed::Wrapper(elems, ctx)) => {
                for (i, e) in elems.into_iter().enumerate() {
                    self.decode_json(format!("{at} record {}", i + 1), e, ctx.clone());
                }
            }
            Err((e, text)) => {
                let r = self.rejected(at, text.into_bytes(), e.to_string(), e.category);
                self.pending.push_back(Err(r));
            }
        }
    }
}
