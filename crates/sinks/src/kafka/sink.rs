//! The Kafka sink runtime: an idempotent producer; `send` queues every record of the batch, then waits for
//! every delivery report and returns `Ok` only when all were acknowledged by the brokers (`acks=all`).

use super::config::{KafkaSinkAuth, KafkaSinkConfig};
use crate::util::config_failed;
use crate::{Sink, SinkError};
use model::{Category, Position, Record, Rejected};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Collects the first delivery failure of a batch.
#[derive(Clone, Default)]
struct Reports(Arc<Mutex<Option<KafkaError>>>);

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {
        if let Err((e, _)) = result {
            let mut first = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            first.get_or_insert_with(|| e.clone());
        }
    }
}

/// Sends canonical records (JSON, keyed by the record's dedupe key) to Kafka or Event Hubs.
pub struct KafkaSink {
    config: KafkaSinkConfig,
    categories: Vec<Category>,
    producer: BaseProducer<Reports>,
    reports: Reports,
    rejected: Vec<Rejected>,
}

impl KafkaSink {
    /// A sink for a configuration (validated here; connects lazily).
    pub fn new(config: KafkaSinkConfig) -> Result<KafkaSink, SinkError> {
        config.validate().map_err(|e| config_failed(&e))?;
        let mut ignored = Vec::new();
        let categories = crate::util::resolve_categories(&config.categories, &mut ignored);
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", config.servers().join(","))
            .set("client.id", format!("entrail-{}", config.id))
            // Exactly once per partition and session: no duplicates from librdkafka's own retries.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", &config.compression)
            .set("message.max.bytes", config.max_message_bytes.to_string())
            .set(
                "message.timeout.ms",
                config.delivery_timeout.as_millis().to_string(),
            )
            .set("linger.ms", "5");
        match &config.auth {
            KafkaSinkAuth::ConnectionString { connection_string } => {
                c.set("security.protocol", "SASL_SSL")
                    .set("sasl.mechanisms", "PLAIN")
                    .set("sasl.username", "$ConnectionString")
                    .set("sasl.password", connection_string.expose_secret());
            }
            KafkaSinkAuth::SaslPlain { username, password } => {
                c.set("security.protocol", "SASL_SSL")
                    .set("sasl.mechanisms", "PLAIN")
                    .set("sasl.username", username)
                    .set("sasl.password", password.expose_secret());
            }
            KafkaSinkAuth::Plaintext => {
                c.set("security.protocol", "PLAINTEXT");
            }
        }
        let reports = Reports::default();
        let producer = c
            .create_with_context(reports.clone())
            .map_err(|e| kafka_err(&config, e))?;
        Ok(KafkaSink {
            config,
            categories,
            producer,
            reports,
            rejected: Vec::new(),
        })
    }

    /// The topic of a category.
    pub fn topic(&self, category: Category) -> String {
        self.config
            .topic
            .replace("{category}", category.name())
            .replace("{table}", category.table())
    }

    fn produce(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), SinkError> {
        let mut record = BaseRecord::<str, [u8]>::to(topic).key(key).payload(payload);
        let deadline = Instant::now() + self.config.delivery_timeout;
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r))
                    if Instant::now() < deadline =>
                {
                    record = r;
                    self.producer.poll(Duration::from_millis(20));
                }
                Err((e, _)) => return Err(kafka_err(&self.config, e)),
            }
        }
    }
}

fn kafka_err(config: &KafkaSinkConfig, source: KafkaError) -> SinkError {
    SinkError::Kafka {
        target: config.bootstrap_servers.clone(),
        source: Box::new(source),
    }
}

impl Sink for KafkaSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        *self
            .reports
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.rejected.clear();
        let mut rejected = Vec::new();
        for r in batch.iter().filter(|r| self.accepts(r.category)) {
            let payload = serde_json::to_vec(&self.config.encoding.to_json(r)).map_err(|e| {
                SinkError::Protocol {
                    target: self.config.bootstrap_servers.clone(),
                    message: format!("encoding a record: {e}"),
                }
            })?;
            // Leave room for the key and the record headers.
            if payload.len() + r.key.len() + 512 > self.config.max_message_bytes {
                rejected.push(Rejected {
                    position: Position {
                        source: self.config.id.clone(),
                        location: self.topic(r.category),
                        at: format!("key {}", r.key),
                    },
                    raw: r.raw.as_bytes().to_vec(),
                    reason: format!(
                        "record of {} bytes exceeds max_message_bytes {}",
                        payload.len(),
                        self.config.max_message_bytes
                    ),
                    category: Some(r.category.name().to_owned()),
                });
                continue;
            }
            self.produce(&self.topic(r.category), &r.key, &payload)?;
        }
        // Every delivery report, or the timeout: only then is the batch acknowledged.
        self.producer
            .flush(self.config.delivery_timeout + Duration::from_secs(1))
            .map_err(|e| kafka_err(&self.config, e))?;
        if let Some(e) = self
            .reports
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            return Err(kafka_err(&self.config, e));
        }
        self.rejected = rejected;
        Ok(())
    }

    fn take_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.rejected)
    }
}
