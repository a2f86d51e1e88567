//! Loading the SigmaHQ azure rules: every active rule loads clean; deprecated, placeholder and
//! unsupported rules load or are rejected with the diagnostic we expect.
#![allow(clippy::unwrap_used)]

mod common;

use detect::{DiagnosticKind, Engine, EngineConfig, RuleSet, Severity};

#[test]
fn all_active_rules_load_without_error() {
    let (set, diags) = RuleSet::load_dir(common::sigma_dir().join("rules"));
    for d in &diags {
        eprintln!("{d}");
    }
    assert!(diags.is_empty(), "{} diagnostics", diags.len());
    assert_eq!(set.rules().len(), 123);
    let engine = Engine::new(&set, EngineConfig::default());
    assert!(engine.diagnostics().is_empty());
    // Every rule compiles for at least one category.
    for r in set.rules() {
        let n: usize = model::Category::ALL
            .iter()
            .filter(|c| engine.rule_ids_for(**c).contains(&r.meta.id.as_str()))
            .count();
        assert!(n >= 1, "{} compiles for no category", r.meta.id);
    }
}

/// Loads one folder; returns (loaded rule titles by file stem, diagnostics by file stem).
fn load(dir: &str) -> (RuleSet, Vec<(String, Severity, DiagnosticKind, String)>) {
    let (set, diags) = RuleSet::load_dir(common::sigma_dir().join(dir));
    let stem = |o: &str| {
        std::path::Path::new(o)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let d = diags
        .iter()
        .map(|d| {
            // Every diagnostic names its file and its rule.
            assert!(d.to_string().contains(&d.origin));
            assert!(d.rule_id.is_some() && d.title.is_some(), "{d}");
            (stem(&d.origin), d.severity, d.kind, d.message.clone())
        })
        .collect();
    (set, d)
}

#[test]
fn deprecated_rules_load_with_a_warning_or_are_rejected_for_unknown_fields() {
    let (set, diags) = load("deprecated");
    let mut loaded: Vec<_> = set
        .rules()
        .iter()
        .map(|r| {
            std::path::Path::new(&r.meta.origin)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    loaded.sort();
    assert_eq!(
        loaded,
        [
            "azure_app_credential_modification",
            "azure_app_permissions_for_api"
        ]
    );
    // Each of the 7 files says it is deprecated.
    assert_eq!(
        diags
            .iter()
            .filter(|d| d.2 == DiagnosticKind::Deprecated)
            .count(),
        7
    );
    // The other five use fields no sign-in table has (their v1 aggregations counted `Count`, `Date`, …).
    let rejected: Vec<(&str, &str)> = diags
        .iter()
        .filter(|d| d.1 == Severity::Error)
        .map(|d| {
            assert_eq!(d.2, DiagnosticKind::UnknownField, "{}", d.3);
            (d.0.as_str(), d.3.as_str())
        })
        .collect();
    assert_eq!(rejected.len(), 5, "{rejected:?}");
    let msg = |stem: &str| rejected.iter().find(|(s, _)| *s == stem).unwrap().1;
    assert!(msg("azure_ad_auth_failure_increase").contains("unknown field Count"));
    assert!(msg("azure_ad_account_signin_outside_hours").contains("unknown field Date"));
    assert!(msg("azure_privileged_account_no_saw_paw").contains("DeviceInfo"));
}

#[test]
fn placeholder_rules_load_and_stay_inactive_until_configured() {
    let (set, diags) = load("rules-placeholder");
    assert_eq!(set.rules().len(), 7);
    assert_eq!(diags.len(), 7);
    assert!(
        diags
            .iter()
            .all(|d| d.1 == Severity::Warning && d.2 == DiagnosticKind::Placeholder)
    );
    let engine = Engine::new(&set, EngineConfig::default());
    assert_eq!(engine.diagnostics().len(), 7);
    assert_eq!(engine.plan_count(), 0);
    // With every placeholder given a value, all seven compile.
    let mut config = EngineConfig::default();
    for p in [
        "ApprovedUserUpn",
        "Approved_Inviters",
        "Important_AppIds",
        "Known_Location",
        "UnLegitCountries",
        "UnApprovedIp",
        "UnApprovedDevice",
        "HomeTenantID",
    ] {
        config
            .placeholders
            .insert(p.to_owned(), vec!["x".to_owned()]);
    }
    let engine = Engine::new(&set, config);
    assert!(
        engine.diagnostics().is_empty(),
        "{:?}",
        engine.diagnostics()
    );
    for r in set.rules() {
        assert!(
            model::Category::ALL
                .iter()
                .any(|c| engine.rule_ids_for(*c).contains(&r.meta.id.as_str())),
            "{}",
            r.meta.title
        );
    }
}

#[test]
fn unsupported_rule_is_rejected_with_clear_diagnostics() {
    let (set, diags) = load("unsupported");
    assert!(set.rules().is_empty());
    let kinds: Vec<DiagnosticKind> = diags.iter().map(|d| d.2).collect();
    // Its v1 aggregation (`| count(TargetUserName) by IpAddress > 10`) is read, but has no timeframe;
    // `TargetUserName` is a Windows field no sign-in table has.
    assert!(kinds.contains(&DiagnosticKind::Unsupported), "{diags:?}");
    assert!(
        kinds.contains(&DiagnosticKind::StatusUnsupported),
        "{diags:?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.2 == DiagnosticKind::UnknownField && d.3.contains("TargetUserName")),
        "{diags:?}"
    );
    assert!(diags.iter().any(|d| d.3.contains("timeframe")));
}

#[test]
fn threat_hunting_rule_loads() {
    let (set, diags) = load("rules-threat-hunting");
    assert_eq!(set.rules().len(), 1);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn a_bad_rule_never_stops_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let good = "title: Good\nid: g1\nlogsource:\n    product: azure\n    service: auditlogs\ndetection:\n    sel:\n        OperationName: Add user\n    condition: sel\n";
    std::fs::write(dir.path().join("a_good.yml"), good).unwrap();
    std::fs::write(dir.path().join("b_yaml.yml"), "title: [unclosed\n").unwrap();
    std::fs::write(
        dir.path().join("c_cond.yml"),
        good.replace("g1", "g2")
            .replace("condition: sel", "condition: sel and and"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d_field.yml"),
        good.replace("g1", "g3")
            .replace("OperationName", "NoSuchField"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("e_source.yml"),
        good.replace("g1", "g4")
            .replace("auditlogs", "nosuchservice"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f_regex.yml"),
        good.replace("g1", "g5")
            .replace("OperationName:", "OperationName|re:")
            .replace("Add user", "'(unclosed'"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("g_ref.yml"),
        good.replace("g1", "g6")
            .replace("condition: sel", "condition: nothere"),
    )
    .unwrap();
    let (set, diags) = RuleSet::load_dir(dir.path());
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.rules()[0].meta.id, "g1");
    let by_file = |f: &str| {
        diags
            .iter()
            .find(|d| d.origin.ends_with(f))
            .unwrap_or_else(|| panic!("{f}: {diags:?}"))
    };
    assert_eq!(by_file("b_yaml.yml").kind, DiagnosticKind::Parse);
    assert_eq!(by_file("c_cond.yml").kind, DiagnosticKind::Parse);
    assert_eq!(by_file("c_cond.yml").rule_id.as_deref(), Some("g2"));
    let f = by_file("d_field.yml");
    assert_eq!(f.kind, DiagnosticKind::UnknownField);
    assert!(
        f.to_string().contains("rule g3 (Good)") && f.message.contains("NoSuchField"),
        "{f}"
    );
    assert_eq!(
        by_file("e_source.yml").kind,
        DiagnosticKind::UnknownLogsource
    );
    assert_eq!(by_file("f_regex.yml").kind, DiagnosticKind::Invalid);
    assert_eq!(by_file("g_ref.yml").kind, DiagnosticKind::Invalid);
    assert!(diags.iter().all(|d| d.severity == Severity::Error));
}

#[test]
fn the_index_leaves_few_rules_to_evaluate_on_every_record() {
    let (set, _) = RuleSet::load_dir(common::sigma_dir().join("rules"));
    let engine = Engine::new(&set, EngineConfig::default());
    let stats = engine.index_stats();
    for s in &stats {
        eprintln!("{s:?}");
    }
    let tables: Vec<&str> = stats.iter().map(|s| s.0).collect();
    for t in ["AuditLogs", "SigninLogs", "AzureActivity"] {
        assert!(tables.contains(&t), "no rules indexed for {t}: {tables:?}");
    }
    // Per table, at most a quarter of its rules run on every record (the rest only when an indexed
    // column holds one of their literal values), and every table has an indexed column.
    for (table, rules, always, columns) in &stats {
        assert!(
            *always * 4 <= *rules,
            "{table}: {always} of {rules} rules evaluated on every record"
        );
        assert!(!columns.is_empty(), "{table}: no indexed column");
    }
}
