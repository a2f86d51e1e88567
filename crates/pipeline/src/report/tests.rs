//! Unit tests of the report: the window, the cost arithmetic, `[report]` validation, escaping and the page.
#![allow(clippy::unwrap_used, clippy::float_cmp)]

use super::*;
use crate::routes::volume::{DayVolume, SinkVolume};
use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn window(a: &str, b: &str) -> Window {
    Window {
        first_day: day(a),
        last_day: day(b),
    }
}

#[test]
fn window_covers_the_days_touched() {
    let w = Window::new(
        Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 3, 7, 0, 0, 0).unwrap(),
    );
    assert_eq!(w, window("2024-03-04", "2024-03-06"));
    assert_eq!(w.days(), 3);
    assert_eq!(w.day_list(), ["2024-03-04", "2024-03-05", "2024-03-06"]);
    assert!(w.contains("2024-03-06") && !w.contains("2024-03-07") && !w.contains("2024-03-03"));
    let w = Window::new(
        Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 1).unwrap(),
    );
    assert_eq!(w.days(), 1);
}

fn traffic() -> SinkVolume {
    let mut v = SinkVolume::default();
    let d = |sent_bytes, filtered_bytes| DayVolume {
        sent_records: sent_bytes / 1000,
        sent_bytes,
        filtered_records: filtered_bytes / 1000,
        filtered_bytes,
    };
    let mut splunk = BTreeMap::new();
    splunk.insert("2024-03-04".to_owned(), d(1_000_000_000, 500_000_000));
    splunk.insert("2024-03-05".to_owned(), d(2_000_000_000, 250_000_000));
    splunk.insert("2024-03-06".to_owned(), d(0, 0));
    // Outside the window: not counted.
    splunk.insert("2024-03-07".to_owned(), d(9_000_000_000, 9_000_000_000));
    v.sinks.insert("splunk".to_owned(), splunk);
    let mut file = BTreeMap::new();
    file.insert("2024-03-05".to_owned(), d(300_000_000, 0));
    v.sinks.insert("file".to_owned(), file);
    v
}

#[test]
fn monthly_cost_and_filter_savings_are_exact() {
    let cfg = ReportConfig {
        price_per_gb: [("splunk".to_owned(), 2.5), ("sentinel".to_owned(), 4.0)]
            .into_iter()
            .collect(),
    };
    let w = window("2024-03-04", "2024-03-06");
    let sinks = sink_volume(&traffic(), &w, &cfg);
    assert_eq!(sinks.len(), 2);
    let splunk = sinks.iter().find(|s| s.sink == "splunk").unwrap();
    assert_eq!(splunk.total.sent_bytes, 3_000_000_000);
    assert_eq!(splunk.total.filtered_bytes, 750_000_000);
    assert_eq!(splunk.days.len(), 3);
    // 3 GB over 3 days = 1 GB/day = 30 GB/month at 2.5 = 75.
    assert_eq!(splunk.monthly_sent_bytes, 30e9);
    assert_eq!(splunk.monthly_cost, Some(75.0));
    // 0.75 GB filtered over 3 days = 7.5 GB/month at 2.5 = 18.75.
    assert_eq!(splunk.monthly_savings, Some(18.75));
    let file = sinks.iter().find(|s| s.sink == "file").unwrap();
    assert_eq!(file.price_per_gb, None);
    assert_eq!(file.monthly_cost, None);
    assert_eq!(file.monthly_sent_bytes, 3e9);
    let r = assemble(w, Vec::new(), sinks, &cfg);
    assert_eq!(r.totals.monthly_cost, 75.0);
    assert_eq!(r.totals.monthly_savings, 18.75);
    assert_eq!(r.totals.sent_bytes, 3_300_000_000);
    assert_eq!(r.unmatched_prices, ["sentinel"]);
}

#[test]
fn report_config_reports_every_bad_price() {
    let raw: crate::RawConfig =
        crate::config::parse("[report.price_per_gb]\nsplunk = 2.5\nbad = -1.0\nworse = nan\n")
            .unwrap();
    let errors = raw.validate().unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"report.price_per_gb.bad"), "{paths:?}");
    assert!(paths.contains(&"report.price_per_gb.worse"), "{paths:?}");
    let ok: crate::RawConfig =
        crate::config::parse("[report.price_per_gb]\nsplunk = 2.5\n").unwrap();
    let cfg = ok.validate().unwrap();
    assert_eq!(cfg.report.price_per_gb.get("splunk"), Some(&2.5));
    assert!(crate::config::parse("[report]\nprice = 1\n").is_err());
}

#[test]
fn escape_neutralises_markup() {
    assert_eq!(
        escape(r#"<script>alert("x")</script>&'"#),
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
    );
}

fn hostile_alert() -> detect::alert::Alert {
    let json = serde_json::json!({
        "activity_id": 1, "activity_name": "Create", "category_uid": 2, "category_name": "Findings",
        "class_uid": 2004, "class_name": "Detection Finding", "type_uid": 200401, "type_name": "Detection Finding: Create",
        "metadata": {"version": "1.3.0", "product": {"name": "entrail", "vendor_name": "entrail", "version": "0"}, "modified_time": 0},
        "time": 1_709_550_000_000_i64, "severity_id": 4, "severity": "High", "status_id": 1, "status": "New",
        "count": 3, "message": "m",
        "finding_info": {"uid": "a1", "title": "<img src=x onerror=alert(1)><b>pwned</b>", "types": ["SignInLogs"],
            "analytic": {"uid": "r1", "name": "rule", "type": "Rule", "type_id": 1},
            "first_seen_time": 1_709_550_000_000_i64, "last_seen_time": 1_709_553_600_000_i64},
        "observables": [{"name": "user", "type": "User Name", "type_id": 4, "value": "<script>evil()</script>@contoso.com"}],
        "unmapped": {"entity": "UserPrincipalName=\"><svg onload=x>", "evidence_total": 3, "revision": 1}
    });
    serde_json::from_value(json).unwrap()
}

fn input(alerts: Vec<detect::alert::Alert>) -> HtmlInput {
    let w = window("2024-03-04", "2024-03-06");
    let cfg = ReportConfig {
        price_per_gb: [("splunk".to_owned(), 2.5)].into_iter().collect(),
    };
    let categories = vec![CategoryVolume {
        category: "SignInLogs".into(),
        table: "SigninLogs".into(),
        days: vec![
            CategoryDay {
                day: "2024-03-04".into(),
                records: 120,
                raw_bytes: 240_000,
                archive_bytes: 30_000,
            },
            CategoryDay {
                day: "2024-03-05".into(),
                records: 80,
                raw_bytes: 160_000,
                archive_bytes: 20_000,
            },
        ],
        records: 200,
        raw_bytes: 400_000,
        archive_bytes: 50_000,
        records_per_day: 200.0 / 3.0,
        raw_bytes_per_day: 400_000.0 / 3.0,
        archive_bytes_per_day: 50_000.0 / 3.0,
    }];
    let sinks = sink_volume(&traffic(), &w, &cfg);
    HtmlInput {
        title: "entrail report: <data>".into(),
        generated_at: Utc.with_ymd_and_hms(2024, 3, 7, 0, 0, 0).unwrap(),
        volume: assemble(w, categories, sinks, &cfg),
        coverage: CoverageMatrix {
            source: CoverageSource::Offline,
            rows: vec![CoverageRow {
                scope: "tenant".into(),
                category: "SignInLogs".into(),
                requirement: "required".into(),
                exported_to: "not checked".into(),
                records: 200,
                last_received: None,
                rate_per_day: Some(66.0),
                verdict: "receiving".into(),
                reason: "r".into(),
            }],
        },
        lag: Vec::new(),
        alerts,
    }
}

#[test]
fn hostile_alert_text_is_shown_not_interpreted() {
    let page = render(&input(vec![hostile_alert()]));
    for bad in ["<img", "<b>pwned", "<script>", "<svg onload"] {
        assert!(!page.contains(bad), "{bad} reached the page unescaped");
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;pwned&lt;/b&gt;"));
    assert!(page.contains("&lt;script&gt;evil()&lt;/script&gt;@contoso.com"));
    assert!(page.contains("&lt;data&gt;"));
    // The only elements are the page's own: no script at all.
    assert!(!page.to_ascii_lowercase().contains("<script"));
}

#[test]
fn page_has_every_section_with_chart_data() {
    let page = render(&input(vec![hostile_alert()]));
    for id in [
        "id=\"coverage\"",
        "id=\"volume\"",
        "id=\"lag\"",
        "id=\"alerts\"",
        "id=\"sinks\"",
        "id=\"chart-records\"",
        "id=\"chart-raw-bytes\"",
        "id=\"chart-alerts\"",
        "id=\"chart-sinks\"",
    ] {
        assert!(page.contains(id), "missing {id}");
    }
    assert!(page.contains("No lag data"));
    // Two days of sign-ins: two bars; splunk sent on two days (filtered on two), file on one.
    let records = page.split("id=\"chart-raw-bytes\"").next().unwrap();
    assert_eq!(records.matches("<rect class=\"bar\"").count(), 2);
    assert!(page.contains("<circle class=\"point\""));
    assert!(page.contains("75.00") && page.contains("18.75"));
    // Nothing fetched: no URL but the SVG namespace.
    assert_eq!(
        page.matches("http").count(),
        page.matches("http://www.w3.org/2000/svg").count()
    );
}

#[test]
fn empty_sections_say_so() {
    let mut i = input(Vec::new());
    i.volume.categories.clear();
    i.volume.sinks.clear();
    let page = render(&i);
    assert!(page.contains("No archived records in this window."));
    assert!(page.contains("No alerts in this window."));
    assert!(page.contains("No sink traffic recorded in this window."));
}

#[test]
fn saved_coverage_result_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    assert!(page::saved(dir.path()).is_none());
    let observed = crate::coverage::Observed {
        entra: Ok(Vec::new()),
        licensed: None,
        scopes: Vec::new(),
        errors: Vec::new(),
        graph: Vec::new(),
    };
    let report = crate::coverage::evaluate(
        &observed,
        &crate::coverage::Received::new(),
        &|_| None,
        Utc.with_ymd_and_hms(2024, 3, 7, 0, 0, 0).unwrap(),
    );
    std::fs::write(
        dir.path().join(COVERAGE_FILE),
        serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();
    let m = page::saved(dir.path()).unwrap();
    assert_eq!(
        m.source,
        CoverageSource::Saved {
            path: dir.path().join(COVERAGE_FILE),
            at: "2024-03-07T00:00:00Z".into()
        }
    );
    assert_eq!(m.rows.len(), report.rows.len());
    let sign_ins = m.rows.iter().find(|r| r.category == "SignInLogs").unwrap();
    assert_eq!(sign_ins.verdict, "missing");
    assert_eq!(sign_ins.requirement, "required");
    // `--fix --json` wraps the report: read the same.
    let wrapped = serde_json::json!({"fix": null, "applied": false, "coverage": report});
    std::fs::write(dir.path().join(COVERAGE_FILE), wrapped.to_string()).unwrap();
    assert_eq!(
        page::saved(dir.path()).unwrap().rows.len(),
        report.rows.len()
    );
}

#[test]
fn offline_coverage_judges_arrival_from_stats() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2024, 3, 7, 12, 0, 0).unwrap();
    let us = |h: i64| (now - chrono::TimeDelta::hours(h)).timestamp_micros();
    let mut stats = store::hub::IngestStats::default();
    let mut put = |name: &str, hours_ago: i64| {
        stats.categories.insert(
            name.to_owned(),
            store::hub::CategoryStats {
                appended: 48,
                first_event_time: Some(us(hours_ago + 48)),
                last_event_time: Some(us(hours_ago)),
                last_ingest_time: Some(us(hours_ago)),
                ..Default::default()
            },
        );
    };
    put("SignInLogs", 1);
    put("AuditLogs", 72);
    put("RiskyUsers", 500);
    put("Syslog", 2);
    stats.save(&dir.path().join("stats.json")).unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let m = offline_coverage(
        dir.path(),
        &|c| (c != model::Category::RiskyUsers).then_some(day),
        now,
    );
    assert_eq!(m.source, CoverageSource::Offline);
    let verdict = |c: &str| {
        m.rows
            .iter()
            .find(|r| r.category == c)
            .map(|r| r.verdict.clone())
            .unwrap()
    };
    assert_eq!(verdict("SignInLogs"), "receiving");
    assert_eq!(verdict("AuditLogs"), "silent");
    assert_eq!(verdict("RiskyUsers"), "receiving");
    assert_eq!(verdict("ADFSSignInLogs"), "never_received");
    // Optional categories only when received.
    assert_eq!(verdict("Syslog"), "receiving");
    assert!(!m.rows.iter().any(|r| r.category == "RiskyAgents"));
    let sign_ins = m.rows.iter().find(|r| r.category == "SignInLogs").unwrap();
    assert_eq!(sign_ins.rate_per_day, Some(24.0));
}
