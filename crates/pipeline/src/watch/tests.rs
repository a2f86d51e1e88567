//! Findings as OCSF alerts, and `[silence]` validation.

use super::finding::*;
use super::*;

fn finding(rule: &'static str, first_ms: i64) -> Finding {
    Finding {
        rule,
        title: "Ingest lag above threshold",
        severity_id: 3,
        entity: "graph/SignInLogs".into(),
        categories: vec!["SignInLogs".into()],
        source: Some("graph".into()),
        detail: "p95 lag 20m".into(),
        first_ms,
        at_ms: first_ms + 5,
    }
}

#[test]
fn a_finding_is_a_detection_finding_with_a_stable_id() {
    let a = finding(RULE_INGEST_LAG, 1_000).to_alert(2_000);
    assert_eq!(
        (a.class_uid, a.category_uid, a.type_uid),
        (2004, 2, 200_401)
    );
    assert_eq!(a.finding_info.analytic.uid, "entrail.ingest_lag");
    assert_eq!(a.finding_info.analytic.type_id, 3);
    assert_eq!((a.severity_id, a.severity.as_str()), (3, "Medium"));
    assert_eq!(a.unmapped.entity, "graph/SignInLogs");
    assert_eq!(a.finding_info.types, ["SignInLogs"]);
    assert_eq!(a.entities("resource").collect::<Vec<_>>(), ["graph"]);
    assert!(a.message.contains("graph/SignInLogs") && a.message.contains("p95 lag 20m"));
    assert_eq!((a.time, a.metadata.modified_time), (1_005, 2_000));
    // Same episode: same id; another episode or rule: another id.
    let again = finding(RULE_INGEST_LAG, 1_000).to_alert(9_000);
    assert_eq!(a.uid(), again.uid());
    assert_ne!(a.uid(), finding(RULE_INGEST_LAG, 1_001).to_alert(0).uid());
    assert_ne!(a.uid(), finding(RULE_SILENCE, 1_000).to_alert(0).uid());
    // It round-trips through the alert store's JSON.
    let back: detect::alert::Alert = serde_json::from_value(a.to_json()).unwrap();
    assert_eq!(back, a);
}

#[test]
fn silence_config_validation() {
    let raw: RawSilenceConfig = toml::from_str(
        r#"
        check_interval = "10s"
        history = "200d"
        basis = "arrival"
        min_expected = 0.5
        drop_ratio = 0.6
        recover_ratio = 0.5
        [expected]
        SignInLogs = 120.0
        ADFSSignInLogs = 0.0
        Nope = 1.0
        "#,
    )
    .unwrap();
    let mut errors = Vec::new();
    let c = config::validate(
        &crate::lag::RawLagConfig::default(),
        &crate::clock::RawClockConfig::default(),
        Some(raw),
        &mut errors,
    );
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "silence.check_interval",
            "silence.history",
            "silence.basis",
            "silence.min_expected",
            "silence.recover_ratio",
            "silence.expected.ADFSSignInLogs",
            "silence.expected.Nope"
        ]
    );
    assert!(c.silence.enabled);
    assert_eq!(
        c.silence.expected.get(&model::Category::SignInLogs),
        Some(&120.0)
    );
    // Absent: off, every default.
    let mut errors = Vec::new();
    let d = config::validate(
        &crate::lag::RawLagConfig::default(),
        &crate::clock::RawClockConfig::default(),
        None,
        &mut errors,
    );
    assert!(errors.is_empty());
    assert_eq!(d, WatchConfig::default());
    assert!(!d.silence.enabled);
    let on: RawSilenceConfig = toml::from_str("basis = \"event\"\nmax_window = \"12h\"").unwrap();
    let c = config::validate(
        &crate::lag::RawLagConfig::default(),
        &crate::clock::RawClockConfig::default(),
        Some(on),
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(c.silence.basis, crate::silence::TimeBasis::Event);
    assert_eq!(c.silence.detector.max_window_hours, 12);
}

#[test]
fn heads_are_read_from_a_head_a_heads_file_or_alerts() {
    let head = serde_json::json!({"seq": 7, "hash": "ab", "time_us": 1, "key_id": "k", "sig": "s"});
    assert_eq!(
        parse_heads(&head.to_string()).unwrap(),
        std::slice::from_ref(&head)
    );
    let two = format!(
        "{head}\n\n{}\n",
        serde_json::json!({"seq": 9, "hash": "cd"})
    );
    assert_eq!(parse_heads(&two).unwrap().len(), 2);
    let alert = finding::Finding {
        rule: RULE_CHAIN_HEAD,
        title: "Integrity chain head",
        severity_id: 1,
        entity: "chain seq 7".into(),
        categories: Vec::new(),
        source: None,
        detail: head.to_string(),
        first_ms: 0,
        at_ms: 0,
    }
    .to_alert(0)
    .to_json();
    assert_eq!(
        parse_heads(&alert.to_string()).unwrap(),
        std::slice::from_ref(&head)
    );
    assert_eq!(
        parse_heads(&serde_json::json!([alert, head]).to_string())
            .unwrap()
            .len(),
        2
    );
    for bad in [
        "",
        "{\"seq\":1}",
        "{\"seq\":\"x\",\"hash\":\"a\"}",
        "not json",
        "{\"a\":1}",
    ] {
        assert!(parse_heads(bad).is_err(), "{bad}");
    }
    let other = finding(RULE_SILENCE, 0).to_alert(0).to_json();
    assert!(parse_heads(&other.to_string()).is_err());
}
