//! The lag sketch's accuracy and window, the tracker's transitions and dedupe, `[lag]` validation.

use super::sketch::{bucket, bucket_value};
use super::*;
use std::time::Duration;

const S: i64 = 1_000_000;

fn record(source: &str, category: Category, event_s: i64, ingest_s: i64, n: u128) -> Record {
    Record {
        category,
        event_time: event_s * S,
        ingest_time: ingest_s * S,
        key: format!("k{n}"),
        content_hash: n,
        revision: 0,
        source: source.into(),
        shape: model::Shape::Graph,
        values: Vec::new(),
        raw: String::new(),
    }
}

#[test]
fn buckets_are_monotonic_and_within_one_sixteenth() {
    let mut last = 0;
    for ms in (0..100_000u64).chain([1 << 20, 1 << 33, u64::MAX / 2]) {
        let b = bucket(ms);
        assert!(b >= last || ms >= 1 << 20, "{ms}");
        last = b;
        let v = bucket_value(b) as f64;
        if (16..1 << 40).contains(&ms) {
            assert!(
                (v - ms as f64).abs() / ms as f64 <= 1.0 / 16.0 + 1e-9,
                "{ms} -> {v}"
            );
        } else if ms < 16 {
            assert_eq!(v as u64, ms);
        }
    }
}

#[test]
fn quantiles_of_a_known_distribution() {
    // Lags 1..=1000 s, one each: p50 ≈ 500, p95 ≈ 950, p99 ≈ 990, max 1000.
    let mut sk = LagSketch::new(300 * S, 12);
    let now = 1_000_000;
    for i in 1..=1000 {
        sk.add((now - i) * S, now * S, 300 * S);
    }
    let s = sk.summary(now * S);
    assert_eq!(s.records, 1000);
    for (got, want) in [(s.p50_s, 500.0), (s.p95_s, 950.0), (s.p99_s, 990.0)] {
        assert!((got - want).abs() / want < 0.07, "{got} vs {want}");
    }
    assert_eq!(s.max_s, 1000.0);
    assert_eq!(s.future, 0);
}

#[test]
fn the_window_slides_and_old_slots_are_forgotten() {
    let mut sk = LagSketch::new(300 * S, 12); // one hour
    let t0 = 10_000 * 3600;
    for i in 0..100 {
        sk.add((t0 - 3600) * S, (t0 + i) * S, 0); // an hour late
    }
    assert_eq!(sk.summary(t0 * S + 100 * S).records, 100);
    assert!(sk.summary(t0 * S + 100 * S).p95_s > 3000.0);
    // Two hours on: the window holds the new, prompt records only.
    let t1 = t0 + 7200;
    for i in 0..50 {
        sk.add((t1 + i - 2) * S, (t1 + i) * S, 0);
    }
    let s = sk.summary((t1 + 60) * S);
    assert_eq!(s.records, 50);
    assert!(s.p95_s <= 2.0 && s.max_s <= 2.0, "{s:?}");
    // A record older than the window does not disturb it.
    sk.add(t0 * S, t0 * S, 0);
    assert_eq!(sk.summary((t1 + 60) * S).records, 50);
}

#[test]
fn future_records_beyond_the_tolerance_are_counted_apart() {
    let mut sk = LagSketch::new(300 * S, 12);
    let now = 5_000_000;
    sk.add((now + 60) * S, now * S, 300 * S); // 1 min ahead: tolerated, lag 0
    sk.add((now + 3600) * S, now * S, 300 * S); // 1 h ahead
    let s = sk.summary(now * S);
    assert_eq!((s.records, s.future), (1, 1));
    assert_eq!(s.max_future_s, 3600.0);
    assert_eq!(s.max_s, 0.0);
}

fn tracker(threshold_s: u64) -> LagTracker {
    LagTracker::new(
        LagConfig {
            p95_threshold: Some(Duration::from_secs(threshold_s)),
            min_records: 10,
            ..LagConfig::default()
        },
        &[],
    )
}

#[test]
fn lag_alert_fires_once_per_episode_and_rearms() {
    let t = tracker(600);
    let now = 1_800_000_000;
    let batch: Vec<Record> = (0..50)
        .map(|i| record("graph", Category::SignInLogs, now - 60, now, i))
        .collect();
    t.observe(&batch);
    assert!(t.evaluate().is_empty(), "1 min lag is fine");
    // Twenty minutes late for most records.
    let late: Vec<Record> = (100..400)
        .map(|i| record("graph", Category::SignInLogs, now + 10 - 1200, now + 10, i))
        .collect();
    t.observe(&late);
    let events = t.evaluate();
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        LagEvent::High {
            source,
            category,
            summary,
            threshold_s,
            ..
        } => {
            assert_eq!(
                (source.as_str(), *category),
                ("graph", Category::SignInLogs)
            );
            assert!(summary.p95_s > 1100.0, "{summary:?}");
            assert_eq!(*threshold_s, 600.0);
        }
        e => panic!("{e:?}"),
    }
    assert!(t.evaluate().is_empty(), "no second alert while it lasts");
    let snap = t.snapshot();
    assert!(snap[0].lagging && snap[0].records == 350);
    // Two hours later the window is prompt again: re-armed, then a new episode alerts again.
    let later = now + 7200;
    t.observe(
        &(1000..1100)
            .map(|i| record("graph", Category::SignInLogs, later - 5, later, i))
            .collect::<Vec<_>>(),
    );
    assert!(t.evaluate().is_empty());
    assert!(!t.snapshot()[0].lagging);
    t.observe(
        &(2000..2400)
            .map(|i| record("graph", Category::SignInLogs, later - 3000, later + 1, i))
            .collect::<Vec<_>>(),
    );
    assert_eq!(t.evaluate().len(), 1);
}

#[test]
fn future_alert_and_per_category_threshold_and_dedupe() {
    let mut cfg = LagConfig::default();
    cfg.thresholds.insert(Category::AuditLogs, None);
    cfg.min_records = 1;
    let t = LagTracker::new(cfg, &[]);
    let now = 1_800_000_000;
    // Audit logs two hours late: not alerted (threshold off). A sign-in from tomorrow: future.
    let mut batch: Vec<Record> = (0..30)
        .map(|i| record("eh", Category::AuditLogs, now - 7200, now, i))
        .collect();
    batch.push(record("eh", Category::SignInLogs, now + 86_400, now, 99));
    t.observe(&batch);
    // The same content delivered again (an overlap re-read) is not counted twice.
    t.observe(&batch);
    let events = t.evaluate();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(&events[0], LagEvent::Future { category: Category::SignInLogs, summary, .. }
        if summary.future == 1 && summary.max_future_s == 86_400.0)
    );
    let audit = t
        .snapshot()
        .into_iter()
        .find(|s| s.category == "AuditLogs")
        .unwrap();
    assert_eq!(audit.records, 30);
    assert_eq!(audit.threshold_s, None);
    assert!(!audit.lagging);
}

#[test]
fn saved_alert_states_survive_a_restart() {
    let saved = vec![LagStatus {
        source: "graph".into(),
        category: "SignInLogs".into(),
        lagging: true,
        ..LagStatus::default()
    }];
    let t = LagTracker::new(
        LagConfig {
            p95_threshold: Some(Duration::from_secs(60)),
            min_records: 1,
            ..LagConfig::default()
        },
        &saved,
    );
    let now = 1_800_000_000;
    t.observe(&[record("graph", Category::SignInLogs, now - 600, now, 1)]);
    assert!(t.evaluate().is_empty(), "the episode was already alerted");
}

#[test]
fn config_validation() {
    let raw: RawLagConfig = toml::from_str(
        r#"
        window = "30s"
        p95_threshold = "off"
        future_tolerance = "never"
        min_records = 0
        [thresholds]
        SigninLogs = "2h"
        NoSuchThing = "1h"
        AuditLogs = "off"
        "#,
    )
    .unwrap();
    let mut errors = Vec::new();
    let c = raw.validate(&mut errors);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "lag.window",
            "lag.future_tolerance",
            "lag.thresholds.NoSuchThing",
            "lag.min_records"
        ]
    );
    assert_eq!(c.p95_threshold, None);
    assert_eq!(
        c.threshold(Category::SignInLogs),
        Some(Duration::from_secs(7200))
    );
    assert_eq!(c.threshold(Category::AuditLogs), None);
    assert!(toml::from_str::<RawLagConfig>("p95 = \"1h\"").is_err());
    let mut errors = Vec::new();
    assert_eq!(
        RawLagConfig::default().validate(&mut errors),
        LagConfig::default()
    );
    assert!(errors.is_empty());
}
