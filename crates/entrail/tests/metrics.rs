//! The `[metrics]` endpoint of the real `entrail run --every` process, `listen` on a free loopback port: a
//! Graph source tailing the simulated tenant (sim server on loopback), a file source, a file sink and a Splunk
//! HEC sink whose receiver is down. `GET /metrics` and `GET /healthz` are scraped over loopback while it
//! runs: the records-appended counters of both sources add up to the log's head, the file sink's offset and
//! what it wrote; the down sink's backlog is the whole log with an age that grows; a second file dropped in
//! while it runs moves every figure. SIGTERM then stops the process cleanly (exit 0, endpoint closed).
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // the test reads its own small outputs whole

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use testkit::cli::Entrail;
use testkit::pipeline::write_diagnostic_days;
use testkit::prom::{self, Samples, get, sum};

const ENTRAIL: Entrail = testkit::entrail!();

/// Undecodable lines per input file (each pass re-reads the files; the quarantine holds, and counts, each once).
const GARBAGE: usize = 3;

/// One generated day of sign-ins and audits (Event Hubs bodies, one record each) plus [`GARBAGE`] lines that
/// are not JSON.
fn write_day(path: &Path, seed: u64) {
    let cfg = sim::TenantConfig {
        seed,
        users: 20,
        days: 1,
        ..sim::TenantConfig::default()
    };
    write_diagnostic_days(path, &cfg, &["SignInLogs", "AuditLogs"]);
    let mut out = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for i in 0..GARBAGE {
        writeln!(out, "this is not json {i}").unwrap();
    }
}

/// The running `entrail run`, killed if the test fails before it is stopped.
struct Run {
    child: Child,
    dir: std::path::PathBuf,
}

impl Run {
    fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("stdout:\n{}\nstderr:\n{}", read("run.out"), read("run.err"))
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("entrail run exited early ({status}):\n{}", self.logs());
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Scrapes until `done` holds for the samples (the run passes every second); panics with the process output
/// after two minutes.
fn scrape_until(
    run: &mut Run,
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&Samples) -> bool,
) -> Samples {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        run.assert_running();
        let r = prom::http_get(addr, "/metrics");
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.headers["content-type"].starts_with("text/plain; version=0.0.4"),
            "{:?}",
            r.headers
        );
        let s = prom::parse(&r.body);
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen:\n{}\n{}",
            r.body,
            run.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn consumer(name: &str) -> [(&'static str, &str); 1] {
    [("consumer", name)]
}

/// The log's head offset, as the scrape shows it.
fn head(s: &Samples) -> f64 {
    get(s, "entrail_log_head_offset", &[]).unwrap()
}

/// Both sources delivered, and the file sink `out` has sent the whole log.
fn out_caught_up(s: &Samples) -> bool {
    let h = get(s, "entrail_log_head_offset", &[]).unwrap_or(0.0);
    h > 0.0
        && sum(s, "entrail_records_appended_total", &[("source", "graph")]) > 0.0
        && sum(s, "entrail_records_appended_total", &[("source", "files")]) > 0.0
        && sum(s, "entrail_records_appended_total", &[]) == h
        && get(s, "entrail_consumer_offset", &consumer("out")) == Some(h)
}

/// Scrapes until [`out_caught_up`] holds on two scrapes 1.5 s apart with the same head (the Graph tail has
/// collected the frozen tenant and the run has passed since).
fn scrape_settled(run: &mut Run, addr: SocketAddr, what: &str, min_head: f64) -> Samples {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let a = scrape_until(run, addr, what, |s| out_caught_up(s) && head(s) > min_head);
        std::thread::sleep(Duration::from_millis(1500));
        let b = scrape_until(run, addr, what, |s| out_caught_up(s) && head(s) > min_head);
        if head(&a) == head(&b) {
            return b;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the log kept growing\n{}",
            run.logs()
        );
    }
}

/// Every figure that must agree with the log's head `h` and with the file sink's output.
fn assert_consistent(s: &Samples, dir: &Path) {
    let h = head(s);
    assert_eq!(
        sum(s, "entrail_records_appended_total", &[("source", "files")])
            + sum(s, "entrail_records_appended_total", &[("source", "graph")]),
        h,
        "every appended record is in the log, counted under its source"
    );
    assert_eq!(sum(s, "entrail_records_appended_total", &[]), h);
    // Ingest lag is measured for the Graph tail (each record it delivered), not for file imports.
    assert!(
        get(
            s,
            "entrail_ingest_lag_seconds_count",
            &[("source", "graph")]
        )
        .unwrap()
            >= sum(s, "entrail_records_appended_total", &[("source", "graph")])
    );
    assert_eq!(
        sum(
            s,
            "entrail_ingest_lag_seconds_count",
            &[("source", "files")]
        ),
        0.0
    );
    let categories: BTreeSet<&str> = s
        .iter()
        .filter(|(n, _, v)| n == "entrail_records_appended_total" && *v > 0.0)
        .map(|(_, l, _)| l["category"].as_str())
        .collect();
    assert_eq!(
        categories,
        BTreeSet::from(["AuditLogs", "SignInLogs"]),
        "both generated categories counted"
    );
    assert_eq!(get(s, "entrail_log_start_offset", &[]), Some(0.0));
    assert!(get(s, "entrail_log_bytes", &[]).unwrap() > h * 100.0);
    // The archive and the file sink are caught up; the file holds exactly the log.
    for c in ["archive", "out"] {
        assert_eq!(
            get(s, "entrail_consumer_offset", &consumer(c)),
            Some(h),
            "{c}"
        );
        assert_eq!(
            get(s, "entrail_consumer_backlog_records", &consumer(c)),
            Some(0.0),
            "{c}"
        );
        assert_eq!(
            get(s, "entrail_consumer_backlog_age_seconds", &consumer(c)),
            Some(0.0),
            "{c}"
        );
    }
    assert_eq!(
        get(s, "entrail_sink_sent_records_total", &[("sink", "out")]),
        Some(h)
    );
    let written = std::fs::read_to_string(dir.join("out.jsonl"))
        .unwrap()
        .lines()
        .count() as f64;
    assert_eq!(written, h, "the file sink wrote what it reports as sent");
    // The HEC receiver is down: transient errors, not blocked, the whole log is its backlog.
    assert_eq!(
        get(s, "entrail_consumer_offset", &consumer("down")),
        Some(0.0)
    );
    assert_eq!(
        get(s, "entrail_consumer_backlog_records", &consumer("down")),
        Some(h)
    );
    let bytes = get(s, "entrail_consumer_backlog_bytes", &consumer("down")).unwrap();
    assert!(bytes > h * 100.0, "{bytes} bytes for {h} records");
    assert!(
        bytes <= get(s, "entrail_log_bytes", &[]).unwrap(),
        "{bytes} bytes"
    );
    assert!(
        get(
            s,
            "entrail_sink_errors_total",
            &[("sink", "down"), ("kind", "transient")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        get(s, "entrail_sink_blocked", &[("sink", "down")]),
        Some(0.0)
    );
    assert_eq!(
        get(s, "entrail_sink_sent_records_total", &[("sink", "down")]),
        Some(0.0)
    );
    // Each pass re-reads the files; their garbage lines are quarantined (and counted) once per file, day1 and
    // perhaps day2 by now.
    let q = get(
        s,
        "entrail_records_quarantined_total",
        &[("source", "files"), ("reason", "not_json")],
    )
    .unwrap();
    assert!(
        q == GARBAGE as f64 || q == 2.0 * GARBAGE as f64,
        "{q} quarantined"
    );
    assert_eq!(
        get(
            s,
            "entrail_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
}

#[test]
fn run_serves_metrics_and_healthz_while_records_flow_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rt = testkit::pipeline::runtime();
    let server = testkit::pipeline::frozen_sim_server(&rt, 10);
    std::fs::create_dir(d.join("in")).unwrap();
    write_day(&d.join("in/day1.json"), 101);
    let port = testkit::net::free_tcp_port();
    // Nothing listens here: the HEC sink fails with a transient error every pass.
    let down = testkit::net::free_tcp_port();
    std::fs::write(
        d.join("entrail.toml"),
        format!(
            r#"data_dir = "data"

[[sources]]
type = "graph"
id = "graph"
tenant_id = {tenant:?}
authority_host = {base:?}
graph_endpoint = {base:?}
categories = ["SignInLogs", "AuditLogs"]
start = "2d"
poll_interval = "500ms"
max_backoff = "2s"
limits = {{ reports_per_window = 40, reports_window = "1s", identity_protection_per_s = 40 }}
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}

[[sources]]
type = "file"
id = "files"
paths = ["in/*.json"]

[[sinks]]
type = "file"
id = "out"
path = "out.jsonl"

[[sinks]]
type = "splunk_hec"
id = "down"
url = "http://127.0.0.1:{down}"
token = "11111111-2222-3333-4444-555555555555"
compression = false
request_timeout = "2s"

[metrics]
listen = "127.0.0.1:{port}"
"#,
            tenant = sim::server::DEFAULT_TENANT_ID,
            base = server.base_url(),
            client = sim::server::DEFAULT_CLIENT_ID,
            secret = sim::server::DEFAULT_CLIENT_SECRET,
        ),
    )
    .unwrap();
    let child = ENTRAIL
        .command()
        .current_dir(d)
        .args(["run", "--every", "1s"])
        .stdout(std::fs::File::create(d.join("run.out")).unwrap())
        .stderr(std::fs::File::create(d.join("run.err")).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut run = Run {
        child,
        dir: d.to_owned(),
    };
    testkit::net::wait_for_tcp_port(
        port,
        Duration::from_secs(60),
        "entrail run /metrics",
        || run.logs(),
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    // The first day flows through: log, archive and file sink agree, the down sink holds it all.
    let first = scrape_settled(&mut run, addr, "the first day reaching the file sink", 0.0);
    let seen_at = Instant::now();
    assert!(head(&first) > 100.0, "{}", head(&first));
    assert_consistent(&first, d);
    assert!(get(&first, "entrail_uptime_seconds", &[]).unwrap() >= 0.0);

    let health = prom::http_get(addr, "/healthz");
    assert_eq!(health.status, 200);
    assert!(
        health.headers["content-type"].starts_with("application/json"),
        "{:?}",
        health.headers
    );
    let h: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(h["status"], "ok", "a transient error does not block: {h:#}");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["blocked_sinks"], serde_json::json!([]));
    let log_head = h["log"]["head_offset"].as_u64().unwrap();
    assert!(log_head as f64 >= head(&first), "{h:#}");
    let consumers = h["log"]["consumers"].as_array().unwrap();
    let down_backlog = consumers
        .iter()
        .find(|c| c["consumer"] == "down")
        .unwrap_or_else(|| panic!("no `down` consumer in {h:#}"));
    assert_eq!(down_backlog["offset"], 0);
    assert_eq!(down_backlog["backlog_records"], log_head);
    assert!(down_backlog["backlog_bytes"].as_u64().unwrap() > 0);
    let names: BTreeSet<&str> = consumers
        .iter()
        .map(|c| c["consumer"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["archive", "down", "out"]));

    // A second day dropped in while it runs moves every figure; the down sink's backlog keeps its oldest
    // record, so its age grows with the wall clock.
    write_day(&d.join("in/day2.json"), 102);
    let before = head(&first);
    let second = scrape_settled(
        &mut run,
        addr,
        "the second day reaching the file sink",
        before,
    );
    assert!(
        sum(
            &second,
            "entrail_records_appended_total",
            &[("source", "files")]
        ) > sum(
            &first,
            "entrail_records_appended_total",
            &[("source", "files")]
        ) * 1.5,
        "{before} -> {}",
        head(&second)
    );
    assert_consistent(&second, d);
    let age = get(
        &second,
        "entrail_consumer_backlog_age_seconds",
        &consumer("down"),
    )
    .unwrap();
    let waited = seen_at.elapsed().as_secs_f64();
    assert!(
        age >= waited - 0.5 && age < 600.0,
        "backlog age {age} s, {waited} s since the first day was seen"
    );

    // SIGTERM: a last pass, then a clean exit; the endpoint goes with the process.
    let pid = run.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = run.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "entrail run did not stop on SIGTERM:\n{}",
            run.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}:\n{}", run.logs());
    let logs = run.logs();
    assert!(
        logs.contains(&format!("metrics: http://127.0.0.1:{port}/metrics")),
        "{logs}"
    );
    assert!(
        logs.contains("sink error, retried next pass"),
        "the down sink is reported each pass: {logs}"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the endpoint is closed after exit"
    );
}
