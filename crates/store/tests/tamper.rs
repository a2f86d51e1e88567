//! The tamper corpus: a real data directory (simulated sign-ins ingested through the hub into rolled log
//! segments, archived to Parquet with several row groups per file, sealed with a signing key and published
//! heads) is tampered with in every way the issue lists; each must be detected with the right location.
//! Deletions by retention, compaction and log trimming must verify cleanly, and a legal hold must keep data.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod tamper_support;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use model::Category;
use store::archive::{Archive, ArchiveConfig, Manifest, RetentionPolicy};
use store::log::{Log, LogConfig};
use store::seal::{Body, FindingKind, SealConfig, Sealer, generate_key_pair};
use tamper_support::*;

#[test]
fn the_untouched_corpus_verifies_cleanly() {
    let dir = corpus();
    let r = check(dir.path());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(
        segments(dir.path()).len() >= 3,
        "the corpus must roll several segments"
    );
    assert!(
        !big_parquet(dir.path()).is_empty(),
        "the corpus needs files with several row groups"
    );
    assert!(r.signatures_checked && r.checkpoints > 0 && r.published_heads > 0);
    assert_eq!(r.unsigned_tail, 0, "the last checkpoint signs everything");
    assert!(r.files_checked > 4 && r.bytes_hashed > 4 * SEGMENT_BYTES);
}

#[test]
fn a_flipped_byte_in_a_parquet_row_group_is_located() {
    let dir = corpus();
    let (path, e) = big_parquet(dir.path()).remove(0);
    let Body::Parquet { row_groups, .. } = &e.body else {
        unreachable!()
    };
    let file = dir.path().join("data").join(&path);
    let mut bytes = read(&file);
    let at = (row_groups[2].start + row_groups[2].len / 2) as usize;
    bytes[at] ^= 0x40;
    fs::write(&file, bytes).unwrap();
    let loc = only(&check(dir.path()), FindingKind::FileEdited, &path);
    assert!(
        loc.starts_with(&format!("row group 2 ({} rows", row_groups[2].rows)),
        "{loc}"
    );
}

#[test]
fn a_deleted_row_group_is_named() {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::file::properties::WriterProperties;
    let dir = corpus();
    let (path, e) = big_parquet(dir.path()).remove(0);
    let Body::Parquet { row_groups, .. } = &e.body else {
        unreachable!()
    };
    let file = dir.path().join("data").join(&path);
    let keep: Vec<usize> = (0..row_groups.len()).filter(|i| *i != 1).collect();
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&file).unwrap())
        .unwrap()
        .with_row_groups(keep)
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let tmp = file.with_extension("rewrite");
    let mut w = ArrowWriter::try_new(
        fs::File::create(&tmp).unwrap(),
        batches[0].schema(),
        Some(props),
    )
    .unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
    fs::rename(&tmp, &file).unwrap();
    let loc = only(&check(dir.path()), FindingKind::FileEdited, &path);
    assert!(
        loc.contains(&format!(
            "row group 1 ({} rows) is missing",
            row_groups[1].rows
        )),
        "{loc}"
    );
}

#[test]
fn removed_and_inserted_files_are_reported() {
    let dir = corpus();
    let data = dir.path().join("data");
    let (path, _) = big_parquet(dir.path()).remove(0);
    let foreign = "archive/SigninLogs/day=2099-01-01/part-1-2.parquet";
    fs::create_dir_all(data.join("archive/SigninLogs/day=2099-01-01")).unwrap();
    fs::copy(data.join(&path), data.join(foreign)).unwrap();
    let r = check(dir.path());
    assert!(only(&r, FindingKind::FileInserted, foreign).contains("not in the chain"));

    fs::remove_file(data.join(foreign)).unwrap();
    fs::remove_file(data.join(&path)).unwrap();
    only(&check(dir.path()), FindingKind::FileRemoved, &path);

    let dir = corpus();
    let (seg, _) = segments(dir.path()).remove(1);
    fs::remove_file(dir.path().join("data").join(&seg)).unwrap();
    let loc = only(&check(dir.path()), FindingKind::FileRemoved, &seg);
    assert!(loc.contains("records "), "{loc}");
}

#[test]
fn swapped_log_segments_are_reported_as_reordered() {
    let dir = corpus();
    let segs = segments(dir.path());
    let (a, b) = (&segs[0].0, &segs[1].0);
    let data = dir.path().join("data");
    fs::rename(data.join(a), data.join("swap")).unwrap();
    fs::rename(data.join(b), data.join(a)).unwrap();
    fs::rename(data.join("swap"), data.join(b)).unwrap();
    let r = check(dir.path());
    assert_eq!(r.findings.len(), 2, "{:#?}", r.findings);
    for (f, other) in r.findings.iter().zip([b, a]) {
        assert_eq!(f.kind, FindingKind::Reordered, "{f}");
        assert!(f.detail.contains(other.as_str()), "{f}");
    }
}

#[test]
fn edits_and_truncation_of_a_segment_are_located_to_block_and_records() {
    let dir = corpus();
    let (seg, e) = segments(dir.path()).remove(0);
    let Body::Segment { blocks, bytes, .. } = &e.body else {
        unreachable!()
    };
    let file = dir.path().join("data").join(&seg);
    let mut content = read(&file);
    content[(1 << 20) + 5000] ^= 1;
    fs::write(&file, &content).unwrap();
    let loc = only(&check(dir.path()), FindingKind::FileEdited, &seg);
    let b = &blocks[1];
    assert!(
        loc.starts_with(&format!(
            "block 1: bytes {}..{}, records {}..={}",
            b.start,
            b.start + b.len,
            b.first,
            b.last
        )),
        "{loc}"
    );

    let dir = corpus();
    let file = dir.path().join("data").join(&seg);
    let cut = bytes - 100;
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(cut)
        .unwrap();
    let loc = only(&check(dir.path()), FindingKind::Truncated, &seg);
    let last = blocks.len() - 1;
    assert!(
        loc.starts_with(&format!("from byte {cut}, block {last}")),
        "{loc}"
    );
}

#[test]
fn a_truncated_parquet_file_is_reported() {
    let dir = corpus();
    let (path, e) = big_parquet(dir.path()).remove(0);
    let Body::Parquet { bytes, .. } = &e.body else {
        unreachable!()
    };
    let file = dir.path().join("data").join(&path);
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(bytes / 2)
        .unwrap();
    let r = check(dir.path());
    assert!(
        r.findings
            .iter()
            .all(|f| f.path.as_deref() == Some(path.as_str())),
        "{:#?}",
        r.findings
    );
    let t = r
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Truncated)
        .expect("truncation reported");
    assert!(
        t.location.starts_with(&format!("from byte {}", bytes / 2)),
        "{t}"
    );
}

#[test]
fn an_edited_chain_entry_is_located() {
    let dir = corpus();
    let (path, e) = big_parquet(dir.path()).remove(0);
    let chain_path = dir.path().join("data/seal/chain.jsonl");
    let text = read_text(&chain_path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut v: serde_json::Value = serde_json::from_str(&lines[e.seq as usize]).unwrap();
    v["rows"] = serde_json::json!(v["rows"].as_u64().unwrap() + 1);
    lines[e.seq as usize] = v.to_string();
    fs::write(&chain_path, lines.join("\n") + "\n").unwrap();
    let r = check(dir.path());
    assert!(!r.findings.is_empty());
    for f in &r.findings {
        assert_eq!(f.kind, FindingKind::ChainEntryEdited, "{f}");
        assert_eq!(f.seq, Some(e.seq), "{f}");
        assert_eq!(f.path.as_deref(), Some(path.as_str()));
    }
}

#[test]
fn a_chain_rewritten_with_another_key_fails_signatures_and_published_heads() {
    let dir = corpus();
    let root = dir.path();
    let data = root.join("data");
    // The attacker edits a file and rebuilds the whole chain over the edited data with their own key.
    let (path, _) = big_parquet(root).remove(0);
    let mut bytes = read(data.join(&path));
    bytes[100] ^= 1;
    fs::write(data.join(&path), bytes).unwrap();
    fs::remove_file(data.join("seal/chain.jsonl")).unwrap();
    generate_key_pair(&root.join("evil.pem"), &root.join("evil.pub")).unwrap();
    let sealer = Sealer::open(
        &data,
        SealConfig {
            signing_key_file: Some(root.join("evil.pem")),
            fsync: false,
            ..SealConfig::default()
        },
    )
    .unwrap();
    sealer.catch_up_log(&data.join("log")).unwrap();
    let manifest = Manifest::load(&data.join("archive")).unwrap().unwrap();
    sealer
        .catch_up_archive(&data.join("archive"), &manifest)
        .unwrap();
    sealer.checkpoint().unwrap();
    drop(sealer);
    let r = check(root);
    assert!(!r.findings.is_empty());
    assert!(
        r.findings
            .iter()
            .all(|f| f.kind == FindingKind::ChainRewritten),
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.detail.contains("signature does not verify"))
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.location.contains("published-heads.jsonl"))
    );
    assert_eq!(r.signed_through, 0);
}

/// Opens the corpus's archive and log with the sealer hooked in, as the pipeline does.
fn with_store(root: &Path, cfg: ArchiveConfig, f: impl FnOnce(&mut Archive, &Log)) {
    let data = root.join("data");
    let sealer = Sealer::open(&data, seal_config(root)).unwrap();
    let log = Log::open(
        &data.join("log"),
        LogConfig {
            segment_bytes: SEGMENT_BYTES,
            fsync: false,
            ..LogConfig::default()
        },
    )
    .unwrap();
    log.set_seal_hook(sealer.clone());
    let mut archive = Archive::open(&data.join("archive"), cfg).unwrap();
    archive.set_seal_hook(sealer.clone());
    f(&mut archive, &log);
    assert_eq!(sealer.failures(), 0);
}

#[test]
fn retention_compaction_and_log_trimming_verify_cleanly() {
    let dir = corpus();
    let cfg = ArchiveConfig {
        retention: HashMap::from([(
            Category::SignInLogs,
            RetentionPolicy {
                days: Some(30),
                legal_hold: false,
            },
        )]),
        ..archive_config()
    };
    let mut deleted = 0;
    with_store(dir.path(), cfg, |archive, log| {
        let c = archive.compact().unwrap();
        assert!(c.files_merged >= 2, "{c:?}");
        let r = archive.apply_retention(chrono::Utc::now()).unwrap();
        assert!(r.files > 0, "{r:?}");
        deleted = r.files;
        let end = log.end_offset();
        assert!(log.truncate_before(end).unwrap() > 0);
    });
    let r = check(dir.path());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let reasons: Vec<&str> = r
        .deleted_by_policy
        .iter()
        .map(|d| d.reason.as_str())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "retention").count(),
        deleted
    );
    assert!(
        reasons.contains(&"compaction") && reasons.contains(&"log_trim"),
        "{reasons:?}"
    );
    assert!(
        r.deleted_by_policy
            .iter()
            .any(|d| d.detail.contains("retention of 30 days"))
    );
    // A deletion by policy is not a licence: a sealed file removed by hand is still reported.
    let live = big_parquet(dir.path())
        .into_iter()
        .find(|(p, _)| dir.path().join("data").join(p).exists());
    if let Some((p, _)) = live {
        fs::remove_file(dir.path().join("data").join(&p)).unwrap();
        only(&check(dir.path()), FindingKind::FileRemoved, &p);
    }
}

#[test]
fn legal_hold_keeps_what_retention_would_delete() {
    let dir = corpus();
    let cfg = ArchiveConfig {
        retention: HashMap::from([(
            Category::SignInLogs,
            RetentionPolicy {
                days: Some(30),
                legal_hold: true,
            },
        )]),
        default_retention_days: Some(30),
        ..archive_config()
    };
    with_store(dir.path(), cfg, |archive, _| {
        let before: Vec<_> = archive
            .manifest()
            .files
            .iter()
            .filter(|f| f.table == "SigninLogs")
            .cloned()
            .collect();
        assert!(!before.is_empty());
        let r = archive.apply_retention(chrono::Utc::now()).unwrap();
        assert!(r.deleted.iter().all(|d| d.table != "SigninLogs"), "{r:?}");
        assert!(r.held.iter().any(|p| p.table == "SigninLogs"));
        let after: Vec<_> = archive
            .manifest()
            .files
            .iter()
            .filter(|f| f.table == "SigninLogs")
            .cloned()
            .collect();
        assert_eq!(before, after);
    });
    let r = check(dir.path());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(
        r.deleted_by_policy
            .iter()
            .all(|d| !d.path.contains("/SigninLogs/"))
    );
}
