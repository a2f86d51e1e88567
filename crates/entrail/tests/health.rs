//! The health commands as a user runs them: `entrail clock check` against skewed SNTP servers on loopback
//! (exit codes, JSON, the result in `entrail status`), and `entrail verify --head`: a chain rewritten whole
//! with another key verifies cleanly on its own (no verify key), but not against a head kept outside.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use testkit::cli::{AUDIT, Entrail, stdout};

const ENTRAIL: Entrail = testkit::entrail!();

#[test]
fn clock_check_measures_the_offset_and_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let ahead = sim::sntp::SntpServer::start(2_000).unwrap();
    let exact = sim::sntp::SntpServer::start(0).unwrap();
    std::fs::write(
        dir.path().join("entrail.toml"),
        format!(
            "[clock]\nservers = [\"{}\"]\nmax_offset_ms = 500\n",
            ahead.addr()
        ),
    )
    .unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["clock", "check", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let offset = v["offset_ms"].as_f64().unwrap();
    assert!((offset - 2_000.0).abs() < 100.0, "{v}");
    assert_eq!(v["ok"], false);
    // Shown by status afterwards.
    let o = ENTRAIL.run_in(dir.path(), &["status"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("clock: offset +"), "{}", stdout(&o));
    assert!(stdout(&o).contains("OFF (limit 500 ms)"), "{}", stdout(&o));
    // Another server given on the command line: within bounds.
    let o = ENTRAIL.run_in(
        dir.path(),
        &["clock", "check", "--server", &exact.addr().to_string()],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains("ok (limit 500 ms)"), "{}", stdout(&o));
    let o = ENTRAIL.run_in(dir.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clock"]["ok"], true, "{v}");
}

/// The chain's last checkpoint as its published head.
fn last_head(dir: &Path) -> serde_json::Value {
    let file = std::fs::File::open(dir.join("entrail-data/seal/chain.jsonl")).unwrap();
    let text = String::from_utf8(model::limits::read_capped(file, 1 << 30).unwrap()).unwrap();
    text.lines()
        .rev()
        .map(|l| serde_json::from_str::<store::seal::Entry>(l).unwrap())
        .find_map(|e| pipeline::watch::head_of(&e))
        .unwrap()
}

#[test]
fn a_head_kept_outside_detects_a_chain_rewritten_with_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for keys in ["keys-a", "keys-b"] {
        let o = ENTRAIL.run_in(d, &["integrity", "keygen", "--dir", keys]);
        assert!(o.status.success(), "{o:?}");
    }
    let config = |keys: &str| {
        std::fs::write(
            d.join("entrail.toml"),
            format!("[integrity]\nsigning_key_file = \"{keys}/signing.pem\"\n"),
        )
        .unwrap();
    };
    config("keys-a");
    std::fs::write(d.join("a.json"), format!("{AUDIT}\n")).unwrap();
    let o = ENTRAIL.run_in(d, &["import", "a.json", "--quiet"]);
    assert!(o.status.success(), "{o:?}");
    let kept = last_head(d);
    // Kept outside: as a head line, and as the alert a destination received.
    let alert = serde_json::json!({
        "finding_info": {"analytic": {"uid": "entrail.chain_head"}},
        "message": format!("Integrity chain head (chain seq {}): {kept}", kept["seq"]),
    });
    std::fs::write(d.join("received.jsonl"), format!("{alert}\n")).unwrap();
    let o = ENTRAIL.run_in(d, &["verify", "--head", &kept.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Whoever can write the data directory replaces the whole chain, sealing everything again with
    // another key: the chain is internally consistent.
    std::fs::remove_dir_all(d.join("entrail-data/seal")).unwrap();
    config("keys-b");
    let o = ENTRAIL.run_in(d, &["run"]);
    assert!(o.status.success(), "{o:?}");
    let rewritten = last_head(d);
    assert_ne!(rewritten["hash"], kept["hash"]);
    let o = ENTRAIL.run_in(d, &["verify"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "internal verify cannot tell: {}",
        stdout(&o)
    );

    // The head kept outside can.
    for head in [kept.to_string(), "received.jsonl".to_owned()] {
        let o = ENTRAIL.run_in(d, &["verify", "--head", &head, "--json"]);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let findings = r["findings"].as_array().unwrap();
        assert!(
            findings.iter().any(|f| f["kind"] == "chain_rewritten"
                && f["detail"].as_str().unwrap().contains("rewritten")),
            "{r:#}"
        );
    }
    // Nonsense is refused before verifying.
    let o = ENTRAIL.run_in(d, &["verify", "--head", "{\"seq\":\"x\"}"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--head"),
        "{o:?}"
    );
}
