//! Unit tests of the partition buffer's accounting and day bucketing.
use super::*;

#[test]
fn the_accounting_covers_what_a_row_costs() {
    // A row's bookkeeping plus an entry's worst chunk slack share is within the per-row overhead.
    assert!(std::mem::size_of::<Row>() as u64 <= ROW_OVERHEAD_BYTES);
    assert_eq!(row_bytes(&[0; 100]), 100 + ROW_OVERHEAD_BYTES);
    let dir = tempfile::tempdir().unwrap();
    for spill in [false, true] {
        let mut b = PartitionBuffer::new(
            Category::SignInLogs,
            day_of(0, 0),
            spill.then(|| dir.path().into()),
        );
        b.start_spilling().unwrap();
        assert_eq!(b.entries.is_spilled(), spill);
        let keys = || [KeySource::Null, KeySource::Owned("abc".into())];
        b.push(7, &[1; 10], row_bytes(&[1; 10]) + 3, 0, true, keys())
            .unwrap();
        b.push(9, &[2; 20], row_bytes(&[2; 20]) + 3, 0, true, keys())
            .unwrap();
        assert_eq!(b.bytes, 30 + 2 * ROW_OVERHEAD_BYTES + 6);
        assert_eq!((b.rows(), b.first_offset, b.last_offset), (2, 7, 9));
        assert_eq!(b.key_text(&b.rows[1], 1), Some(&b"abc"[..]));
        assert_eq!(b.key_text(&b.rows[1], 0), None);
        let mut scratch = Vec::new();
        assert_eq!(b.entry(&b.rows[1], &mut scratch).unwrap(), &[2; 20]);
    }
}

#[test]
fn spilled_entries_and_keys_read_back_before_and_after_the_writes_finish() {
    let dir = tempfile::tempdir().unwrap();
    let archive: std::sync::Arc<std::path::Path> = std::sync::Arc::from(dir.path());
    let mut b = PartitionBuffer::new(Category::SignInLogs, day_of(0, 0), Some(archive));
    // The first two entries stay in memory (under 1 MiB together), the third moves them all to the
    // file; then entries of every size around the 1 MiB write buffer, one larger than it.
    let sizes = [
        10usize,
        700_000,
        400_000,
        2 << 20,
        5,
        (1 << 20) - 5,
        1 << 20,
    ];
    let entries: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| (0..*n).map(|j| (i * 31 + j) as u8).collect())
        .collect();
    for (i, e) in entries.iter().enumerate() {
        let key = KeySource::InEntry { start: 1, len: 3 };
        b.push(i as u64, e, row_bytes(e), 0, true, [key, KeySource::Null])
            .unwrap();
        assert_eq!(b.entries.is_spilled(), i >= 2, "spilled after entry {i}");
        let mut scratch = Vec::new();
        let row = b.rows[i];
        assert_eq!(b.entry(&row, &mut scratch).unwrap(), &e[..]);
    }
    // The spill file has no name: the directory is empty while the buffer lives.
    let names = std::fs::read_dir(dir.path().join(entries::SPILL_DIR)).unwrap();
    assert_eq!(names.count(), 0);
    b.entries.finish_writes().unwrap();
    let mut scratch = Vec::new();
    for (row, e) in b.rows.clone().iter().zip(&entries) {
        assert_eq!(b.entry(row, &mut scratch).unwrap(), &e[..]);
        // Keys were copied: they do not depend on reading the entry back.
        assert_eq!(b.key_text(row, 0), e.get(1..4));
        assert!(b.entries.borrowed(row.loc).is_none());
    }
}

#[test]
fn small_buffers_stay_in_memory_and_open_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let archive: std::sync::Arc<std::path::Path> = std::sync::Arc::from(dir.path());
    // A backfill touching many partitions: each under 1 MiB, none opens a spill file.
    let mut buffers: Vec<PartitionBuffer> = (0..300)
        .map(|d| {
            PartitionBuffer::new(
                Category::AuditLogs,
                day_of(d * DAY_US, 0),
                Some(archive.clone()),
            )
        })
        .collect();
    for (i, b) in buffers.iter_mut().enumerate() {
        for n in 0..100u64 {
            let e = vec![n as u8; 9_000];
            let keys = [KeySource::InEntry { start: 0, len: 4 }, KeySource::Null];
            b.push(i as u64 * 100 + n, &e, row_bytes(&e), 0, true, keys)
                .unwrap();
        }
        assert!(!b.entries.is_spilled());
        assert_eq!(b.key_text(&b.rows[7], 0), Some(&[7u8; 4][..]));
    }
    assert!(!dir.path().join(entries::SPILL_DIR).exists());
}

#[test]
fn day_is_the_utc_day_of_event_time() {
    let t = 1_704_153_599_999_999; // 2024-01-01T23:59:59.999999Z
    assert_eq!(day_string(day_of(t, 0)), "2024-01-01");
    assert_eq!(day_string(day_of(t + 1, 0)), "2024-01-02");
    assert_eq!(day_string(day_of(-1, 0)), "1969-12-31");
    assert_eq!(day_string(day_of(i64::MAX, 0)), "1970-01-01");
}
