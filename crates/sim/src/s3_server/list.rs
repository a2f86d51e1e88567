//! ListObjectsV2 of the S3 server: pages of at most `max-keys` entries (objects and common prefixes), with an
//! opaque continuation token that says where the page stopped (after a key, or after a whole common prefix,
//! so a prefix is never listed twice).

use super::handlers::{Reply, Req, err, no_such_key, xml_ok};
use super::xml::{NS, escape};
use super::{MAX_KEYS, Object};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

impl Req<'_> {
    /// `GET /{bucket}?list-type=2`.
    pub(super) fn list(&self) -> Reply {
        let prefix = self.param("prefix").unwrap_or("");
        let delimiter = self.param("delimiter").filter(|d| !d.is_empty());
        let max = match self.param("max-keys") {
            None => MAX_KEYS,
            Some(m) => m.parse::<usize>().map_err(|_| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "max-keys must be a non-negative integer",
                )
            })?,
        }
        .min(MAX_KEYS);
        let token = self.param("continuation-token");
        // The token says where the previous page stopped: after a key, or after every key of a prefix.
        let resume = match token {
            Some(t) => Some(decode_token(t).ok_or_else(|| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "The continuation token provided is incorrect",
                )
            })?),
            None => self
                .param("start-after")
                .filter(|s| !s.is_empty())
                .map(|s| Marker::Key(s.to_owned())),
        };
        let page = {
            let store = self.app.store();
            let objects = store.buckets.get(self.bucket).ok_or_else(no_such_key)?;
            list_page(objects, prefix, delimiter, resume.as_ref(), max)
        };
        self.app.stats.lists.fetch_add(1, Ordering::Relaxed);
        let mut x = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"{NS}\"><Name>{}</Name><Prefix>{}</Prefix>",
            escape(self.bucket),
            escape(prefix)
        );
        if let Some(d) = delimiter {
            let _ = write!(x, "<Delimiter>{}</Delimiter>", escape(d));
        }
        let _ = write!(
            x,
            "<MaxKeys>{max}</MaxKeys><KeyCount>{}</KeyCount><IsTruncated>{}</IsTruncated>",
            page.entries.len(),
            page.next.is_some()
        );
        if let Some(t) = token {
            let _ = write!(x, "<ContinuationToken>{}</ContinuationToken>", escape(t));
        }
        if let Some(n) = &page.next {
            let _ = write!(
                x,
                "<NextContinuationToken>{}</NextContinuationToken>",
                escape(&encode_token(n))
            );
        }
        if let (None, Some(s)) = (token, self.param("start-after")) {
            let _ = write!(x, "<StartAfter>{}</StartAfter>", escape(s));
        }
        for e in &page.entries {
            match e {
                Entry::Object {
                    key,
                    size,
                    etag,
                    modified,
                } => {
                    let _ = write!(
                        x,
                        "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                        escape(key),
                        modified.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                        escape(etag)
                    );
                }
                Entry::Prefix(p) => {
                    let _ = write!(
                        x,
                        "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                        escape(p)
                    );
                }
            }
        }
        x.push_str("</ListBucketResult>");
        Ok(xml_ok(x))
    }
}

/// Where a listing page stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Marker {
    /// After this key.
    Key(String),
    /// After every key under this common prefix.
    Prefix(String),
}

fn encode_token(m: &Marker) -> String {
    let raw = match m {
        Marker::Key(k) => format!("k{k}"),
        Marker::Prefix(p) => format!("p{p}"),
    };
    BASE64.encode(raw)
}

fn decode_token(t: &str) -> Option<Marker> {
    let raw = String::from_utf8(BASE64.decode(t).ok()?).ok()?;
    let rest = raw.get(1..)?.to_owned();
    match raw.as_bytes().first()? {
        b'k' => Some(Marker::Key(rest)),
        b'p' => Some(Marker::Prefix(rest)),
        _ => None,
    }
}

/// One listing entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    /// An object.
    Object {
        key: String,
        size: u64,
        etag: String,
        modified: DateTime<Utc>,
    },
    /// A common prefix.
    Prefix(String),
}

/// One ListObjectsV2 page and where the next one starts (`None`: not truncated).
pub(super) struct Page {
    pub(super) entries: Vec<Entry>,
    pub(super) next: Option<Marker>,
}

/// Lists keys under `prefix` after `resume`, rolling keys up to common prefixes at `delimiter`.
pub(super) fn list_page(
    objects: &std::collections::BTreeMap<String, Object>,
    prefix: &str,
    delimiter: Option<&str>,
    resume: Option<&Marker>,
    max: usize,
) -> Page {
    use std::ops::Bound;
    let start = match resume {
        Some(Marker::Key(k) | Marker::Prefix(k)) if k.as_str() >= prefix => {
            Bound::Excluded(k.clone())
        }
        _ => Bound::Included(prefix.to_owned()),
    };
    let mut skip_prefix = match resume {
        Some(Marker::Prefix(p)) => Some(p.clone()),
        _ => None,
    };
    let mut entries = Vec::new();
    let mut last: Option<Marker> = None;
    for (key, o) in objects.range((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        if skip_prefix.as_deref().is_some_and(|p| key.starts_with(p)) {
            continue;
        }
        let rolled = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| key[..prefix.len() + i + d.len()].to_owned())
        });
        if entries.len() >= max {
            return Page {
                entries,
                next: last,
            };
        }
        match rolled {
            Some(p) => {
                entries.push(Entry::Prefix(p.clone()));
                skip_prefix = Some(p.clone());
                last = Some(Marker::Prefix(p));
            }
            None => {
                entries.push(Entry::Object {
                    key: key.clone(),
                    size: o.data.len() as u64,
                    etag: o.etag.clone(),
                    modified: o.modified,
                });
                last = Some(Marker::Key(key.clone()));
            }
        }
    }
    Page {
        entries,
        next: None,
    }
}
