//! For each of the 123 active SigmaHQ azure rules: a matching and a non-matching canonical record derived
//! from the rule itself, checked on the canonical record and after a round trip through each of the three
//! wire shapes (Graph object, diagnostic-settings envelope, Log Analytics row). Every verdict is taken both
//! record by record (`Engine::evaluate`) and column-wise (`Engine::evaluate_columns` on a one-row batch).
#![allow(clippy::unwrap_used)]

mod common;

use common::shapes::{self, SHAPES};
use common::synth;
use detect::{Engine, EngineConfig, RuleSet, SigmaRule};
use model::Category;
use model::columns::{Columns, by_category};

/// Whether rule `id` matches `r`; the record-by-record and the column-wise verdicts must agree.
fn matches(engine: &mut Engine, r: &model::Record, id: &str) -> bool {
    let one = engine.evaluate(r).any(|m| &*m.rule_id == id);
    let batch = Columns::from_records(r.category, std::slice::from_ref(r)).unwrap();
    let mut columns = false;
    engine.evaluate_columns(&batch, |_, m| columns |= &*m.rule_id == id);
    assert_eq!(
        one,
        columns,
        "{id}: evaluate and evaluate_columns differ on {:?}",
        r.to_json()
    );
    one
}

/// A record with the identity fields every real one has (the rule's fields are written over them).
fn base(cat: Category, key: &str) -> model::Record {
    let mut r = common::record(cat, key, 1_709_800_000_000_000);
    let s =
        |r: &mut model::Record, c: &str, v: &str| common::set(r, c, model::Value::String(v.into()));
    match cat.family() {
        model::Family::SignIn => {
            s(&mut r, "UserPrincipalName", "alice@contoso.example");
            s(&mut r, "AppId", "00000003-0000-0000-c000-000000000000");
            s(&mut r, "AppDisplayName", "Office 365 Exchange Online");
        }
        model::Family::Risk => s(&mut r, "UserPrincipalName", "alice@contoso.example"),
        _ => {}
    }
    r
}

/// The canonical records (positive, negative) of a rule, in the first category it compiles for.
fn records_of(rule: &SigmaRule, engine: &Engine) -> (Category, model::Record, model::Record) {
    let ls = &rule.logsource;
    let mapping =
        detect::mapping::for_logsource(ls.product.as_deref(), ls.service.as_deref()).unwrap();
    let cat = *mapping
        .categories
        .iter()
        .find(|c| engine.rule_ids_for(**c).contains(&rule.meta.id.as_str()))
        .unwrap();
    let mut pos = base(cat, "11111111-0000-0000-0000-000000000001");
    let failed = synth::build(&mapping, cat, &synth::satisfy(rule), &mut pos);
    assert!(
        failed.is_empty(),
        "{}: could not write {failed:?}",
        rule.meta.id
    );
    let mut neg = base(cat, "11111111-0000-0000-0000-000000000002");
    let failed = synth::build(&mapping, cat, &synth::violate(rule), &mut neg);
    assert!(
        failed.is_empty(),
        "{}: could not write {failed:?}",
        rule.meta.id
    );
    (cat, pos, neg)
}

/// Rules whose fields a shape cannot carry, so the round trip changes the verdict:
/// (rule id, shape, which record, why).
const SHAPE_LIMITS: &[(&str, sim::Shape, bool, &str)] = &[
    // "User Type Changed To Member": `OperationName: Update user` and `properties.message: <modified
    // property JSON>` need OperationName and ActivityDisplayName to differ. Every shape derives the
    // operation name from `activityDisplayName` (the envelope's operationName is the display name), so
    // the two are equal after decoding and the record no longer matches.
    (
        "8dee7a0d-43fd-4b3c-8cd1-605e189d195e",
        sim::Shape::Graph,
        true,
        OP_FROM_DISPLAY,
    ),
    (
        "8dee7a0d-43fd-4b3c-8cd1-605e189d195e",
        sim::Shape::Diagnostic,
        true,
        OP_FROM_DISPLAY,
    ),
    (
        "8dee7a0d-43fd-4b3c-8cd1-605e189d195e",
        sim::Shape::LogAnalytics,
        true,
        OP_FROM_DISPLAY,
    ),
    // "Use of Legacy Authentication Protocols": `ActivityDetails: Sign-ins` reads OperationName, which no
    // sign-in shape carries freely: Graph has none (decoded as "Sign-in activity"), the envelope and the
    // Log Analytics row always say "Sign-in activity".
    (
        "60f6535a-760f-42a9-be3f-c9a0a025906e",
        sim::Shape::Graph,
        true,
        SIGNIN_OP,
    ),
    (
        "60f6535a-760f-42a9-be3f-c9a0a025906e",
        sim::Shape::Diagnostic,
        true,
        SIGNIN_OP,
    ),
    (
        "60f6535a-760f-42a9-be3f-c9a0a025906e",
        sim::Shape::LogAnalytics,
        true,
        SIGNIN_OP,
    ),
];
const OP_FROM_DISPLAY: &str = "OperationName is derived from activityDisplayName";
const SIGNIN_OP: &str = "sign-in OperationName is fixed to \"Sign-in activity\"";

#[test]
fn every_rule_matches_its_positive_and_not_its_negative_record() {
    let (set, diags) = RuleSet::load_dir(common::sigma_dir().join("rules"));
    assert!(diags.is_empty());
    assert_eq!(set.rules().len(), 123);
    let mut engine = Engine::new(&set, EngineConfig::default());
    let mut failures = Vec::new();
    for rule in set.rules() {
        let (_, pos, neg) = records_of(rule, &engine);
        if !matches(&mut engine, &pos, &rule.meta.id) {
            failures.push(format!("{} positive: {:?}", rule.meta.id, pos.to_json()));
        }
        if matches(&mut engine, &neg, &rule.meta.id) {
            failures.push(format!("{} negative: {:?}", rule.meta.id, neg.to_json()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_keeps_its_verdict_in_each_wire_shape() {
    let (set, _) = RuleSet::load_dir(common::sigma_dir().join("rules"));
    let mut engine = Engine::new(&set, EngineConfig::default());
    let tenant = shapes::tenant();
    let mut observed = Vec::new();
    let mut errors = Vec::new();
    let mut checked = 0;
    for rule in set.rules() {
        let (cat, pos, neg) = records_of(rule, &engine);
        for shape in SHAPES {
            for (positive, rec) in [(true, &pos), (false, &neg)] {
                let Some(decoded) = shapes::round_trip(rec, shape, &tenant) else {
                    // Only the Activity Log lacks a Graph shape.
                    assert_eq!((cat, shape), (Category::AzureActivity, sim::Shape::Graph));
                    continue;
                };
                let decoded = match decoded {
                    Ok(d) => d,
                    Err(e) => {
                        errors.push(format!("{} {shape:?}: {e}", rule.meta.id));
                        continue;
                    }
                };
                if decoded.category != cat || decoded.shape != shapes::model_shape(shape) {
                    errors.push(format!(
                        "{} {shape:?}: decoded as {:?} {:?}: {}",
                        rule.meta.id, decoded.category, decoded.shape, decoded.raw
                    ));
                    continue;
                }
                checked += 1;
                let got = matches(&mut engine, &decoded, &rule.meta.id);
                if got != positive {
                    observed.push((rule.meta.id.clone(), shape, positive, decoded.to_json()));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut unexpected = Vec::new();
    for (id, shape, positive, json) in &observed {
        if !SHAPE_LIMITS
            .iter()
            .any(|(i, s, p, _)| i == id && s == shape && p == positive)
        {
            unexpected.push(format!("{id} {shape:?} positive={positive}: {json}"));
        }
    }
    for (id, shape, positive, why) in SHAPE_LIMITS {
        assert!(
            observed
                .iter()
                .any(|(i, s, p, _)| i == id && s == shape && p == positive),
            "{id} {shape:?} is listed as lossy ({why}) but keeps its verdict"
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} verdicts changed:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(checked > 123 * 4);
}

#[test]
fn batch_evaluation_matches_record_by_record() {
    fn is_send<T: Send>() {}
    is_send::<Engine>();
    let (set, _) = RuleSet::load_dir(common::sigma_dir().join("rules"));
    let mut one = Engine::new(&set, EngineConfig::default());
    let mut batch = Engine::new(&set, EngineConfig::default());
    let mut records = Vec::new();
    for rule in set.rules() {
        let (_, pos, neg) = records_of(rule, &one);
        records.push(pos);
        records.push(neg);
    }
    let want: Vec<(usize, String)> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            one.evaluate(r)
                .map(|m| (i, m.rule_id.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut got = Vec::new();
    batch.evaluate_batch(&records, |i, m| got.push((i, m.rule_id.to_string())));
    assert_eq!(got, want);
    assert!(want.len() >= 123);
    // Column-wise, in batches of up to 64 rows of one category: the same matches.
    let mut columns = Vec::new();
    for (b, positions) in by_category(&records, 64).unwrap() {
        batch.evaluate_columns(&b, |row, m| {
            columns.push((positions[row], m.rule_id.to_string()))
        });
    }
    columns.sort();
    let mut want = want;
    want.sort();
    assert_eq!(columns, want);
}
