//! The Prometheus text exposition format, version 0.0.4: per family a `# HELP` and a `# TYPE` line, then
//! one line per sample, `name{label="value",...} value`. Help text escapes `\` and newline; label values
//! escape `\`, `"` and newline. Histograms expose `_bucket{le="..."}` (cumulative, ending with
//! `le="+Inf"`), `_sum` and `_count`.

use super::registry::{Family, Kind, Value};
use std::fmt::Write;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a `# HELP` text: `\` and newline.
pub fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Escapes a label value: `\`, `"` and newline.
pub fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as Go's `ParseFloat` reads it: `+Inf`, `-Inf`, `NaN`, or the shortest decimal that
/// round-trips (Rust's `Display` for `f64` never uses an exponent).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// `{a="x",b="y"}` (empty when there are no labels); `extra` is appended last (the histogram's `le`).
fn label_set(names: &[&str], values: &[String], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape_label(v)))
        .collect();
    if let Some((n, v)) = extra {
        parts.push(format!("{n}=\"{}\"", escape_label(v)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Appends one family (HELP, TYPE, samples) to `out`.
pub fn family(out: &mut String, f: &Family) {
    let kind = f.kind();
    let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
    let _ = writeln!(out, "# TYPE {} {}", f.name, kind.as_str());
    for (values, value) in f.samples() {
        match value {
            Value::Counter(n) => {
                let _ = writeln!(out, "{}{} {n}", f.name, label_set(f.labels, &values, None));
            }
            Value::Gauge(g) => {
                let labels = label_set(f.labels, &values, None);
                let _ = writeln!(out, "{}{labels} {}", f.name, format_value(g));
            }
            Value::Histogram {
                buckets,
                sum,
                count,
            } => {
                debug_assert_eq!(kind, Kind::Histogram);
                for (bound, n) in buckets {
                    let le = format_value(bound);
                    let labels = label_set(f.labels, &values, Some(("le", &le)));
                    let _ = writeln!(out, "{}_bucket{labels} {n}", f.name);
                }
                let labels = label_set(f.labels, &values, None);
                let _ = writeln!(out, "{}_sum{labels} {}", f.name, format_value(sum));
                let _ = writeln!(out, "{}_count{labels} {count}", f.name);
            }
        }
    }
}

/// Renders families in order.
pub fn families<'a>(list: impl IntoIterator<Item = &'a Family>) -> String {
    let mut out = String::new();
    for f in list {
        family(&mut out, f);
    }
    out
}
