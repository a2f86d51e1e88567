//! Ground truth matches what was emitted; duplicates and republications behave as documented.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::small_day;
use crate::{Category, EventKind, GroundTruth, IdKind, Shape, render};

#[test]
fn truth_counts_match_the_stream() {
    let run = small_day();
    let mut emitted: BTreeMap<&str, u64> = BTreeMap::new();
    let mut originals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut dups: BTreeMap<&str, u64> = BTreeMap::new();
    let mut repubs: BTreeMap<&str, u64> = BTreeMap::new();
    let mut ids: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut tuples: BTreeMap<&str, u64> = BTreeMap::new();
    for ev in &run.events {
        *emitted.entry(ev.category).or_default() += 1;
        match ev.kind {
            EventKind::Original => {
                *originals.entry(ev.category).or_default() += 1;
                if let Some(id) = ev.id() {
                    ids.entry(ev.category).or_default().insert(id);
                }
                *tuples.entry(ev.category).or_default() += ev.flow_tuples() as u64;
            }
            EventKind::ExactDuplicate => *dups.entry(ev.category).or_default() += 1,
            EventKind::Republished => *repubs.entry(ev.category).or_default() += 1,
        }
    }
    assert_eq!(run.truth.total_emitted(), run.events.len() as u64);
    for (cat, t) in &run.truth.categories {
        let c = cat.as_str();
        assert_eq!(t.emitted, emitted[c], "{c}");
        assert_eq!(t.originals, originals[c], "{c}");
        assert_eq!(t.exact_duplicates, dups.get(c).copied().unwrap_or(0), "{c}");
        assert_eq!(t.republished, repubs.get(c).copied().unwrap_or(0), "{c}");
        match Category::from_name(c).unwrap().id_kind() {
            IdKind::Field(_) => {
                let expected: BTreeSet<String> = ids[c].iter().map(|s| (*s).to_owned()).collect();
                assert_eq!(t.ids, expected, "{c}");
                assert_eq!(t.distinct_ids, expected.len() as u64, "{c}");
            }
            IdKind::FlowTuples => assert!(
                t.flow_tuples >= t.originals && t.flow_tuples == tuples[c],
                "{c}"
            ),
            IdKind::None => assert!(t.ids.is_empty()),
        }
    }
    let total_dups: u64 = dups.values().sum();
    let total_repubs: u64 = repubs.values().sum();
    assert!(
        total_dups > 0 && total_repubs > 0,
        "dups {total_dups}, republished {total_repubs}"
    );
    let json = run.truth.to_json().unwrap();
    let back: GroundTruth = serde_json::from_str(&json).unwrap();
    assert_eq!(back, run.truth);
    assert!(
        run.truth
            .summary()
            .categories
            .values()
            .all(|c| c.ids.is_empty())
    );
}

#[test]
fn duplicates_are_identical_and_republications_are_enriched_later() {
    let run = small_day();
    let t = &run.tenant;
    let mut firsts: HashMap<(u64, &str), usize> = HashMap::new();
    let (mut n_dup, mut n_rep) = (0, 0);
    for (i, ev) in run.events.iter().enumerate() {
        match ev.kind {
            EventKind::Original => {
                firsts.insert((ev.seed, ev.category), i);
            }
            EventKind::ExactDuplicate => {
                let o = &run.events[firsts[&(ev.seed, ev.category)]];
                assert_eq!(
                    render(o, Shape::Diagnostic, true, t),
                    render(ev, Shape::Diagnostic, true, t)
                );
                assert!(ev.received >= o.received);
                n_dup += 1;
            }
            EventKind::Republished => {
                let o = &run.events[firsts[&(ev.seed, ev.category)]];
                assert_eq!(o.id(), ev.id(), "{}", ev.category);
                assert_ne!(
                    o.graph, ev.graph,
                    "{} republished without new content",
                    ev.category
                );
                assert!(ev.received > o.received);
                n_rep += 1;
            }
        }
    }
    assert!(n_dup > 0 && n_rep > 0);
}
