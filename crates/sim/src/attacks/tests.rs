//! Scenario tests: every scenario is injected once with a label, merged into the stream in time order,
//! counted in ground truth, and absent unless asked for.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{Generator, Shape, render};

fn cfg(attacks: bool) -> TenantConfig {
    TenantConfig {
        users: 300,
        days: 1,
        volume_scale: 0.05,
        attacks,
        ..TenantConfig::default()
    }
}

#[test]
fn every_scenario_is_labelled_and_rendered_in_every_shape() {
    let cfg = cfg(true);
    let tenant = Tenant::new(&cfg);
    let (events, labels) = inject(&tenant, &cfg);
    assert_eq!(labels.len(), Scenario::ALL.len());
    let mut analytics: Vec<&str> = labels.iter().map(|l| l.analytic.as_str()).collect();
    analytics.dedup();
    assert_eq!(
        analytics.len(),
        Scenario::ALL.len(),
        "one analytic per scenario"
    );
    for l in &labels {
        assert!(!l.entity.is_empty(), "{}: no entity", l.scenario);
        assert!(!l.records.is_empty(), "{}: no records", l.scenario);
        assert!(
            l.start <= l.end && l.start >= cfg.start && l.end < cfg.end(),
            "{l:?}"
        );
    }
    assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
    for ev in &events {
        for shape in [Shape::Graph, Shape::Diagnostic, Shape::LogAnalytics] {
            let cat = ev.category_enum().unwrap();
            let out = render(ev, shape, true, &tenant);
            assert_eq!(out.is_some(), shape != Shape::Graph || cat.has_graph_api());
        }
    }
}

#[test]
fn generator_merges_attacks_in_time_order_and_counts_them() {
    let cfg = cfg(true);
    let tenant = Tenant::new(&cfg);
    let mut g = Generator::new(&tenant, &cfg);
    let all: Vec<SimEvent> = g.by_ref().collect();
    let truth = g.into_truth().unwrap();
    assert_eq!(truth.attacks.len(), Scenario::ALL.len());
    let ids: std::collections::HashSet<&str> = all.iter().filter_map(SimEvent::id).collect();
    for l in &truth.attacks {
        for r in &l.records {
            let in_stream = ids.contains(r.as_str())
                || all.iter().any(|e| {
                    e.envelope
                        .as_ref()
                        .and_then(|m| m.get("correlationId"))
                        .and_then(|v| v.as_str())
                        == Some(r.as_str())
                });
            assert!(in_stream, "{}: {r} not emitted", l.scenario);
        }
    }
    // Benign run: same benign records, no labels.
    let benign_cfg = TenantConfig {
        attacks: false,
        ..cfg
    };
    let mut b = Generator::new(&tenant, &benign_cfg);
    let benign: Vec<SimEvent> = b.by_ref().collect();
    assert!(b.truth().unwrap().attacks.is_empty());
    let injected: usize = truth.attacks.iter().map(|l| l.records.len()).sum();
    assert_eq!(all.len(), benign.len() + injected);
    let sign_ins = truth.categories["SignInLogs"].originals;
    let emitted = all
        .iter()
        .filter(|e| e.category == "SignInLogs" && e.kind == crate::EventKind::Original)
        .count();
    assert_eq!(sign_ins as usize, emitted);
    assert_eq!(
        sign_ins,
        b.truth().unwrap().categories["SignInLogs"].originals + 44
    );
}
