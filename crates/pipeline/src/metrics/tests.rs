//! Unit tests: the exposition format (escaping, histogram buckets, every line parses), the registry, the
//! config and the endpoint's routes.
#![allow(clippy::unwrap_used)]

use super::registry::Family;
use super::*;
use crate::config::ConfigError;

/// One parsed sample line: name, labels (unescaped), value.
type Sample = (String, Vec<(String, String)>, f64);

/// A strict parser of the text format 0.0.4 as the Prometheus server reads it: `# HELP`/`# TYPE` lines,
/// then `name{label="value",...} value` with only `\\`, `\"` and `\n` escapes in label values. Panics on
/// any line that does not parse.
fn parse(text: &str) -> (Vec<Sample>, Vec<(String, String)>) {
    let mut samples = Vec::new();
    let mut types = Vec::new();
    assert!(text.ends_with('\n'), "the text must end with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kw, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(valid_name(name), "bad metric name in {line:?}");
            match kw {
                "HELP" => {
                    let help = parts.next().unwrap_or("");
                    // Only `\\` and `\n` escapes in help text.
                    let mut chars = help.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            assert!(matches!(chars.next(), Some('\\' | 'n')), "{line:?}");
                        }
                    }
                }
                "TYPE" => {
                    let t = parts.next().unwrap();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "{line:?}"
                    );
                    assert!(
                        !types.iter().any(|(n, _)| n == name),
                        "TYPE twice for {name}"
                    );
                    types.push((name.to_owned(), t.to_owned()));
                }
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(valid_name(name), "bad metric name in {line:?}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices();
            loop {
                let (i, c) = chars.next().unwrap();
                if c == '}' {
                    rest = &body[i + 1..];
                    break;
                }
                if c == ',' {
                    continue;
                }
                let eq = body[i..].find('=').unwrap() + i;
                let lname = &body[i..eq];
                assert!(valid_name(lname) && !lname.contains(':'), "{line:?}");
                for _ in i..eq {
                    chars.next();
                }
                assert_eq!(chars.next().map(|x| x.1), Some('"'), "{line:?}");
                let mut value = String::new();
                loop {
                    let (_, c) = chars.next().unwrap();
                    match c {
                        '"' => break,
                        '\\' => match chars.next().unwrap().1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            other => panic!("bad escape \\{other} in {line:?}"),
                        },
                        '\n' => panic!("raw newline in {line:?}"),
                        c => value.push(c),
                    }
                }
                labels.push((lname.to_owned(), value));
            }
        }
        let value = rest.strip_prefix(' ').unwrap();
        let v = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value {v:?} in {line:?}")),
        };
        let family = types
            .iter()
            .rev()
            .find(|(n, _)| name.starts_with(n.as_str()))
            .unwrap_or_else(|| panic!("sample before its TYPE: {line:?}"));
        if family.1 != "histogram" {
            assert_eq!(family.0, name, "{line:?}");
        }
        samples.push((name.to_owned(), labels, v));
    }
    (samples, types)
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    assert_eq!(render::escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
    assert_eq!(render::escape_label("x\ny"), "x\\ny");
    assert_eq!(render::escape_help("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
    let f = Family::counter("t_total", "help with \\ and\nnewline", &["source"]);
    let hostile = "C:\\path\n\"quoted\"} 999\nfake_metric 1";
    f.add(&[hostile], 3);
    let text = render::families([&f]);
    // Exactly HELP, TYPE and one sample line: the newline cannot start a forged line.
    assert_eq!(text.lines().count(), 3, "{text}");
    let (samples, _) = parse(&text);
    assert_eq!(samples.len(), 1);
    assert_eq!(
        samples[0].1,
        vec![("source".to_owned(), hostile.to_owned())]
    );
    assert_eq!(samples[0].2, 3.0);
}

#[test]
fn histogram_buckets_are_cumulative_and_end_with_inf() {
    let f = Family::histogram("lag_seconds", "h", &["source"], &[1.0, 5.0, 60.0]);
    let h = f.histogram_of(&["g"]).unwrap();
    for v in [0.5, 1.0, 2.0, 4.0, 30.0, 100.0, 1000.0] {
        h.observe(v);
    }
    let text = render::families([&f]);
    let (samples, types) = parse(&text);
    assert_eq!(
        types,
        vec![("lag_seconds".to_owned(), "histogram".to_owned())]
    );
    let buckets: Vec<(String, f64)> = samples
        .iter()
        .filter(|s| s.0 == "lag_seconds_bucket")
        .map(|s| {
            let le = s.1.iter().find(|(n, _)| n == "le").unwrap().1.clone();
            (le, s.2)
        })
        .collect();
    // 1.0 lands in le=1 (upper bounds are inclusive).
    assert_eq!(
        buckets,
        vec![
            ("1".to_owned(), 2.0),
            ("5".to_owned(), 4.0),
            ("60".to_owned(), 5.0),
            ("+Inf".to_owned(), 7.0)
        ]
    );
    let get = |n: &str| samples.iter().find(|s| s.0 == n).unwrap().2;
    assert_eq!(get("lag_seconds_count"), 7.0);
    assert_eq!(get("lag_seconds_sum"), 1137.5);
    // Every bucket line carries the family's labels before `le`.
    assert!(
        text.contains("lag_seconds_bucket{source=\"g\",le=\"+Inf\"} 7\n"),
        "{text}"
    );
}

#[test]
fn values_format_as_prometheus_floats() {
    assert_eq!(render::format_value(f64::INFINITY), "+Inf");
    assert_eq!(render::format_value(f64::NEG_INFINITY), "-Inf");
    assert_eq!(render::format_value(f64::NAN), "NaN");
    assert_eq!(render::format_value(-0.25), "-0.25");
    assert_eq!(render::format_value(3.0), "3");
    assert_eq!(render::format_value(1e-9).parse::<f64>().unwrap(), 1e-9);
}

#[test]
fn a_full_registry_renders_parseable_text_with_help_and_type_for_every_family() {
    let m = Metrics::new();
    m.sink_meter("splunk").sent(10, 2048);
    m.sink_drained("splunk", Some(sinks::ErrorKind::Auth));
    m.alert_raised("detection", "High", 2);
    m.clock_checked(&crate::clock::ClockStatus {
        checked_at: "2026-01-01T00:00:00Z".into(),
        offset_ms: Some(-12.5),
        delay_ms: Some(1.0),
        server: Some("127.0.0.1:123".into()),
        max_offset_ms: 1000.0,
        ok: true,
        servers: Vec::new(),
    });
    let text = m.render();
    let (samples, types) = parse(&text);
    for name in [
        "entrail_build_info",
        "entrail_records_appended_total",
        "entrail_ingest_lag_seconds",
        "entrail_sink_blocked",
        "entrail_clock_offset_seconds",
        "entrail_alerts_raised_total",
    ] {
        assert!(types.iter().any(|(n, _)| n == name), "no TYPE for {name}");
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
    }
    let value = |name: &str, labels: &[(&str, &str)]| {
        samples
            .iter()
            .find(|s| {
                s.0 == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.1.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|s| s.2)
    };
    assert_eq!(
        value("entrail_sink_blocked", &[("sink", "splunk")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            "entrail_sink_errors_total",
            &[("sink", "splunk"), ("kind", "auth")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("entrail_sink_sent_bytes_total", &[("sink", "splunk")]),
        Some(2048.0)
    );
    assert_eq!(value("entrail_clock_offset_seconds", &[]), Some(-0.0125));
    assert_eq!(
        value(
            "entrail_alerts_raised_total",
            &[("origin", "detection"), ("severity", "High")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "entrail_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    // A later success unblocks; a transient error does not block.
    m.sink_drained("splunk", None);
    m.sink_drained("other", Some(sinks::ErrorKind::Transient));
    let (samples, _) = parse(&m.render());
    let blocked: Vec<f64> = samples
        .iter()
        .filter(|s| s.0 == "entrail_sink_blocked")
        .map(|s| s.2)
        .collect();
    assert_eq!(blocked, vec![0.0, 0.0]);
}

#[test]
fn quarantine_reasons_map_to_a_few_kinds() {
    assert_eq!(reason_kind("invalid UTF-8 at byte 12"), "invalid_utf8");
    assert_eq!(
        reason_kind("not json: expected value at line 1 column 1"),
        "not_json"
    );
    assert_eq!(
        reason_kind("no event time (looked at TimeGenerated)"),
        "event_time"
    );
    assert_eq!(reason_kind("not an object: 3"), "not_object");
    assert_eq!(reason_kind("record longer than 1048576 bytes"), "too_large");
    assert_eq!(reason_kind("something new"), "other");
}

fn config(listen: Option<&str>, allow_remote: bool) -> (Option<MetricsConfig>, Vec<ConfigError>) {
    let mut errors = Vec::new();
    let raw = RawMetricsConfig {
        listen: listen.map(str::to_owned),
        allow_remote,
    };
    (validate_config(&raw, &mut errors), errors)
}

#[test]
fn listen_must_be_loopback_unless_remote_is_allowed() {
    assert_eq!(config(None, false), (None, Vec::new()));
    let (c, e) = config(Some("127.0.0.1:9464"), false);
    assert_eq!(c.unwrap().listen.to_string(), "127.0.0.1:9464");
    assert!(e.is_empty());
    assert_eq!(config(Some("[::1]:0"), false).0.unwrap().listen.port(), 0);
    assert_eq!(
        config(Some("localhost:9464"), false)
            .0
            .unwrap()
            .listen
            .to_string(),
        "127.0.0.1:9464"
    );
    let (c, e) = config(Some("0.0.0.0:9464"), false);
    assert!(c.is_none());
    assert_eq!(e[0].path, "metrics.listen");
    assert!(e[0].message.contains("allow_remote"), "{}", e[0].message);
    assert!(config(Some("0.0.0.0:9464"), true).0.is_some());
    let (c, e) = config(Some("metrics.example.com:9464"), true);
    assert!(c.is_none() && e[0].message.contains("not ip:port"), "{e:?}");
    assert!(!config(Some("localhost:99999"), false).1.is_empty());
}

#[test]
fn the_metrics_table_is_parsed_from_the_config_file() {
    let c = crate::config::parse("[metrics]\nlisten = \"127.0.0.1:9464\"\n")
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(c.metrics.unwrap().listen.port(), 9464);
    let e = crate::config::parse("[metrics]\nlisten = \"10.0.0.1:9464\"\n")
        .unwrap()
        .validate()
        .unwrap_err();
    assert_eq!(e[0].path, "metrics.listen");
    assert!(crate::config::parse("[metrics]\nlisen = \"x\"\n").is_err());
}

#[test]
fn healthz_reports_blocked_sinks() {
    let m = Metrics::new();
    assert_eq!(m.health()["status"], "ok");
    m.sink_drained("hec", Some(sinks::ErrorKind::Fatal));
    let h = m.health();
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["blocked_sinks"][0], "hec");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
}
