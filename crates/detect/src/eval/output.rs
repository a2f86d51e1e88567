//! What the engine reports: a [`Match`] per matched rule or fired correlation, with the record's key in a
//! [`MatchKey`] (inline when short, so a match allocates nothing).

use crate::rule::{CorrelationKind, Level};
use model::Category;
use std::sync::Arc;

/// A detection: a rule matched a record, or a correlation fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The rule's id.
    pub rule_id: Arc<str>,
    /// The rule's title.
    pub title: Arc<str>,
    /// The rule's level.
    pub level: Level,
    /// The rule's tags (`attack.t1110`, …); see [`Match::attack_tags`].
    pub tags: Arc<[String]>,
    /// The record's category.
    pub category: Category,
    /// The key of the record that matched (for a correlation: that completed it).
    pub key: MatchKey,
    /// The record's event time, microseconds.
    pub event_time: i64,
    /// Set when a correlation fired.
    pub correlation: Option<CorrelationMatch>,
}

impl Match {
    /// The MITRE ATT&CK tags (`attack.*`).
    pub fn attack_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("attack."))
    }
}

/// What a correlation fired on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationMatch {
    /// The correlation type.
    pub kind: CorrelationKind,
    /// Group-by field → value (lower-cased).
    pub group: Vec<(String, String)>,
    /// Keys of the records in the window, in event-time order.
    pub evidence: Vec<String>,
    /// The metric that met the condition (events, distinct values, distinct rules).
    pub count: u64,
    /// Event time of the first record in the window.
    pub first_time: i64,
    /// Event time of the last record in the window.
    pub last_time: i64,
}

/// Bytes a [`MatchKey`] holds without allocating (every id- or hash-shaped record key).
const INLINE: usize = 62;

/// A record key, held inline when it is at most 62 bytes (GUIDs, `h:` content hashes) and on the heap
/// otherwise, so that building a [`Match`] allocates nothing. Reads as a `&str`.
#[derive(Clone)]
pub struct MatchKey(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

impl MatchKey {
    /// A key holding `s`.
    pub fn new(s: &str) -> MatchKey {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            MatchKey(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            MatchKey(Repr::Heap(s.into()))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str` whole, so always UTF-8.
            Repr::Inline { len, buf } => std::str::from_utf8(&buf[..*len as usize]).unwrap_or(""),
            Repr::Heap(s) => s,
        }
    }
}

impl std::ops::Deref for MatchKey {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MatchKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for MatchKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for MatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for MatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for MatchKey {
    fn eq(&self, other: &MatchKey) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for MatchKey {}

impl std::hash::Hash for MatchKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl PartialEq<str> for MatchKey {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MatchKey {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for MatchKey {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl From<&str> for MatchKey {
    fn from(s: &str) -> MatchKey {
        MatchKey::new(s)
    }
}

impl From<String> for MatchKey {
    fn from(s: String) -> MatchKey {
        MatchKey::new(&s)
    }
}

impl From<MatchKey> for String {
    fn from(k: MatchKey) -> String {
        k.as_str().to_owned()
    }
}
