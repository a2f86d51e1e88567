//! Unit tests of the partition buffer's accounting and day bucketing.
use super::*;

#[test]
fn the_accounting_covers_what_a_row_costs() {
    // A row's bookkeeping plus an entry's worst chunk slack share is within the per-row overhead.
    assert!(std::mem::size_of::<Row>() as u64 <= ROW_OVERHEAD_BYTES);
    assert_eq!(row_bytes(&[0; 100]), 100 + ROW_OVERHEAD_BYTES);
    let mut b = PartitionBuffer::new(Category::SignInLogs, day_of(0, 0));
    let keys = || [KeySource::Null, KeySource::Owned("abc".into())];
    b.push(7, &[1; 10], row_bytes(&[1; 10]) + 3, 0, true, keys());
    b.push(9, &[2; 20], row_bytes(&[2; 20]) + 3, 0, true, keys());
    assert_eq!(b.bytes, 30 + 2 * ROW_OVERHEAD_BYTES + 6);
    assert_eq!((b.rows(), b.first_offset, b.last_offset), (2, 7, 9));
    assert_eq!(b.key_text(&b.rows[1], 1), Some(&b"abc"[..]));
    assert_eq!(b.key_text(&b.rows[1], 0), None);
    assert_eq!(b.entry(&b.rows[1]), &[2; 20]);
}

#[test]
fn day_is_the_utc_day_of_event_time() {
    let t = 1_704_153_599_999_999; // 2024-01-01T23:59:59.999999Z
    assert_eq!(day_string(day_of(t, 0)), "2024-01-01");
    assert_eq!(day_string(day_of(t + 1, 0)), "2024-01-02");
    assert_eq!(day_string(day_of(-1, 0)), "1969-12-31");
    assert_eq!(day_string(day_of(i64::MAX, 0)), "1970-01-01");
}
