//! entrail's own health findings through the alert path, end to end: late records raise
//! `entrail.ingest_lag`, records from the future `entrail.future_timestamp`, a skewed time server
//! `entrail.clock_skew`; each is stored (the `Alerts` table), delivered to a webhook and shown by
//! `Pipeline::status`. Silence inside a running pipeline: ten simulated days fed in phases, SignInLogs stop
//! on a Wednesday morning, `entrail.silence` fires within two hours and `entrail.silence_ended` once they
//! are back.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use model::{Category, Record, Shape};
use pipeline::Pipeline;
use sources::Batch;
use sources::graph::Deliver;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use testkit::http::HttpServer;

type Got = Arc<Mutex<Vec<serde_json::Value>>>;

async fn hook(State(s): State<Got>, body: Bytes) -> &'static str {
    s.lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    "ok"
}

/// Serves `/hook` on a free loopback port; returns its URL and the server (stopped on drop).
fn receiver(got: Got) -> (String, HttpServer) {
    let app = Router::new().route("/hook", post(hook)).with_state(got);
    let server = HttpServer::start(app, 0);
    (format!("{}/hook", server.url), server)
}

fn open(dir: &Path, extra: &str) -> Pipeline {
    let text = format!(
        "data_dir = \"{}\"\n[integrity]\nenabled = false\n{extra}",
        dir.display()
    );
    Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap()
}

const S: i64 = 1_000_000;

fn record(category: Category, event_s: i64, ingest_s: i64, n: u64) -> Record {
    let values = vec![model::Value::Null; model::schema(category).columns.len()];
    Record {
        category,
        event_time: event_s * S,
        ingest_time: ingest_s * S,
        key: format!("lag-{n}"),
        content_hash: u128::from(n) + 1,
        revision: 0,
        source: "eh".into(),
        shape: Shape::Diagnostic,
        values,
        raw: "{}".into(),
    }
}

fn rules(alerts: &[serde_json::Value]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| {
            a["finding_info"]["analytic"]["uid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn lag_future_and_clock_findings_are_stored_delivered_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let got = Got::default();
    let (url, _rt) = receiver(got.clone());
    let sntp = sim::sntp::SntpServer::start(3_000).unwrap();
    let mut p = open(
        dir.path(),
        &format!(
            r#"
            [lag]
            p95_threshold = "10m"
            min_records = 10
            [clock]
            servers = ["{}"]
            max_offset_ms = 500
            [[alerts.destinations]]
            type = "webhook"
            id = "soc"
            url = "{url}"
            "#,
            sntp.addr()
        ),
    );
    let deliver = p.hub_deliver();
    let now = 1_800_000_000;
    // Audit logs 30 minutes late, one sign-in a day ahead, prompt sign-ins.
    let mut records: Vec<Record> = (0..40)
        .map(|i| record(Category::AuditLogs, now - 1800, now, i))
        .collect();
    records.extend((100..140).map(|i| record(Category::SignInLogs, now - 30, now, i)));
    records.push(record(Category::SignInLogs, now + 86_400, now, 999));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let accepted = rt
        .block_on(deliver.deliver(Batch {
            records,
            rejected: Vec::new(),
            position: "test".into(),
        }))
        .unwrap();
    assert_eq!(accepted.new, 81);

    let report = p.watch().unwrap();
    let mut raised = rules(
        &report
            .alerts
            .iter()
            .map(|a| a.to_json())
            .collect::<Vec<_>>(),
    );
    raised.sort();
    assert_eq!(
        raised,
        [
            "entrail.clock_skew",
            "entrail.future_timestamp",
            "entrail.ingest_lag"
        ]
    );
    let lag = report
        .alerts
        .iter()
        .find(|a| a.finding_info.analytic.uid == "entrail.ingest_lag")
        .unwrap();
    assert_eq!(lag.unmapped.entity, "eh/AuditLogs");
    assert_eq!(report.deliveries.len(), 1);
    assert_eq!(report.deliveries[0].delivered, 3, "{:?}", report.deliveries);
    assert_eq!(rules(&got.lock().unwrap()).len(), 3);
    let clock = report.clock.unwrap();
    assert!(
        (clock.offset_ms.unwrap() - 3_000.0).abs() < 100.0,
        "{clock:?}"
    );

    // Nothing new: no second alert for the same episodes (the clock is checked again only when due).
    let again = p.watch_at(chrono::Utc::now(), true).unwrap();
    assert!(again.alerts.is_empty(), "{:?}", again.alerts);
    assert_eq!(got.lock().unwrap().len(), 3);

    // Stored beside the detections, and in the status.
    let stored = pipeline::detection::load_alerts(dir.path()).unwrap();
    assert_eq!(stored.len(), 3);
    let status = p.status().unwrap();
    let audit = status
        .lag
        .iter()
        .find(|l| l.category == "AuditLogs")
        .unwrap();
    assert!(audit.lagging && audit.records == 40);
    assert!((audit.p95_s - 1800.0).abs() < 120.0, "{audit:?}");
    let signin = status
        .lag
        .iter()
        .find(|l| l.category == "SignInLogs")
        .unwrap();
    assert!(!signin.lagging && signin.future == 1 && signin.future_alert);
    assert!((signin.p50_s - 30.0).abs() < 3.0, "{signin:?}");
    let c = status.clock.unwrap();
    assert!(!c.ok);
    assert_eq!(c.max_offset_ms, 500.0);

    // After a restart the open episodes are remembered: nothing is raised again.
    drop(deliver);
    drop(p);
    let mut p = open(
        dir.path(),
        &format!(
            "[lag]\np95_threshold = \"10m\"\nmin_records = 10\n[clock]\nservers = [\"{}\"]\nmax_offset_ms = 500\n",
            sntp.addr()
        ),
    );
    let deliver = p.hub_deliver();
    rt.block_on(
        deliver.deliver(Batch {
            records: (200..240)
                .map(|i| record(Category::AuditLogs, now - 1700, now + 60, i))
                .collect(),
            rejected: Vec::new(),
            position: "test".into(),
        }),
    )
    .unwrap();
    let after = p.watch().unwrap();
    assert!(after.alerts.is_empty(), "{:?}", after.alerts);
}

/// Ten days of sign-ins and non-interactive sign-ins by event time, split at `cuts` into files; SignInLogs
/// are absent in `gap`.
fn write_phases(
    dir: &Path,
    cuts: &[chrono::DateTime<chrono::Utc>],
    gap: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    cfg: &sim::TenantConfig,
) -> Vec<std::path::PathBuf> {
    let tenant = sim::Tenant::new(cfg);
    let paths: Vec<_> = (0..=cuts.len())
        .map(|i| dir.join(format!("phase{i}.json")))
        .collect();
    let mut outs: Vec<_> = paths
        .iter()
        .map(|p| std::io::BufWriter::new(std::fs::File::create(p).unwrap()))
        .collect();
    for e in sim::Generator::new(&tenant, cfg)
        .with_category_names(&["SignInLogs", "NonInteractiveUserSignInLogs"])
        .with_truth(false)
    {
        if e.category == "SignInLogs" && e.time >= gap.0 && e.time < gap.1 {
            continue;
        }
        let phase = cuts.iter().take_while(|c| e.time >= **c).count();
        if let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) {
            let out = &mut outs[phase];
            serde_json::to_writer(&mut *out, &serde_json::json!({ "records": [v] })).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    for mut o in outs {
        o.flush().unwrap();
    }
    paths
}

fn feed(p: &mut Pipeline, file: &Path) {
    let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
        "eh",
        vec![file.display().to_string()],
    ))
    .unwrap();
    p.import(&source, sources::file::Progress::default())
        .unwrap();
    p.archive().unwrap();
}

#[test]
fn silence_fires_within_its_threshold_inside_a_running_pipeline_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sim::TenantConfig {
        users: 40,
        days: 10,
        ..sim::TenantConfig::default()
    };
    let end = cfg.end(); // a Thursday, 00:00
    let h = chrono::TimeDelta::hours;
    let stop = end - h(14); // Wednesday 10:00
    let back = end - h(8); // Wednesday 16:00
    let cuts = [stop, stop + h(2), stop + h(3), back + h(2)];
    let files = write_phases(dir.path(), &cuts, (stop, back), &cfg);
    let data = dir.path().join("data");
    let got = Got::default();
    let (url, _rt) = receiver(got.clone());
    let mut p = open(
        &data,
        &format!(
            r#"
            [silence]
            basis = "event"
            history = "10d"
            check_interval = "1h"
            [[alerts.destinations]]
            type = "webhook"
            id = "soc"
            url = "{url}"
            updates = true
            "#
        ),
    );
    // Nine and a half normal days: nothing is silent.
    feed(&mut p, &files[0]);
    let r = p.watch_at(stop, false).unwrap();
    assert!(r.alerts.is_empty(), "{:?}", r.alerts);
    // Within the check interval nothing is evaluated again.
    assert!(
        p.watch_at(stop + h(1) / 2, false)
            .unwrap()
            .alerts
            .is_empty()
    );
    // Two hours without sign-ins: the silence is found.
    feed(&mut p, &files[1]);
    let r = p.watch_at(stop + h(2), false).unwrap();
    let raised = rules(&r.alerts.iter().map(|a| a.to_json()).collect::<Vec<_>>());
    assert_eq!(raised, ["entrail.silence"], "{:?}", r.alerts);
    assert_eq!(r.alerts[0].unmapped.entity, "eh/SignInLogs");
    assert_eq!(r.alerts[0].severity_id, 4);
    assert_eq!(got.lock().unwrap().len(), 1);
    assert_eq!(p.status().unwrap().silent.len(), 1);
    // Still silent an hour later: no second alert.
    feed(&mut p, &files[2]);
    let r = p.watch_at(stop + h(3), false).unwrap();
    assert!(r.alerts.is_empty(), "{:?}", r.alerts);
    // Back at 16:00: by 18:00 the end of the silence is reported.
    feed(&mut p, &files[3]);
    let r = p.watch_at(back + h(2), false).unwrap();
    let raised = rules(&r.alerts.iter().map(|a| a.to_json()).collect::<Vec<_>>());
    assert_eq!(raised, ["entrail.silence_ended"], "{:?}", r.alerts);
    assert_eq!(got.lock().unwrap().len(), 2);
    assert!(p.status().unwrap().silent.is_empty());
}

#[test]
fn each_new_checkpoint_goes_to_the_alert_destinations_as_the_chain_head() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    store::seal::generate_key_pair(&keys.join("signing.pem"), &keys.join("verify.pem")).unwrap();
    let got = Got::default();
    let (url, _rt) = receiver(got.clone());
    let data = dir.path().join("data");
    let text = format!(
        "data_dir = \"{}\"\n[integrity]\nsigning_key_file = \"{}\"\npublish_alerts = true\n\
         [[alerts.destinations]]\ntype = \"webhook\"\nid = \"siem\"\nurl = \"{url}\"\n",
        data.display(),
        keys.join("signing.pem").display()
    );
    let mut p =
        Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    p.ingest(
        (0..5)
            .map(|i| record(Category::AuditLogs, now - 60, now, i))
            .collect(),
        Vec::new(),
    )
    .unwrap();
    p.archive().unwrap(); // seals the Parquet file and signs a checkpoint
    let r = p.watch().unwrap();
    assert_eq!(
        rules(&r.alerts.iter().map(|a| a.to_json()).collect::<Vec<_>>()),
        ["entrail.chain_head"]
    );
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let heads = pipeline::watch::parse_heads(&received[0].to_string()).unwrap();
    // The head is the chain's last checkpoint, signed.
    let chain = model::limits::read_capped(
        std::fs::File::open(data.join("seal/chain.jsonl")).unwrap(),
        1 << 30,
    )
    .unwrap();
    let chain = String::from_utf8(chain).unwrap();
    let last = chain
        .lines()
        .rev()
        .map(|l| serde_json::from_str::<store::seal::Entry>(l).unwrap())
        .find_map(|e| pipeline::watch::head_of(&e))
        .unwrap();
    assert_eq!(heads, std::slice::from_ref(&last));
    assert!(
        last["sig"].as_str().is_some_and(|s| s.len() == 128),
        "{last}"
    );
    // Nothing new: nothing sent; the next checkpoint is sent once.
    assert!(p.watch().unwrap().alerts.is_empty());
    p.ingest(
        (10..15)
            .map(|i| record(Category::AuditLogs, now - 60, now, i))
            .collect(),
        Vec::new(),
    )
    .unwrap();
    p.archive().unwrap();
    assert_eq!(p.watch().unwrap().alerts.len(), 1);
    assert_eq!(got.lock().unwrap().len(), 2);
}
