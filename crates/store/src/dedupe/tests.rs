//! Unit and property tests of the dedupe index, against a simple in-memory model.
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

const H: Duration = Duration::from_micros(1000);

fn open(path: &Path) -> DedupeIndex {
    DedupeIndex::open(path, H).unwrap()
}

#[test]
fn verdicts_new_duplicate_revision() {
    let dir = tempfile::tempdir().unwrap();
    let mut idx = open(&dir.path().join("d.redb"));
    assert!(idx.is_empty());
    assert_eq!(idx.check_and_insert(b"k", 1, 0), Verdict::New);
    assert_eq!(idx.check_and_insert(b"k", 1, 1), Verdict::Duplicate);
    assert_eq!(idx.check_and_insert(b"k", 2, 2), Verdict::Revision(1));
    assert_eq!(idx.check_and_insert(b"k", 3, 3), Verdict::Revision(2));
    // An older revision re-delivered is still a duplicate.
    assert_eq!(idx.check_and_insert(b"k", 1, 4), Verdict::Duplicate);
    assert_eq!(idx.check_and_insert(b"other", 1, 4), Verdict::New);
    assert_eq!(idx.len(), 2);
    assert_eq!(idx.pending_changes(), 2);
}

#[test]
fn only_the_newest_hashes_are_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let mut idx = open(&dir.path().join("d.redb"));
    assert_eq!(idx.check_and_insert(b"k", 0, 0), Verdict::New);
    for h in 1..=MAX_HASHES_PER_KEY as u128 {
        assert_eq!(
            idx.check_and_insert(b"k", h, 0),
            Verdict::Revision(h as u32)
        );
    }
    // Hash 0 was dropped: it now counts as a new revision; hash 1 is still known.
    assert_eq!(idx.check_and_insert(b"k", 1, 0), Verdict::Duplicate);
    assert_eq!(idx.check_and_insert(b"k", 0, 0), Verdict::Revision(17));
}

#[test]
fn keys_expire_after_the_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    let mut idx = open(&path);
    for k in 0u8..10 {
        assert_eq!(idx.check_and_insert(&[k], 7, 0), Verdict::New);
    }
    assert_eq!(idx.check_and_insert(&[0], 7, 1000), Verdict::Duplicate);
    // At 1001 the cutoff is 1: keys last seen at 0 behave as absent before any sweep.
    assert_eq!(idx.check_and_insert(&[1], 7, 1001), Verdict::New);
    assert_eq!(idx.expired_total(), 1);
    // A late record of a live key is still a duplicate.
    assert_eq!(idx.check_and_insert(&[0], 7, 0), Verdict::Duplicate);
    idx.checkpoint(12).unwrap();
    assert_eq!(idx.len(), 2, "keys 0 and 1 remain");
    assert_eq!(idx.expired_total(), 9);
    drop(idx);
    let mut idx = open(&path);
    assert_eq!(
        (idx.len(), idx.expired_total(), idx.applied_offset()),
        (2, 9, 12)
    );
    assert_eq!(idx.check_and_insert(&[2], 7, 1001), Verdict::New);
    assert_eq!(idx.check_and_insert(&[0], 7, 1001), Verdict::Duplicate);
}

#[test]
fn checkpoint_persists_and_crash_loses_only_uncheckpointed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    let mut idx = open(&path);
    assert_eq!(idx.applied_offset(), 0);
    idx.check_and_insert(b"a", 1, 10);
    idx.check_and_insert(b"a", 2, 11);
    idx.checkpoint(2).unwrap();
    assert_eq!(idx.pending_changes(), 0);
    idx.check_and_insert(b"b", 1, 12);
    drop(idx); // crash: no checkpoint
    let mut idx = open(&path);
    assert_eq!(idx.applied_offset(), 2);
    assert_eq!(idx.len(), 1);
    assert_eq!(idx.check_and_insert(b"a", 1, 13), Verdict::Duplicate);
    assert_eq!(idx.check_and_insert(b"a", 3, 13), Verdict::Revision(2));
    assert_eq!(idx.check_and_insert(b"b", 1, 13), Verdict::New);
}

#[test]
fn open_rejects_bad_horizon_and_second_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    for h in [Duration::ZERO, MAX_HORIZON + Duration::from_secs(1)] {
        let err = DedupeIndex::open(&path, h).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
    let idx = DedupeIndex::open(&path, DEFAULT_HORIZON).unwrap();
    assert_eq!(idx.horizon(), DEFAULT_HORIZON);
    let err = DedupeIndex::open(&path, DEFAULT_HORIZON).unwrap_err();
    assert!(matches!(err, DedupeError::Locked { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Fatal);
}

/// The specification: every key keeps its hashes (newest 16), last seen and revision; a key
/// last seen before `max(now) - horizon` is absent.
struct Model {
    horizon: i64,
    clock: i64,
    keys: HashMap<Vec<u8>, (Vec<u128>, i64, u32)>,
}

impl Model {
    fn check(&mut self, key: &[u8], hash: u128, now: i64) -> Verdict {
        self.clock = self.clock.max(now);
        let cutoff = self.clock - self.horizon;
        match self.keys.get_mut(key) {
            Some((hashes, last, rev)) if *last >= cutoff => {
                *last = (*last).max(now);
                if hashes.contains(&hash) {
                    Verdict::Duplicate
                } else {
                    hashes.push(hash);
                    if hashes.len() > MAX_HASHES_PER_KEY {
                        hashes.remove(0);
                    }
                    *rev += 1;
                    Verdict::Revision(*rev)
                }
            }
            _ => {
                self.keys.insert(key.to_vec(), (vec![hash], now, 0));
                Verdict::New
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Check { key: u8, hash: u8, dt: i64 },
    Checkpoint,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0u8..12, 0u8..20, -300i64..400).prop_map(|(key, hash, dt)| Op::Check { key, hash, dt }),
        2 => Just(Op::Checkpoint),
        1 => Just(Op::Crash),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Checkpoints and crashes (drop without checkpoint, reopen, replay the log after
    /// `applied_offset`) never change a verdict.
    #[test]
    fn matches_model_across_checkpoints_and_crashes(ops in prop::collection::vec(op(), 1..250)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let mut idx = open(&path);
        let mut model = Model { horizon: H.as_micros() as i64, clock: i64::MIN / 2, keys: HashMap::new() };
        let mut log: Vec<(u8, u128, i64)> = Vec::new();
        let mut verdicts = Vec::new();
        let mut now = 1_000_000i64;
        for op in ops {
            match op {
                Op::Check { key, hash, dt } => {
                    now += dt;
                    let hash = u128::from(hash) << 64 | 5;
                    let got = idx.check_and_insert(&[key, 0xAB], hash, now);
                    prop_assert_eq!(got, model.check(&[key, 0xAB], hash, now));
                    log.push((key, hash, now));
                    verdicts.push(got);
                }
                Op::Checkpoint => idx.checkpoint(log.len() as u64).unwrap(),
                Op::Crash => {
                    drop(idx);
                    idx = open(&path);
                    let from = idx.applied_offset() as usize;
                    prop_assert!(from <= log.len());
                    for (i, &(key, hash, at)) in log.iter().enumerate().skip(from) {
                        prop_assert_eq!(idx.check_and_insert(&[key, 0xAB], hash, at), verdicts[i]);
                    }
                }
            }
        }
    }
}
