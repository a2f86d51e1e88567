//! Equivalence of [`Engine::evaluate_encoded`] (values borrowed from an encoded entry, only the columns the
//! rules read) and [`Engine::evaluate`] over the owned record: same matches, correlations included, for
//! all the SigmaHQ azure rules over records built from the rules' literals and over the simulated tenant
//! with its attacks.
#![allow(clippy::unwrap_used)]

use super::tests::{records, sigmahq};
use super::*;
use model::{Value, codec, schema};

/// Everything a match says, as text (correlation evidence included).
fn describe(m: &Match) -> String {
    format!(
        "{} {} {:?} {} {:?}",
        m.rule_id,
        m.key.as_str(),
        m.category,
        m.event_time,
        m.correlation
    )
}

/// Evaluates `recs` owned, through `evaluate_encoded` and through `evaluate_entry`, each on its own engine
/// (clones of `owned` before its first use); returns the number of matches.
fn compare(owned: &mut Engine, viewed: &mut Engine, recs: &[Record]) -> usize {
    let mut one_pass = Engine::new(
        &sigmahq(),
        EngineConfig {
            builtin_analytics: owned.analytics.is_some(),
            ..EngineConfig::default()
        },
    );
    let mut n = 0;
    let mut bytes = Vec::new();
    for r in recs {
        let want: Vec<String> = owned.evaluate(r).map(|m| describe(&m)).collect();
        bytes.clear();
        codec::encode(r, &mut bytes);
        let entry = codec::decode_ref(&bytes).unwrap();
        let got: Vec<String> = viewed
            .evaluate_encoded(&entry)
            .unwrap()
            .map(|m| describe(&m))
            .collect();
        assert_eq!(got, want, "record {}: {:?}", r.key, r.values);
        let got: Vec<String> = one_pass
            .evaluate_entry(&bytes)
            .unwrap()
            .map(|m| describe(&m))
            .collect();
        assert_eq!(got, want, "one pass, record {}: {:?}", r.key, r.values);
        n += want.len();
    }
    n
}

/// `n` decoded records of the simulated tenant (attacks and quirks on), in the three shapes in turn, in time order.
pub(super) fn simulated(n: usize) -> Vec<Record> {
    let cfg = sim::TenantConfig {
        days: 20,
        users: 300,
        quirks: true,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let cx = model::DecodeContext {
        source: "test".into(),
        ..model::DecodeContext::default()
    };
    let shapes = [
        sim::Shape::Diagnostic,
        sim::Shape::LogAnalytics,
        sim::Shape::Graph,
    ];
    let mut out = Vec::new();
    for (i, ev) in sim::Generator::new(&tenant, &cfg)
        .with_truth(false)
        .enumerate()
    {
        let Some(wire) = sim::render(&ev, shapes[i % 3], true, &tenant)
            .or_else(|| sim::render(&ev, sim::Shape::Diagnostic, true, &tenant))
        else {
            continue;
        };
        if let Ok(recs) = model::decode_record(&wire.to_string(), &cx) {
            out.extend(recs);
        }
        if out.len() >= n {
            break;
        }
    }
    out.sort_by_key(|r| r.event_time);
    out
}

#[test]
fn encoded_view_gives_the_matches_of_owned_records_for_literal_records() {
    let set = sigmahq();
    let mut owned = Engine::new(&set, EngineConfig::default());
    let mut viewed = Engine::new(&set, EngineConfig::default());
    let mut total = 0;
    for (i, cat) in Category::ALL.iter().enumerate() {
        if owned.plans[*cat as usize].rules.is_empty() {
            continue;
        }
        // Records whose columns hold the rules' own literals: a column read one off (or not decoded)
        // changes verdicts.
        let recs = records(&owned, *cat, 800, false, 11 + i as u64);
        total += compare(&mut owned, &mut viewed, &recs);
    }
    assert!(total > 1000, "only {total} matches");
}

#[test]
fn encoded_view_gives_the_matches_of_owned_records_for_the_simulated_tenant() {
    let set = sigmahq();
    let recs = simulated(20_000);
    let mut owned = Engine::new(&set, EngineConfig::default());
    let mut viewed = Engine::new(&set, EngineConfig::default());
    let n = compare(&mut owned, &mut viewed, &recs);
    assert!(n > 0, "the attacks raise no match");
    // With the built-in analytics on, entries are decoded in full: the analytics still fire.
    let cfg = EngineConfig {
        builtin_analytics: true,
        ..EngineConfig::default()
    };
    let mut owned = Engine::new(&set, cfg.clone());
    let mut viewed = Engine::new(&set, cfg);
    let with = compare(&mut owned, &mut viewed, &recs);
    assert!(with >= n, "{with} matches with the analytics, {n} without");
}

#[test]
fn encoded_view_reads_only_rule_columns_and_reports_bad_text() {
    let set = sigmahq();
    let engine = Engine::new(&set, EngineConfig::default());
    let cat = Category::SignInLogs;
    let reads = &engine.plans[cat as usize].reads;
    let read = reads.iter().filter(|b| **b).count();
    assert!(
        read > 3 && read < schema(cat).columns.len(),
        "{read} columns"
    );
    // A record whose read column holds invalid UTF-8 is an error, not a silent miss.
    let mut rec = records(&engine, cat, 1, false, 3).remove(0);
    let col = reads.iter().position(|b| *b).unwrap();
    rec.values[col] = Value::String("\u{e9}\u{e9}zq".into());
    let mut bytes = codec::encode_to_vec(&rec);
    let at = bytes
        .windows(6)
        .position(|w| w == b"\xc3\xa9\xc3\xa9zq")
        .unwrap();
    bytes[at + 1] = 0xff;
    let entry = codec::decode_ref(&bytes).unwrap();
    let mut engine = engine;
    assert!(engine.evaluate_encoded(&entry).is_err());
    assert!(engine.evaluate_entry(&bytes).is_err());
    // The scratch of borrowed values keeps its allocation from call to call.
    let ok = codec::encode_to_vec(&records(&engine, cat, 1, false, 5).remove(0));
    let _ = engine
        .evaluate_encoded(&codec::decode_ref(&ok).unwrap())
        .unwrap()
        .count();
    assert!(engine.view.capacity() > 0);
}
