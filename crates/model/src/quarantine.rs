//! Quarantine entries: input that could not become a canonical record, kept with where it came from and
//! why, so nothing is ever dropped silently. The store keeps them; `entrail quarantine` shows and retries them.

use serde::{Deserialize, Serialize};

/// Where a piece of input came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Source name (`import`, a configured source id).
    pub source: String,
    /// File, blob, topic/partition or URL.
    pub location: String,
    /// Line number (1-based), byte offset, record index or message offset, as `line 12`, `record 3`, ...
    pub at: String,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.location, self.at)
    }
}

/// Input that could not be decoded, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// Where it came from.
    pub position: Position,
    /// The bytes as received (the one record or line; capped at [`crate::limits::MAX_RECORD_BYTES`]).
    pub raw: Vec<u8>,
    /// Why it was rejected, naming the field where one is at fault.
    pub reason: String,
    /// The category it seemed to be, if one could be told.
    pub category: Option<String>,
}
