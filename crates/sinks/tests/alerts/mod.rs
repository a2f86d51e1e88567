//! Shared pieces of the alert destination tests: a sample OCSF alert and test certificates.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// An OCSF Detection Finding as `detect::alert` emits it.
pub fn alert(severity_id: u8, activity_id: u8) -> Value {
    json!({
        "activity_id": activity_id, "activity_name": "Create",
        "category_uid": 2, "category_name": "Findings",
        "class_uid": 2004, "class_name": "Detection Finding",
        "type_uid": 200400 + u32::from(activity_id), "type_name": "Detection Finding: Create",
        "metadata": {"version": "1.3.0", "product": {"name": "entrail", "vendor_name": "entrail", "version": "0.1.0"}, "modified_time": 1},
        "time": 1_700_000_000_000i64,
        "severity_id": severity_id, "severity": "High", "status_id": 1, "status": "New", "count": 7,
        "message": "Password spray (IPAddress=203.0.113.7)",
        "finding_info": {
            "uid": "0123456789abcdef", "title": "Password spray", "types": ["SignInLogs"],
            "analytic": {"uid": "entrail-builtin-password-spray", "name": "Password spray", "type": "Behavioral", "type_id": 2},
            "first_seen_time": 1_699_999_000_000i64, "last_seen_time": 1_700_000_000_000i64
        },
        "attacks": [{"technique": {"uid": "T1110"}, "sub_technique": {"uid": "T1110.003"},
                     "tactic": {"uid": "TA0006", "name": "Credential Access"}, "version": "15"}],
        "observables": [{"name": "ip", "type_id": 2, "type": "IP Address", "value": "203.0.113.7"}],
        "resources": [],
        "evidences": [{"data": {"key": "k1", "category": "SignInLogs"}}],
        "unmapped": {"entity": "IPAddress=203.0.113.7", "evidence_total": 12, "revision": 1}
    })
}

/// Test PKI: (CA file, server certificate, server key, an unrelated CA file) for `localhost`/127.0.0.1.
pub fn certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let c = testkit::certs::certs(dir, "entrail-client");
    (c.ca, c.server_cert, c.server_key, c.other_ca)
}

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    testkit::net::free_tcp_port()
}
