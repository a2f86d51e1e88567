//! Golden sample (one record of every category, diagnostic shape) and the golden helper itself.

use std::path::Path;

use super::{cfg, first_of_each, run};
use crate::golden::{assert_golden, update_requested};
use crate::{Shape, render};

#[test]
fn golden_sample_of_every_category() {
    let r = run(&cfg(20, 1, 2024), None);
    let mut out = String::new();
    for ev in first_of_each(&r) {
        let mut v = render(ev, Shape::Diagnostic, false, &r.tenant).unwrap();
        v.sort_all_objects();
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/golden/diagnostic_sample.jsonl");
    assert_golden(&path, &out);
}

#[test]
fn golden_matches_and_missing_file_explains() {
    if update_requested() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.txt");
    std::fs::write(&path, "a\nb\n").unwrap();
    assert_golden(&path, "a\nb\n");
    let missing = dir.path().join("missing.txt");
    let err = std::panic::catch_unwind(|| assert_golden(&missing, "x")).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("UPDATE_GOLDEN=1"), "{msg}");
    let err = std::panic::catch_unwind(|| assert_golden(&path, "a\nc\n")).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("line 2"));
}
