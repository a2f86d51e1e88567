//! Splunk HTTP Event Collector sink: `POST {url}/services/collector/event` with batches of
//! newline-concatenated event objects (`time`, `host`, `source`, `sourcetype`, `index`, `event` = the
//! canonical record), gzipped, with `Authorization: Splunk <token>`.
//!
//! With `acknowledgements` on, every request carries `X-Splunk-Request-Channel`, each answer's `ackId` is
//! polled on `/services/collector/ack` until Splunk reports it indexed, and only then does `send` return
//! `Ok`: the log offset never runs ahead of what Splunk has. Without acknowledgements `Ok` means HEC
//! accepted the request (it is queued, not yet indexed).
//!
//! Errors map to [`crate::ErrorKind`]: 401/403 (codes 1-4) are `Auth`, 429 and 503 (code 9, server busy)
//! `Throttled`, other 5xx and network failures `Transient`, 400 (code 6 invalid data format, 7 incorrect
//! index, ...) and 413 `Fatal`.
mod client;
mod config;
mod sink;

pub use config::SplunkHecConfig;
pub use sink::{SplunkHecSink, default_sourcetype, encode_event, encode_event_as};

#[cfg(test)]
mod tests;
