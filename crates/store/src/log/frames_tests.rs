//! Tests of [`Frames`] with payload tails kept out of the buffer: the files hold exactly the frames a copy
//! would have built, readers and recovery see every entry, and the sparse index points at frame starts.
use std::fs;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn cfg(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        max_commit_delay: Duration::ZERO,
        fsync: false,
    }
}

/// Entry `i`: a head and a tail whose length varies around the copy threshold.
fn parts(i: u64, tail_len: usize) -> (Vec<u8>, Vec<u8>) {
    let head = format!("head-{i}-").into_bytes();
    let tail = (0..tail_len).map(|j| (i as usize + j) as u8).collect();
    (head, tail)
}

/// Writes `batches` (tail lengths per entry) into a log at `dir`, with tails or copied whole.
fn write(dir: &std::path::Path, batches: &[Vec<usize>], with_tails: bool, segment_bytes: u64) {
    let log = Log::open(dir, cfg(segment_bytes)).unwrap();
    let mut i = 0;
    for lens in batches {
        let mut frames = Frames::with_capacity(1024);
        for &len in lens {
            let (head, tail) = parts(i, len);
            if with_tails {
                frames
                    .push_with_tail(|out| out.extend_from_slice(&head), tail)
                    .unwrap();
            } else {
                let whole = [head, tail].concat();
                frames.push(&whole).unwrap();
            }
            i += 1;
        }
        let range = log.enqueue(frames).unwrap();
        log.wait_durable(range.end).unwrap();
    }
}

#[allow(clippy::disallowed_methods)] // test segments are small
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .map(|p| (p.display().to_string(), fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v.into_iter()
        .map(|(p, b)| (p.rsplit('/').next().unwrap().to_owned(), b))
        .collect()
}

#[test]
fn tails_write_the_same_files_as_copies_and_read_back_from_any_offset() {
    // 700 entries in one batch: more I/O vectors than one write takes; tails from tiny to 9 KiB.
    let batches: Vec<Vec<usize>> = vec![
        (0..700).map(|i| (i * 13) % 9000).collect(),
        vec![0, 5000, 1023, 1024, 1025],
        (0..50).map(|i| 2000 + i).collect(),
    ];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path(), &batches, true, 64 << 10);
    write(b.path(), &batches, false, 64 << 10);
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.len() >= 3, "{} segments", fa.len());
    assert_eq!(fa, fb);
    let log = Log::open(a.path(), cfg(64 << 10)).unwrap();
    let total: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(log.end_offset(), total as u64);
    let lens: Vec<usize> = batches.concat();
    // Starting mid-log goes through the sparse index, which must point at frame starts.
    for from in [0u64, 1, 333, 699, 700, 704, 740] {
        let got: Vec<(u64, Vec<u8>)> = log.reader(from).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), total - from as usize);
        for (o, e) in got {
            let (head, tail) = parts(o, lens[o as usize]);
            assert_eq!(e, [head, tail].concat(), "entry {o}");
        }
    }
}

#[test]
fn an_oversized_entry_with_a_tail_is_refused_and_leaves_the_batch() {
    let mut frames = Frames::default();
    frames.push(b"kept").unwrap();
    let tail = vec![0u8; MAX_ENTRY_BYTES];
    let err = frames.push_with_tail(|out| out.push(1), tail).unwrap_err();
    assert!(matches!(err, LogError::EntryTooLarge { len, .. } if len == MAX_ENTRY_BYTES + 1));
    assert_eq!((frames.len(), frames.bytes()), (1, 12));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any mix of tails, batches and a torn write at any byte: the log reopens with a prefix of the entries.
    #[test]
    fn a_log_written_with_tails_recovers_like_one_written_by_copy(
        batches in proptest::collection::vec(proptest::collection::vec(0usize..4000, 1..40), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(a.path(), &batches, true, 64 << 10);
        write(b.path(), &batches, false, 64 << 10);
        let fa = files(a.path());
        prop_assert_eq!(&fa, &files(b.path()));
        // Tear the last segment at an arbitrary byte, as a crash during its write would.
        let (name, bytes) = fa.last().unwrap();
        let keep = cut.index(bytes.len() + 1);
        let f = fs::OpenOptions::new().write(true).open(a.path().join(name)).unwrap();
        f.set_len(keep as u64).unwrap();
        drop(f);
        let log = Log::open(a.path(), cfg(64 << 10)).unwrap();
        let lens: Vec<usize> = batches.concat();
        let got: Vec<(u64, Vec<u8>)> = log.reader(0).collect::<Result<_, _>>().unwrap();
        prop_assert!(got.len() <= lens.len());
        prop_assert_eq!(log.end_offset(), got.len() as u64);
        for (o, e) in got {
            let (head, tail) = parts(o, lens[o as usize]);
            prop_assert_eq!(e, [head, tail].concat());
        }
    }
}
