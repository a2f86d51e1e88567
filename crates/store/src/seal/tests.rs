//! Unit tests of sealing and verification: block/record mapping, entry hashing, chain recovery, signatures,
//! config validation. The tamper corpus is in `tests/tamper.rs`.
use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::log::{Log, LogConfig};

const PAYLOAD: usize = 1000;

fn log_with_segments(dir: &Path, sealer: Option<Arc<Sealer>>) -> Log {
    let log = Log::open(
        &dir.join("log"),
        LogConfig {
            segment_bytes: 3 << 20,
            max_commit_delay: std::time::Duration::ZERO,
            fsync: false,
        },
    )
    .unwrap();
    if let Some(s) = sealer {
        log.set_seal_hook(s);
    }
    let payload = vec![7u8; PAYLOAD];
    for _ in 0..80 {
        let batch: Vec<&[u8]> = (0..100).map(|_| payload.as_slice()).collect();
        log.append(&batch).unwrap();
    }
    log
}

fn sealer(dir: &Path, key: Option<&Path>) -> Arc<Sealer> {
    Sealer::open(
        dir,
        SealConfig {
            signing_key_file: key.map(Path::to_path_buf),
            fsync: false,
            ..SealConfig::default()
        },
    )
    .unwrap()
}

fn opts(dir: &Path, key: Option<&Path>) -> VerifyOptions {
    VerifyOptions {
        data_dir: dir.to_owned(),
        verify_key: key.map(|k| load_verifying_key(k).unwrap()),
        ..VerifyOptions::default()
    }
}

#[test]
fn blocks_name_the_records_holding_their_first_and_last_byte() {
    let dir = tempfile::tempdir().unwrap();
    let _log = log_with_segments(dir.path(), None);
    let path = dir.path().join("log/00000000000000000000.seg");
    let entries = (3 << 20) / (PAYLOAD as u64 + 8);
    let Body::Segment { blocks, bytes, .. } =
        hash_segment(&path, "log/x.seg".into(), 0, entries, HashAlg::Blake3).unwrap()
    else {
        panic!("not a segment body")
    };
    assert_eq!(blocks.len(), 3);
    assert_eq!(bytes, blocks.iter().map(|b| b.len).sum::<u64>());
    let frame = PAYLOAD as u64 + 8;
    for b in &blocks {
        assert_eq!(b.first, b.start / frame, "{b:?}");
        assert_eq!(b.last, (b.start + b.len - 1) / frame, "{b:?}");
    }
}

#[test]
fn the_log_hook_seals_each_closed_segment_with_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let s = sealer(dir.path(), None);
    let log = log_with_segments(dir.path(), Some(s.clone()));
    let closed = log.segment_count() - 1;
    assert!(closed >= 2);
    let (entries, _) = s.head();
    assert_eq!(entries as usize, closed);
    // Idempotent catch-up: nothing left to seal.
    assert_eq!(s.catch_up_log(log.dir()).unwrap(), 0);
    // Trimming records deletions with the reason.
    log.truncate_before(log.end_offset()).unwrap();
    s.checkpoint().unwrap();
    let r = verify(&opts(dir.path(), None)).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.deleted_by_policy.len(), closed);
    assert!(r.deleted_by_policy.iter().all(|d| d.reason == "log_trim"));
}

#[test]
fn an_entry_hash_binds_every_field_and_survives_a_round_trip() {
    let body = Body::Checkpoint {
        covered: 3,
        key_id: "k".into(),
    };
    let e = entry::Entry::new(3, 10, GENESIS.to_owned(), body).unwrap();
    let line = serde_json::to_string(&e).unwrap();
    let back: Entry = serde_json::from_str(&line).unwrap();
    assert_eq!(back, e);
    assert_eq!(hex(&back.compute_hash().unwrap()), e.hash);
    let mut edited = back.clone();
    edited.time_us += 1;
    assert_ne!(hex(&edited.compute_hash().unwrap()), e.hash);
    let mut edited = back;
    edited.body = Body::Checkpoint {
        covered: 4,
        key_id: "k".into(),
    };
    assert_ne!(hex(&edited.compute_hash().unwrap()), e.hash);
}

#[test]
fn hex_round_trips() {
    let bytes = [0u8, 1, 0xab, 0xff];
    assert_eq!(hex(&bytes), "0001abff");
    assert_eq!(unhex("0001ABff").unwrap(), bytes);
    assert!(unhex("abc").is_none() && unhex("zz").is_none());
}

#[test]
fn a_torn_last_chain_line_is_cut_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = sealer(dir.path(), None);
    let log = log_with_segments(dir.path(), Some(s.clone()));
    drop(log);
    drop(s);
    let chain = dir.path().join(CHAIN_FILE);
    let mut text = String::from_utf8(
        model::limits::read_capped(fs::File::open(&chain).unwrap(), 1 << 30).unwrap(),
    )
    .unwrap();
    let lines = text.lines().count();
    text.push_str("{\"seq\":99,\"ti");
    fs::write(&chain, &text).unwrap();
    assert_eq!(
        verify(&opts(dir.path(), None)).unwrap().findings[0].kind,
        FindingKind::ChainEntryEdited
    );
    let s = sealer(dir.path(), None);
    assert_eq!(s.head().0 as usize, lines);
    drop(s);
    let r = verify(&opts(dir.path(), None)).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn unsigned_checkpoints_fail_against_a_verify_key() {
    let dir = tempfile::tempdir().unwrap();
    generate_key_pair(&dir.path().join("k.pem"), &dir.path().join("k.pub")).unwrap();
    let data = dir.path().join("data");
    let s = sealer(&data, None);
    drop(log_with_segments(&data, Some(s.clone())));
    drop(s);
    let r = verify(&opts(&data, None)).unwrap();
    assert!(r.findings.is_empty() && !r.signatures_checked && r.checkpoints == 1);
    let r = verify(&opts(&data, Some(&dir.path().join("k.pub")))).unwrap();
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    assert_eq!(r.findings[0].kind, FindingKind::ChainRewritten);
    assert!(r.findings[0].detail.contains("unsigned"));
    // Signed with the key: verifies.
    let data = dir.path().join("signed");
    let s = sealer(&data, Some(&dir.path().join("k.pem")));
    drop(log_with_segments(&data, Some(s.clone())));
    drop(s);
    let r = verify(&opts(&data, Some(&dir.path().join("k.pub")))).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.unsigned_tail, 0);
}

#[test]
fn config_validation_reports_every_problem() {
    let cfg = SealConfig {
        checkpoint_every: 0,
        checkpoint_interval: std::time::Duration::ZERO,
        publish_file: Some("".into()),
        ..SealConfig::default()
    };
    let Err(SealError::Config { problems }) = cfg.validate() else {
        panic!("invalid config accepted")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(SealConfig::default().validate().is_ok());
    assert!(matches!(
        load_signing_key(Path::new("/nonexistent/key.pem")).map_err(|e| e.kind()),
        Err(ErrorKind::Transient)
    ));
}

#[test]
#[allow(clippy::disallowed_methods)] // test files are small
fn both_hash_functions_seal_and_verify_and_find_an_edited_block() {
    for alg in [HashAlg::Blake3, HashAlg::Sha256] {
        let dir = tempfile::tempdir().unwrap();
        let s = Sealer::open(
            dir.path(),
            SealConfig {
                fsync: false,
                hash: alg,
                ..SealConfig::default()
            },
        )
        .unwrap();
        let log = log_with_segments(dir.path(), Some(s.clone()));
        drop(log);
        let chain = fs::read_to_string(dir.path().join(CHAIN_FILE)).unwrap();
        assert!(
            chain.contains(&format!("\"alg\":\"{}\"", alg.name())),
            "{alg:?}: {chain}"
        );
        assert_eq!(verify(&opts(dir.path(), None)).unwrap().findings, vec![]);
        // The two functions give different digests of the same segment.
        let seg = dir.path().join("log/00000000000000000000.seg");
        let root_of = |a| match hash_segment(&seg, "s".into(), 0, 1, a).unwrap() {
            Body::Segment { root, .. } => root,
            _ => unreachable!(),
        };
        assert_ne!(root_of(HashAlg::Blake3), root_of(HashAlg::Sha256));
        let mut bytes = fs::read(&seg).unwrap();
        bytes[(1 << 20) + 5] ^= 1;
        fs::write(&seg, bytes).unwrap();
        let findings = verify(&opts(dir.path(), None)).unwrap().findings;
        assert_eq!(findings.len(), 1, "{alg:?}: {findings:?}");
        assert!(findings[0].location.contains("block 1"), "{findings:?}");
    }
}
