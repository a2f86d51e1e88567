//! The hunt path over a JSON-lines file (blocks decoded on worker threads, evaluated in order with the batch
//! API) finds exactly the matches of the per-record path (each line decoded alone, `Engine::evaluate`), over
//! the 123 SigmaHQ azure rules and a simulated file of every category the rules read.
#![allow(clippy::unwrap_used)]

use detect::{Engine, EngineConfig, RuleSet};
use model::DecodeContext;
use sim::{Category, Generator, Shape, Tenant, TenantConfig};
use std::path::PathBuf;

fn rules() -> RuleSet {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/sigma-azure/rules");
    let (set, diags) = RuleSet::load_dir(dir);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.len(), 123);
    set
}

/// Diagnostic-shape lines of a small simulated tenant with its attack scenarios, quirks on.
fn file() -> String {
    let cfg = TenantConfig {
        days: 3,
        users: 100,
        quirks: true,
        attacks: true,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    let mut s = String::new();
    for ev in Generator::new(&tenant, &cfg)
        .with_categories(&[
            Category::SignInLogs,
            Category::NonInteractiveUserSignInLogs,
            Category::ServicePrincipalSignInLogs,
            Category::AuditLogs,
            Category::Administrative,
            Category::UserRiskEvents,
        ])
        .with_truth(false)
        .take(12_000)
    {
        if let Some(v) = sim::render(&ev, Shape::Diagnostic, true, &tenant) {
            s.push_str(&v.to_string());
            s.push('\n');
        }
    }
    s
}

#[test]
fn hunting_a_file_in_parallel_finds_what_the_per_record_engine_finds() {
    let set = rules();
    let text = file();
    let cx = DecodeContext::default();

    let mut one = Engine::new(&set, EngineConfig::default());
    let mut want: Vec<(String, String)> = Vec::new();
    let mut n = 0;
    for line in text.lines() {
        for r in model::decode_record(line, &cx).unwrap() {
            n += 1;
            want.extend(
                one.evaluate(&r)
                    .map(|m| (m.rule_id.to_string(), m.key.into())),
            );
        }
    }

    let mut batch = Engine::new(&set, EngineConfig::default());
    let mut got: Vec<(String, String)> = Vec::new();
    let mut m = 0;
    detect::scan::decode_json_lines(text.as_bytes(), &cx, 2, 64 << 10, |d| {
        assert!(d.rejected.is_empty(), "{:?}", d.rejected);
        m += d.records.len();
        batch.evaluate_batch(&d.records, |_, mt| {
            got.push((mt.rule_id.to_string(), mt.key.into()))
        });
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();

    assert_eq!(m, n);
    assert!(n >= 10_000, "{n} records");
    let rules_hit: std::collections::BTreeSet<&str> =
        want.iter().map(|(r, _)| r.as_str()).collect();
    assert!(
        want.len() > 1_000 && rules_hit.len() >= 5,
        "{} matches of {} rules",
        want.len(),
        rules_hit.len()
    );
    assert_eq!(got, want);
}

/// Decoding only the columns the engine reads (`Engine::projection`) gives the same matches, and the same
/// alert entities, as decoding every column; and the projection really leaves columns out.
#[test]
fn a_projected_hunt_finds_what_a_full_decode_finds() {
    let set = rules();
    let text = file();
    let cx = DecodeContext::default();
    let mut full = Engine::new(&set, EngineConfig::default());
    let mut proj = Engine::new(&set, EngineConfig::default());
    let projection = proj
        .projection()
        .expect("no built-in analytics: a projection");

    type Hit = (String, String, Vec<(String, String)>);
    let run = |engine: &mut Engine, p: Option<&model::normalize::Projection>| {
        let mut hits: Vec<Hit> = Vec::new();
        let mut nulls = 0usize;
        detect::scan::decode_json_lines_projected(text.as_bytes(), &cx, p, 2, 64 << 10, |d| {
            nulls += d
                .records
                .iter()
                .map(|r| r.values.iter().filter(|v| v.is_null()).count())
                .sum::<usize>();
            engine.evaluate_batch(&d.records, |i, m| {
                let entities = detect::alert::entities(&d.records[i])
                    .into_iter()
                    .map(|o| (o.name, o.value))
                    .collect();
                hits.push((m.rule_id.to_string(), m.key.into(), entities));
            });
            Ok::<(), ()>(())
        })
        .unwrap()
        .unwrap();
        (hits, nulls)
    };
    let (want, full_nulls) = run(&mut full, None);
    let (got, proj_nulls) = run(&mut proj, Some(&projection));
    assert!(want.len() > 1_000, "{} matches", want.len());
    assert!(
        want.iter().all(|h| !h.2.is_empty()),
        "every match has an entity"
    );
    assert_eq!(got, want);
    assert!(
        proj_nulls > full_nulls * 2,
        "the projection leaves columns out ({proj_nulls} null values against {full_nulls})"
    );
    assert!(
        Engine::new(
            &set,
            EngineConfig {
                builtin_analytics: true,
                ..EngineConfig::default()
            }
        )
        .projection()
        .is_none(),
        "built-in analytics read whole records"
    );
}
