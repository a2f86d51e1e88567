//! File source tests: glob resolution, streaming in batches, rejected lines kept with their position.

use super::*;
use std::io::Write;

#[test]
fn a_pattern_that_matches_nothing_is_named() {
    let err = FileSource::new(FileSourceConfig::new(
        "t",
        vec!["/nonexistent/*.json".into()],
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/*.json: no file matches");
}

#[test]
fn streams_good_records_and_keeps_bad_lines_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..5 {
        writeln!(
            f,
            r#"{{"id":"Directory_{i}","activityDateTime":"2024-01-01T00:00:0{i}Z","activityDisplayName":"Add user","loggedByService":"Core Directory","category":"UserManagement","result":"success","initiatedBy":{{}},"targetResources":[]}}"#
        )
        .unwrap();
        if i == 2 {
            writeln!(f, "{{not json").unwrap();
        }
    }
    drop(f);
    let mut cfg = FileSourceConfig::new("t", vec![format!("{}/*.json", dir.path().display())]);
    cfg.batch_records = 2;
    let source = FileSource::new(cfg).unwrap();
    assert_eq!(source.files(), std::slice::from_ref(&path));
    let progress = Progress::default();
    let batches: Vec<_> = source
        .batches(0, progress.clone())
        .collect::<Result<_, _>>()
        .unwrap();
    let records: usize = batches.iter().map(|b| b.records.len()).sum();
    let rejected: Vec<_> = batches.iter().flat_map(|b| &b.rejected).collect();
    assert_eq!(records, 5);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].position.at, "line 4");
    assert_eq!(rejected[0].raw, b"{not json");
    assert_eq!(progress.bytes(), std::fs::metadata(&path).unwrap().len());
    assert!(batches.len() >= 3, "batches of 2 items");
}
