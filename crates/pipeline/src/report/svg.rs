//! Inline SVG charts for the HTML report, drawn here (no script, no library): stacked bars per day and a
//! timeline of points. Every text is escaped; every bar carries a `<title>` with its exact value.

use super::html::escape;
use std::fmt::Write;

/// Colours of the series, in order (repeated past the end; 32 covers every category).
pub(crate) const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
    "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#5254a3", "#bd9e39",
];

/// The colour of series `i`.
pub(crate) fn colour(i: usize) -> &'static str {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#888888")
}

/// One named series of values, one per day.
pub(crate) struct Series {
    /// Legend label.
    pub name: String,
    /// One value per day (same length as the days).
    pub values: Vec<f64>,
}

const WIDTH: f64 = 1100.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 15.0;
const BOTTOM: f64 = 45.0;

/// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= max {
            return m * p;
        }
    }
    10.0 * p
}

/// Stacked bars: one bar per day, one segment per series; `fmt` renders a value for the axis and titles.
pub(crate) fn stacked_bars(
    id: &str,
    days: &[String],
    series: &[Series],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let totals: Vec<f64> = (0..days.len())
        .map(|d| {
            series
                .iter()
                .map(|s| s.values.get(d).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let top = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">"#,
        escape(id)
    );
    // Axis and grid lines with labels.
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="axis">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&fmt(v))
        );
    }
    let label_every = (days.len() / 12).max(1);
    for (d, day) in days.iter().enumerate() {
        let x = LEFT + slot * d as f64 + (slot - bar_w) / 2.0;
        let mut y = TOP + plot_h;
        for (i, se) in series.iter().enumerate() {
            let v = se.values.get(d).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let h = plot_h * v / top;
            y -= h;
            let _ = write!(
                s,
                r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.2}" fill="{}"><title>{} {}: {}</title></rect>"#,
                colour(i),
                escape(day),
                escape(&se.name),
                escape(&fmt(v))
            );
        }
        if d % label_every == 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text>"#,
                x + bar_w / 2.0,
                TOP + plot_h + 16.0,
                escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333333"/></svg>"##,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    s.push_str(&legend(series.iter().map(|x| x.name.as_str())));
    s
}

/// The legend of a chart: a swatch and a name per series.
pub(crate) fn legend<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut s = String::from(r#"<div class="legend">"#);
    for (i, n) in names.enumerate() {
        let _ = write!(
            s,
            r#"<span><i style="background:{}"></i>{}</span>"#,
            colour(i),
            escape(n)
        );
    }
    s.push_str("</div>");
    s
}

/// One point of a timeline.
pub(crate) struct Point {
    /// Time, milliseconds since the epoch.
    pub time_ms: i64,
    /// Lane (0 at the bottom).
    pub lane: usize,
    /// Tooltip.
    pub label: String,
}

/// Points over `[from_ms, to_ms)` in named lanes (bottom to top), each lane its own colour.
pub(crate) fn timeline(
    id: &str,
    from_ms: i64,
    to_ms: i64,
    lanes: &[&str],
    points: &[Point],
    lane_colour: &dyn Fn(usize) -> &'static str,
) -> String {
    let height = TOP + BOTTOM + 34.0 * lanes.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let span = (to_ms - from_ms).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">"#,
        escape(id)
    );
    for (i, name) in lanes.iter().enumerate() {
        let y = height - BOTTOM - 34.0 * i as f64 - 17.0;
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eeeeee"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="axis">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(name)
        );
    }
    for i in 0..=4 {
        let t = from_ms + ((to_ms - from_ms) as f64 * f64::from(i) / 4.0) as i64;
        let x = LEFT + plot_w * f64::from(i) / 4.0;
        let label = model::format_micros(t.saturating_mul(1000));
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text>"#,
            height - BOTTOM + 18.0,
            escape(label.get(..16).unwrap_or(&label))
        );
    }
    for p in points {
        let x = LEFT + plot_w * ((p.time_ms - from_ms) as f64 / span).clamp(0.0, 1.0);
        let y = height - BOTTOM - 34.0 * p.lane as f64 - 17.0;
        let _ = write!(
            s,
            r#"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="6" fill="{}" fill-opacity="0.75"><title>{}</title></circle>"#,
            lane_colour(p.lane),
            escape(&p.label)
        );
    }
    s.push_str("</svg>");
    s
}
