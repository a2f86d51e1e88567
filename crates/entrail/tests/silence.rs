//! `entrail silence` over an archive of ten simulated days (by event time): a normal last day is quiet
//! (exit 0), a category that stopped in the last day is reported silent with when it stopped (exit 1).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// Ten days of sign-ins and non-interactive sign-ins; SignInLogs stop `stop_hours_before_end` before the end.
fn write_days(path: &Path, stop_hours_before_end: Option<i64>) -> chrono::DateTime<chrono::Utc> {
    let cfg = sim::TenantConfig {
        users: 40,
        days: 10,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let stop = stop_hours_before_end.map(|h| cfg.end() - chrono::TimeDelta::hours(h));
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for e in sim::Generator::new(&tenant, &cfg)
        .with_category_names(&["SignInLogs", "NonInteractiveUserSignInLogs"])
        .with_truth(false)
    {
        if e.category == "SignInLogs" && stop.is_some_and(|s| e.time >= s) {
            continue;
        }
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            serde_json::to_writer(&mut out, &serde_json::json!({ "records": [v] })).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    out.flush().unwrap();
    cfg.end()
}

fn entrail(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_entrail"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ENTRAIL_CONFIG")
        .output()
        .unwrap()
}

fn silence(stop: Option<i64>) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("days.json");
    let end = write_days(&file, stop);
    let data = dir.path().join("data");
    let out = entrail(&data, &["import", "--quiet", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Judged on a weekday afternoon: the generated window ends on Thursday 00:00, look at Wednesday 16:00.
    let at = (end - chrono::TimeDelta::hours(8)).to_rfc3339();
    let out = entrail(
        &data,
        &[
            "silence",
            "--json",
            "--event-time",
            "--at",
            &at,
            "--history",
            "10d",
        ],
    );
    let rows = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), rows)
}

fn row<'a>(rows: &'a serde_json::Value, category: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == category)
        .unwrap_or_else(|| panic!("no {category} in {rows:#}"))
}

#[test]
fn a_stopped_category_is_reported_and_a_normal_day_is_not() {
    let (code, rows) = silence(None);
    assert_eq!(code, Some(0), "{rows:#}");
    assert_eq!(row(&rows, "SignInLogs")["silent"], false);
    assert_eq!(row(&rows, "NonInteractiveUserSignInLogs")["silent"], false);

    // SignInLogs stop at Wednesday 12:00 (12 h before the end), judged at 16:00.
    let (code, rows) = silence(Some(12));
    assert_eq!(code, Some(1), "{rows:#}");
    let s = row(&rows, "SignInLogs");
    assert_eq!(s["silent"], true, "{s:#}");
    assert_eq!(s["events"][0]["event"], "stopped");
    assert_eq!(row(&rows, "NonInteractiveUserSignInLogs")["silent"], false);
}
