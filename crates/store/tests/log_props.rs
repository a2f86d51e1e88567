//! Property tests of `store::log` crash recovery: acknowledged entries survive any damage to the
//! unsynced tail, exactly once and in order, and appends go on at the right offset.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use store::log::{Log, LogConfig};

fn cfg(fsync: bool) -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        max_commit_delay: Duration::ZERO,
        fsync,
    }
}

/// Segment files with their first offsets, ascending.
fn segments(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut v: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let base = name.strip_suffix(".seg")?.parse().ok()?;
            Some((base, p))
        })
        .collect();
    v.sort();
    v
}

/// Damage to the region after the last acknowledged byte.
#[derive(Debug, Clone)]
struct Crash {
    /// Where to cut the unsynced region of the last segment.
    cut: Index,
    /// Bytes of the remaining unsynced region to XOR with a non-zero mask.
    flips: Vec<(Index, u8)>,
    /// Junk appended after the cut (a half-written frame).
    junk: Vec<u8>,
    /// Remove the last segment if it holds no acknowledged entry (its creation was lost).
    drop_last: bool,
}

fn crash() -> impl Strategy<Value = Crash> {
    (
        any::<Index>(),
        prop::collection::vec((any::<Index>(), 1u8..=255), 0..4),
        prop::collection::vec(any::<u8>(), 0..24),
        any::<bool>(),
    )
        .prop_map(|(cut, flips, junk, drop_last)| Crash {
            cut,
            flips,
            junk,
            drop_last,
        })
}

fn apply_crash(dir: &Path, entries: &[Vec<u8>], acked_end: u64, c: &Crash) {
    let segs = segments(dir);
    let (base, path) = segs.last().unwrap().clone();
    if c.drop_last && segs.len() > 1 && base >= acked_end {
        fs::remove_file(&path).unwrap();
        return;
    }
    // Bytes of acknowledged entries in the last segment: these are on disk for sure.
    let protected: u64 = (base..acked_end.max(base))
        .map(|o| 8 + entries[o as usize].len() as u64)
        .sum();
    let len = fs::metadata(&path).unwrap().len();
    assert!(len >= protected);
    let new_len = protected + c.cut.index((len - protected + 1) as usize) as u64;
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    f.set_len(new_len).unwrap();
    if new_len > protected {
        for (at, mask) in &c.flips {
            let pos = protected + at.index((new_len - protected) as usize) as u64;
            let mut b = [0u8];
            f.seek(SeekFrom::Start(pos)).unwrap();
            f.read_exact(&mut b).unwrap();
            f.seek(SeekFrom::Start(pos)).unwrap();
            f.write_all(&[b[0] ^ mask]).unwrap();
        }
    }
    f.seek(SeekFrom::End(0)).unwrap();
    f.write_all(&c.junk).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn acknowledged_entries_survive_a_crash(
        batches in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..150), 1..6),
            1..40,
        ),
        acked in any::<Index>(),
        crash in crash(),
        fsync in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), cfg(fsync)).unwrap();
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut ends = vec![0u64];
        for batch in &batches {
            let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            let range = log.append(&refs).unwrap();
            prop_assert_eq!(range.start, entries.len() as u64);
            prop_assert_eq!(range.end - range.start, batch.len() as u64);
            entries.extend(batch.iter().cloned());
            ends.push(range.end);
        }
        drop(log);
        // The crash hit while the batches after the first `k` were still in flight: only
        // those were acknowledged.
        let acked_end = ends[acked.index(ends.len())];
        apply_crash(dir.path(), &entries, acked_end, &crash);

        let log = Log::open(dir.path(), cfg(fsync)).unwrap();
        let got: Vec<(u64, Vec<u8>)> = log.reader(0).collect::<Result<_, _>>().unwrap();
        prop_assert!(got.len() as u64 >= acked_end, "lost acknowledged entries: {} < {}", got.len(), acked_end);
        prop_assert!(got.len() <= entries.len());
        for (i, (offset, bytes)) in got.iter().enumerate() {
            prop_assert_eq!(*offset, i as u64);
            prop_assert_eq!(bytes, &entries[i]);
        }
        let end = got.len() as u64;
        prop_assert_eq!(log.end_offset(), end);
        prop_assert_eq!(log.recovery_report().last_offset, end.checked_sub(1));
        prop_assert_eq!(log.append(&[b"after"]).unwrap(), end..end + 1);
        let mut r = log.reader(end);
        prop_assert_eq!(r.next().unwrap().unwrap(), (end, b"after".to_vec()));
        drop(r);
        drop(log);
        // A clean reopen finds nothing more to cut.
        let log = Log::open(dir.path(), cfg(fsync)).unwrap();
        prop_assert_eq!(log.recovery_report().truncated_bytes, 0);
        prop_assert_eq!(log.end_offset(), end + 1);
    }
}
