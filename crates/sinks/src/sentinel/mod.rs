//! Microsoft Sentinel / Azure Monitor Logs Ingestion API sink:
//! `POST {endpoint}/dataCollectionRules/{dcr_immutable_id}/streams/{stream}?api-version=2023-01-01` with a
//! JSON array of rows, gzipped (`Content-Encoding: gzip`), each request at most the documented 1 MB
//! uncompressed, one stream per category (`Custom-<Table>` unless `streams` says otherwise), and a bearer
//! token from Entra (scope `https://monitor.azure.com/.default`, cached and refreshed before it expires).
//!
//! Answers map to [`crate::ErrorKind`]: 204 stored; 429 and 503 `Throttled` with the service's
//! `Retry-After` (and no request leaves before it has passed); 401 fetches a new token once, then `Auth`;
//! 403 `Auth` (the app lacks *Monitoring Metrics Publisher* on the DCR); 413 halves the request; other 5xx
//! `Transient`; other 4xx `Fatal`.
mod auth;
mod config;
mod sink;

pub use config::{MAX_REQUEST_BYTES, SentinelConfig};
pub use sink::{SentinelSink, encode_row};

#[cfg(test)]
mod tests;
