//! Unit tests of the parallel JSON-lines decoder.

#![allow(clippy::unwrap_used)]

use super::*;

/// Diagnostic-shape records of a small simulated tenant (sign-ins, audits, risk), one JSON text each.
fn lines(n: usize) -> Vec<String> {
    let cfg = sim::TenantConfig {
        days: 1,
        users: 50,
        quirks: true,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    sim::Generator::new(&tenant, &cfg)
        .with_categories(&[
            sim::Category::SignInLogs,
            sim::Category::NonInteractiveUserSignInLogs,
            sim::Category::AuditLogs,
            sim::Category::UserRiskEvents,
        ])
        .with_truth(false)
        .filter_map(|ev| sim::render(&ev, sim::Shape::Diagnostic, true, &tenant))
        .map(|v| v.to_string())
        .take(n)
        .collect()
}

fn input(n: usize, bad_every: usize) -> Vec<u8> {
    let mut s = String::new();
    for (i, l) in lines(n).iter().enumerate() {
        if bad_every > 0 && i % bad_every == 7 {
            s.push_str("{not json\n");
        }
        s.push_str(l);
        s.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
        if i % 11 == 0 {
            s.push('\n');
        }
    }
    s.into_bytes()
}

fn sequential(data: &[u8]) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut bad = 0;
    for item in decode_stream(data, Format::JsonLines, DecodeContext::default()) {
        match item {
            Ok(r) => keys.push(r.key),
            Err(_) => bad += 1,
        }
    }
    (keys, bad)
}

fn parallel(data: &[u8], workers: usize, block: usize) -> (Vec<String>, usize, u64) {
    let mut keys = Vec::new();
    let mut bad = 0;
    let mut bytes = 0;
    decode_json_lines(data, &DecodeContext::default(), workers, block, |d| {
        keys.extend(d.records.into_iter().map(|r| r.key));
        bad += d.rejected.len();
        bytes += d.bytes;
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    (keys, bad, bytes)
}

#[test]
fn parallel_decoding_yields_the_sequential_records_in_order() {
    let data = input(3_000, 97);
    let (want, want_bad) = sequential(&data);
    assert!(want.len() >= 2_000, "{} records", want.len());
    assert!(want_bad > 20);
    for (workers, block) in [(1, 1 << 20), (2, 4096), (3, 1000), (2, 1)] {
        let (keys, bad, bytes) = parallel(&data, workers, block);
        assert_eq!(keys, want, "{workers} workers, {block}-byte blocks");
        assert_eq!(bad, want_bad);
        assert_eq!(bytes, data.len() as u64);
    }
}

#[test]
fn a_last_line_without_a_line_end_is_decoded() {
    let mut data = input(10, 0);
    data.extend_from_slice(lines(11)[10].as_bytes());
    let (keys, bad, _) = parallel(&data, 2, 300);
    assert_eq!(keys.len(), 11);
    assert_eq!(bad, 0);
    assert_eq!(keys, sequential(&data).0);
}

#[test]
fn an_error_from_the_caller_stops_the_scan() {
    let data = input(2_000, 0);
    let mut calls = 0;
    let r = decode_json_lines(&data[..], &DecodeContext::default(), 2, 2048, |_| {
        calls += 1;
        if calls == 3 { Err("stop") } else { Ok(()) }
    })
    .unwrap();
    assert_eq!(r, Err("stop"));
    assert_eq!(calls, 3);
}
