//! The `[metrics]` endpoint end to end: a pipeline with a file source, a file sink and a Splunk HEC sink
//! whose receiver (a local HTTP server enforcing the token) answers 401 until it is "fixed". `/metrics` is
//! scraped over loopback and parsed: the ingest counters equal what the hub counted, the refused sink shows
//! `entrail_sink_blocked 1` with a backlog that grows with new data, and once the token is accepted the
//! backlog drains to 0 and the sink is unblocked. A second test delivers a batch the way continuous sources
//! do and checks the ingest-lag histogram and the future-dated counter; a third checks the clock offset and the
//! health alerts the checks raise.
#![allow(clippy::unwrap_used)]

mod metrics_support;

use metrics_support::*;
use pipeline::Pipeline;
use sources::graph::Deliver;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

#[test]
fn metrics_follow_ingest_and_a_refused_sink_until_it_is_fixed() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (hec, port) = start_hec(&rt);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_day(&input.join("day1.json"), 1, 25, 3);
    let text = format!(
        r#"data_dir = {data:?}
[[sources]]
type = "file"
id = "files"
paths = [{glob:?}]

[[sinks]]
type = "file"
id = "jsonl"
path = {out:?}

[[sinks]]
type = "splunk_hec"
id = "hec"
url = "http://127.0.0.1:{port}"
token = "{TOKEN}"
compression = false
request_timeout = "5s"

[metrics]
listen = "127.0.0.1:0"
"#,
        data = dir.path().join("data").display().to_string(),
        glob = input.join("*.json").display().to_string(),
        out = dir.path().join("out.jsonl").display().to_string(),
    );
    let mut p =
        Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap();
    let server = p.serve_metrics().unwrap().expect("[metrics] is configured");
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    // Ingest the same file twice: the second pass is all exact duplicates.
    let first = p.run_sources(Default::default()).unwrap();
    let second = p.run_sources(Default::default()).unwrap();
    let (o1, o2) = (&first[0].1.outcome, &second[0].1.outcome);
    assert!(o1.appended > 100, "{o1:?}");
    assert_eq!(o1.quarantined, 3);
    assert_eq!(o2.appended, 0);
    p.archive().unwrap();
    let e = p.drain_sinks().unwrap_err();
    assert!(e.to_string().contains("hec"), "{e}");

    let s = scrape(&rt, addr);
    let src = [("source", "files")];
    assert_eq!(
        sum(&s, "entrail_records_appended_total", &src),
        o1.appended as f64
    );
    assert_eq!(
        sum(&s, "entrail_records_revisions_total", &src),
        (o1.revisions + o2.revisions) as f64
    );
    assert_eq!(
        sum(&s, "entrail_records_duplicates_total", &src),
        (o1.duplicates + o2.duplicates) as f64
    );
    assert!(o2.duplicates >= o1.appended, "{o2:?}");
    // Per category, the counters equal the hub's own statistics.
    let stats = p.hub().stats().clone();
    for (category, c) in &stats.categories {
        let l = [("source", "files"), ("category", category.as_str())];
        assert_eq!(
            get(&s, "entrail_records_appended_total", &l),
            Some(c.appended as f64)
        );
        assert_eq!(
            get(&s, "entrail_records_duplicates_total", &l),
            Some(c.duplicates as f64)
        );
    }
    assert_eq!(stats.categories.len(), 2, "{:?}", stats.categories.keys());
    // Both passes read the 3 garbage lines; the first quarantined them, the second found them there.
    assert_eq!(
        get(
            &s,
            "entrail_records_quarantined_total",
            &[("source", "files"), ("reason", "not_json")]
        ),
        Some(3.0)
    );
    let end = p.log().end_offset() as f64;
    assert_eq!(end, o1.appended as f64);
    assert_eq!(get(&s, "entrail_log_head_offset", &[]), Some(end));
    assert!(get(&s, "entrail_log_bytes", &[]).unwrap() > 0.0);
    assert_eq!(
        get(
            &s,
            "entrail_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // The file sink got everything; the HEC sink is blocked with the whole log as its backlog.
    assert_eq!(
        get(&s, "entrail_consumer_backlog_records", &c("archive")),
        Some(0.0)
    );
    assert_eq!(get(&s, "entrail_consumer_offset", &c("jsonl")), Some(end));
    assert_eq!(
        get(&s, "entrail_consumer_backlog_records", &c("jsonl")),
        Some(0.0)
    );
    assert_eq!(
        get(&s, "entrail_sink_sent_records_total", &[("sink", "jsonl")]),
        Some(end)
    );
    assert!(get(&s, "entrail_sink_sent_bytes_total", &[("sink", "jsonl")]).unwrap() > end);
    assert_eq!(
        get(&s, "entrail_sink_blocked", &[("sink", "jsonl")]),
        Some(0.0)
    );
    assert_eq!(
        get(&s, "entrail_sink_blocked", &[("sink", "hec")]),
        Some(1.0)
    );
    assert_eq!(
        get(
            &s,
            "entrail_sink_errors_total",
            &[("sink", "hec"), ("kind", "auth")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            &s,
            "entrail_sink_errors_total",
            &[("sink", "hec"), ("kind", "transient")]
        ),
        Some(0.0)
    );
    assert_eq!(get(&s, "entrail_consumer_offset", &c("hec")), Some(0.0));
    assert_eq!(
        get(&s, "entrail_consumer_backlog_records", &c("hec")),
        Some(end)
    );
    let backlog_bytes = get(&s, "entrail_consumer_backlog_bytes", &c("hec")).unwrap();
    assert!(backlog_bytes > end * 100.0, "{backlog_bytes}");
    assert!(get(&s, "entrail_consumer_backlog_age_seconds", &c("hec")).unwrap() >= 0.0);
    assert_eq!(
        get(&s, "entrail_sink_sent_records_total", &[("sink", "hec")]),
        Some(0.0)
    );
    assert!(hec.refused.load(Ordering::SeqCst) >= 1);
    let health: serde_json::Value = rt
        .block_on(async {
            let r = reqwest::get(format!("http://{addr}/healthz"))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await
        })
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["blocked_sinks"], serde_json::json!(["hec"]));
    assert_eq!(health["log"]["head_offset"], o1.appended);

    // New data while the token is still refused: the backlog grows, nothing is skipped.
    write_day(&input.join("day2.json"), 2, 10, 0);
    let third = p.run_sources(Default::default()).unwrap();
    let new = third[0].1.outcome.appended;
    assert!(new > 0);
    p.drain_sinks().unwrap_err();
    let s = scrape(&rt, addr);
    let end2 = p.log().end_offset() as f64;
    assert_eq!(end2, end + new as f64);
    assert_eq!(
        get(&s, "entrail_consumer_backlog_records", &c("hec")),
        Some(end2)
    );
    assert!(get(&s, "entrail_consumer_backlog_bytes", &c("hec")).unwrap() > backlog_bytes);
    assert_eq!(
        get(&s, "entrail_sink_blocked", &[("sink", "hec")]),
        Some(1.0)
    );
    assert_eq!(
        get(
            &s,
            "entrail_sink_errors_total",
            &[("sink", "hec"), ("kind", "auth")]
        ),
        Some(2.0)
    );
    assert_eq!(sum(&s, "entrail_records_appended_total", &src), end2);

    // The operator fixes the token: the backlog drains to 0 and the sink is unblocked.
    hec.fixed.store(true, Ordering::SeqCst);
    let reports = p.drain_sinks().unwrap();
    assert!(
        reports
            .iter()
            .any(|(id, r)| id == "hec" && r.records as f64 == end2)
    );
    let s = scrape(&rt, addr);
    assert_eq!(hec.events.load(Ordering::SeqCst) as f64, end2);
    assert_eq!(
        get(&s, "entrail_sink_blocked", &[("sink", "hec")]),
        Some(0.0)
    );
    assert_eq!(
        get(&s, "entrail_consumer_backlog_records", &c("hec")),
        Some(0.0)
    );
    assert_eq!(
        get(&s, "entrail_consumer_backlog_bytes", &c("hec")),
        Some(0.0)
    );
    assert_eq!(
        get(&s, "entrail_consumer_backlog_age_seconds", &c("hec")),
        Some(0.0)
    );
    assert_eq!(get(&s, "entrail_consumer_offset", &c("hec")), Some(end2));
    assert_eq!(
        get(&s, "entrail_sink_sent_records_total", &[("sink", "hec")]),
        Some(end2)
    );
    assert_eq!(
        get(
            &s,
            "entrail_sink_errors_total",
            &[("sink", "hec"), ("kind", "auth")]
        ),
        Some(2.0)
    );
    let health: serde_json::Value = rt
        .block_on(async {
            reqwest::get(format!("http://{addr}/healthz"))
                .await?
                .text()
                .await
        })
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(health["status"], "ok");

    // Dropping the handle stops the endpoint.
    drop(server);
    assert!(
        rt.block_on(reqwest::get(format!("http://{addr}/metrics")))
            .is_err()
    );
}

#[test]
fn continuous_delivery_measures_ingest_lag_and_future_records() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("day.json");
    write_day(&file, 3, 8, 0);
    let text = format!(
        "data_dir = {:?}\n",
        dir.path().join("data").display().to_string()
    );
    let p = Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap();
    let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
        "tail",
        vec![file.display().to_string()],
    ))
    .unwrap();
    let now = chrono::Utc::now().timestamp_micros();
    let mut batches: Vec<sources::Batch> = source
        .batches(now, Default::default())
        .map(Result::unwrap)
        .collect();
    let mut batch = batches.remove(0);
    let n = batch.records.len();
    assert!(n > 20, "{n}");
    // Two records from the future (an hour ahead of their receipt; the default tolerance is 5 min).
    for r in batch.records.iter_mut().take(2) {
        r.event_time = r.ingest_time + 3_600_000_000;
    }
    let lags: Vec<f64> = (batch.records.iter())
        .map(|r| ((r.ingest_time - r.event_time) as f64 / 1e6).max(0.0))
        .collect();
    let within_a_day = lags.iter().filter(|l| **l <= 86400.0).count();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(p.hub_deliver().deliver(batch)).unwrap();
    let text = p.metrics().render();
    let line = |prefix: &str| -> f64 {
        let l = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
        l.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    assert_eq!(
        line("entrail_ingest_lag_seconds_count{source=\"tail\"}"),
        n as f64
    );
    assert_eq!(
        line("entrail_ingest_lag_seconds_bucket{source=\"tail\",le=\"+Inf\"}"),
        n as f64
    );
    assert_eq!(
        line("entrail_ingest_lag_seconds_bucket{source=\"tail\",le=\"86400\"}"),
        within_a_day as f64
    );
    let sum: f64 = lags.iter().sum();
    assert!((line("entrail_ingest_lag_seconds_sum{source=\"tail\"}") - sum).abs() < 1.0);
    let future: f64 = text
        .lines()
        .filter(|l| l.starts_with("entrail_records_future_dated_total{source=\"tail\""))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert_eq!(future, 2.0);
    assert_eq!(
        p.metrics()
            .counter_value("entrail_records_appended_total", &["tail", "SignInLogs"])
            .unwrap_or(0)
            + p.metrics()
                .counter_value("entrail_records_appended_total", &["tail", "AuditLogs"])
                .unwrap_or(0),
        p.log().end_offset()
    );
}

#[test]
fn health_checks_expose_the_clock_offset_and_the_alerts_they_raise() {
    let dir = tempfile::tempdir().unwrap();
    let sntp = sim::sntp::SntpServer::start(3_000).unwrap();
    let file = dir.path().join("day.json");
    write_day(&file, 4, 5, 0);
    let text = format!(
        "data_dir = {:?}\n[clock]\nservers = [\"{}\"]\nmax_offset_ms = 500\n",
        dir.path().join("data").display().to_string(),
        sntp.addr()
    );
    let mut p =
        Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap();
    // A delivered batch with a record a day ahead of its receipt: `entrail.future_timestamp`.
    let source = sources::file::FileSource::new(sources::file::FileSourceConfig::new(
        "tail",
        vec![file.display().to_string()],
    ))
    .unwrap();
    let mut batch = source
        .batches(chrono::Utc::now().timestamp_micros(), Default::default())
        .next()
        .unwrap()
        .unwrap();
    batch.records[0].event_time = batch.records[0].ingest_time + 86_400_000_000;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(p.hub_deliver().deliver(batch)).unwrap();
    let report = p.watch().unwrap();
    assert!(report.alerts.len() >= 2, "{:?}", report.alerts.len());
    let m = p.metrics().clone();
    let text = m.render();
    let value = |prefix: &str| -> f64 {
        let l = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
        l.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    let offset = value("entrail_clock_offset_seconds ");
    assert!((offset - 3.0).abs() < 0.5, "{offset}");
    assert_eq!(value("entrail_clock_ok "), 0.0);
    assert_eq!(
        value("entrail_clock_checks_total{result=\"answered\"}"),
        1.0
    );
    let mut by_severity: BTreeMap<String, u64> = BTreeMap::new();
    for a in &report.alerts {
        *by_severity.entry(a.severity.clone()).or_default() += 1;
    }
    for (severity, n) in by_severity {
        assert_eq!(
            m.counter_value("entrail_alerts_raised_total", &["health", &severity]),
            Some(n),
            "{severity}"
        );
    }
    assert_eq!(
        value("entrail_records_future_dated_total{source=\"tail\""),
        1.0
    );
}
