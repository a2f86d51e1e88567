//! Elasticsearch / OpenSearch sink: `POST {url}/_bulk` with NDJSON `create` actions (one action line and one
//! document line per record, trailing newline, `Content-Type: application/x-ndjson`), into one index per
//! category and day (`entrail-signinlogs-2024.01.02`) or one data stream per category
//! (`logs-entrail.signinlogs-default`). Documents carry ECS field names (see `crates/sinks/docs/ecs-mapping.md`)
//! plus the canonical record under `entrail`, or the record as received in `event.original`.
//!
//! Per-item results drive what happens next: 201 (and 409 on a resend: the deterministic `_id` is already
//! there) are stored; 429 and 5xx items, and only those, are resent with backoff; other 4xx items
//! (`mapper_parsing_exception`, ...) go to the quarantine with the server's reason. Whole-request answers map to
//! [`crate::ErrorKind`]: 401/403 `Auth` (nothing is skipped), 429/503 `Throttled`, other 5xx `Transient`;
//! 413 halves the request until it fits.
mod client;
mod config;
mod ecs;
mod encode;
mod sink;

pub use config::{ElasticConfig, Encoding, Flavor, IndexMode};
pub use encode::{document, document_id, encode_item, target};
pub use sink::ElasticSink;

#[cfg(test)]
mod tests;
