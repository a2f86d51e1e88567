//! One-rule engines over hand-written detections, for the semantics tests.

use super::with;
use detect::{Engine, EngineConfig, RuleSet};
use model::{Category, Record};

/// An engine over one rule with this detection, for `service` (auditlogs or signinlogs).
pub fn engine_for(service: &str, detection: &str, config: EngineConfig) -> Engine {
    let yaml = format!(
        "title: t\nid: r1\nlogsource:\n    product: azure\n    service: {service}\ndetection:\n{detection}\nlevel: high\ntags:\n    - attack.t1078\n"
    );
    let (set, diags) = RuleSet::from_yaml(&yaml, "inline.yml");
    assert!(
        diags
            .iter()
            .all(|d| d.kind == detect::DiagnosticKind::Placeholder),
        "{diags:?}"
    );
    assert_eq!(set.rules().len(), 1);
    Engine::new(&set, config)
}

/// An engine over one audit-log rule.
pub fn audit(detection: &str) -> Engine {
    engine_for("auditlogs", detection, EngineConfig::default())
}

/// Whether rule `r1` matched the record, record by record (`Engine::evaluate`); column-wise
/// (`Engine::evaluate_columns` on a one-row batch) must agree.
pub fn hit(e: &mut Engine, r: &Record) -> bool {
    let one = e.evaluate(r).any(|m| &*m.rule_id == "r1");
    let batch = model::columns::Columns::from_records(r.category, std::slice::from_ref(r))
        .expect("the record fits its category's columns");
    let mut columns = false;
    e.evaluate_columns(&batch, |_, m| columns |= &*m.rule_id == "r1");
    assert_eq!(
        one,
        columns,
        "evaluate and evaluate_columns differ on {:?}",
        r.to_json()
    );
    one
}

/// An audit-log record with these columns.
pub fn rec(cols: &[(&str, &str)]) -> Record {
    with(Category::AuditLogs, cols)
}
