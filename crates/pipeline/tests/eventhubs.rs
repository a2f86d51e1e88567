//! Event Hubs through the pipeline, against librdkafka's mock cluster (the real Kafka protocol, offline):
//! every category reaches the archive with the generator's ground-truth counts; a collector stopped
//! mid-stream loses nothing and repeats only what it had not committed; two consumers in a group split the
//! partitions and one takes over when the other stops; malformed messages and records go to the quarantine.
#![allow(clippy::unwrap_used)]

use model::Category;
use pipeline::Pipeline;
use pipeline::eventhubs::EventHubsCollector;
use sim::kafka::{DiagnosticProducer, mock_cluster, produce_events};
use sources::eventhubs::{EventHubsAuth, EventHubsSource, EventHubsSourceConfig};
use sources::graph::CancellationToken;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::pipeline::{expected_rows as expected, runtime};

const TOPIC: &str = "insights-logs";

fn open(dir: &Path) -> Pipeline {
    testkit::pipeline::open(dir, "")
}

fn source(bootstrap: &str, id: &str, max_batch_records: usize) -> EventHubsSource {
    let mut c = EventHubsSourceConfig::new(
        id,
        bootstrap,
        vec![TOPIC.to_owned()],
        EventHubsAuth::Plaintext,
    );
    c.consumer_group = "entrail".into();
    c.max_batch_records = max_batch_records;
    c.max_wait = Duration::from_millis(50);
    c.session_timeout = Duration::from_secs(6);
    EventHubsSource::new(c).unwrap()
}

fn tenant_config(users: u32) -> sim::TenantConfig {
    sim::TenantConfig {
        seed: 11,
        users,
        days: 1,
        ..sim::TenantConfig::default()
    }
}

/// Archives and compares every category with the ground truth: rows and distinct keys.
fn assert_archive_matches(p: &mut Pipeline, dir: &Path, want: &BTreeMap<Category, u64>) {
    p.archive().unwrap();
    testkit::pipeline::assert_archive_matches(dir, want);
}

fn total_duplicates(p: &Pipeline) -> u64 {
    p.hub()
        .stats()
        .categories
        .values()
        .map(|c| c.duplicates)
        .sum()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_category_through_the_mock_cluster_reaches_the_archive_with_ground_truth_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = mock_cluster(3).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let (produced, truth) = sim::kafka::produce_day(
        &tenant_config(40),
        &cluster.bootstrap_servers(),
        TOPIC,
        4,
        50,
    )
    .unwrap();
    let want = expected(&truth);
    assert!(
        want.len() >= 20,
        "the generator covers every category: {want:?}"
    );
    assert!(produced.per_partition.iter().all(|n| *n > 0));

    let mut p = open(dir.path());
    let collector =
        p.eventhubs_collector_with(vec![source(&cluster.bootstrap_servers(), "eh", 5000)]);
    let rt = runtime();
    let reports = rt
        .block_on(collector.run_until_caught_up(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(reports[0].1.messages, produced.messages);
    assert_eq!(
        reports[0].1.accepted.quarantined, 0,
        "nothing generated is malformed"
    );
    let status = &collector.status()[0];
    assert_eq!(status.partitions.len(), 4, "{status:?}");
    for part in &status.partitions {
        assert_eq!(part.lag, Some(0), "{part:?}");
        assert_eq!(part.committed, part.high_watermark, "{part:?}");
    }
    collector.save_status();
    let shown = p.status().unwrap().eventhubs;
    assert_eq!(
        shown[0].partitions.len(),
        4,
        "entrail status shows the partitions"
    );
    assert_archive_matches(&mut p, dir.path(), &want);
}

/// Produces the sign-in and audit categories (one record decodes to one row), returns the truth.
/// The simple day's events, split in two halves (in time order), and the rows the archive must hold.
fn simple_day(
    users: u32,
) -> (
    Vec<sim::SimEvent>,
    Vec<sim::SimEvent>,
    BTreeMap<Category, u64>,
    sim::Tenant,
) {
    let cfg = tenant_config(users);
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg)
        .with_category_names(&["SignInLogs", "NonInteractiveUserSignInLogs", "AuditLogs"])
        .with_truth(true);
    let mut early: Vec<sim::SimEvent> = generator.by_ref().collect();
    let want = expected(&generator.into_truth().unwrap());
    let late = early.split_off(early.len() / 2);
    (early, late, want, tenant)
}

/// Produces events to the topic; returns the number of messages.
fn produce_simple(
    bootstrap: &str,
    events: &[sim::SimEvent],
    tenant: &sim::Tenant,
    per_message: usize,
) -> u64 {
    let mut producer = DiagnosticProducer::new(bootstrap, TOPIC, 4, per_message).unwrap();
    produce_events(&mut producer, events.iter().cloned(), true, tenant).unwrap();
    producer.finish().unwrap().messages
}

#[test]
fn a_collector_stopped_mid_stream_loses_nothing_and_repeats_only_what_it_had_not_committed() {
    const PER_MESSAGE: usize = 10;
    let cluster = mock_cluster(1).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let (early, late, want, tenant) = simple_day(60);
    let records: u64 = want.values().sum();
    assert!(
        records > 2000,
        "enough data to stop in the middle: {records}"
    );
    // Only the first half is on the topic while the first run goes: however fast this machine is, the
    // collector is stopped before the day's end (the second half arrives while it is down).
    let mut messages = produce_simple(&bootstrap, &early, &tenant, PER_MESSAGE);
    let rt = runtime();

    // The real run, stopped (task aborted: no graceful commit) after some batches.
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path());
    let mut cfg = source(&bootstrap, "eh", 100).config().clone();
    cfg.consumer_group = "stopped".into();
    let first = EventHubsSource::new(cfg.clone()).unwrap();
    let collector: Arc<EventHubsCollector> = Arc::new(p.eventhubs_collector_with(vec![first]));
    let task = {
        let c = collector.clone();
        rt.spawn(async move {
            c.run(CancellationToken::new(), Duration::from_secs(60))
                .await
        })
    };
    wait_until("a few committed batches", Duration::from_secs(60), || {
        collector.status()[0].commits >= 3
    });
    task.abort();
    let _ = rt.block_on(task);
    let at_stop = collector.status()[0].clone();
    let appended: u64 = p
        .hub()
        .stats()
        .categories
        .values()
        .map(|c| c.appended)
        .sum();
    assert!(
        appended < records,
        "stopped mid-stream: {appended} of {records}"
    );
    let uncommitted_messages: i64 = at_stop
        .partitions
        .iter()
        .map(|s| s.position.unwrap_or(0) - s.committed.unwrap_or(0))
        .sum();
    drop(collector);
    messages += produce_simple(&bootstrap, &late, &tenant, PER_MESSAGE);

    // A clean run of the whole day elsewhere: the duplicates the data itself holds.
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = open(clean_dir.path());
    let c = clean.eventhubs_collector_with(vec![source(&bootstrap, "eh", 100)]);
    rt.block_on(c.run_until_caught_up(Duration::from_secs(1)))
        .unwrap();
    let inherent = total_duplicates(&clean);
    drop(c);
    drop(clean);

    // Restart: a new consumer in the same group resumes from the committed offsets.
    let collector = p.eventhubs_collector_with(vec![EventHubsSource::new(cfg).unwrap()]);
    let report = rt
        .block_on(collector.run_until_caught_up(Duration::from_secs(1)))
        .unwrap();
    assert!(report[0].1.messages < messages, "it resumed, not restarted");
    let repeated = total_duplicates(&p) - inherent;
    assert!(
        repeated <= uncommitted_messages as u64 * PER_MESSAGE as u64,
        "{repeated} records repeated, but only {uncommitted_messages} messages were uncommitted"
    );
    assert_archive_matches(&mut p, dir.path(), &want);
}

#[test]
fn two_consumers_in_a_group_split_the_partitions_and_one_takes_over_when_the_other_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = mock_cluster(1).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let cfg = tenant_config(40);
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg).with_truth(true);
    let events: Vec<sim::SimEvent> = generator.by_ref().collect();
    let want = expected(&generator.into_truth().unwrap());
    let (early, late) = events.split_at(events.len() / 2);
    let produce = |events: &[sim::SimEvent]| {
        let mut producer = DiagnosticProducer::new(&bootstrap, TOPIC, 4, 50).unwrap();
        produce_events(&mut producer, events.iter().cloned(), true, &tenant).unwrap();
        producer.finish().unwrap()
    };
    produce(early);

    let mut p = open(dir.path());
    let a = Arc::new(p.eventhubs_collector_with(vec![source(&bootstrap, "eh-a", 1000)]));
    let b = Arc::new(p.eventhubs_collector_with(vec![source(&bootstrap, "eh-b", 1000)]));
    let rt = runtime();
    let (stop_a, stop_b) = (CancellationToken::new(), CancellationToken::new());
    let run = |c: &Arc<EventHubsCollector>, stop: &CancellationToken| {
        let (c, stop) = (c.clone(), stop.clone());
        rt.spawn(async move { c.run(stop, Duration::from_secs(60)).await })
    };
    let (task_a, task_b) = (run(&a, &stop_a), run(&b, &stop_b));
    let assigned = |c: &EventHubsCollector| {
        c.status()[0]
            .partitions
            .iter()
            .filter(|p| p.assigned && p.messages > 0)
            .count()
    };
    let caught_up = |c: &EventHubsCollector| {
        let s = &c.status()[0];
        s.partitions
            .iter()
            .filter(|p| p.assigned)
            .all(|p| p.lag == Some(0))
    };
    wait_until(
        "both consumers hold partitions and caught up",
        Duration::from_secs(60),
        || {
            assigned(&a) + assigned(&b) == 4
                && assigned(&a) > 0
                && assigned(&b) > 0
                && caught_up(&a)
                && caught_up(&b)
        },
    );
    let b_partitions = assigned(&b);
    assert!(
        (1..4).contains(&b_partitions),
        "the group split the partitions"
    );

    // B stops; the rest of the day arrives; A takes over B's partitions.
    stop_b.cancel();
    rt.block_on(task_b).unwrap().unwrap();
    produce(late);
    wait_until(
        "A holds every partition and caught up",
        Duration::from_secs(60),
        || {
            let s = &a.status()[0];
            s.partitions.iter().filter(|p| p.assigned).count() == 4 && caught_up(&a)
        },
    );
    stop_a.cancel();
    rt.block_on(task_a).unwrap().unwrap();
    assert!(a.status()[0].rebalances >= 2, "{:?}", a.status()[0]);
    assert_archive_matches(&mut p, dir.path(), &want);
}

#[test]
fn a_malformed_message_and_a_malformed_record_go_to_quarantine_while_the_rest_continues() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = mock_cluster(1).unwrap();
    cluster.create_topic(TOPIC, 2, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let good = |id: &str| {
        format!(
            r#"{{"time":"2026-11-01T10:00:00Z","category":"AuditLogs","operationName":"Add user","properties":{{"id":"{id}","activityDateTime":"2026-11-01T10:00:00Z","activityDisplayName":"Add user","category":"UserManagement","result":"success","loggedByService":"Core Directory","initiatedBy":{{}},"targetResources":[]}}}}"#
        )
    };
    let mut producer = DiagnosticProducer::new(&bootstrap, TOPIC, 2, 10).unwrap();
    producer
        .send_raw(format!(r#"{{"records":[{}]}}"#, good("a1")).as_bytes(), 0)
        .unwrap();
    producer.send_raw(b"this is not JSON", 0).unwrap();
    producer
        .send_raw(
            format!(
                r#"{{"records":[{},{{"category":"AuditLogs","properties":{{"id":"bad"}}}},{}]}}"#,
                good("a2"),
                good("a3")
            )
            .as_bytes(),
            1,
        )
        .unwrap();
    producer
        .send_raw(format!(r#"{{"records":[{}]}}"#, good("a4")).as_bytes(), 0)
        .unwrap();
    producer.finish().unwrap();

    let p = open(dir.path());
    let collector = p.eventhubs_collector_with(vec![source(&bootstrap, "eh", 100)]);
    let rt = runtime();
    let report = rt
        .block_on(collector.run_until_caught_up(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(report[0].1.accepted.new, 4, "{report:?}");
    assert_eq!(report[0].1.accepted.quarantined, 2, "{report:?}");
    let mut hub = p.hub();
    let entries = hub.quarantine().entries().to_vec();
    let mut positions: Vec<String> = entries
        .iter()
        .map(|e| e.rejected.position.location.clone())
        .collect();
    positions.sort();
    assert_eq!(positions, [format!("{TOPIC}/0/1"), format!("{TOPIC}/1/0")]);
    let bad = entries
        .iter()
        .find(|e| e.rejected.position.location.ends_with("/1/0"))
        .unwrap();
    assert!(bad.rejected.position.at.contains("record 2"), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.rejected.raw).contains("\"bad\""));
    let garbage = entries
        .iter()
        .find(|e| e.rejected.position.location.ends_with("/0/1"))
        .unwrap();
    assert_eq!(garbage.rejected.raw, b"this is not JSON");
}
