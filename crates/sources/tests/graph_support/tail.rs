//! Shared by the Graph tail tests (`graph_tail.rs`, `graph_tail_faults.rs`): the fixed "now", the audit
//! filter of its first window, a source on the mock server and a 200 JSON answer.

use super::{FixedClock, config};
use sources::graph::GraphSource;
use wiremock::{MockServer, ResponseTemplate};

/// The clock of every tail test.
pub const NOW: &str = "2026-10-05T12:00:00Z";
/// The audit filter of the first window at [`NOW`].
pub const AUDIT_FILTER: &str =
    "activityDateTime ge 2026-10-05T10:58:00Z and activityDateTime le 2026-10-05T11:58:00Z";

/// A tail source for `categories` on `server`, its clock at [`NOW`].
pub fn source(server: &MockServer, categories: &[&str]) -> GraphSource {
    GraphSource::new(config(server, categories), FixedClock::at(NOW)).unwrap()
}

/// A 200 answer with a JSON body.
pub fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}
