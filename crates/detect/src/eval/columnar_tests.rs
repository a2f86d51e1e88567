//! Equivalence of [`Engine::evaluate_columns`] (rows of column-wise batches) and [`Engine::evaluate_batch`]
//! (owned records): the same (record, rule) matches for all the SigmaHQ azure rules over the simulated
//! tenant with its attacks and over records built from the rules' literals, and matches that stay on
//! their row.
#![allow(clippy::unwrap_used)]

use super::tests::{records, sigmahq};
use super::view_tests::simulated;
use super::*;
use model::columns::{Columns, by_category};

/// Everything a match says, with the position of its record.
fn describe(pos: usize, m: &Match) -> String {
    format!(
        "{pos} {} {} {:?} {} {:?}",
        m.rule_id,
        m.key.as_str(),
        m.category,
        m.event_time,
        m.correlation
    )
}

/// The matches of `recs` through `evaluate_batch` and through `evaluate_columns` over batches of
/// `rows` rows (sorted, positions in `recs`).
fn both(cfg: &EngineConfig, recs: &[Record], rows: usize) -> (Vec<String>, Vec<String>) {
    let set = sigmahq();
    let mut owned = Engine::new(&set, cfg.clone());
    let mut want = Vec::new();
    owned.evaluate_batch(recs, |i, m| want.push(describe(i, &m)));
    let mut columnar = Engine::new(&set, cfg.clone());
    let mut got = Vec::new();
    for (batch, positions) in by_category(recs, rows).unwrap() {
        columnar.evaluate_columns(&batch, |row, m| got.push(describe(positions[row], &m)));
    }
    want.sort();
    got.sort();
    (want, got)
}

#[test]
fn columns_give_the_matches_of_owned_records_for_the_simulated_tenant() {
    let recs = simulated(20_000);
    let (want, got) = both(&EngineConfig::default(), &recs, 4096);
    assert!(
        want.len() > 100,
        "the tenant and its attacks raise only {} matches",
        want.len()
    );
    let rules: std::collections::BTreeSet<&str> =
        want.iter().filter_map(|d| d.split(' ').nth(1)).collect();
    assert!(rules.len() >= 5, "only rules {rules:?} match");
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    // Small batches (rows split across many) and the built-in analytics' path give the same.
    let (_, small) = both(&EngineConfig::default(), &recs, 7);
    assert_eq!(small, want);
    let cfg = EngineConfig {
        builtin_analytics: true,
        ..EngineConfig::default()
    };
    let (want_a, got_a) = both(&cfg, &recs, 4096);
    assert!(want_a.len() >= want.len());
    assert_eq!(got_a, want_a);
}

#[test]
fn columns_give_the_matches_of_owned_records_for_literal_records() {
    let engine = Engine::new(&sigmahq(), EngineConfig::default());
    let mut total = 0;
    for (i, cat) in Category::ALL.iter().enumerate() {
        if engine.plans[*cat as usize].rules.is_empty() {
            continue;
        }
        // Each row holds other literals of the rules: a column read from another row changes verdicts.
        let recs = records(&engine, *cat, 600, false, 31 + i as u64);
        let (want, got) = both(&EngineConfig::default(), &recs, 100);
        assert_eq!(got, want, "{}", cat.table());
        total += want.len();
    }
    assert!(total > 1000, "only {total} matches");
}

#[test]
fn matches_stay_on_their_row() {
    let set = sigmahq();
    let mut engine = Engine::new(&set, EngineConfig::default());
    let recs = simulated(20_000);
    // A record that matches, and records of its category that match nothing.
    let mut chosen = None;
    for &cat in Category::ALL {
        let of: Vec<&Record> = recs.iter().filter(|r| r.category == cat).collect();
        let quiet: Vec<&Record> = of
            .iter()
            .copied()
            .filter(|r| engine.evaluate(r).count() == 0)
            .take(130)
            .collect();
        let hit = of.iter().find_map(|r| {
            let ids: Vec<String> = engine.evaluate(r).map(|m| m.rule_id.to_string()).collect();
            (!ids.is_empty()).then(|| ((*r).clone(), ids))
        });
        if let Some((hit, want)) = hit
            && quiet.len() == 130
        {
            chosen = Some((hit, want, quiet));
            break;
        }
    }
    let (hit, want, quiet) = chosen.expect("a category with a match and 130 quiet records");
    let places = [0usize, 1, 63, 64, 65, 129];
    let mut batch = Columns::with_capacity(hit.category, 130);
    for (row, r) in quiet.iter().take(130).enumerate() {
        let r = if places.contains(&row) { &hit } else { *r };
        batch.push(r).unwrap();
    }
    let mut found: Vec<(usize, String, String)> = Vec::new();
    engine.evaluate_columns(&batch, |row, m| {
        found.push((row, m.rule_id.to_string(), m.key.as_str().to_owned()))
    });
    let mut expected = Vec::new();
    for &row in &places {
        for id in &want {
            expected.push((row, id.clone(), hit.key.clone()));
        }
    }
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}
