//! Test support shared by the integration tests of several entrail crates, so each harness exists once: the
//! `entrail` binary run as a user runs it ([`cli`], [`entrail!`]), free loopback ports ([`net`]), an axum app
//! on a background runtime ([`http`]), enforcing Elasticsearch and Logs Ingestion receivers ([`receivers`]),
//! rcgen test certificates ([`certs`]), a real `rsyslogd` ([`rsyslog`]), Prometheus scrapes ([`prom`]) and,
//! with feature `pipeline`, pipeline setup and archive checks ([`pipeline`]).
//!
//! A dev-dependency only (`publish = false`). Everything here panics on failure: a panic is a failed test.
#![allow(clippy::unwrap_used)] // test support: a failed step must fail the calling test

pub mod certs;
pub mod cli;
pub mod http;
pub mod net;
#[cfg(feature = "pipeline")]
pub mod pipeline;
pub mod prom;
pub mod receivers;
pub mod rsyslog;
