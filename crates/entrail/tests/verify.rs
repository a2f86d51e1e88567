//! `entrail verify`, `entrail retention plan` and `entrail integrity keygen` as a user runs them: a clean
//! data directory exits 0, an edited or removed archive file exits 1 naming the file and row group (text and
//! JSON), a chain re-signed with another key exits 1, deletions by retention verify cleanly.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use testkit::cli::{AUDIT, Entrail, stdout};

const ENTRAIL: Entrail = testkit::entrail!();

/// A directory with keys, a config sealing with them (retention `days` for AuditLogs) and two imported
/// audit records on two days.
fn setup(days: u32, legal_hold: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["integrity", "keygen", "--dir", "keys"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("key id"));
    std::fs::write(
        dir.path().join("entrail.toml"),
        format!(
            "[integrity]\nsigning_key_file = \"keys/signing.pem\"\nverify_key_file = \"keys/verify.pem\"\npublish_file = \"heads.jsonl\"\n[archive.retention.AuditLogs]\ndays = {days}\nlegal_hold = {legal_hold}\n"
        ),
    )
    .unwrap();
    let second = AUDIT
        .replace("Directory_A", "Directory_B")
        .replace("2024-05-01", "2024-05-02");
    std::fs::write(dir.path().join("a.json"), format!("{AUDIT}\n{second}\n")).unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["import", "a.json", "--quiet"]);
    assert!(o.status.success(), "{o:?}");
    dir
}

fn parquet(dir: &Path, day: &str) -> PathBuf {
    let d = dir.join(format!("entrail-data/archive/AuditLogs/day={day}"));
    std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap()
}

#[test]
fn verify_exit_codes_and_locations() {
    let dir = setup(36_500, false);
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("OK: every sealed file is as sealed"), "{out}");
    assert!(out.contains("published heads: 1 compared"), "{out}");

    let file = parquet(dir.path(), "2024-05-01");
    let mut bytes =
        model::limits::read_capped(std::fs::File::open(&file).unwrap(), 1 << 30).unwrap();
    bytes[200] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = stdout(&o);
    let rel = "archive/AuditLogs/day=2024-05-01/";
    assert!(
        out.lines()
            .any(|l| l.contains("file_edited") && l.contains(rel) && l.contains("row group 0")),
        "{out}"
    );

    let o = ENTRAIL.run_in(dir.path(), &["verify", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["kind"], "file_edited");
    assert!(v["findings"][0]["path"].as_str().unwrap().starts_with(rel));

    // Outside the --from/--to window the edited file is not checked.
    let o = ENTRAIL.run_in(dir.path(), &["verify", "--from", "2024-05-02T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    bytes[200] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    std::fs::remove_file(parquet(dir.path(), "2024-05-02")).unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("file_removed archive/AuditLogs/day=2024-05-02/"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_chain_signed_with_another_key_fails() {
    let dir = setup(36_500, false);
    let o = ENTRAIL.run_in(dir.path(), &["integrity", "keygen", "--dir", "evil"]);
    assert!(o.status.success());
    // Re-seal from scratch with the other key: the chain is self-consistent, but not signed by ours and
    // not what was published.
    std::fs::remove_file(dir.path().join("entrail-data/seal/chain.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("evil.toml"),
        "[integrity]\nsigning_key_file = \"evil/signing.pem\"\n",
    )
    .unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["-c", "evil.toml", "status"]);
    assert!(o.status.success(), "{o:?}");
    assert!(dir.path().join("entrail-data/seal/chain.jsonl").exists());
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("chain_rewritten"), "{out}");
    assert!(out.contains("heads.jsonl"), "{out}");
}

#[test]
fn retention_plan_and_deletions_by_policy() {
    let dir = setup(36_500, true);
    let o = ENTRAIL.run_in(dir.path(), &["retention", "plan"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(
        out.contains("AuditLogs") && out.contains("2024-05-01"),
        "{out}"
    );
    assert!(out.contains("kept: legal hold"), "{out}");
    let o = ENTRAIL.run_in(dir.path(), &["retention", "plan", "--json"]);
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["legal_hold"], true);

    // 30 days: the import's archive step deletes both days, and verify accepts it.
    let dir = setup(30, false);
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("deleted by policy (OK): 2"), "{out}");
    assert!(out.contains("retention of 30 days"), "{out}");

    // A legal hold on a time range keeps that day only.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("entrail.toml"),
        "[archive.retention.AuditLogs]\ndays = 30\n[[archive.legal_hold]]\ncategories = [\"AuditLogs\"]\nfrom = \"2024-05-01\"\nto = \"2024-05-01\"\nreason = \"case 42\"\n",
    )
    .unwrap();
    let second = AUDIT
        .replace("Directory_A", "Directory_B")
        .replace("2024-05-01", "2024-05-02");
    std::fs::write(dir.path().join("a.json"), format!("{AUDIT}\n{second}\n")).unwrap();
    assert!(
        ENTRAIL
            .run_in(dir.path(), &["import", "a.json", "--quiet"])
            .status
            .success()
    );
    let archive = dir.path().join("entrail-data/archive/AuditLogs");
    assert!(archive.join("day=2024-05-01").is_dir());
    assert!(!archive.join("day=2024-05-02").exists());
    let o = ENTRAIL.run_in(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("deleted by policy (OK): 1"));
    let o = ENTRAIL.run_in(dir.path(), &["retention", "plan"]);
    assert!(stdout(&o).contains("kept: legal hold"), "{}", stdout(&o));
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[archive.legal_hold]]\nfrom = \"2024-05-09\"\nto = \"2024-05-01\"\ncategories = [\"Nope\"]\n",
    )
    .unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["-c", "bad.toml", "validate"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("archive.legal_hold[0].to")
            && err.contains("archive.legal_hold[0].categories[0]"),
        "{err}"
    );
}
