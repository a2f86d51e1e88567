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

/// One segment close the log reported: path, base, entries, and the digest computed while writing.
type Closed = (std::path::PathBuf, u64, u64, Option<SegmentDigest>);

/// A hook that records what the log reported.
struct Recorder {
    alg: Option<HashAlg>,
    closed: std::sync::Mutex<Vec<Closed>>,
}

impl SealHook for Recorder {
    fn segment_closed(&self, path: &Path, base: u64, entries: u64) {
        let mut c = self.closed.lock().unwrap();
        c.push((path.to_owned(), base, entries, None));
    }
    fn segments_removing(&self, _: &[std::path::PathBuf], _: u64) {}
    fn manifest_stored(
        &self,
        _: &Path,
        _: &crate::archive::Manifest,
        _: &crate::archive::Manifest,
    ) {
    }
    fn running_hash(&self) -> Option<HashAlg> {
        self.alg
    }
    fn segment_closed_digested(&self, path: &Path, base: u64, entries: u64, d: SegmentDigest) {
        let mut c = self.closed.lock().unwrap();
        c.push((path.to_owned(), base, entries, Some(d)));
    }
}

fn recorder(alg: Option<HashAlg>) -> Arc<Recorder> {
    Arc::new(Recorder {
        alg,
        closed: std::sync::Mutex::new(Vec::new()),
    })
}

/// Appends batches of entries of varied sizes (frames straddle the 1 MiB blocks) until `rolls` segments closed.
fn fill_until_rolled(log: &Log, rec: &Recorder, rolls: usize, seed: u64) {
    let mut x = seed | 1;
    while rec.closed.lock().unwrap().len() < rolls {
        let batch: Vec<Vec<u8>> = (0..37)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                vec![(i % 251) as u8; (x % 9000) as usize]
            })
            .collect();
        // Every other batch keeps its payload tails out of the buffer (vectored writes).
        let mut frames = crate::log::Frames::default();
        for e in batch {
            if x.is_multiple_of(2) {
                frames.push(&e).unwrap();
            } else {
                frames.push_with_tail(|out| out.push(1), e).unwrap();
            }
        }
        let range = log.enqueue(frames).unwrap();
        log.wait_durable(range.end).unwrap();
    }
}

fn small_log(dir: &Path) -> Log {
    Log::open(
        &dir.join("log"),
        LogConfig {
            segment_bytes: 3 << 20,
            max_commit_delay: std::time::Duration::ZERO,
            fsync: false,
        },
    )
    .unwrap()
}

#[test]
fn the_seal_digested_while_writing_equals_the_seal_of_the_file_read_back() {
    for alg in [HashAlg::Blake3, HashAlg::Sha256] {
        let dir = tempfile::tempdir().unwrap();
        let log = small_log(dir.path());
        let rec = recorder(Some(alg));
        log.set_seal_hook(rec.clone());
        fill_until_rolled(&log, &rec, 3, 42);
        let closed = std::mem::take(&mut *rec.closed.lock().unwrap());
        assert_eq!(closed.len(), 3);
        let mut next_base = 0;
        for (path, base, entries, digest) in closed {
            assert_eq!(base, next_base);
            next_base = base + entries;
            let digest = digest.expect("the writer digests a segment it wrote from its first byte");
            let written = digest.finish("log/x.seg".into(), entries);
            let read_back = hash_segment(&path, "log/x.seg".into(), base, entries, alg).unwrap();
            assert_eq!(written, read_back, "{alg:?} {}", path.display());
            let Body::Segment { bytes, blocks, .. } = &written else {
                panic!("not a segment body")
            };
            assert_eq!(*bytes, fs::metadata(&path).unwrap().len());
            assert!(blocks.len() >= 3, "{} blocks", blocks.len());
        }
    }
}

#[test]
fn a_segment_reopened_after_a_restart_is_sealed_by_reading_it_back() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = small_log(dir.path());
        log.append(&[&[1u8; 5000][..]]).unwrap();
    }
    let log = small_log(dir.path());
    let rec = recorder(Some(HashAlg::Blake3));
    log.set_seal_hook(rec.clone());
    fill_until_rolled(&log, &rec, 2, 7);
    let closed = rec.closed.lock().unwrap();
    // The first segment had bytes before this writer: no running digest; the next one has one.
    assert!(closed[0].3.is_none());
    assert!(closed[1].3.is_some());
}

#[test]
fn a_hook_without_a_running_hash_is_told_to_read_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let log = small_log(dir.path());
    let rec = recorder(None);
    log.set_seal_hook(rec.clone());
    fill_until_rolled(&log, &rec, 2, 9);
    assert!(rec.closed.lock().unwrap().iter().all(|c| c.3.is_none()));
}

#[test]
fn the_sealer_seals_from_the_running_digest_and_verify_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = sealer(dir.path(), None);
    let log = log_with_segments(dir.path(), Some(s.clone()));
    assert!(s.failures() == 0 && s.head().0 >= 2);
    drop(log);
    s.checkpoint().unwrap();
    let r = verify(&opts(dir.path(), None)).unwrap();
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

proptest::proptest! {
    #[test]
    fn a_digest_fed_in_any_pieces_equals_the_one_fed_at_once(
        lens in proptest::collection::vec(0usize..300_000, 1..20),
        cuts in proptest::collection::vec(0usize..3_000_000, 0..12),
    ) {
        let mut bytes = Vec::new();
        for (i, len) in lens.iter().enumerate() {
            bytes.extend_from_slice(&(*len as u32).to_le_bytes());
            bytes.extend_from_slice(&[0u8; 4]);
            bytes.extend(std::iter::repeat_n(i as u8, *len));
        }
        let mut whole = SegmentDigest::new(HashAlg::Blake3, 10);
        whole.update(&bytes);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = SegmentDigest::new(HashAlg::Blake3, 10);
        let mut at = 0;
        for c in cuts.into_iter().chain([bytes.len()]) {
            pieces.update(&bytes[at..c]);
            at = c;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.seg");
        fs::write(&path, &bytes).unwrap();
        let read = hash_segment(&path, "s".into(), 10, lens.len() as u64, HashAlg::Blake3).unwrap();
        proptest::prop_assert_eq!(whole.finish("s".into(), lens.len() as u64), read.clone());
        proptest::prop_assert_eq!(pieces.finish("s".into(), lens.len() as u64), read);
    }
}
