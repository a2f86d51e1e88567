//! The `entrail` binary as a user runs it: init, validate (every error at once, exit 2), import with bad
//! lines (quarantined, listed, retried with a hint), query output formats, status.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use testkit::cli::{AUDIT, Entrail, stderr, stdout};

const ENTRAIL: Entrail = testkit::entrail!();

#[test]
fn init_writes_a_valid_config_and_validate_reports_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("entrail.toml").exists());
    let o = ENTRAIL.run_in(dir.path(), &["validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("config ok"));
    // init refuses to overwrite.
    assert!(!ENTRAIL.run_in(dir.path(), &["init"]).status.success());

    std::fs::write(
        dir.path().join("bad.toml"),
        "[log]\ncommit_delay_ms = 9999\n[archive]\nzstd_level = 0\n[[sinks]]\ntype = \"file\"\nid = \"x y\"\npath = \"o\"\n",
    )
    .unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["-c", "bad.toml", "validate"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for path in ["log.commit_delay_ms", "archive.zstd_level", "sinks[0].id"] {
        assert!(err.contains(path), "{path} missing in: {err}");
    }
}

#[test]
fn import_query_status_and_quarantine_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    let second = AUDIT
        .replace("Directory_A", "Directory_B")
        .replace("Add user", "Delete user");
    // Line 3 has no recognisable shape; with --category it decodes as a sign-in.
    let unknown = r#"{"id":"s-1","createdDateTime":"2024-05-01T11:00:00Z","userPrincipalName":"u@contoso.com"}"#;
    std::fs::write(
        &file,
        format!("{AUDIT}\n{second}\n{unknown}\nnot json at all\n"),
    )
    .unwrap();
    let o = ENTRAIL.run_in(
        dir.path(),
        &["-d", "data", "import", "export.json", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let o = ENTRAIL.run_in(
        dir.path(),
        &[
            "-d",
            "data",
            "query",
            "SELECT Id, OperationName FROM AuditLogs ORDER BY Id",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["Id"], "Directory_A");
    assert_eq!(rows[1]["OperationName"], "Delete user");

    let o = ENTRAIL.run_in(
        dir.path(),
        &[
            "-d",
            "data",
            "query",
            "SELECT count(*) AS n FROM AuditLogs",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&o).trim(), "n\n2");
    let o = ENTRAIL.run_in(
        dir.path(),
        &["-d", "data", "query", "SELECT nope FROM AuditLogs"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));

    let o = ENTRAIL.run_in(dir.path(), &["-d", "data", "status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(status["quarantine_open"], 2);
    let audit = status["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "AuditLogs")
        .unwrap();
    assert_eq!(audit["archived_rows"], 2);
    let archive = status["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "archive")
        .unwrap();
    assert_eq!(archive["lag"], 0);

    let o = ENTRAIL.run_in(dir.path(), &["-d", "data", "quarantine", "list"]);
    let list = stdout(&o);
    assert!(list.contains("line 3") && list.contains("line 4"), "{list}");
    let o = ENTRAIL.run_in(dir.path(), &["-d", "data", "quarantine", "show", "2"]);
    assert!(stdout(&o).contains("not json at all"));

    // Retrying without a hint fails again; with the right category the sign-in is ingested.
    let o = ENTRAIL.run_in(dir.path(), &["-d", "data", "quarantine", "retry", "1"]);
    assert_eq!(o.status.code(), Some(1));
    let o = ENTRAIL.run_in(
        dir.path(),
        &[
            "-d",
            "data",
            "quarantine",
            "retry",
            "1",
            "--category",
            "SignInLogs",
            "--shape",
            "graph",
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = ENTRAIL.run_in(
        dir.path(),
        &[
            "-d",
            "data",
            "query",
            "SELECT UserPrincipalName FROM SigninLogs",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&o).trim(), "UserPrincipalName\nu@contoso.com");
    let o = ENTRAIL.run_in(dir.path(), &["-d", "data", "quarantine", "list"]);
    assert!(!stdout(&o).contains("line 3"));
}

#[test]
fn rules_check_loads_the_sigmahq_azure_rules_and_names_a_bad_rule() {
    let rules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigma-azure/rules");
    let dir = tempfile::tempdir().unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["rules", "check", rules.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("123 rules"), "{}", stdout(&o));
    // A broken rule is reported with its file; the good one beside it still loads.
    let bad = dir.path().join("rules");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("good.yml"),
        "title: Good\nid: 6a0b7f1e-1111-4c1a-9c3e-000000000001\nlogsource:\n  product: azure\n  service: signinlogs\ndetection:\n  selection:\n    ResultType: 50053\n  condition: selection\nlevel: high\n",
    )
    .unwrap();
    std::fs::write(
        bad.join("broken.yml"),
        "title: Broken\nlogsource:\n  product: azure\n  service: signinlogs\ndetection:\n  selection:\n    ResultType: 1\n  condition: selection and nothing\n",
    )
    .unwrap();
    let o = ENTRAIL.run_in(dir.path(), &["rules", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("broken.yml"), "{}", stdout(&o));
    assert!(stdout(&o).contains("1 rules"), "{}", stdout(&o));
}
