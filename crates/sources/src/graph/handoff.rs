//! What the pipeline implements for the Graph source: [`Deliver`] (make a batch durable) and [`CursorStore`]
//! (keep window ends and finished backfill slices). The source hands over one page at a time, waits for
//! `deliver` to return, and saves a cursor only after every page of its window was delivered.

use crate::Batch;
use std::future::Future;

/// Makes batches durable. Implemented by the pipeline.
///
/// The Graph source calls `deliver` once per page, in order per category, and never saves a cursor before
/// every batch of the window has returned `Ok`. On `Err` the window is abandoned (its cursor stays put) and
/// read again later: at-least-once, the pipeline dedupes.
pub trait Deliver: Send + Sync {
    /// Returns once the batch is durable, with what became of its records.
    fn deliver(&self, batch: Batch) -> impl Future<Output = Result<Accepted, DeliverError>> + Send;
}

/// The pipeline's answer for one batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accepted {
    /// Records never seen before.
    pub new: u64,
    /// Records whose id was known, with new content (a later revision).
    pub revised: u64,
    /// Records already stored as they are.
    pub duplicates: u64,
    /// Items that went to the quarantine.
    pub quarantined: u64,
}

impl Accepted {
    /// Adds another answer.
    pub fn add(&mut self, other: &Accepted) {
        self.new += other.new;
        self.revised += other.revised;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
    }
}

/// The pipeline could not make a batch durable.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliverError {
    /// What failed.
    pub message: String,
    /// The cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DeliverError {
    /// An error with a message and no cause.
    pub fn new(message: impl Into<String>) -> DeliverError {
        DeliverError {
            message: message.into(),
            source: None,
        }
    }
}

/// Durable small JSON values by key. Implemented by the pipeline.
///
/// Keys are `graph/{source id}/{category}/tail` (value `{"end": RFC 3339}`) and
/// `graph/{source id}/{category}/backfill` (finished slices). `save` returns only once the value is durable.
pub trait CursorStore: Send + Sync {
    /// The value saved under `key`, if any.
    fn load(&self, key: &str) -> Result<Option<serde_json::Value>, CursorError>;
    /// Saves `value` under `key`, durably.
    fn save(&self, key: &str, value: &serde_json::Value) -> Result<(), CursorError>;
}

/// The cursor store failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CursorError {
    /// What failed.
    pub message: String,
    /// The cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CursorError {
    /// An error with a message and no cause.
    pub fn new(message: impl Into<String>) -> CursorError {
        CursorError {
            message: message.into(),
            source: None,
        }
    }
}

/// An in-memory [`CursorStore`] (tests, one-shot imports).
#[derive(Debug, Default)]
pub struct MemoryCursors {
    values: std::sync::Mutex<std::collections::BTreeMap<String, serde_json::Value>>,
}

impl MemoryCursors {
    /// An empty store.
    pub fn new() -> MemoryCursors {
        MemoryCursors::default()
    }

    /// Every key and value.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl CursorStore for MemoryCursors {
    fn load(&self, key: &str) -> Result<Option<serde_json::Value>, CursorError> {
        Ok(self
            .values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }

    fn save(&self, key: &str, value: &serde_json::Value) -> Result<(), CursorError> {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned(), value.clone());
        Ok(())
    }
}
