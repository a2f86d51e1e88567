//! `entrail hunt` over the archive and over files, `entrail run` with `[detection]`, `entrail alerts list|show`
//! and the `Alerts` table of `entrail query`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use testkit::cli::{Entrail, ok};

const ENTRAIL: Entrail = testkit::entrail!();

const RULE: &str = r#"
title: Failed sign-in with a bad password
id: 0b6e9bd2-5a1c-4a44-9d6e-111111111111
status: test
level: medium
tags:
    - attack.credential_access
    - attack.t1110.001
logsource:
    product: azure
    service: signinlogs
detection:
    selection:
        ResultType: 50126
    condition: selection
"#;

/// Log Analytics SigninLogs rows: five failures then a success for alice, a success for carol.
fn signins() -> String {
    let row = |id: &str, user: &str, result: &str, minute: u32| {
        serde_json::json!({
            "TimeGenerated": format!("2024-05-01T10:{minute:02}:00Z"),
            "CreatedDateTime": format!("2024-05-01T10:{minute:02}:00Z"),
            "Id": id, "UserPrincipalName": user, "ResultType": result,
            "IPAddress": "203.0.113.50", "AppDisplayName": "Azure Portal", "Type": "SigninLogs",
        })
        .to_string()
    };
    let mut lines: Vec<String> = (0..5)
        .map(|i| row(&format!("f{i}"), "alice@contoso.com", "50126", 10 + i))
        .collect();
    lines.push(row("ok", "alice@contoso.com", "0", 16));
    lines.push(row("c1", "carol@contoso.com", "0", 20));
    lines.join("\n") + "\n"
}

fn setup(dir: &Path) {
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(dir.join("rules/failed.yml"), RULE).unwrap();
    std::fs::write(dir.join("signins.json"), signins()).unwrap();
}

#[test]
fn hunt_runs_rules_over_the_archive_and_over_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    ok(&ENTRAIL.run_in(d, &["-d", "data", "import", "signins.json", "--quiet"]));

    // Over the archive: five matches of one rule and one user within the window are one alert.
    let out = ok(&ENTRAIL.run_in(
        d,
        &[
            "-d",
            "data",
            "hunt",
            "--rules",
            "rules",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-02",
            "--quiet",
            "--json",
        ],
    ));
    let alerts: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{out}");
    let a = &alerts[0];
    assert_eq!(a["class_uid"], 2004);
    assert_eq!(a["count"], 5);
    assert_eq!(a["severity"], "Medium");
    assert_eq!(
        a["finding_info"]["title"],
        "Failed sign-in with a bad password"
    );
    assert_eq!(a["attacks"][0]["sub_technique"]["uid"], "T1110.001");
    assert_eq!(a["unmapped"]["entity"], "user=alice@contoso.com");
    assert_eq!(a["evidences"].as_array().unwrap().len(), 5);

    // A range without the records: nothing.
    let out = ok(&ENTRAIL.run_in(
        d,
        &[
            "-d",
            "data",
            "hunt",
            "--rules",
            "rules",
            "--from",
            "2024-06-01",
            "--quiet",
            "--json",
        ],
    ));
    assert!(out.trim().is_empty(), "{out}");

    // Over the file, with the built-in analytics too, as a table.
    let out = ok(&ENTRAIL.run_in(
        d,
        &[
            "hunt",
            "--rules",
            "rules",
            "--input",
            "signins.json",
            "--builtin",
            "--quiet",
        ],
    ));
    assert!(out.contains("Failed sign-in with a bad password"), "{out}");
    assert!(
        out.contains("Successful sign-in after multiple failures"),
        "{out}"
    );
    assert!(out.contains("2 alert(s) from"), "{out}");
}

#[test]
fn run_stores_alerts_that_alerts_and_query_show() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    std::fs::write(
        d.join("entrail.toml"),
        "data_dir = \"data\"\n[integrity]\nenabled = false\n[[sources]]\ntype = \"file\"\nid = \"exports\"\npaths = [\"signins.json\"]\n[detection]\nrules = [\"rules\"]\n",
    )
    .unwrap();
    let out = ok(&ENTRAIL.run_in(d, &["run"]));
    assert!(out.contains("detection: 7 records"), "{out}");
    assert!(out.contains("2 new alert(s)"), "{out}");

    let out = ok(&ENTRAIL.run_in(d, &["alerts", "list", "--json"]));
    let alerts: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 2, "{out}");
    let out = ok(&ENTRAIL.run_in(d, &["alerts", "list"]));
    assert!(
        out.contains("Successful sign-in after multiple failures"),
        "{out}"
    );
    assert!(out.contains("2 alert(s)"), "{out}");
    let out = ok(&ENTRAIL.run_in(d, &["alerts", "list", "--since", "2030-01-01"]));
    assert!(out.contains("0 alert(s)"), "{out}");

    let uid = alerts[0]["finding_info"]["uid"].as_str().unwrap();
    let out = ok(&ENTRAIL.run_in(d, &["alerts", "show", &uid[..10]]));
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown, alerts[0]);
    assert!(
        !ENTRAIL
            .run_in(d, &["alerts", "show", "zzzz"])
            .status
            .success()
    );

    let out = ok(&ENTRAIL.run_in(
        d,
        &[
            "query",
            "SELECT Title, Count, Users FROM Alerts ORDER BY Count DESC",
            "--format",
            "json",
        ],
    ));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0]["Count"], 5);
    assert_eq!(rows[0]["Users"], "alice@contoso.com");

    // A second run finds nothing new and raises nothing twice.
    let out = ok(&ENTRAIL.run_in(d, &["run"]));
    assert!(!out.contains("new alert"), "{out}");
    assert_eq!(
        ok(&ENTRAIL.run_in(d, &["alerts", "list", "--json"]))
            .lines()
            .count(),
        2
    );
}
