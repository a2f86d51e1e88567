//! Streams: every simulator writer's framing (JSON lines, Event Hubs bodies, arrays, pretty documents, Graph
//! pages) decodes to the same records, and the CSV round trip (the malformed corpus is in `malformed.rs`).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use model::{Format, Record, detect_format};
use sim::{EventKind, Generator, SimEvent, Tenant, TenantConfig};
use std::collections::BTreeMap;

mod common;
use common::run;

/// A simulated day, originals only, at most 80 records per category.
fn day() -> (Tenant, Vec<SimEvent>) {
    let cfg = TenantConfig {
        seed: 11,
        users: 25,
        days: 1,
        quirks: true,
        duplicate_rate: 0.0,
        republish_rate: 0.0,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let mut per: BTreeMap<&'static str, usize> = BTreeMap::new();
    let events = Generator::new(&tenant, &cfg)
        .filter(|e| e.kind == EventKind::Original)
        .filter(|e| {
            let n = per.entry(e.category).or_default();
            *n += 1;
            *n <= 80
        })
        .collect();
    (tenant, events)
}

/// (category, key, hash) → count.
fn tally(recs: &[Record]) -> BTreeMap<(String, String, u128), usize> {
    let mut m = BTreeMap::new();
    for r in recs {
        *m.entry((r.category.name().to_owned(), r.key.clone(), r.content_hash))
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn every_simulator_framing_decodes_alike() {
    let (tenant, events) = day();
    let write = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<u64>| {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        buf
    };
    let lines = write(&|b| {
        sim::write::write_json_lines(b, events.clone(), sim::Shape::Diagnostic, true, &tenant)
    });
    let batches =
        write(&|b| sim::write::write_records_batches(b, events.clone(), 50, true, &tenant));
    let array = write(&|b| {
        sim::write::write_json_array(b, events.clone(), sim::Shape::Diagnostic, true, &tenant)
    });
    assert_eq!(detect_format(&lines), Format::JsonLines);
    assert_eq!(detect_format(&batches), Format::JsonLines);
    assert_eq!(detect_format(&array), Format::JsonArray);
    let (base, bad) = run(&lines, Format::JsonLines);
    assert!(bad.is_empty(), "{bad:?}");
    assert!(base.len() > 500);
    for (name, input, format) in [
        ("records batches", &batches, Format::JsonLines),
        ("array", &array, Format::JsonArray),
    ] {
        let (recs, bad) = run(input, format);
        assert!(
            bad.is_empty(),
            "{name}: {:?}",
            bad.first().map(|r| &r.reason)
        );
        assert_eq!(tally(&recs), tally(&base), "{name}");
    }
    // A pretty-printed Event Hubs body spanning lines, as a Storage flow-log blob.
    let pretty: serde_json::Value =
        serde_json::from_slice(batches.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let pretty = serde_json::to_vec_pretty(&pretty).unwrap();
    assert_eq!(detect_format(&pretty), Format::JsonDocument);
    let (recs, bad) = run(&pretty, Format::JsonDocument);
    assert!(bad.is_empty() && !recs.is_empty());
    // Graph pages, one per line, and the same objects bare.
    for c in sim::Category::ALL.iter().filter(|c| c.has_graph_api()) {
        let pages = write(&|b| {
            sim::write::write_graph_pages(b, events.clone(), c.name(), 3, true, &tenant)
        });
        let bare = write(&|b| {
            sim::write::write_json_lines(
                b,
                events.iter().filter(|e| e.category == c.name()).cloned(),
                sim::Shape::Graph,
                true,
                &tenant,
            )
        });
        let (from_pages, bad) = run(&pages, Format::JsonLines);
        assert!(
            bad.is_empty(),
            "{}: {:?}",
            c.name(),
            bad.first().map(|r| &r.reason)
        );
        let (from_bare, _) = run(&bare, Format::JsonLines);
        assert_eq!(tally(&from_pages), tally(&from_bare), "{}", c.name());
    }
}

#[test]
fn csv_round_trip() {
    let (tenant, events) = day();
    let mut tables: Vec<&str> = sim::Category::ALL.iter().map(|c| c.la_table()).collect();
    tables.sort_unstable();
    tables.dedup();
    for quirks in [false, true] {
        for table in &tables {
            let mine: Vec<SimEvent> = events
                .iter()
                .filter(|e| sim::la_table(e.category) == *table)
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut csv = Vec::new();
            sim::write::write_csv(&mut csv, mine.clone(), table, quirks, &tenant).unwrap();
            assert_eq!(detect_format(&csv), Format::Csv);
            let (from_csv, bad) = run(&csv, Format::Csv);
            assert!(
                bad.is_empty(),
                "{table}: {:?}",
                bad.first().map(|r| (&r.position.at, &r.reason))
            );
            let json = mine
                .iter()
                .filter_map(|e| sim::render(e, sim::Shape::LogAnalytics, quirks, &tenant))
                .map(|v| v.to_string() + "\n")
                .collect::<String>();
            let (from_json, _) = run(json.as_bytes(), Format::JsonLines);
            assert_eq!(from_csv.len(), from_json.len(), "{table}");
            for (c, j) in from_csv.iter().zip(&from_json) {
                assert_eq!(c.category, j.category, "{table}");
                // The portal writes datetimes with milliseconds only: with quirks the hash of a record whose
                // hashed datetime columns (or, without an id, its event time) carry finer digits differs;
                // without quirks nothing may.
                if c.category.has_id() || !quirks {
                    assert_eq!(c.key, j.key, "{table}");
                }
                if !quirks {
                    assert_eq!(c.content_hash, j.content_hash, "{table} {}", c.key);
                    assert_eq!(c.event_time, j.event_time, "{table} {}", c.key);
                }
            }
            println!(
                "{table} (quirks {quirks}): {} rows round-tripped",
                from_csv.len()
            );
        }
    }
}
