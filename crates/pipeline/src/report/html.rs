//! The self-contained HTML report: inline CSS and inline SVG (no script, nothing fetched), every string
//! escaped. Sections: summary, coverage matrix, volume per category over time, ingest lag, alerts timeline,
//! sink volume and cost.

use super::page::{CoverageMatrix, CoverageSource};
use super::svg::{self, Point, Series};
use super::volume::VolumeReport;
use crate::lag::LagStatus;
use chrono::{DateTime, Utc};
use detect::alert::Alert;
use std::fmt::Write;

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct HtmlInput {
    /// Page title.
    pub title: String,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// Volume and cost.
    pub volume: VolumeReport,
    /// Coverage.
    pub coverage: CoverageMatrix,
    /// Ingest lag per source and category (`crate::lag`'s last snapshot; empty: none recorded).
    pub lag: Vec<LagStatus>,
    /// Alerts in the window, newest first.
    pub alerts: Vec<Alert>,
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Human-readable bytes (`1.5 MiB`).
pub(crate) fn bytes(n: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", units.get(u).copied().unwrap_or("B"))
    }
}

/// A count with thousands separators.
pub(crate) fn count(n: f64) -> String {
    let whole = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A lag in the largest fitting unit (`45 s`, `12 min`, `5.2 h`, `3.1 d`).
fn duration(secs: f64) -> String {
    match secs {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7_200.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3_600.0),
        s => format!("{:.1} d", s / 86_400.0),
    }
}

/// Milliseconds as `2024-03-05 19:41:41Z` (seconds are enough on the page).
fn time_ms(ms: i64) -> String {
    let t = model::format_micros(ms.saturating_mul(1000));
    t.get(..19)
        .map_or_else(|| t.clone(), |s| format!("{}Z", s.replacen('T', " ", 1)))
}

/// Most alerts listed in the table (the timeline shows every one).
const MAX_ALERT_ROWS: usize = 500;

fn money(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #4e79a7;padding-bottom:4px}\
.meta{color:#666;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\
.card{background:#f3f6fa;border-left:4px solid #4e79a7;padding:8px 14px;min-width:150px}.card b{display:block;font-size:20px}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.v-pass,.v-receiving{background:#d9f2d9}.v-missing,.v-silent{background:#f9d6d5}.v-not_licensed,.v-never_received{background:#eeeeee}\
.legend{font-size:12px;margin:4px 0 8px 80px}.legend span{margin-right:14px;white-space:nowrap}\
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:middle}\
svg .axis{font-size:11px;fill:#555}.none{color:#777;font-style:italic}";

/// Renders the page.
pub fn render(input: &HtmlInput) -> String {
    let v = &input.volume;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        escape(&input.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><div class=\"meta\">{} to {} ({} days, UTC, by event time) &middot; generated {}</div>",
        escape(&input.title),
        v.window.first_day,
        v.window.last_day,
        v.days,
        input
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let t = &v.totals;
    let _ = write!(
        h,
        "<div class=\"cards\"><div class=\"card\">records<b>{}</b></div><div class=\"card\">raw bytes<b>{}</b></div>\
         <div class=\"card\">archive bytes<b>{}</b></div><div class=\"card\">sent to sinks<b>{}</b></div>\
         <div class=\"card\">sink cost / month<b>{:.2}</b></div><div class=\"card\">filters save / month<b>{:.2}</b></div>\
         <div class=\"card\">alerts<b>{}</b></div></div>",
        count(t.records as f64),
        bytes(t.raw_bytes as f64),
        bytes(t.archive_bytes as f64),
        bytes(t.sent_bytes as f64),
        t.monthly_cost,
        t.monthly_savings,
        input.alerts.len()
    );
    coverage(&mut h, &input.coverage);
    volume(&mut h, v);
    lag(&mut h, &input.lag);
    alerts(&mut h, input);
    sinks(&mut h, v);
    h.push_str("</body></html>\n");
    h
}

fn coverage(h: &mut String, m: &CoverageMatrix) {
    h.push_str("<h2 id=\"coverage\">Coverage</h2>");
    match &m.source {
        CoverageSource::Saved { path, at } => {
            let _ = write!(
                h,
                "<p class=\"meta\">From the last <code>entrail coverage</code> check ({}), saved in {}.</p>",
                escape(at),
                escape(&path.display().to_string())
            );
        }
        CoverageSource::Offline => h.push_str(
            "<p class=\"meta\">Computed from what entrail received; diagnostic settings were not read \
             (save <code>entrail coverage --json</code> as <code>coverage.json</code> in the data directory to show them).</p>",
        ),
    }
    h.push_str("<table><tr><th>scope</th><th>category</th><th>requirement</th><th>exported to</th><th>records</th><th>last received</th><th>rate/day</th><th>verdict</th><th>reason</th></tr>");
    for r in &m.rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"v-{}\">{}</td><td>{}</td></tr>",
            escape(&r.scope),
            escape(&r.category),
            escape(&r.requirement),
            escape(&r.exported_to),
            count(r.records as f64),
            escape(r.last_received.as_deref().unwrap_or("never")),
            r.rate_per_day.map_or_else(|| "-".to_owned(), count),
            escape(&r.verdict),
            escape(&r.verdict),
            escape(&r.reason)
        );
    }
    h.push_str("</table>");
}

fn volume(h: &mut String, v: &VolumeReport) {
    h.push_str("<h2 id=\"volume\">Volume per category</h2>");
    if v.categories.is_empty() {
        h.push_str("<p class=\"none\">No archived records in this window.</p>");
        return;
    }
    let days = v.window.day_list();
    let per_day = |f: &dyn Fn(&super::CategoryDay) -> u64| -> Vec<Series> {
        v.categories
            .iter()
            .map(|c| Series {
                name: c.category.clone(),
                values: days
                    .iter()
                    .map(|d| {
                        c.days
                            .iter()
                            .find(|x| &x.day == d)
                            .map_or(0.0, |x| f(x) as f64)
                    })
                    .collect(),
            })
            .collect()
    };
    h.push_str("<h3>Records per day</h3>");
    h.push_str(&svg::stacked_bars(
        "chart-records",
        &days,
        &per_day(&|d| d.records),
        &count,
    ));
    h.push_str("<h3>Raw bytes per day</h3>");
    h.push_str(&svg::stacked_bars(
        "chart-raw-bytes",
        &days,
        &per_day(&|d| d.raw_bytes),
        &bytes,
    ));
    h.push_str("<table><tr><th>category</th><th>table</th><th>records</th><th>records/day</th><th>raw bytes</th><th>raw/day</th><th>archive bytes</th><th>archive/day</th><th>archive/raw</th></tr>");
    for c in &v.categories {
        let ratio = if c.raw_bytes > 0 {
            format!(
                "{:.1} %",
                100.0 * c.archive_bytes as f64 / c.raw_bytes as f64
            )
        } else {
            "-".to_owned()
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&c.category),
            escape(&c.table),
            count(c.records as f64),
            count(c.records_per_day),
            bytes(c.raw_bytes as f64),
            bytes(c.raw_bytes_per_day),
            bytes(c.archive_bytes as f64),
            bytes(c.archive_bytes_per_day),
            ratio
        );
    }
    h.push_str("</table>");
}

fn lag(h: &mut String, rows: &[LagStatus]) {
    h.push_str("<h2 id=\"lag\">Ingest lag</h2>");
    if rows.is_empty() {
        h.push_str(
            "<p class=\"none\">No lag data (measured by <code>entrail run</code> for continuous sources; imports are not measured).</p>",
        );
        return;
    }
    h.push_str("<p class=\"meta\">Received minus event time over each pair's sliding window, as of the last snapshot.</p>");
    h.push_str("<table><tr><th>source</th><th>category</th><th>records</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>future</th><th>state</th><th>at</th></tr>");
    for r in rows {
        let state = match (r.lagging, r.future_alert) {
            (true, true) => "lagging, future timestamps",
            (true, false) => "lagging",
            (false, true) => "future timestamps",
            (false, false) => "ok",
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.source),
            escape(&r.category),
            count(r.records as f64),
            duration(r.p50_s),
            duration(r.p95_s),
            duration(r.p99_s),
            duration(r.max_s),
            r.future,
            state,
            escape(&r.at)
        );
    }
    h.push_str("</table>");
}

const SEVERITIES: &[&str] = &[
    "other",
    "informational",
    "low",
    "medium",
    "high",
    "critical",
];
const SEVERITY_COLOURS: &[&str] = &[
    "#999999", "#76b7b2", "#59a14f", "#edc948", "#f28e2b", "#e15759",
];

fn alerts(h: &mut String, input: &HtmlInput) {
    h.push_str("<h2 id=\"alerts\">Alerts</h2>");
    if input.alerts.is_empty() {
        h.push_str("<p class=\"none\">No alerts in this window.</p>");
        return;
    }
    let w = &input.volume.window;
    let from_ms = w
        .first_day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let to_ms = from_ms + i64::from(w.days()) * 86_400_000;
    let lane = |a: &Alert| usize::from(a.severity_id).min(SEVERITIES.len() - 1);
    let points: Vec<Point> = input
        .alerts
        .iter()
        .map(|a| Point {
            time_ms: a.finding_info.first_seen_time,
            lane: lane(a),
            label: format!(
                "{} [{}] {}",
                time_ms(a.finding_info.first_seen_time),
                a.severity,
                a.finding_info.title
            ),
        })
        .collect();
    h.push_str(&svg::timeline(
        "chart-alerts",
        from_ms,
        to_ms,
        SEVERITIES,
        &points,
        &|i| SEVERITY_COLOURS.get(i).copied().unwrap_or("#999999"),
    ));
    h.push_str("<table><tr><th>first seen</th><th>last seen</th><th>severity</th><th>title</th><th>entity</th><th>users</th><th>count</th></tr>");
    for a in input.alerts.iter().take(MAX_ALERT_ROWS) {
        let users: Vec<&str> = a.entities("user").collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&time_ms(a.finding_info.first_seen_time)),
            escape(&time_ms(a.finding_info.last_seen_time)),
            escape(&a.severity),
            escape(&a.finding_info.title),
            escape(&a.unmapped.entity),
            escape(&users.join(", ")),
            a.count
        );
    }
    h.push_str("</table>");
    if input.alerts.len() > MAX_ALERT_ROWS {
        let _ = write!(
            h,
            "<p class=\"meta\">The newest {MAX_ALERT_ROWS} of {} alerts are listed (<code>entrail alerts list</code> shows all).</p>",
            input.alerts.len()
        );
    }
}

fn sinks(h: &mut String, v: &VolumeReport) {
    h.push_str("<h2 id=\"sinks\">Sink volume and cost</h2>");
    if v.sinks.is_empty() {
        h.push_str("<p class=\"none\">No sink traffic recorded in this window.</p>");
    } else {
        let days = v.window.day_list();
        let mut series = Vec::new();
        for s in &v.sinks {
            for (label, f) in [
                (
                    "sent",
                    (|t: &crate::routes::volume::DayVolume| t.sent_bytes)
                        as fn(&crate::routes::volume::DayVolume) -> u64,
                ),
                ("filtered out", |t: &crate::routes::volume::DayVolume| {
                    t.filtered_bytes
                }),
            ] {
                series.push(Series {
                    name: format!("{} {label}", s.sink),
                    values: days
                        .iter()
                        .map(|d| {
                            s.days
                                .iter()
                                .find(|x| &x.day == d)
                                .map_or(0.0, |x| f(&x.traffic) as f64)
                        })
                        .collect(),
                });
            }
        }
        h.push_str("<h3>Bytes per day</h3>");
        h.push_str(&svg::stacked_bars("chart-sinks", &days, &series, &bytes));
        h.push_str("<table><tr><th>sink</th><th>sent records</th><th>sent bytes</th><th>filtered records</th><th>filtered bytes</th><th>sent/month</th><th>price/GB</th><th>cost/month</th><th>filter saves/month</th></tr>");
        for s in &v.sinks {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.3} GB</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&s.sink),
                count(s.total.sent_records as f64),
                bytes(s.total.sent_bytes as f64),
                count(s.total.filtered_records as f64),
                bytes(s.total.filtered_bytes as f64),
                s.monthly_sent_bytes / super::BYTES_PER_GB,
                money(s.price_per_gb),
                money(s.monthly_cost),
                money(s.monthly_savings)
            );
        }
        h.push_str("</table>");
    }
    if !v.unmatched_prices.is_empty() {
        let _ = write!(
            h,
            "<p class=\"meta\">Priced sinks without traffic in this window: {}.</p>",
            escape(&v.unmatched_prices.join(", "))
        );
    }
    h.push_str(
        "<p class=\"meta\">A month is 30 days; a GB is 10<sup>9</sup> bytes; figures are projected from the window's daily average.</p>",
    );
}
