//! Storage: the durable append-only log with consumer offsets, the dedupe index, source cursors, the quarantine,
//! the Parquet archive and SQL over it.
pub mod archive;
pub mod cursor;
pub mod dedupe;
pub mod hub;
pub mod log;
pub mod quarantine;
pub mod query;
pub mod seal;
