//! `entrail silence` over archives of ten simulated days. By event time (`--event-time`, history imported in
//! one go): a normal last day is quiet (exit 0), a category that stopped in the last day is reported silent with
//! when it stopped (exit 1). By ingest time (the default), over an archive whose records were received three
//! hours after their event time: a category that stops arriving is silent since it stopped *arriving* (event
//! time would put it three hours earlier), and a night's lull or a weekend is not a silence.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use testkit::cli::Entrail;

const ENTRAIL: Entrail = testkit::entrail!();

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

fn silence(stop: Option<i64>) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("days.json");
    let end = write_days(&file, stop);
    let data = dir.path().join("data");
    let out = ENTRAIL.run_data(&data, &["import", "--quiet", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Judged on a weekday afternoon: the generated window ends on Thursday 00:00, look at Wednesday 16:00.
    let at = (end - chrono::TimeDelta::hours(8)).to_rfc3339();
    let out = ENTRAIL.run_data(
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

/// Records are received this long after their event time (a source whose batches are held back).
const LAG_H: i64 = 3;

/// Ten days of sign-ins and non-interactive sign-ins put into an archive through the pipeline (so that
/// `_IngestTime` is the event time plus [`LAG_H`] hours and a few seconds), as a live collector would have
/// stored them; SignInLogs received at or after `stop` never arrive. Returns the tenant's configuration and
/// the records received per (category, ingest hour).
fn received_days(
    data: &Path,
    stop: Option<chrono::DateTime<chrono::Utc>>,
) -> (
    sim::TenantConfig,
    std::collections::BTreeMap<(String, i64), u64>,
) {
    let cfg = sim::TenantConfig {
        users: 40,
        days: 10,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let config = format!(
        "data_dir = {:?}\n[integrity]\nenabled = false\n",
        data.display().to_string()
    );
    let mut p = pipeline::Pipeline::open(
        pipeline::config::parse(&config)
            .unwrap()
            .validate()
            .unwrap(),
    )
    .unwrap();
    let mut per_hour = std::collections::BTreeMap::new();
    let mut batch = Vec::new();
    for (i, e) in sim::Generator::new(&tenant, &cfg)
        .with_category_names(&["SignInLogs", "NonInteractiveUserSignInLogs"])
        .with_truth(false)
        .enumerate()
    {
        let received =
            e.time + chrono::TimeDelta::hours(LAG_H) + chrono::TimeDelta::seconds((i % 90) as i64);
        if e.category == "SignInLogs" && stop.is_some_and(|s| received >= s) {
            continue;
        }
        let Some(v) = sim::render(&e, sim::Shape::Diagnostic, true, &tenant) else {
            continue;
        };
        let cx = model::normalize::DecodeContext {
            source: "eventhub".into(),
            location: "test".into(),
            ingest_time: received.timestamp_micros(),
            category: None,
            shape: Some(model::Shape::Diagnostic),
        };
        batch.extend(model::normalize::decode_record(&v.to_string(), &cx).unwrap());
        *per_hour
            .entry((e.category.to_string(), received.timestamp() / 3600))
            .or_default() += 1;
        if batch.len() >= 4096 {
            p.ingest(std::mem::take(&mut batch), Vec::new()).unwrap();
        }
    }
    p.ingest(batch, Vec::new()).unwrap();
    p.archive().unwrap();
    (cfg, per_hour)
}

/// `entrail silence --json` by ingest time (the default), or by event time, judged at `at`.
fn judge(
    data: &Path,
    at: chrono::DateTime<chrono::Utc>,
    event_time: bool,
) -> (Option<i32>, serde_json::Value) {
    let at = at.to_rfc3339();
    let mut args = vec!["silence", "--json", "--at", &at, "--history", "10d"];
    if event_time {
        args.push("--event-time");
    }
    let out = ENTRAIL.run_data(data, &args);
    let rows = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), rows)
}

fn since(row: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    let e = row["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "stopped")
        .unwrap_or_else(|| panic!("no stop in {row:#}"));
    chrono::DateTime::parse_from_rfc3339(e["since"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// Records of `category` received in the `hours` hours before `until`.
fn received(
    per_hour: &std::collections::BTreeMap<(String, i64), u64>,
    category: &str,
    until: chrono::DateTime<chrono::Utc>,
    hours: i64,
) -> u64 {
    let h = until.timestamp() / 3600;
    (h - hours..h)
        .map(|h| {
            per_hour
                .get(&(category.to_owned(), h))
                .copied()
                .unwrap_or(0)
        })
        .sum()
}

/// One archive for both verdicts (building it is the slow part): SignInLogs stop arriving on Wednesday
/// 2024-03-13 at 20:00; before that, the days are normal.
#[test]
fn by_ingest_time_a_stop_is_silent_since_it_stopped_arriving_and_lulls_are_not_silences() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The generated window is Monday 2024-03-04 .. Thursday 2024-03-14 00:00 (event time; received until
    // 03:00). The tenant's sign-ins arrive mostly between 15:00 and 01:00 (received). SignInLogs stop
    // arriving on Wednesday at 20:00 (their last event time is then 17:00).
    let end = sim::TenantConfig::default().start + chrono::TimeDelta::days(10);
    let stop = end - chrono::TimeDelta::hours(4);
    let (cfg, per_hour) = received_days(&data, Some(stop));

    // Lulls, judged before the stop: not silences.
    let day = |d: i64, h: i64| cfg.start + chrono::TimeDelta::days(d) + chrono::TimeDelta::hours(h);
    for (at, busy) in [
        // Wednesday 10:00 (received): the night's lull, against Tuesday evening.
        (day(9, 10), day(8, 22)),
        // Saturday 20:00: a weekend afternoon, against Friday's (the first weekend in the history).
        (day(5, 20), day(4, 20)),
    ] {
        // The lull is real: the four hours before the verdict brought a third of a busy span at most.
        let quiet = received(&per_hour, "SignInLogs", at, 4);
        let normal = received(&per_hour, "SignInLogs", busy, 4);
        assert!(
            quiet * 3 <= normal,
            "{at}: {quiet} received in the 4 h before, {normal} before {busy}"
        );
        let (code, rows) = judge(&data, at, false);
        assert_eq!(code, Some(0), "{at}: {rows:#}");
        for c in ["SignInLogs", "NonInteractiveUserSignInLogs"] {
            let r = row(&rows, c);
            assert_eq!(r["silent"], false, "{at}: {r:#}");
            assert!(r["observed_24h"].as_u64().unwrap() > 0, "{at}: {r:#}");
        }
    }

    // The stop, judged at midnight.
    let before = received(&per_hour, "SignInLogs", stop, 4);
    assert!(
        before >= 40,
        "they arrived briskly before the stop: {before}"
    );
    assert_eq!(received(&per_hour, "SignInLogs", end, 4), 0);
    let (code, rows) = judge(&data, end, false);
    assert_eq!(code, Some(1), "{rows:#}");
    let s = row(&rows, "SignInLogs");
    assert_eq!(s["silent"], true, "{s:#}");
    assert_eq!(s["source"], "eventhub");
    // Silent since it stopped arriving (20:00, or within two hours: the window needs 20 expected records),
    // not since its last event time.
    let since_ingest = since(s);
    assert!(
        since_ingest >= stop && since_ingest <= stop + chrono::TimeDelta::hours(2),
        "stopped since {since_ingest}, stopped arriving at {stop}: {s:#}"
    );
    assert_eq!(row(&rows, "NonInteractiveUserSignInLogs")["silent"], false);

    // By event time the same archive stops three hours earlier: the default is the ingest basis.
    let (code, rows) = judge(&data, end, true);
    assert_eq!(code, Some(1), "{rows:#}");
    let since_event = since(row(&rows, "SignInLogs"));
    assert!(
        since_event < stop - chrono::TimeDelta::hours(1),
        "by event time the stop is at {since_event}, before {stop}"
    );
}
