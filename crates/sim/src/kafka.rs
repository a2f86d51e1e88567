//! Diagnostic-settings output to a Kafka topic, as Event Hubs delivers it: each message is a
//! `{"records":[...]}` batch of mixed categories (with the generator's wire-format quirks), spread over the
//! topic's partitions. Meant for librdkafka's in-process mock cluster (`rdkafka::mocking::MockCluster`), so
//! tests and benchmarks run the real Kafka protocol offline. Mind that the mock broker keeps only the last
//! 5 MiB (or 100000 messages) of each partition: use enough partitions for the data.
//!
//! ```no_run
//! let cluster = sim::kafka::mock_cluster(3)?;
//! cluster.create_topic("insights-logs", 4, 1)?;
//! let cfg = sim::TenantConfig { users: 50, days: 1, ..sim::TenantConfig::default() };
//! let (produced, truth) = sim::kafka::produce_day(&cfg, &cluster.bootstrap_servers(), "insights-logs", 4, 50)?;
//! # Ok::<(), rdkafka::error::KafkaError>(())
//! ```

use crate::shape::{Shape, render_owned};
use crate::{Generator, GroundTruth, SimEvent, Tenant, TenantConfig};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// librdkafka's in-process Kafka cluster (re-exported so tests need no direct `rdkafka` dependency).
pub type MockCluster =
    rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

/// Starts a mock cluster of `brokers` brokers on loopback; create topics with `create_topic(name,
/// partitions, 1)` and connect to `bootstrap_servers()`.
pub fn mock_cluster(brokers: i32) -> Result<MockCluster, KafkaError> {
    rdkafka::mocking::MockCluster::new(brokers)
}

/// Event Hubs' largest message (1 MB), minus room for the protocol.
pub const MAX_MESSAGE_BYTES: usize = 900_000;

/// What a producer wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Produced {
    /// Messages acknowledged by the brokers.
    pub messages: u64,
    /// Records inside them.
    pub records: u64,
    /// Message bytes.
    pub bytes: u64,
    /// Messages per partition.
    pub per_partition: Vec<u64>,
}

/// Counts failed deliveries.
#[derive(Clone, Default)]
struct Failures(Arc<AtomicU64>);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Writes diagnostic records as `{"records":[...]}` messages, round-robin over the partitions.
pub struct DiagnosticProducer {
    producer: BaseProducer<Failures>,
    failures: Failures,
    topic: String,
    partitions: i32,
    per_message: usize,
    next_partition: i32,
    buf: Vec<u8>,
    in_message: usize,
    produced: Produced,
}

impl DiagnosticProducer {
    /// A producer to `topic` (which has `partitions` partitions) with up to `records_per_message` records
    /// per message (and at most [`MAX_MESSAGE_BYTES`]).
    pub fn new(
        bootstrap_servers: &str,
        topic: &str,
        partitions: i32,
        records_per_message: usize,
    ) -> Result<DiagnosticProducer, KafkaError> {
        let failures = Failures::default();
        let producer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap_servers)
            .set("linger.ms", "5")
            .set("queue.buffering.max.kbytes", "1048576")
            .set("message.max.bytes", "1000000")
            .create_with_context(failures.clone())?;
        Ok(DiagnosticProducer {
            producer,
            failures,
            topic: topic.to_owned(),
            partitions: partitions.max(1),
            per_message: records_per_message.max(1),
            next_partition: 0,
            buf: Vec::with_capacity(64 << 10),
            in_message: 0,
            produced: Produced {
                per_partition: vec![0; partitions.max(1) as usize],
                ..Produced::default()
            },
        })
    }

    /// Adds one rendered record; sends the message when it is full.
    pub fn send_record(&mut self, record: &serde_json::Value) -> Result<(), KafkaError> {
        let rec = serde_json::to_vec(record).map_err(|_| KafkaError::Canceled)?;
        if self.in_message > 0 && self.buf.len() + rec.len() + 3 > MAX_MESSAGE_BYTES {
            self.flush_message()?;
        }
        self.buf.extend_from_slice(if self.in_message == 0 {
            b"{\"records\":["
        } else {
            b","
        });
        self.buf.extend_from_slice(&rec);
        self.in_message += 1;
        self.produced.records += 1;
        if self.in_message >= self.per_message {
            self.flush_message()?;
        }
        Ok(())
    }

    /// Sends the message being filled, if any.
    pub fn flush_message(&mut self) -> Result<(), KafkaError> {
        if self.in_message == 0 {
            return Ok(());
        }
        self.buf.extend_from_slice(b"]}");
        let body = std::mem::take(&mut self.buf);
        self.in_message = 0;
        let partition = self.next_partition;
        self.next_partition = (self.next_partition + 1) % self.partitions;
        self.send_raw(&body, partition)
    }

    /// Sends any bytes as one message to a partition (malformed input for tests).
    pub fn send_raw(&mut self, payload: &[u8], partition: i32) -> Result<(), KafkaError> {
        let mut record = BaseRecord::<(), [u8]>::to(&self.topic)
            .payload(payload)
            .partition(partition);
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    self.producer.poll(Duration::from_millis(50));
                }
                Err((e, _)) => return Err(e),
            }
        }
        self.producer.poll(Duration::ZERO);
        self.produced.messages += 1;
        self.produced.bytes += payload.len() as u64;
        if let Some(n) = usize::try_from(partition)
            .ok()
            .and_then(|p| self.produced.per_partition.get_mut(p))
        {
            *n += 1;
        }
        Ok(())
    }

    /// Sends what is left, waits for every acknowledgement, and fails if any message was not delivered.
    pub fn finish(mut self) -> Result<Produced, KafkaError> {
        self.flush_message()?;
        self.producer.flush(Duration::from_secs(60))?;
        let failed = self.failures.0.load(Ordering::Relaxed);
        if failed > 0 {
            return Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut,
            ));
        }
        Ok(self.produced)
    }
}

/// Renders every event in the diagnostic shape (with quirks if asked) and produces it.
pub fn produce_events(
    producer: &mut DiagnosticProducer,
    events: impl IntoIterator<Item = SimEvent>,
    quirks: bool,
    tenant: &Tenant,
) -> Result<(), KafkaError> {
    for ev in events {
        if let Some(rec) = render_owned(ev, Shape::Diagnostic, quirks, tenant) {
            producer.send_record(&rec)?;
        }
    }
    Ok(())
}

/// Produces the tenant's whole window (every category, duplicates and republications included, quirks as
/// configured) to `topic` and returns what was written with the generator's ground truth.
pub fn produce_day(
    cfg: &TenantConfig,
    bootstrap_servers: &str,
    topic: &str,
    partitions: i32,
    records_per_message: usize,
) -> Result<(Produced, GroundTruth), KafkaError> {
    let tenant = Tenant::new(cfg);
    let mut generator = Generator::new(&tenant, cfg).with_truth(true);
    let mut producer =
        DiagnosticProducer::new(bootstrap_servers, topic, partitions, records_per_message)?;
    produce_events(&mut producer, generator.by_ref(), cfg.quirks, &tenant)?;
    let produced = producer.finish()?;
    Ok((produced, generator.into_truth().unwrap_or_default()))
}
