//! `entrail demo --source eventhub|blob` as a user runs it, with a tiny tenant: the day goes through the
//! mock Kafka cluster / Azurite (run `scripts/install-test-deps` first) and the Event Hubs / Blob source, and
//! the demo's ground-truth line of every category shows the archive holding exactly the generated keys.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use testkit::cli::Entrail;

const ENTRAIL: Entrail = testkit::entrail!();

/// Runs the demo with `source`; returns (archived, expected) per category from its ground-truth lines.
fn demo(source: &str) -> BTreeMap<String, (u64, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let out = ENTRAIL.run_in(
        dir.path(),
        &[
            "demo", "--source", source, "--users", "12", "--days", "1", "--dir", "demo",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "entrail demo --source {source} failed:\n{stdout}\n{stderr}"
    );
    // "ground truth SignInLogs: archived 137 keys, expected 137: ok"
    let mut lines = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("ground truth ") else {
            continue;
        };
        let (category, rest) = rest.split_once(": archived ").unwrap();
        let (archived, rest) = rest.split_once(" keys, expected ").unwrap();
        let (expected, _) = rest.split_once(':').unwrap();
        lines.insert(
            category.to_owned(),
            (archived.parse().unwrap(), expected.parse().unwrap()),
        );
    }
    assert!(
        stdout.contains(match source {
            "eventhub" => "through Event Hubs (Kafka protocol, mock cluster)",
            _ => "through the Blob source (Azurite)",
        }),
        "{stdout}"
    );
    assert!(stdout.contains("Detection:"), "alerts are shown: {stdout}");
    lines
}

fn assert_every_category_matches(source: &str) {
    let lines = demo(source);
    assert!(
        lines.len() >= 20,
        "a ground-truth line for every category: {lines:?}"
    );
    for c in [
        "SignInLogs",
        "AuditLogs",
        "NetworkSecurityGroupFlowEvent",
        "AzureActivity",
    ] {
        assert!(lines.get(c).is_some_and(|(a, _)| *a > 0), "{c}: {lines:?}");
    }
    let wrong: Vec<_> = lines.iter().filter(|(_, (a, e))| a != e).collect();
    assert!(wrong.is_empty(), "archived != ground truth: {wrong:?}");
}

#[test]
fn demo_through_event_hubs_archives_the_ground_truth_of_every_category() {
    assert_every_category_matches("eventhub");
}

#[test]
fn demo_through_blob_storage_archives_the_ground_truth_of_every_category() {
    assert_every_category_matches("blob");
}
