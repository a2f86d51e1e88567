//! Silence detection over the simulated tenant's rhythm (office hours, lunch dip, quiet nights and weekends,
//! automation around the clock): three weeks of generated records per category, counted by the hour they
//! were received; the first two teach the baseline, the third is checked hour by hour.
#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::OnceLock;

const CATEGORIES: &[&str] = &[
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "AuditLogs",
];

struct Weeks {
    counts: BTreeMap<&'static str, HourlyCounts>,
    /// First hour of the generated window (Monday 00:00 UTC).
    start: i64,
}

/// Three weeks of a 60-user tenant starting on a Monday, generated once for all tests.
fn weeks() -> &'static Weeks {
    static W: OnceLock<Weeks> = OnceLock::new();
    W.get_or_init(|| {
        let cfg = sim::TenantConfig {
            users: 60,
            days: 21,
            ..sim::TenantConfig::default()
        };
        let tenant = sim::Tenant::new(&cfg);
        let mut counts: BTreeMap<&'static str, HourlyCounts> = BTreeMap::new();
        for e in sim::Generator::new(&tenant, &cfg)
            .with_category_names(CATEGORIES)
            .with_truth(false)
        {
            *counts
                .entry(e.category)
                .or_default()
                .entry(hour_of(e.received))
                .or_default() += 1;
        }
        let start = hour_of(cfg.start);
        assert_eq!(hour_of_week(start), 0, "the window starts on a Monday");
        Weeks { counts, start }
    })
}

fn baseline(w: &Weeks, cat: &str) -> Baseline {
    Baseline::learn(&w.counts[cat], w.start, w.start + 14 * 24)
}

/// Checks every hour of week 3 (against `counts`) and returns the events with their hour.
fn run_week3(w: &Weeks, cat: &str, counts: &HourlyCounts) -> Vec<(i64, SilenceEvent)> {
    let b = baseline(w, cat);
    let mut d = SilenceDetector::new(SilenceConfig::default());
    let week3 = w.start + 14 * 24;
    (week3 + 1..=week3 + 7 * 24)
        .filter_map(|h| d.check(cat, counts, &b, h).map(|e| (h, e)))
        .collect()
}

#[test]
fn a_normal_week_with_nights_and_weekends_raises_nothing() {
    let w = weeks();
    for cat in CATEGORIES {
        let counts = &w.counts[cat];
        let week3: u64 = (w.start + 14 * 24..w.start + 21 * 24)
            .map(|h| counts.get(&h).copied().unwrap_or(0))
            .sum();
        assert!(
            week3 > 200,
            "{cat}: {week3} records in week 3 is too few to test with"
        );
        let events = run_week3(w, cat, counts);
        assert!(events.is_empty(), "{cat}: false alarms {events:#?}");
    }
    // The rhythm is real: weekday middays far above Sunday nights.
    let b = baseline(w, "SignInLogs");
    let wed_noon = w.start + 14 * 24 + 2 * 24 + 12;
    let sun_3am = w.start + 14 * 24 + 6 * 24 + 3;
    assert!(b.expected(wed_noon) > 5.0 * b.expected(sun_3am).max(0.1));
}

/// Stops `cat` from hour `stop` on (and brings it back from `back`, when given).
fn stopped(w: &Weeks, cat: &str, stop: i64, back: Option<i64>) -> HourlyCounts {
    w.counts[cat]
        .iter()
        .filter(|(h, _)| **h < stop || back.is_some_and(|b| **h >= b))
        .map(|(h, n)| (*h, *n))
        .collect()
}

#[test]
fn a_stop_in_office_hours_fires_within_two_hours_and_recovery_is_reported() {
    let w = weeks();
    let stop = w.start + 14 * 24 + 2 * 24 + 10; // Wednesday 10:00 of week 3
    let back = stop + 30;
    for cat in ["SignInLogs", "NonInteractiveUserSignInLogs"] {
        let events = run_week3(w, cat, &stopped(w, cat, stop, Some(back)));
        let (fired, first) = events
            .first()
            .unwrap_or_else(|| panic!("{cat}: never fired"));
        assert!(matches!(first, SilenceEvent::Stopped { .. }), "{first:?}");
        assert!(
            *fired > stop && *fired <= stop + 2,
            "{cat}: fired {}h after the stop",
            fired - stop
        );
        let resumed = events
            .iter()
            .find(|(_, e)| matches!(e, SilenceEvent::Resumed { .. }))
            .unwrap_or_else(|| panic!("{cat}: no recovery in {events:#?}"));
        assert!(
            resumed.0 > back && resumed.0 <= back + 3,
            "{cat}: resumed at +{}h",
            resumed.0 - back
        );
        assert_eq!(events.len(), 2, "{events:#?}");
    }
}

#[test]
fn a_stop_on_a_quiet_weekend_night_fires_once_evidence_suffices() {
    let w = weeks();
    let stop = w.start + 14 * 24 + 5 * 24 + 1; // Saturday 01:00 of week 3
    let cat = "SignInLogs";
    let b = baseline(w, cat);
    let events = run_week3(w, cat, &stopped(w, cat, stop, None));
    let (fired, e) = events.first().expect("never fired");
    assert!(matches!(e, SilenceEvent::Stopped { .. }), "{e:?}");
    // It waits until the expected volume since the stop reaches min_expected, and no longer than one hour more.
    let mut expected = 0.0;
    let mut due = stop;
    while expected < SilenceConfig::default().min_expected {
        expected += b.expected(due);
        due += 1;
    }
    assert!(
        *fired <= due + 1,
        "fired at +{}h, due at +{}h",
        fired - stop,
        due - stop
    );
    assert!(*fired - stop <= 24);
}

#[test]
fn a_drop_to_a_trickle_is_a_drop() {
    let w = weeks();
    let cat = "SignInLogs";
    let stop = w.start + 14 * 24 + 24 + 9; // Tuesday 09:00
    let mut counts = w.counts[cat].clone();
    for (h, n) in counts.iter_mut() {
        if *h >= stop {
            *n /= 40;
        }
    }
    let events = run_week3(w, cat, &counts);
    let (fired, e) = events.first().expect("never fired");
    assert!(*fired <= stop + 3, "fired after {}h", fired - stop);
    assert!(
        matches!(e, SilenceEvent::Dropped { observed, .. } if *observed > 0)
            || matches!(e, SilenceEvent::Stopped { .. }),
        "{e:?}"
    );
}

#[test]
fn a_configured_rate_replaces_history() {
    let mut d = SilenceDetector::new(SilenceConfig::default());
    let counts: HourlyCounts = (0..10).map(|h| (h, 12)).collect();
    assert_eq!(d.check("k", &counts, &Baseline::Fixed(12.0), 10), None);
    assert!(!d.is_silent("k"));
    // Two empty hours at 12/h: 24 expected, nothing came.
    assert!(matches!(
        d.check("k", &counts, &Baseline::Fixed(12.0), 12),
        Some(SilenceEvent::Stopped { .. })
    ));
    assert!(d.is_silent("k"));
}
