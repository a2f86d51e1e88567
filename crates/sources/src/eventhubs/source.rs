//! The Event Hubs source runtime: one group consumer per source; messages are decoded into a batch, the
//! batch is handed to [`Deliver`], and only once that returned `Ok` are the batch's messages marked done and
//! the contiguous watermark of each partition committed. A failure drops the consumer and starts a new one
//! after a backoff, which resumes from the committed offsets (at-least-once; the pipeline dedupes).

use super::client::{Context, Shared, client_config};
use super::config::{EventHubsSourceConfig, StartPosition};
use super::error::{ErrorKind, EventHubsError};
use super::status::EventHubsStatus;
use super::watermark::{Ticket, TopicPartition};
use crate::Batch;
use crate::graph::{Accepted, CancellationToken, Deliver, DeliverError};
use model::normalize::{DecodeContext, Format, decode_stream, detect_format};
use model::{Position, Rejected};
use rdkafka::Message;
use rdkafka::TopicPartitionList;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type KafkaConsumer = StreamConsumer<Context>;

mod lag;

/// How often the status's lag is updated from librdkafka's last reported watermarks (no request).
const LAG_EVERY: Duration = Duration::from_secs(2);

/// When [`EventHubsSource::run`] returns on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Until shutdown; failures are retried with backoff.
    Continuous,
    /// Until every assigned partition is committed up to its high watermark and nothing arrived for `idle`
    /// (or nothing was assigned for the longer of 10 x `idle` and twice the session timeout: a member that
    /// did not leave is only dropped from the group after one session timeout); the first failure is
    /// returned.
    UntilCaughtUp {
        /// Quiet time that ends the run.
        idle: Duration,
    },
}

/// What one [`EventHubsSource::run`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Messages read.
    pub messages: u64,
    /// Records decoded.
    pub records: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
}

/// An Event Hubs source (Kafka endpoint) with its accounting.
pub struct EventHubsSource {
    config: EventHubsSourceConfig,
    status: Mutex<EventHubsStatus>,
}

impl std::fmt::Debug for EventHubsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHubsSource")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A batch being gathered.
#[derive(Default)]
struct Pending {
    batch: Batch,
    tickets: Vec<Ticket>,
    bytes: usize,
    messages: u64,
}

/// A batch handed to [`Deliver`] and not yet durable.
struct InFlight<'a> {
    landing: Pin<Box<dyn Future<Output = Result<Accepted, DeliverError>> + Send + 'a>>,
    tickets: Vec<Ticket>,
    messages: u64,
    records: u64,
}

/// What woke the gathering loop.
enum Event<'c> {
    Stop,
    Landed(Result<Accepted, DeliverError>),
    Received(
        Result<
            Result<rdkafka::message::BorrowedMessage<'c>, rdkafka::error::KafkaError>,
            tokio::time::error::Elapsed,
        >,
    ),
}

/// Waits for the batch in flight to land (forever when there is none).
async fn land(slot: &mut Option<InFlight<'_>>) -> Result<Accepted, DeliverError> {
    match slot {
        Some(f) => f.landing.as_mut().await,
        None => std::future::pending().await,
    }
}

impl EventHubsSource {
    /// A source for a configuration (validated here; connects nothing).
    pub fn new(config: EventHubsSourceConfig) -> Result<EventHubsSource, EventHubsError> {
        config.validate().map_err(EventHubsError::Config)?;
        let status = EventHubsStatus {
            source: config.id.clone(),
            consumer_group: config.consumer_group.clone(),
            ..EventHubsStatus::default()
        };
        Ok(EventHubsSource {
            config,
            status: Mutex::new(status),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EventHubsSourceConfig {
        &self.config
    }

    /// A snapshot of the accounting.
    pub fn status(&self) -> EventHubsStatus {
        let mut s = self.lock_status().clone();
        s.now = Some(chrono::Utc::now().to_rfc3339());
        s
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, EventHubsStatus> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record_error(&self, e: &EventHubsError) {
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        let mut s = self.lock_status();
        s.last_error = Some(text);
        s.last_error_at = Some(chrono::Utc::now().to_rfc3339());
    }

    /// Consumes until `shutdown` (or, in [`RunMode::UntilCaughtUp`], until caught up). In continuous mode a
    /// failure is recorded, logged and retried with capped backoff from the committed offsets; only a bad
    /// configuration ends the run with an error.
    pub async fn run<D: Deliver>(
        &self,
        deliver: &D,
        mode: RunMode,
        shutdown: CancellationToken,
    ) -> Result<RunReport, EventHubsError> {
        let mut report = RunReport::default();
        let mut backoff = Duration::from_millis(500);
        loop {
            let r = self.session(deliver, mode, &shutdown, &mut report).await;
            match r {
                Ok(()) => return Ok(report),
                Err(e) if mode != RunMode::Continuous || e.kind() == ErrorKind::Fatal => {
                    self.record_error(&e);
                    return Err(e);
                }
                Err(e) => {
                    self.record_error(&e);
                    tracing::warn!(source = %self.config.id, error = %e, retry_in = ?backoff, "Event Hubs consumer failed; reconnecting from the committed offsets");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(report),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.config.max_backoff);
                }
            }
        }
    }

    /// One consumer's life: subscribe, gather, deliver, commit; returns on shutdown, when caught up, or on
    /// the first failure (the consumer is dropped; uncommitted messages are read again by the next one).
    async fn session<D: Deliver>(
        &self,
        deliver: &D,
        mode: RunMode,
        shutdown: &CancellationToken,
        report: &mut RunReport,
    ) -> Result<(), EventHubsError> {
        let shared = Arc::new(Shared::default());
        let consumer: Arc<KafkaConsumer> = Arc::new(
            StreamConsumer::from_config_and_context(
                &client_config(&self.config),
                Context::new(&self.config, shared.clone()),
            )
            .map_err(|e| EventHubsError::kafka("creating the consumer", e))?,
        );
        let topics: Vec<&str> = self.config.event_hubs.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| EventHubsError::kafka("subscribing", e))?;
        let start_ms = match self.config.start_position() {
            StartPosition::Time(t) => Some(t.timestamp_millis()),
            _ => None,
        };
        let mut last_lag = Instant::now() - LAG_EVERY;
        let mut quiet_since = Instant::now();
        // The batch being made durable while the next one is gathered: at most one, so decoding overlaps
        // the durable append and memory stays at two batches.
        let mut in_flight: Option<InFlight<'_>> = None;
        loop {
            let mut pending = Pending::default();
            let mut stop = false;
            let mut deadline: Option<tokio::time::Instant> = None;
            loop {
                let wait = match deadline {
                    Some(d) => d.saturating_duration_since(tokio::time::Instant::now()),
                    None => Duration::from_millis(250),
                };
                let landed = {
                    let event = tokio::select! {
                        () = shutdown.cancelled() => Event::Stop,
                        r = land(&mut in_flight) => Event::Landed(r),
                        r = tokio::time::timeout(wait, consumer.recv()) => Event::Received(r),
                    };
                    match event {
                        Event::Stop => {
                            stop = true;
                            break;
                        }
                        Event::Landed(r) => Some(r),
                        Event::Received(Err(_)) => break,
                        Event::Received(Ok(Err(e))) => {
                            let e = EventHubsError::kafka("receiving", e);
                            if e.kind() == ErrorKind::Auth {
                                return Err(e);
                            }
                            // librdkafka reconnects by itself; note it and go on.
                            tracing::warn!(source = %self.config.id, error = %e, "Event Hubs receive error");
                            self.record_error(&e);
                            None
                        }
                        Event::Received(Ok(Ok(msg))) => {
                            self.take(&shared, &msg, start_ms, &mut pending);
                            deadline.get_or_insert_with(|| {
                                tokio::time::Instant::now() + self.config.max_wait
                            });
                            if pending.batch.records.len() >= self.config.max_batch_records
                                || pending.bytes >= self.config.max_batch_bytes
                            {
                                break;
                            }
                            None
                        }
                    }
                };
                if let Some(r) = landed
                    && let Some(f) = in_flight.take()
                {
                    self.landed(r, f, &consumer, &shared, report).await?;
                }
            }
            if pending.messages > 0 {
                quiet_since = Instant::now();
                // One batch in flight at most: the previous one lands before this one is handed over.
                if let Some(f) = in_flight.take() {
                    let mut f = f;
                    let r = f.landing.as_mut().await;
                    self.landed(r, f, &consumer, &shared, report).await?;
                }
                in_flight = Some(InFlight {
                    records: pending.batch.records.len() as u64,
                    messages: pending.messages,
                    tickets: pending.tickets,
                    landing: Box::pin(deliver.deliver(pending.batch)),
                });
            }
            let idle_check =
                matches!(mode, RunMode::UntilCaughtUp { idle } if quiet_since.elapsed() >= idle);
            if (stop || idle_check)
                && let Some(mut f) = in_flight.take()
            {
                // Nothing ends (and nothing is judged caught up) with a batch still in flight.
                let r = f.landing.as_mut().await;
                self.landed(r, f, &consumer, &shared, report).await?;
            }
            let lag_due = last_lag.elapsed() >= LAG_EVERY;
            if lag_due || stop {
                last_lag = Instant::now();
                self.refresh_lag(&consumer, &shared, None).await;
            }
            if stop {
                return Ok(());
            }
            if let RunMode::UntilCaughtUp { idle } = mode
                && idle_check
            {
                // Caught up: every assigned partition committed up to a high watermark that librdkafka
                // learnt after the last message arrived.
                let caught_up = self
                    .refresh_lag(&consumer, &shared, Some(quiet_since))
                    .await;
                // An empty assignment may just mean the group is still forming (a previous member that
                // did not leave is dropped after a session timeout, then the group rebalances): wait
                // longer for that.
                let give_up = (idle * 10).max(self.config.session_timeout * 2);
                if caught_up || quiet_since.elapsed() >= give_up {
                    return Ok(());
                }
            }
        }
    }

    /// Decodes one message into the batch and registers it for the watermark.
    fn take(
        &self,
        shared: &Shared,
        msg: &rdkafka::message::BorrowedMessage<'_>,
        start_ms: Option<i64>,
        pending: &mut Pending,
    ) {
        let tp: TopicPartition = (msg.topic().to_owned(), msg.partition());
        let offset = msg.offset();
        pending
            .tickets
            .push(shared.lock().marks.received(&tp, offset));
        let payload = msg.payload().unwrap_or_default();
        pending.bytes += payload.len();
        pending.messages += 1;
        {
            let mut s = self.lock_status();
            s.messages += 1;
            s.bytes += payload.len() as u64;
            let p = s.partition(&tp.0, tp.1);
            p.messages += 1;
            p.position = Some(offset + 1);
        }
        // A time start: messages enqueued before it are skipped (and count as consumed).
        if let (Some(start), Some(ts)) = (start_ms, msg.timestamp().to_millis())
            && ts < start
        {
            return;
        }
        let location = format!("{}/{}/{}", tp.0, tp.1, offset);
        decode_message(
            payload,
            &self.config.id,
            location,
            &mut pending.batch.records,
            &mut pending.batch.rejected,
        );
        pending.batch.position = format!("{}/{}/{}", tp.0, tp.1, offset);
    }

    /// A batch handed over has landed: once durable, marks its messages done and commits what became
    /// contiguous; a failed delivery ends the session (nothing of it is committed).
    async fn landed(
        &self,
        result: Result<Accepted, DeliverError>,
        batch: InFlight<'_>,
        consumer: &Arc<KafkaConsumer>,
        shared: &Shared,
        report: &mut RunReport,
    ) -> Result<(), EventHubsError> {
        let accepted = result.map_err(EventHubsError::Deliver)?;
        let InFlight {
            tickets,
            messages,
            records,
            ..
        } = batch;
        tracing::debug!(source = %self.config.id, messages, records, ?accepted, "batch durable");
        report.messages += messages;
        report.records += records;
        report.accepted.add(&accepted);
        let commits = {
            let mut st = shared.lock();
            for t in &tickets {
                st.marks.done(t);
            }
            st.marks.to_commit()
        };
        let rebalances = shared.lock().rebalances;
        {
            let mut s = self.lock_status();
            s.records += records;
            s.batches += 1;
            s.accepted.add(&accepted);
            s.rebalances = rebalances;
        }
        if commits.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in &commits {
            tpl.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset))
                .map_err(|e| EventHubsError::kafka("building the commit", e))?;
        }
        let c = consumer.clone();
        let committed = tokio::task::spawn_blocking(move || c.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| {
                EventHubsError::kafka(
                    format!("commit task: {e}"),
                    rdkafka::error::KafkaError::Canceled,
                )
            })?;
        match committed {
            Ok(()) => {
                let mut st = shared.lock();
                let mut s = self.lock_status();
                s.commits += 1;
                for (tp, offset) in &commits {
                    st.marks.committed(tp, *offset);
                    s.partition(&tp.0, tp.1).committed = Some(*offset);
                }
                Ok(())
            }
            // Not fatal: a rebalance may be under way; the data is durable and the next commit carries
            // the watermark (or the next owner re-reads from the last commit).
            Err(e) => {
                let e = EventHubsError::kafka("committing offsets", e);
                tracing::warn!(source = %self.config.id, error = %e, "offset commit failed");
                self.record_error(&e);
                Ok(())
            }
        }
    }
}

/// Decodes one message body (`{"records":[...]}`): records into `records`, what cannot be decoded into
/// `rejected` with the position `topic/partition/offset`.
pub(crate) fn decode_message(
    payload: &[u8],
    source: &str,
    location: String,
    records: &mut Vec<model::Record>,
    rejected: &mut Vec<Rejected>,
) {
    let reject = |reason: &str, rejected: &mut Vec<Rejected>| {
        rejected.push(Rejected {
            position: Position {
                source: source.to_owned(),
                location: location.clone(),
                at: "message".to_owned(),
            },
            raw: payload[..payload.len().min(model::limits::MAX_RECORD_BYTES as usize)].to_vec(),
            reason: reason.to_owned(),
            category: None,
        })
    };
    if payload.iter().all(u8::is_ascii_whitespace) {
        reject("empty message", rejected);
        return;
    }
    let format = detect_format(&payload[..payload.len().min(4096)]);
    if format == Format::Csv {
        reject(
            "not a JSON document (an Event Hubs message is {\"records\":[...]})",
            rejected,
        );
        return;
    }
    let cx = DecodeContext {
        source: source.to_owned(),
        location: location.clone(),
        ingest_time: chrono::Utc::now().timestamp_micros(),
        category: None,
        shape: None,
    };
    for item in decode_stream(payload, format, cx) {
        match item {
            Ok(r) => records.push(r),
            Err(r) => rejected.push(r),
        }
    }
}
