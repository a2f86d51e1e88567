//! Kafka sink tests against librdkafka's mock cluster: every record arrives exactly once on its category's
//! topic, keyed by its dedupe key; a broker that is down makes `send` fail (transient) instead of
//! acknowledging; bad configurations are reported at once.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{ErrorKind, Sink};
use model::{Category, Record, Shape, Value, schema};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn record(category: Category, key: &str) -> Record {
    Record {
        category,
        event_time: 0,
        ingest_time: 0,
        key: key.into(),
        content_hash: 1,
        revision: 0,
        source: "t".into(),
        shape: Shape::Graph,
        values: vec![Value::Null; schema(category).columns.len()],
        raw: "{}".into(),
    }
}

/// Every message of `topic` (all `partitions`) as (key, payload).
fn read_all(bootstrap: &str, topic: &str, partitions: i32, want: usize) -> Vec<(String, String)> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "check")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let start = Instant::now();
    // Read until the wanted count and then one more quiet second (to see any extra copy).
    let mut quiet_since = None::<Instant>;
    while start.elapsed() < Duration::from_secs(30) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                quiet_since = None;
                out.push((
                    String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                    String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
                ));
            }
            Some(Err(e)) => panic!("consuming: {e}"),
            None if out.len() >= want => {
                let q = *quiet_since.get_or_insert_with(Instant::now);
                if q.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_record_arrives_once_on_its_categorys_topic_keyed_by_its_dedupe_key() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("entrail-SigninLogs", 3, 1).unwrap();
    cluster.create_topic("entrail-AuditLogs", 2, 1).unwrap();
    let mut config = KafkaSinkConfig::new(
        "k",
        cluster.bootstrap_servers(),
        "entrail-{table}",
        KafkaSinkAuth::Plaintext,
    );
    config.categories = vec!["SignInLogs".into(), "AuditLogs".into()];
    let mut sink = KafkaSink::new(config).unwrap();
    assert!(!sink.accepts(Category::AzureActivity));
    for batch in 0..3 {
        let records: Vec<Record> = (0..100)
            .map(|i| {
                let c = if i % 4 == 0 {
                    Category::AuditLogs
                } else {
                    Category::SignInLogs
                };
                record(c, &format!("k{batch}-{i}"))
            })
            .chain(std::iter::once(record(Category::AzureActivity, "skipped")))
            .collect();
        sink.send(&records).unwrap();
        assert!(sink.take_rejected().is_empty());
    }
    let signins = read_all(&cluster.bootstrap_servers(), "entrail-SigninLogs", 3, 225);
    let audits = read_all(&cluster.bootstrap_servers(), "entrail-AuditLogs", 2, 75);
    for (got, want, table) in [(&signins, 225, "SigninLogs"), (&audits, 75, "AuditLogs")] {
        let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
        for (k, payload) in got.iter() {
            *keys.entry(k.as_str()).or_default() += 1;
            let v: serde_json::Value = serde_json::from_str(payload).unwrap();
            assert!(v.is_object(), "{payload}");
            assert!(
                payload.contains(k.as_str()),
                "the key is the record's: {payload}"
            );
        }
        assert_eq!(got.len(), want, "{table}: every record once");
        assert!(keys.values().all(|n| *n == 1), "{table}: a key twice");
    }
}

#[test]
fn a_broker_down_fails_the_batch_and_it_is_delivered_once_it_is_back() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("all", 1, 1).unwrap();
    let mut config = KafkaSinkConfig::new(
        "k",
        cluster.bootstrap_servers(),
        "all",
        KafkaSinkAuth::Plaintext,
    );
    config.delivery_timeout = Duration::from_secs(2);
    let mut sink = KafkaSink::new(config).unwrap();
    sink.send(&[record(Category::SignInLogs, "before")])
        .unwrap();
    cluster.broker_down(1).unwrap();
    let e = sink
        .send(&[record(Category::SignInLogs, "during")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
    cluster.broker_up(1).unwrap();
    // The pipeline resends the same batch until it is acknowledged (librdkafka reconnects with backoff).
    let mut attempts = 0;
    while let Err(e) = sink.send(&[record(Category::SignInLogs, "during")]) {
        attempts += 1;
        assert!(
            attempts < 15,
            "still failing after the broker came back: {e}"
        );
        assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
    }
    let got = read_all(&cluster.bootstrap_servers(), "all", 1, 2);
    let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        keys.contains(&"before") && keys.contains(&"during"),
        "{keys:?}"
    );
}

#[test]
fn a_record_too_large_is_handed_back_for_the_quarantine() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("all", 1, 1).unwrap();
    let mut config = KafkaSinkConfig::new(
        "k",
        cluster.bootstrap_servers(),
        "all",
        KafkaSinkAuth::Plaintext,
    );
    config.max_message_bytes = 2048;
    let mut sink = KafkaSink::new(config).unwrap();
    let mut big = record(Category::SignInLogs, "big");
    big.values[0] = Value::String("x".repeat(5000));
    sink.send(&[big, record(Category::SignInLogs, "small")])
        .unwrap();
    let rejected = sink.take_rejected();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].reason.contains("max_message_bytes"),
        "{:?}",
        rejected[0]
    );
    let got = read_all(&cluster.bootstrap_servers(), "all", 1, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "small");
}

#[test]
fn every_config_problem_is_reported_and_secrets_are_hidden() {
    let text = r#"
        id = ""
        bootstrap_servers = "ns.servicebus.windows.net"
        topic = "bad topic"
        categories = ["Nope"]
        compression = "snappy"
        max_message_bytes = 10
        delivery_timeout = "0s"
        [auth]
        type = "sasl_plain"
        username = ""
        password = "hunter2"
    "#;
    let c: KafkaSinkConfig = toml::from_str(text).unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
    let fields: Vec<String> = c
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "id",
            "bootstrap_servers",
            "topic",
            "categories",
            "compression",
            "max_message_bytes",
            "delivery_timeout",
            "auth.username"
        ]
    );
    let remote = KafkaSinkConfig::new("k", "kafka.example.com:9092", "t", KafkaSinkAuth::Plaintext);
    assert_eq!(remote.validate().unwrap_err()[0].field, "auth");
}
