//! `entrail coverage` end to end against the simulated tenant's ARM: JSON and exit codes, `--fix` declined
//! (nothing sent), `--fix --yes` (the PUT body printed is the one ARM validated and stored; coverage passes
//! afterwards, exit 0).
#![allow(clippy::unwrap_used)]

use sim::server::{ArmConfig, ArmScenario, ServerConfig, SimServer};
use std::path::{Path, PathBuf};
use testkit::cli::{self, Entrail};
use testkit::pipeline::{runtime, write_diagnostic_days};

const ENTRAIL: Entrail = testkit::entrail!();

fn write_config(dir: &Path, server: &SimServer) -> PathBuf {
    let text = format!(
        r#"data_dir = {data:?}
[coverage]
tenant_id = {tenant:?}
authority_host = {base:?}
arm_endpoint = {base:?}
subscriptions = []
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}
"#,
        data = dir.join("data").display().to_string(),
        tenant = sim::server::DEFAULT_TENANT_ID,
        base = server.base_url(),
        client = sim::server::DEFAULT_CLIENT_ID,
        secret = sim::server::DEFAULT_CLIENT_SECRET,
    );
    let path = dir.join("entrail.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A simulated day of every category in the diagnostic-settings shape.
fn write_day(path: &Path) {
    let cfg = sim::TenantConfig {
        users: 30,
        days: 1,
        ..sim::TenantConfig::default()
    };
    write_diagnostic_days(path, &cfg, &[]);
}

#[test]
fn coverage_json_exit_codes_and_fix() {
    let rt = runtime();
    let server = rt
        .block_on(SimServer::start(ServerConfig {
            arm: ArmConfig {
                scenario: ArmScenario::Deleted,
                ..ArmConfig::default()
            },
            tenant: sim::TenantConfig {
                users: 5,
                days: 1,
                ..sim::TenantConfig::default()
            },
            ..ServerConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server);
    let day = dir.path().join("day.json");
    write_day(&day);
    let out = ENTRAIL.run_config_stdin(&config, &["import", "--quiet", day.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", cli::stderr(&out));

    // The setting was deleted: JSON report, every required category missing, exit 1.
    let out = ENTRAIL.run_config_stdin(&config, &["coverage", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "{}", cli::stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let required: Vec<&serde_json::Value> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["requirement"] == "required")
        .collect();
    assert_eq!(required.len(), 9);
    assert!(required.iter().all(|r| r["verdict"] == "missing"));

    // --fix declined: the change is shown, nothing is sent.
    let hub = sim::server::SIM_EVENT_HUB_RULE_ID;
    let out = ENTRAIL.run_config_stdin(&config, &["coverage", "--fix", "--to", hub], "n\n");
    assert_eq!(out.status.code(), Some(1));
    let stdout = cli::stdout(&out);
    assert!(stdout.contains("PUT http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains(
            "providers/microsoft.aadiam/diagnosticSettings/entrail?api-version=2017-04-01"
        )
    );
    assert!(cli::stderr(&out).contains("not applied"));
    assert!(server.arm_snapshot()["puts"].as_array().unwrap().is_empty());

    // --fix --yes: applied; the body printed is the body ARM validated and stored; coverage passes.
    let out = ENTRAIL.run_config_stdin(
        &config,
        &[
            "coverage",
            "--fix",
            "--to",
            hub,
            "--event-hub-name",
            "entra-logs",
            "--yes",
        ],
        "",
    );
    let stdout = cli::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        cli::stderr(&out)
    );
    let start = stdout.find("PUT ").unwrap();
    let body_text = &stdout[stdout[start..].find('\n').unwrap() + start + 1..];
    let end = body_text.find("\n}\n").unwrap() + 2;
    let printed: serde_json::Value = serde_json::from_str(&body_text[..end]).unwrap();
    let snap = server.arm_snapshot();
    assert_eq!(snap["puts"].as_array().unwrap().len(), 1);
    assert_eq!(snap["puts"][0]["body"], printed);
    assert_eq!(printed["properties"]["eventHubName"], "entra-logs");
    assert_eq!(printed["properties"]["logs"].as_array().unwrap().len(), 15);
    assert!(
        stdout.contains("PASS (every required category passes)"),
        "{stdout}"
    );

    // And a plain run agrees.
    let out = ENTRAIL.run_config_stdin(&config, &["coverage"], "");
    assert_eq!(out.status.code(), Some(0), "{}", cli::stdout(&out));
}
