//! `entrail run --every` with file sources only: records flow to the sink each pass, a file dropped in
//! between passes is picked up by the final pass that SIGTERM triggers, and the process exits 0 (it used to
//! sleep with no signal handler and die with 143, skipping that last pass). A bad line that every pass reads
//! again is quarantined once.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // the test reads its own small outputs whole

use std::process::Stdio;
use std::time::{Duration, Instant};
use testkit::cli::{AUDIT, Entrail};

const ENTRAIL: Entrail = testkit::entrail!();

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn sigterm_runs_a_last_pass_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    std::fs::write(d.join("in/a.json"), format!("{AUDIT}\n{{not json\n")).unwrap();
    std::fs::write(
        d.join("entrail.toml"),
        r#"data_dir = "data"

[[sources]]
type = "file"
id = "files"
paths = ["in/*.json"]

[[sinks]]
type = "file"
id = "out"
path = "out.jsonl"
"#,
    )
    .unwrap();
    let mut child = ENTRAIL
        .command()
        .current_dir(d)
        .args(["run", "--every", "1h"])
        .stdout(std::fs::File::create(d.join("run.out")).unwrap())
        .stderr(std::fs::File::create(d.join("run.err")).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let logs = || {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            std::fs::read_to_string(d.join("run.out")).unwrap_or_default(),
            std::fs::read_to_string(d.join("run.err")).unwrap_or_default()
        )
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines(&d.join("out.jsonl")) < 1 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "exited early:\n{}",
            logs()
        );
        assert!(
            Instant::now() < deadline,
            "the first pass sent nothing:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The next pass is an hour away: only the pass SIGTERM triggers can pick this file up.
    let second = AUDIT.replace("Directory_A", "Directory_B");
    std::fs::write(d.join("in/b.json"), format!("{second}\n")).unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("entrail run did not stop on SIGTERM:\n{}", logs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}:\n{}", logs());
    assert_eq!(lines(&d.join("out.jsonl")), 2, "{}", logs());
    // Both passes read a.json's bad line; the quarantine holds it once.
    assert_eq!(
        lines(&d.join("data/quarantine/quarantine.jsonl")),
        1,
        "{}",
        logs()
    );
    assert!(logs().contains("1 duplicates, 0 quarantined"), "{}", logs());
}
