//! Unit tests: configuration checks, message decoding, the commit watermark (property test), and the run
//! loop against librdkafka's mock cluster with an in-memory `Deliver`.
#![allow(clippy::unwrap_used)]

use super::source::decode_message;
use super::*;
use crate::Batch;
use crate::graph::{Accepted, CancellationToken, Deliver, DeliverError, GraphAuth};
use proptest::prelude::*;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use secrecy::SecretString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn cs(s: &str) -> EventHubsAuth {
    EventHubsAuth::ConnectionString {
        connection_string: SecretString::from(s.to_owned()),
    }
}

const GOOD_CS: &str =
    "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=abc=";

#[test]
fn a_valid_config_passes_and_hides_its_secret() {
    let c = EventHubsSourceConfig::new(
        "eh",
        "ns.servicebus.windows.net:9093",
        vec!["insights-logs-signinlogs".into()],
        cs(GOOD_CS),
    );
    c.validate().unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("abc="), "{debug}");
    assert_eq!(
        c.token_scope(),
        "https://ns.servicebus.windows.net/.default"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
        id = ""
        bootstrap_servers = "ns.servicebus.windows.net"
        event_hubs = ["ok", "bad name!", "ok"]
        consumer_group = " "
        start = "yesterday"
        max_batch_records = 0
        max_batch_bytes = 10
        max_wait = "0s"
        [auth]
        type = "connection_string"
        connection_string = "HostName=x"
    "#;
    let c: EventHubsSourceConfig = toml::from_str(text).unwrap();
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
            "event_hubs[1]",
            "event_hubs[2]",
            "consumer_group",
            "start",
            "max_batch_records",
            "max_batch_bytes",
            "max_wait",
            "auth.connection_string",
            "auth.connection_string"
        ]
    );
}

#[test]
fn plaintext_is_refused_for_a_remote_broker_and_oauth_checks_its_credential() {
    let mut c = EventHubsSourceConfig::new(
        "eh",
        "ns.servicebus.windows.net:9093",
        vec!["hub".into()],
        EventHubsAuth::Plaintext,
    );
    let e = c.validate().unwrap_err();
    assert_eq!(e[0].field, "auth", "{e:?}");
    c.bootstrap_servers = "127.0.0.1:9092,[::1]:9092,localhost:1".into();
    c.validate().unwrap();
    c.bootstrap_servers = "ns.servicebus.windows.net:9093".into();
    c.auth = EventHubsAuth::Oauth {
        tenant_id: "contoso.onmicrosoft.com".into(),
        authority_host: "http://login.example.com".into(),
        credential: GraphAuth::ClientSecret {
            client_id: String::new(),
            secret: SecretString::from("s".to_owned()),
        },
    };
    let fields: Vec<String> = c
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["auth.authority_host", "auth.credential.client_id"]);
}

#[test]
fn start_positions_parse() {
    assert_eq!(
        StartPosition::parse("Earliest"),
        Some(StartPosition::Earliest)
    );
    assert_eq!(StartPosition::parse("latest"), Some(StartPosition::Latest));
    assert!(matches!(
        StartPosition::parse("2026-11-01T00:00:00Z"),
        Some(StartPosition::Time(_))
    ));
    assert_eq!(StartPosition::parse("now"), None);
}

const SIGNIN: &str = r#"{"time":"2026-11-01T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","properties":{"id":"a1","createdDateTime":"2026-11-01T10:00:00Z","userPrincipalName":"u@x","status":{"errorCode":0}}}"#;

#[test]
fn a_message_decodes_to_its_records_and_bad_parts_are_rejected_with_their_position() {
    let (mut recs, mut rej) = (Vec::new(), Vec::new());
    let body = format!(r#"{{"records":[{SIGNIN},{{"category":"SignInLogs"}},{SIGNIN}]}}"#);
    decode_message(
        body.as_bytes(),
        "eh",
        "hub/3/42".into(),
        &mut recs,
        &mut rej,
    );
    assert_eq!(recs.len(), 2);
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert_eq!(rej[0].position.location, "hub/3/42");
    assert!(
        rej[0].position.at.contains("record 2"),
        "{:?}",
        rej[0].position
    );
    for bad in ["not json at all", "", "{\"records\":[", "[1,2"] {
        let (mut recs, mut rej) = (Vec::new(), Vec::new());
        decode_message(bad.as_bytes(), "eh", "hub/0/7".into(), &mut recs, &mut rej);
        assert!(recs.is_empty());
        assert!(!rej.is_empty(), "{bad:?} must be quarantined");
        assert_eq!(rej[0].position.location, "hub/0/7");
    }
}

fn tp(p: i32) -> TopicPartition {
    ("hub".to_owned(), p)
}

#[test]
fn the_watermark_stops_below_a_message_not_yet_durable() {
    let mut w = Watermarks::new();
    let t: Vec<Ticket> = [5, 6, 9].iter().map(|o| w.received(&tp(0), *o)).collect();
    assert_eq!(w.committable(&tp(0)), None);
    w.done(&t[1]);
    assert_eq!(w.committable(&tp(0)), None, "offset 5 is not durable");
    w.done(&t[0]);
    assert_eq!(w.committable(&tp(0)), Some(9));
    w.done(&t[2]);
    assert_eq!(w.to_commit(), vec![(tp(0), 10)]);
    w.committed(&tp(0), 10);
    assert!(w.to_commit().is_empty());
    // Revoked: tickets from before are ignored and nothing is committed.
    let late = w.received(&tp(0), 10);
    w.revoke(&tp(0));
    w.done(&late);
    assert_eq!(w.committable(&tp(0)), None);
    assert!(w.to_commit().is_empty());
}

proptest! {
    /// Whatever order batches become durable in, the committable offset never passes a message that is not
    /// durable, never goes back, and reaches one past the last message once all are durable.
    #[test]
    fn the_watermark_never_passes_a_message_that_is_not_durable(
        gaps in prop::collection::vec(1i64..4, 1..60),
        order in prop::collection::vec(any::<prop::sample::Index>(), 1..60),
    ) {
        let mut w = Watermarks::new();
        let mut offset = 0;
        let mut tickets = Vec::new();
        for g in &gaps {
            offset += g;
            tickets.push(w.received(&tp(1), offset));
        }
        let last = offset;
        let mut not_done: Vec<Ticket> = tickets.clone();
        let mut previous = None;
        for i in order {
            if not_done.is_empty() { break; }
            let t = not_done.remove(i.index(not_done.len()));
            w.done(&t);
            let c = w.committable(&tp(1));
            if let Some(c) = c {
                prop_assert!(not_done.iter().all(|t| t.offset >= c), "{c} passes a pending offset");
            }
            prop_assert!(c >= previous, "went back from {previous:?} to {c:?}");
            previous = c;
        }
        for t in &not_done { w.done(t); }
        prop_assert_eq!(w.committable(&tp(1)), Some(last + 1));
    }
}

/// Collects batches; can be told to fail.
#[derive(Default)]
struct Collect {
    batches: Mutex<Vec<Batch>>,
    fail: AtomicUsize,
}

impl Deliver for Collect {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        if self.fail.load(Ordering::SeqCst) > 0 {
            self.fail.fetch_sub(1, Ordering::SeqCst);
            return Err(DeliverError::new("disk full"));
        }
        let a = Accepted {
            new: batch.records.len() as u64,
            quarantined: batch.rejected.len() as u64,
            ..Accepted::default()
        };
        self.batches.lock().unwrap().push(batch);
        Ok(a)
    }
}

impl Collect {
    fn records(&self) -> usize {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.records.len())
            .sum()
    }
}

fn produce(bootstrap: &str, topic: &str, partitions: i32, messages: usize) {
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for i in 0..messages {
        let body = format!(
            r#"{{"records":[{}]}}"#,
            SIGNIN.replace("\"a1\"", &format!("\"id-{i}\""))
        );
        producer
            .send(
                BaseRecord::<(), _>::to(topic)
                    .payload(&body)
                    .partition(i as i32 % partitions),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

fn plaintext(bootstrap: &str, topic: &str, group: &str) -> EventHubsSourceConfig {
    let mut c = EventHubsSourceConfig::new(
        "eh",
        bootstrap,
        vec![topic.to_owned()],
        EventHubsAuth::Plaintext,
    );
    c.consumer_group = group.to_owned();
    c.max_wait = Duration::from_millis(50);
    c.session_timeout = Duration::from_secs(6);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_commits_nothing_and_the_next_consumer_reads_it_again() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("hub", 3, 1).unwrap();
    produce(&cluster.bootstrap_servers(), "hub", 3, 30);
    let source =
        EventHubsSource::new(plaintext(&cluster.bootstrap_servers(), "hub", "g1")).unwrap();
    let sink = Collect::default();
    sink.fail.store(1, Ordering::SeqCst);
    let mode = RunMode::UntilCaughtUp {
        idle: Duration::from_millis(500),
    };
    let e = source
        .run(&sink, mode, CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert!(source.status().last_error.unwrap().contains("disk full"));
    assert_eq!(sink.records(), 0);
    assert_eq!(source.status().commits, 0);
    // A new run (new consumer) starts from the committed offsets: none, so everything again.
    let report = source
        .run(&sink, mode, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.records, 30);
    assert_eq!(sink.records(), 30);
    let status = source.status();
    assert_eq!(status.partitions.len(), 3);
    for p in &status.partitions {
        assert_eq!(p.committed, Some(10), "{p:?}");
        assert_eq!(p.lag, Some(0), "{p:?}");
    }
    // A third run finds nothing new: the commits held.
    let again = source
        .run(&sink, mode, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.messages, 0);
}
