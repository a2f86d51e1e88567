//! Hub tests: dedupe and revisions before append, quarantine, replay after a crash.

use super::*;
use model::{Category, Position, Shape, Value, schema};

fn record(key: &str, hash: u128) -> Record {
    Record {
        category: Category::SignInLogs,
        event_time: 1_000,
        ingest_time: 1_700_000_000_000_000,
        key: key.into(),
        content_hash: hash,
        revision: 0,
        source: "t".into(),
        shape: Shape::Diagnostic,
        values: vec![Value::Null; schema(Category::SignInLogs).columns.len()],
        raw: "{}".into(),
    }
}

fn config() -> HubConfig {
    HubConfig {
        log: LogConfig {
            max_commit_delay: Duration::ZERO,
            ..LogConfig::default()
        },
        ..HubConfig::default()
    }
}

fn read_all(hub: &Hub) -> Vec<Record> {
    let mut reader = hub.log().reader(0);
    let mut out = Vec::new();
    loop {
        let batch = reader.read_batch(1000, 1 << 30).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch.iter().map(|(_, b)| codec::decode(b).unwrap()));
    }
}

#[test]
fn duplicates_are_dropped_and_revisions_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let out = hub
        .ingest(
            vec![
                record("a", 1),
                record("a", 1),
                record("b", 1),
                record("a", 2),
            ],
            vec![],
        )
        .unwrap();
    assert_eq!(
        out,
        IngestOutcome {
            appended: 3,
            revisions: 1,
            duplicates: 1,
            quarantined: 0
        }
    );
    let out = hub
        .ingest(vec![record("a", 1), record("a", 2), record("b", 3)], vec![])
        .unwrap();
    assert_eq!(
        out,
        IngestOutcome {
            appended: 1,
            revisions: 1,
            duplicates: 2,
            quarantined: 0
        }
    );
    let revisions: Vec<_> = read_all(&hub)
        .iter()
        .map(|r| (r.key.clone(), r.revision))
        .collect();
    assert_eq!(
        revisions,
        [
            ("a".into(), 0),
            ("b".into(), 0),
            ("a".into(), 1),
            ("b".into(), 1)
        ]
    );
    let s = &hub.stats().categories["SignInLogs"];
    assert_eq!((s.appended, s.revisions, s.duplicates), (4, 2, 3));
}

#[test]
fn same_id_in_two_categories_is_not_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let mut other = record("a", 1);
    other.category = Category::AuditLogs;
    other.values = vec![Value::Null; schema(Category::AuditLogs).columns.len()];
    assert_eq!(
        hub.ingest(vec![record("a", 1), other], vec![])
            .unwrap()
            .appended,
        2
    );
}

#[test]
fn after_a_crash_without_checkpoint_the_index_is_replayed_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut hub = Hub::open(dir.path(), config()).unwrap();
        hub.ingest(vec![record("a", 1), record("b", 1)], vec![])
            .unwrap();
        // Simulate a crash after the append: the dedupe checkpoint Drop would do never happens.
        hub.since_checkpoint = 0;
        drop(hub);
    }
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let out = hub
        .ingest(vec![record("a", 1), record("b", 1), record("c", 1)], vec![])
        .unwrap();
    assert_eq!((out.appended, out.duplicates), (1, 2));
    assert_eq!(read_all(&hub).len(), 3);
}

#[test]
fn rejected_input_is_quarantined_durably() {
    let dir = tempfile::tempdir().unwrap();
    let rejected = Rejected {
        position: Position {
            source: "t".into(),
            location: "f.json".into(),
            at: "line 3".into(),
        },
        raw: b"{bad".to_vec(),
        reason: "not JSON".into(),
        category: Some("SignInLogs".into()),
    };
    {
        let mut hub = Hub::open(dir.path(), config()).unwrap();
        assert_eq!(
            hub.ingest(vec![], vec![rejected.clone()])
                .unwrap()
                .quarantined,
            1
        );
    }
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    assert_eq!(hub.quarantine().entries()[0].rejected, rejected);
    assert_eq!(hub.stats().quarantined["SignInLogs"], 1);
}

#[test]
fn rejected_input_read_again_is_not_quarantined_twice() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |line: u32| Rejected {
        position: Position {
            source: "files".into(),
            location: "f.json".into(),
            at: format!("line {line}"),
        },
        raw: b"{bad".to_vec(),
        reason: "not JSON".into(),
        category: None,
    };
    {
        let mut hub = Hub::open(dir.path(), config()).unwrap();
        let o = hub.ingest(vec![], vec![bad(3), bad(3)]).unwrap();
        assert_eq!((o.quarantined, o.duplicates), (1, 0));
    }
    // A repeating run reads the same file again, after a restart: nothing new, one entry stays.
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let o = hub.ingest(vec![], vec![bad(3), bad(4)]).unwrap();
    assert_eq!((o.quarantined, o.duplicates), (1, 0));
    assert_eq!(hub.quarantine().entries().len(), 2);
    // Once resolved (a retry decoded it), the same failure again is new input.
    hub.quarantine().resolve(1).unwrap();
    let o = hub.ingest(vec![], vec![bad(3)]).unwrap();
    assert_eq!(o.quarantined, 1);
    assert_eq!(hub.quarantine().open_count(), 2);
    assert_eq!(hub.stats().quarantined["unknown"], 3);
}

#[test]
fn after_a_failed_append_nothing_is_remembered_as_seen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut hub = Hub::open(dir.path(), config()).unwrap();
        hub.ingest(vec![record("a", 1)], vec![]).unwrap();
        // An append the log refuses (larger than its 64 MiB entry limit) fails after dedupe saw "b".
        let mut huge = record("b", 1);
        huge.raw = "x".repeat(65 << 20);
        assert!(hub.ingest(vec![huge], vec![]).is_err());
        assert!(matches!(
            hub.ingest(vec![record("c", 1)], vec![]),
            Err(HubError::Failed)
        ));
    }
    // Reopened, "b" was never durable, so it is new; "a" is still a duplicate.
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let out = hub
        .ingest(vec![record("a", 1), record("b", 1)], vec![])
        .unwrap();
    assert_eq!((out.appended, out.duplicates), (1, 1));
}

/// A batch larger than one append chunk goes to the log in several chunks: every kept record lands
/// once, in order, and the outcome counts them.
#[test]
fn a_batch_larger_than_a_chunk_is_appended_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = Hub::open(dir.path(), config()).unwrap();
    let big = "x".repeat(8 << 10);
    let batch: Vec<Record> = (0..1500u32)
        .map(|i| {
            let mut r = record(&format!("k{}", i % 1000), u128::from(i % 1000));
            r.raw = format!("{{\"i\":{i},\"pad\":\"{big}\"}}");
            r
        })
        .collect();
    assert!(batch.len() * big.len() > 2 * APPEND_CHUNK_BYTES);
    let out = hub.ingest(batch, vec![]).unwrap();
    assert_eq!((out.appended, out.duplicates), (1000, 500));
    let all = read_all(&hub);
    assert_eq!(all.len(), 1000);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.key, format!("k{i}"));
        assert!(r.raw.contains(&format!("\"i\":{i},")));
    }
    assert!(hub.log().fsyncs() >= 1);
}

/// With a small memory bound the index evicts at checkpoints the hub runs on its own, and duplicates
/// of evicted keys are still dropped.
#[test]
fn dedupe_memory_bound_holds_through_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = HubConfig {
        dedupe_max_memory_keys: 100,
        ..config()
    };
    let mut hub = Hub::open(dir.path(), cfg.clone()).unwrap();
    for b in 0..20u32 {
        let batch = (0..50)
            .map(|i| record(&format!("k{}", b * 50 + i), 1))
            .collect();
        assert_eq!(hub.ingest(batch, vec![]).unwrap().appended, 50);
        assert!(hub.dedupe_keys() <= 150, "{}", hub.dedupe_keys());
    }
    let again = (0..1000)
        .step_by(7)
        .map(|i| record(&format!("k{i}"), 1))
        .collect::<Vec<_>>();
    let n = again.len() as u64;
    assert_eq!(hub.ingest(again, vec![]).unwrap().duplicates, n);
    drop(hub);
    let hub = Hub::open(dir.path(), cfg).unwrap();
    assert!(hub.dedupe_keys() <= 100);
}
