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

    /// The same with at most 3 of the 12 keys in memory: evicted keys are read back from disk (or
    /// known absent through the filter), and the verdicts still match the model.
    #[test]
    fn bounded_memory_matches_model(ops in prop::collection::vec(op(), 1..250)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.redb");
        let open3 = |p: &Path| DedupeIndex::open_bounded(p, H, 3).unwrap();
        let mut idx = open3(&path);
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
                    prop_assert!(idx.take_error().is_none());
                    log.push((key, hash, now));
                    verdicts.push(got);
                }
                Op::Checkpoint => {
                    idx.checkpoint(log.len() as u64).unwrap();
                    prop_assert!(idx.len() <= 3, "{} keys in memory", idx.len());
                }
                Op::Crash => {
                    drop(idx);
                    idx = open3(&path);
                    prop_assert!(idx.len() <= 3);
                    let from = idx.applied_offset() as usize;
                    for (i, &(key, hash, at)) in log.iter().enumerate().skip(from) {
                        prop_assert_eq!(idx.check_and_insert(&[key, 0xAB], hash, at), verdicts[i]);
                    }
                }
            }
        }
    }

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

/// A workload 50 times the memory bound: memory stays within it (checkpointing whenever the index asks),
/// every key is still recognized from disk, new keys are new, and most of them never touched the disk.
#[test]
fn memory_stays_bounded_under_a_larger_workload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    let max = 1_000;
    let mut idx = DedupeIndex::open_bounded(&path, DEFAULT_HORIZON, max).unwrap();
    let key = |i: u32| format!("key-{i}").into_bytes();
    let mut applied = 0;
    for i in 0..50_000u32 {
        assert_eq!(
            idx.check_and_insert(&key(i), u128::from(i), 1),
            Verdict::New
        );
        applied += 1;
        if idx.over_memory() {
            idx.checkpoint(applied).unwrap();
        }
        assert!(idx.len() <= max + 1, "{} keys in memory", idx.len());
    }
    idx.checkpoint(applied).unwrap();
    let bound = idx.memory_bytes();
    assert!(idx.disk_only_keys() >= 49_000, "{}", idx.disk_only_keys());
    // Old keys come back from disk: same hash is a duplicate, a new hash a revision.
    for i in (0..50_000u32).step_by(97) {
        assert_eq!(
            idx.check_and_insert(&key(i), u128::from(i), 2),
            Verdict::Duplicate
        );
    }
    assert_eq!(idx.check_and_insert(&key(3), 7, 2), Verdict::Revision(1));
    assert_eq!(idx.check_and_insert(b"never seen", 1, 2), Verdict::New);
    assert!(idx.take_error().is_none());
    idx.checkpoint(applied).unwrap();
    assert!(idx.len() <= max);
    // The map has the same capacity as when `bound` was taken; key 3's revision may add its second
    // hash (a `Vec<u128>` of capacity 4) when key 3 stayed in memory.
    let revision = 4 * std::mem::size_of::<u128>();
    assert!(
        idx.memory_bytes() <= bound + revision,
        "{} > {bound} + {revision}",
        idx.memory_bytes()
    );
    // Reopening loads at most the bound and still knows every key.
    drop(idx);
    let mut idx = DedupeIndex::open_bounded(&path, DEFAULT_HORIZON, max).unwrap();
    assert!(idx.len() <= max);
    assert_eq!(idx.check_and_insert(&key(3), 7, 3), Verdict::Duplicate);
    assert_eq!(
        idx.check_and_insert(&key(49_999), 49_999, 3),
        Verdict::Duplicate
    );
    assert_eq!(idx.check_and_insert(&key(50_000), 1, 3), Verdict::New);
}

/// Evicted keys expire like the others: a sweep removes them from disk and the filter forgets them.
#[test]
fn evicted_keys_expire() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.redb");
    let mut idx = DedupeIndex::open_bounded(&path, H, 10).unwrap();
    for i in 0..100u32 {
        idx.check_and_insert(&i.to_le_bytes(), 1, 0);
    }
    idx.checkpoint(100).unwrap();
    assert!(idx.len() <= 10 && idx.disk_only_keys() >= 90);
    // Past the horizon: the sweep at this checkpoint removes all 100 from disk.
    assert_eq!(idx.check_and_insert(b"late", 1, 2_000), Verdict::New);
    idx.checkpoint(101).unwrap();
    assert_eq!(idx.expired_total(), 100);
    assert_eq!(idx.disk_only_keys(), 0);
    assert_eq!(
        idx.check_and_insert(&5u32.to_le_bytes(), 1, 2_000),
        Verdict::New
    );
    drop(idx);
    let idx = DedupeIndex::open_bounded(&path, H, 10).unwrap();
    assert_eq!(idx.len(), 1, "only the late key is on disk");
}

/// Evictions leave tombstones in the key map; when they run out its table may double (hashbrown grows
/// instead of rehashing in place once more than half its capacity is live), so eviction rebuilds the map.
/// Memory must stay within the bound however many rounds of insert, checkpoint and evict pass: the map's
/// slots, checked after every insert, never reach twice the bound.
#[test]
fn the_key_map_does_not_grow_past_the_bound_over_many_evictions() {
    let dir = tempfile::tempdir().unwrap();
    let max = 1_000;
    let mut idx =
        DedupeIndex::open_bounded(&dir.path().join("d.redb"), DEFAULT_HORIZON, max).unwrap();
    let mut next = 0u32;
    let mut grown = 0;
    for round in 0..300u64 {
        // More than the evicted half: the map refills past the bound before each checkpoint.
        for _ in 0..700 {
            idx.check_and_insert(format!("key-{next}").as_bytes(), 1, 1);
            next += 1;
            // Between checkpoints too: evicted keys leave no tombstones that double the map.
            grown = grown.max(idx.keys.capacity());
        }
        idx.checkpoint(round).unwrap();
        assert!(
            idx.len() <= max,
            "{} keys after checkpoint {round}",
            idx.len()
        );
        grown = grown.max(idx.keys.capacity());
    }
    assert!(
        grown < 2 * max,
        "the key map grew to {grown} slots for a bound of {max} keys"
    );
}
