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
