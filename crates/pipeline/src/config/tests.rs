//! Config parsing and validation tests.

use super::*;
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn the_example_config_is_valid() {
    let c = parse(EXAMPLE_CONFIG).unwrap().validate().unwrap();
    assert_eq!(c.sources.len(), 1);
    assert_eq!(c.sinks.len(), 1);
    assert_eq!(c.dedupe_horizon, Duration::from_secs(72 * 3600));
}

#[test]
fn the_default_config_is_valid() {
    assert!(RawConfig::default().validate().is_ok());
}

#[test]
fn an_empty_config_has_defaults() {
    let c = parse("").unwrap().validate().unwrap();
    assert_eq!(c.data_dir, PathBuf::from("entrail-data"));
    assert_eq!(c.commit_delay, Duration::from_millis(5));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
        version = 2
        [log]
        commit_delay_ms = 900
        dedupe_horizon = "soon"
        [archive]
        zstd_level = 40
        [archive.retention.NoSuchLogs]
        days = 3
        [[sources]]
        type = "file"
        id = "a"
        paths = []
        shape = "weird"
        [[sinks]]
        type = "file"
        id = "a"
        path = "out.jsonl"
        categories = ["SignInLogs", "Bogus"]
    "#;
    let errors = parse(text).unwrap().validate().unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "version",
            "log.commit_delay_ms",
            "log.dedupe_horizon",
            "archive.zstd_level",
            "archive.retention.NoSuchLogs",
            "sources[0].paths",
            "sources[0].shape",
            "sinks[0].id",
            "sinks[0].categories[1]"
        ]
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_place() {
    let e = parse("[log]\nsegment_mb = 3\n").unwrap_err();
    assert!(e.message.contains("segment_mb"), "{e}");
}

#[test]
fn the_archive_buffer_budget_is_configurable_and_bounded() {
    // Spilled buffers (the default) get 256 MiB of disk; buffers on the heap keep 64 MiB.
    let c = parse("").unwrap().validate().unwrap();
    assert_eq!(c.archive_max_buffer_bytes, 256 << 20);
    let c = parse("[archive]\nspill = false\n")
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(c.archive_max_buffer_bytes, 64 << 20);
    let c = parse("[archive]\nmax_buffer_mib = 16\n")
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(c.archive_max_buffer_bytes, 16 << 20);
    let errors = parse("[archive]\nmax_buffer_mib = 0\n")
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(
        errors.iter().any(|e| e.path == "archive.max_buffer_mib"),
        "{errors:?}"
    );
}

#[test]
fn the_compaction_zstd_level_is_optional_and_bounded() {
    let c = parse("").unwrap().validate().unwrap();
    assert_eq!(c.compact_zstd_level, None);
    let c = parse("[archive]\ncompact_zstd_level = 9\n")
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(c.compact_zstd_level, Some(9));
    for bad in ["0", "23"] {
        let errors = parse(&format!("[archive]\ncompact_zstd_level = {bad}\n"))
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.path == "archive.compact_zstd_level" && e.message.contains(bad)),
            "{errors:?}"
        );
    }
}

#[test]
fn the_raw_mode_defaults_to_text_and_residual_reaches_the_archive() {
    use store::archive::RawMode;
    let c = parse("").unwrap().validate().unwrap();
    assert_eq!(c.archive_raw, RawMode::Text);
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "data_dir = {:?}\n[archive]\nraw = \"residual\"\n",
        tmp.path().display().to_string()
    );
    let c = parse(&text).unwrap().validate().unwrap();
    assert_eq!(c.archive_raw, RawMode::Residual);
    let pipeline = crate::Pipeline::open(c).unwrap();
    assert_eq!(pipeline.archive_config().raw, RawMode::Residual);
    let e = parse("[archive]\nraw = \"gzip\"\n").unwrap_err();
    assert!(e.message.contains("residual"), "{e}");
}
