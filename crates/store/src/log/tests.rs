//! Unit tests of the durable log: framing, recovery, rolling, readers, offsets, locking,
//! retention, config and group commit.
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::segment;
use super::*;

fn small() -> LogConfig {
    LogConfig {
        segment_bytes: MIN_SEGMENT_BYTES,
        max_commit_delay: Duration::ZERO,
        fsync: false,
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry-{i:05}-{}", "x".repeat((i % 37) as usize)).into_bytes()
}

fn append_n(log: &Log, from: u64, n: u64) {
    for i in from..from + n {
        let e = entry(i);
        assert_eq!(log.append(&[&e]).unwrap(), i..i + 1);
    }
}

fn read_all(log: &Log, from: u64) -> Vec<(u64, Vec<u8>)> {
    log.reader(from).collect::<Result<_, _>>().unwrap()
}

fn seg_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".seg"))
        .collect();
    v.sort();
    v
}

#[test]
fn config_validation_lists_every_problem() {
    assert!(LogConfig::default().validate().is_ok());
    let bad = LogConfig {
        segment_bytes: 10,
        max_commit_delay: Duration::from_millis(501),
        fsync: true,
    };
    let err = bad.validate().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(matches!(&err, LogError::Config { problems } if problems.len() == 2));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Log::open(dir.path(), bad),
        Err(LogError::Config { .. })
    ));
    let edge = LogConfig {
        max_commit_delay: MAX_COMMIT_DELAY,
        ..LogConfig::default()
    };
    assert!(edge.validate().is_ok());
}

#[test]
fn append_read_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!((log.start_offset(), log.end_offset()), (0, 0));
    assert_eq!(log.append(&[]).unwrap(), 0..0);
    assert_eq!(log.append(&[b"a", b"bb", b"ccc"]).unwrap(), 0..3);
    assert_eq!(log.append(&[b"d"]).unwrap(), 3..4);
    assert_eq!(log.end_offset(), 4);
    let got = read_all(&log, 1);
    assert_eq!(
        got,
        vec![
            (1, b"bb".to_vec()),
            (2, b"ccc".to_vec()),
            (3, b"d".to_vec())
        ]
    );
    assert_eq!(log.disk_bytes(), 4 * 8 + 7);
    drop(log);
    let log = Log::open(dir.path(), small()).unwrap();
    let report = log.recovery_report();
    assert_eq!(
        (
            report.truncated_bytes,
            report.last_offset,
            report.end_offset
        ),
        (0, Some(3), 4)
    );
    assert_eq!(log.append(&[b"e"]).unwrap(), 4..5);
    assert_eq!(read_all(&log, 0).len(), 5);
}

#[test]
fn oversized_entry_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    let big = vec![0u8; MAX_ENTRY_BYTES + 1];
    let err = log.append(&[b"ok", &big]).unwrap_err();
    assert!(matches!(err, LogError::EntryTooLarge { .. }));
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(log.append(&[b"next"]).unwrap(), 0..1);
}

#[test]
fn recovery_cuts_torn_and_corrupt_tail() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    log.append(&[b"one", b"two"]).unwrap();
    drop(log);
    let seg = dir.path().join("00000000000000000000.seg");
    let good_len = fs::metadata(&seg).unwrap().len();
    // A torn frame: header claims 100 bytes, only 3 follow.
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&100u32.to_le_bytes()).unwrap();
    f.write_all(&[1, 2, 3, 4, 5, 6, 7]).unwrap();
    drop(f);
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.recovery_report().truncated_bytes, 11);
    assert_eq!(fs::metadata(&seg).unwrap().len(), good_len);
    assert_eq!(log.append(&[b"three"]).unwrap(), 2..3);
    drop(log);
    // A complete frame with a flipped payload byte is cut too, with everything after it.
    let mut f = OpenOptions::new().write(true).open(&seg).unwrap();
    f.seek(SeekFrom::Start(good_len + 8)).unwrap();
    f.write_all(b"X").unwrap();
    drop(f);
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.recovery_report().truncated_bytes, 8 + 5);
    assert_eq!(log.recovery_report().last_offset, Some(1));
    assert_eq!(
        read_all(&log, 0),
        vec![(0, b"one".to_vec()), (1, b"two".to_vec())]
    );
}

#[test]
fn rolls_segments_and_reads_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    append_n(&log, 0, 200);
    let segs = seg_files(dir.path());
    assert!(segs.len() > 3, "{segs:?}");
    assert_eq!(segs[0], "00000000000000000000.seg");
    assert_eq!(log.segment_count(), segs.len());
    for name in &segs {
        assert!(fs::metadata(dir.path().join(name)).unwrap().len() <= MIN_SEGMENT_BYTES);
    }
    let got = read_all(&log, 0);
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|(o, e)| *e == entry(*o)));
    // Seeking into the middle of a later segment.
    let mut r = log.reader(157);
    assert_eq!(r.next().unwrap().unwrap(), (157, entry(157)));
    drop(log);
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.recovery_report().rebuilt_indexes, 0);
    assert_eq!(read_all(&log, 99).len(), 101);
    // Without sidecars the sealed segments are scanned and the sidecars rebuilt.
    drop(log);
    for e in fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "idx") {
            fs::remove_file(p).unwrap();
        }
    }
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.recovery_report().rebuilt_indexes, segs.len() - 1);
    assert_eq!(log.end_offset(), 200);
    assert_eq!(read_all(&log, 0).len(), 200);
}

#[test]
fn corrupt_sealed_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    append_n(&log, 0, 100);
    drop(log);
    let seg = dir.path().join("00000000000000000000.seg");
    let mut f = OpenOptions::new().write(true).open(&seg).unwrap();
    f.seek(SeekFrom::Start(30)).unwrap(); // inside the second frame's payload
    f.write_all(b"#").unwrap();
    drop(f);
    // With the sidecar intact, open trusts its sizes; the reader reports the bad frame, every
    // time, instead of skipping it.
    let log = Log::open(dir.path(), small()).unwrap();
    let mut r = log.reader(0);
    assert_eq!(r.next().unwrap().unwrap().0, 0);
    for _ in 0..2 {
        let err = r.next().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(matches!(&err, LogError::Corrupt { segment, offset: 1 } if *segment == seg));
    }
    assert!(matches!(
        log.reader(5).next(),
        Some(Err(LogError::Corrupt { offset: 1, .. }))
    ));
    drop(r);
    drop(log);
    // Without it, open scans the segment and refuses to go on.
    fs::remove_file(dir.path().join("00000000000000000000.idx")).unwrap();
    let err = Log::open(dir.path(), small()).unwrap_err();
    assert!(
        matches!(&err, LogError::Corrupt { segment, offset: 1 } if *segment == seg),
        "{err}"
    );
    assert!(err.to_string().contains("00000000000000000000.seg"));
}

#[test]
fn reader_follows_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), small()).unwrap());
    let mut r = log.reader(0);
    assert!(r.next().is_none());
    assert!(!r.wait(Duration::from_millis(10)));
    append_n(&log, 0, 3);
    assert_eq!(
        r.by_ref().map(|e| e.unwrap().0).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(r.next().is_none());
    let writer = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            append_n(&log, 3, 100);
        })
    };
    let mut seen = 3;
    while seen < 103 {
        assert!(r.wait(Duration::from_secs(10)));
        for e in r.read_batch(7, usize::MAX).unwrap() {
            assert_eq!(e, (seen, entry(seen)));
            seen += 1;
        }
    }
    writer.join().unwrap();
    assert_eq!(r.position(), 103);
    r.seek(50);
    assert_eq!(r.next_borrowed().unwrap().map(|(o, _)| o), Some(50));
}

#[test]
fn read_batch_respects_limits() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    log.append(&[&[0; 10], &[1; 10], &[2; 10], &[3; 10]])
        .unwrap();
    let mut r = log.reader(0);
    assert_eq!(r.read_batch(3, usize::MAX).unwrap().len(), 3);
    r.seek(0);
    assert_eq!(r.read_batch(100, 15).unwrap().len(), 2);
    assert_eq!(r.read_batch(100, 1).unwrap().len(), 1);
    assert_eq!(r.read_batch(100, 100).unwrap().len(), 1);
    assert!(r.read_batch(100, 100).unwrap().is_empty());
}

#[test]
fn consumer_offsets_are_durable_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    log.append(&[b"a", b"b", b"c"]).unwrap();
    assert_eq!(log.committed("archive"), None);
    log.commit("archive", 2).unwrap();
    log.commit("sink.splunk-hec_1", 3).unwrap();
    log.commit("archive", 1).unwrap();
    assert!(matches!(
        log.commit("detect", 4),
        Err(LogError::BeyondEnd {
            requested: 4,
            end: 3
        })
    ));
    for bad in ["", "a/b", "../x", "sp ace", "é", &"n".repeat(201)] {
        let err = log.commit(bad, 0).unwrap_err();
        assert!(matches!(err, LogError::InvalidConsumer { .. }), "{bad}");
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
    drop(log);
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.committed("archive"), Some(1));
    assert_eq!(
        log.consumers(),
        vec![
            ("archive".to_owned(), 1),
            ("sink.splunk-hec_1".to_owned(), 3)
        ]
    );
    drop(log);
    fs::write(
        dir.path().join("consumers/archive.offset"),
        b"garbage!garbage",
    )
    .unwrap();
    let err = Log::open(dir.path(), small()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
}

#[test]
fn second_writer_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    let err = Log::open(dir.path(), small()).unwrap_err();
    assert!(matches!(err, LogError::Locked { .. }));
    assert_eq!(err.kind(), ErrorKind::Fatal);
    drop(log);
    assert!(Log::open(dir.path(), small()).is_ok());
}

#[test]
fn truncate_before_deletes_whole_segments_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    append_n(&log, 0, 200);
    let before = seg_files(dir.path());
    let bases: Vec<u64> = before
        .iter()
        .map(|n| segment::parse_segment_name(n).unwrap())
        .collect();
    // An offset inside the second segment keeps it.
    let cut = bases[1] + 1;
    assert_eq!(log.truncate_before(cut).unwrap(), bases[1]);
    assert_eq!(log.start_offset(), bases[1]);
    assert_eq!(seg_files(dir.path()), before[1..].to_vec());
    assert!(!dir.path().join("00000000000000000000.idx").exists());
    let err = log.reader(0).next().unwrap().unwrap_err();
    assert!(matches!(err, LogError::BelowStart { requested: 0, start } if start == bases[1]));
    assert_eq!(read_all(&log, bases[1]).len() as u64, 200 - bases[1]);
    // Far past the end: everything but the active segment goes.
    let last = *bases.last().unwrap();
    assert_eq!(log.truncate_before(u64::MAX).unwrap(), last);
    assert_eq!(seg_files(dir.path()).len(), 1);
    let bytes = log.disk_bytes();
    drop(log);
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!((log.start_offset(), log.end_offset()), (last, 200));
    assert_eq!(log.disk_bytes(), bytes);
    assert_eq!(log.append(&[b"x"]).unwrap(), 200..201);
}

#[test]
fn log_is_shareable_and_readers_movable() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Log>();
    send::<LogReader>();
}

#[test]
fn concurrent_appends_share_fsyncs() {
    const THREADS: u64 = 8;
    const CALLS: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        segment_bytes: 64 * 1024,
        max_commit_delay: Duration::from_millis(2),
        fsync: true,
    };
    let log = Arc::new(Log::open(dir.path(), cfg).unwrap());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut ranges = Vec::new();
                for i in 0..CALLS {
                    let a = format!("t{t}-c{i}-a");
                    let b = format!("t{t}-c{i}-b");
                    let r = log.append(&[a.as_bytes(), b.as_bytes()]).unwrap();
                    assert_eq!(r.end - r.start, 2);
                    ranges.push((r.start, a, b));
                }
                ranges
            })
        })
        .collect();
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.join().unwrap());
    }
    let calls = THREADS * CALLS;
    assert_eq!(log.end_offset(), 2 * calls);
    let fsyncs = log.fsyncs();
    assert!(
        fsyncs > 0 && fsyncs < calls,
        "fsyncs {fsyncs} for {calls} appends"
    );
    let all = read_all(&log, 0);
    assert_eq!(all.len() as u64, 2 * calls);
    for (start, a, b) in acked {
        assert_eq!(all[start as usize].1, a.into_bytes());
        assert_eq!(all[start as usize + 1].1, b.into_bytes());
    }
}

#[test]
fn enqueued_frames_are_durable_after_wait_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small()).unwrap();
    let mut ends = Vec::new();
    for chunk in 0..3u64 {
        let mut frames = Frames::with_capacity(64);
        for i in chunk * 10..chunk * 10 + 10 {
            let e = entry(i);
            frames.push_with(|out| out.extend_from_slice(&e)).unwrap();
        }
        assert_eq!((frames.len(), frames.is_empty()), (10, false));
        let range = log.enqueue(frames).unwrap();
        assert_eq!(range, chunk * 10..chunk * 10 + 10);
        ends.push(range.end);
    }
    assert!(log.enqueue(Frames::default()).unwrap().is_empty());
    log.wait_durable(30).unwrap();
    assert_eq!(log.end_offset(), 30);
    let got = read_all(&log, 0);
    assert_eq!(got.len(), 30);
    for (i, (o, e)) in got.into_iter().enumerate() {
        assert_eq!((o, e), (i as u64, entry(i as u64)));
    }
    drop(log);
    // Rolled segments and checksums bound to offsets: recovery accepts every frame.
    let log = Log::open(dir.path(), small()).unwrap();
    assert_eq!(log.end_offset(), 30);
    assert_eq!(read_all(&log, 25).len(), 5);
}
