//! Daily and weekly rhythm of people-driven activity, in the users' own time zones.

use chrono::{Datelike, TimeDelta, Timelike};

use super::{cfg, run};
use crate::Category;

#[test]
fn working_hours_beat_nights_and_weekdays_beat_weekends() {
    let c = cfg(300, 7, 9); // Monday 2024-03-04 .. Sunday 2024-03-10
    let r = run(&c, Some(&[Category::SignInLogs]));
    let mut by_hour = [0u64; 24];
    let mut weekday = 0u64;
    let mut weekend = 0u64;
    for ev in r
        .events
        .iter()
        .filter(|e| e.kind == crate::EventKind::Original)
    {
        let user = r
            .tenant
            .user_by_id(ev.graph["userId"].as_str().unwrap())
            .unwrap();
        let offset = r.tenant.cities()[user.home_city].utc_offset_min;
        let local = ev.time + TimeDelta::minutes(i64::from(offset));
        by_hour[local.hour() as usize] += 1;
        if local.weekday().number_from_monday() >= 6 {
            weekend += 1;
        } else {
            weekday += 1;
        }
    }
    let work: u64 = by_hour[9..17].iter().sum();
    let night: u64 = by_hour[0..5].iter().sum();
    let work_per_hour = work as f64 / 8.0;
    let night_per_hour = night as f64 / 5.0;
    assert!(night > 0, "a low night floor, not zero: {by_hour:?}");
    assert!(work_per_hour > 5.0 * night_per_hour, "{by_hour:?}");
    // Local days straddle the UTC window edges, so compare per-day averages loosely.
    assert!(
        weekday as f64 / 5.0 > 2.0 * (weekend as f64 / 2.0),
        "weekday {weekday}, weekend {weekend}"
    );
}

#[test]
fn automation_runs_around_the_clock() {
    let c = cfg(200, 1, 9);
    let r = run(&c, Some(&[Category::ManagedIdentitySignInLogs]));
    let mut by_hour = [0u64; 24];
    for ev in &r.events {
        by_hour[ev.time.hour() as usize] += 1;
    }
    assert!(by_hour.iter().all(|&n| n > 0), "{by_hour:?}");
}
