//! The Splunk HEC sink runtime: encodes records into HEC event objects, splits them into requests by
//! size, posts them and waits for indexer acknowledgements.
//!
//! `Sink::send` is synchronous; the HTTP runs on a current-thread Tokio runtime owned by the sink (one
//! thread, no pool: `send` is called one batch at a time, and async `reqwest` keeps connections alive
//! between batches). When `send` is itself called from inside a Tokio runtime, the requests run on a scoped
//! helper thread instead, since a runtime cannot block inside another.

use super::client::HecClient;
use super::config::SplunkHecConfig;
use crate::ocsf::RecordEncoding;
use crate::{Sink, SinkError};
use model::{Category, Family, Record};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// The sourcetype Splunk's Microsoft add-ons give each category.
///
/// Source: the Splunk Add-on for Microsoft Cloud Services (`Splunk_TA_microsoft-cloudservices`,
/// `default/props.conf`), whose Event Hub input reads Entra ID diagnostic logs as `azure:monitor:aad`
/// ("Azure Audit and Authentication Events": sign-ins of every kind, audit, provisioning, Identity
/// Protection), the Azure Activity Log as `azure:monitor:activity`, and any other Event Hub payload as
/// `mscs:azure:eventhub`. Override per category with `sourcetypes`.
pub fn default_sourcetype(category: Category) -> &'static str {
    match category.family() {
        Family::Audit | Family::SignIn | Family::Provisioning | Family::Risk => "azure:monitor:aad",
        Family::Activity => "azure:monitor:activity",
        Family::NetworkAccess
        | Family::GraphActivity
        | Family::Office
        | Family::Flow
        | Family::Resource => "mscs:azure:eventhub",
        // Splunk's own sourcetype for syslog.
        Family::Syslog => "syslog",
    }
}

/// Appends one HEC event object for `record` to `out` (no trailing newline). `time` is the event time
/// in epoch seconds with a microsecond fraction; `index` is left out when `None`.
pub fn encode_event(
    out: &mut Vec<u8>,
    record: &Record,
    host: &str,
    source: &str,
    sourcetype: &str,
    index: Option<&str>,
) -> serde_json::Result<()> {
    encode_event_as(
        out,
        record,
        RecordEncoding::Native,
        host,
        source,
        sourcetype,
        index,
    )
}

/// As [`encode_event`], with the `event` in `encoding` (canonical record, raw, OCSF).
pub fn encode_event_as(
    out: &mut Vec<u8>,
    record: &Record,
    encoding: RecordEncoding,
    host: &str,
    source: &str,
    sourcetype: &str,
    index: Option<&str>,
) -> serde_json::Result<()> {
    let t = record.event_time;
    // Written by hand: an f64 would lose the last microsecond digits of a 2020s timestamp.
    let sign = if t < 0 { "-" } else { "" };
    let (secs, micros) = (t.unsigned_abs() / 1_000_000, t.unsigned_abs() % 1_000_000);
    let _ = write!(out, "{{\"time\":{sign}{secs}.{micros:06},\"host\":");
    serde_json::to_writer(&mut *out, host)?;
    out.extend_from_slice(b",\"source\":");
    serde_json::to_writer(&mut *out, source)?;
    out.extend_from_slice(b",\"sourcetype\":");
    serde_json::to_writer(&mut *out, sourcetype)?;
    if let Some(index) = index {
        out.extend_from_slice(b",\"index\":");
        serde_json::to_writer(&mut *out, index)?;
    }
    out.extend_from_slice(b",\"event\":");
    encoding.write_json(record, out)?;
    out.push(b'}');
    Ok(())
}

/// Sends canonical records to a Splunk HTTP Event Collector.
#[derive(Debug)]
pub struct SplunkHecSink {
    config: SplunkHecConfig,
    categories: Vec<Category>,
    sourcetypes: BTreeMap<Category, String>,
    host: String,
    client: HecClient,
    /// Always `Some` until drop (taken there: a runtime must not be dropped inside another one).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for SplunkHecSink {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl SplunkHecSink {
    /// Validates the configuration and builds the sink (reads `tls_ca_file`; connects lazily).
    pub fn new(config: SplunkHecConfig) -> Result<SplunkHecSink, SinkError> {
        let resolved = config
            .resolve()
            .map_err(|e| crate::util::config_failed(&e))?;
        let channel = config
            .channel
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let client = HecClient::new(&config, channel)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SinkError::Config {
                message: format!("starting the HTTP runtime: {e}"),
            })?;
        let host = config
            .host
            .clone()
            .unwrap_or_else(crate::util::local_hostname);
        Ok(SplunkHecSink {
            categories: resolved.categories,
            sourcetypes: resolved.sourcetypes,
            host,
            client,
            runtime: Some(runtime),
            config,
        })
    }

    /// Encodes the accepted records into request bodies of at most `max_batch_bytes` (a lone larger event
    /// gets its own body).
    fn bodies(&self, batch: &[Record]) -> Result<Vec<Vec<u8>>, SinkError> {
        let mut bodies = Vec::new();
        let mut body = Vec::new();
        let mut event = Vec::with_capacity(4096);
        for r in batch.iter().filter(|r| self.accepts(r.category)) {
            event.clear();
            let source = match &self.config.source {
                Some(s) => s.clone(),
                None => format!("entrail:{}", r.source),
            };
            let sourcetype = self
                .sourcetypes
                .get(&r.category)
                .map_or_else(|| default_sourcetype(r.category), String::as_str);
            encode_event_as(
                &mut event,
                r,
                self.config.encoding,
                &self.host,
                &source,
                sourcetype,
                self.config.index.as_deref(),
            )
            .map_err(|e| SinkError::Io {
                target: "encoding".into(),
                source: e.into(),
            })?;
            if !body.is_empty() && body.len() + 1 + event.len() > self.config.max_batch_bytes {
                bodies.push(std::mem::take(&mut body));
            }
            if !body.is_empty() {
                body.push(b'\n');
            }
            body.extend_from_slice(&event);
        }
        if !body.is_empty() {
            bodies.push(body);
        }
        Ok(bodies)
    }

    /// Posts every body, then (with acknowledgements) waits until all their acks are true.
    async fn deliver(
        client: &HecClient,
        bodies: Vec<Vec<u8>>,
        acks_on: bool,
        ack_timeout: Duration,
        poll: Duration,
    ) -> Result<(), SinkError> {
        let mut pending = Vec::new();
        for body in bodies {
            match (client.post_events(body).await?, acks_on) {
                (Some(id), true) => pending.push(id),
                (None, true) => {
                    return Err(SinkError::Config {
                        message: "HEC returned no ackId: indexer acknowledgement is off for this \
                                  token (turn it on in Splunk or set acknowledgements = false)"
                            .into(),
                    });
                }
                (_, false) => {}
            }
        }
        let start = Instant::now();
        while !pending.is_empty() {
            let done = client.query_acks(&pending).await?;
            pending.retain(|id| !done.contains(id));
            if pending.is_empty() {
                break;
            }
            if start.elapsed() + poll > ack_timeout {
                return Err(SinkError::AckTimeout {
                    target: "/services/collector/ack".into(),
                    pending: pending.len(),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(poll).await;
        }
        Ok(())
    }
}

impl Sink for SplunkHecSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let bodies = self.bodies(batch)?;
        if bodies.is_empty() {
            return Ok(());
        }
        let fut = Self::deliver(
            &self.client,
            bodies,
            self.config.acknowledgements,
            self.config.ack_timeout,
            self.config.ack_poll_interval,
        );
        let Some(runtime) = &self.runtime else {
            return Err(SinkError::Config {
                message: "sink already shut down".into(),
            });
        };
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| runtime.block_on(fut))
                    .join()
                    .unwrap_or_else(|_| {
                        Err(SinkError::Protocol {
                            target: self.config.url.clone(),
                            message: "HTTP thread panicked".into(),
                        })
                    })
            })
        } else {
            runtime.block_on(fut)
        };
        if let Err(e) = &result {
            match e.kind() {
                crate::ErrorKind::Auth | crate::ErrorKind::Fatal => tracing::error!(
                    component = %self.config.id, error = %e, kind = ?e.kind(),
                    "splunk hec refused the batch; the sink stops until an operator acts"
                ),
                _ => tracing::warn!(
                    component = %self.config.id, error = %e, kind = ?e.kind(),
                    "splunk hec batch failed; it will be retried"
                ),
            }
        }
        result
    }
}
