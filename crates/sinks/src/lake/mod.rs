//! Blob / S3 / local lake sink: replicates the Parquet archive's committed files (not log records) to an
//! object store (`object_store`: Azure Blob incl. Azurite, S3, a local directory) under
//! `<prefix>/<Table>/day=YYYY-MM-DD/part-<first>-<last>.parquet`, the archive's own Hive layout, so Spark, Trino
//! and DuckDB read each table directory with `day` as a partition column. See `docs/lake.md`.
//!
//! It consumes the archive manifest, not the log: its durable progress is the set of objects uploaded
//! (`<data_dir>/lake/<id>.json`). Each upload is checked (the bytes read must hash to the manifest's xxh3-128;
//! the stored object must have the file's size) and atomic at the target (single put, or a multipart upload
//! that becomes visible only when completed), so a crash never leaves a half file visible and re-uploading
//! after a crash overwrites the same object with the same bytes. Errors map to [`crate::ErrorKind`]:
//! 401/403 `Auth`, a missing container/bucket or a file that differs from its manifest entry `Fatal`,
//! network failures and 5xx (after the client's own retries with backoff) `Transient`.
mod client;
mod config;
mod sink;
mod state;

pub use config::{LakeConfig, LakeTarget};
pub use sink::{LakeBacklog, LakeReport, LakeSink};
pub use state::{LakeFile, LakeObject, LakePlan, Removal};

pub(crate) use client::error_kind;

#[cfg(test)]
mod tests;
