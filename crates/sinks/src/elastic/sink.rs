//! The Elasticsearch / OpenSearch sink runtime: encodes the accepted records into `_bulk` items, posts them in
//! requests of at most `max_batch_bytes`, resends only the items that failed with 429/5xx (with backoff),
//! splits a request the server refused as too large (413), and hands the items rejected as malformed to the
//! quarantine ([`crate::Sink::take_rejected`]).

use super::client::{BulkClient, BulkResult, ItemResult};
use super::config::ElasticConfig;
use super::encode::{encode_item, target};
use crate::http::{Runtime, backoff, log_failure};
use crate::{Sink, SinkError};
use model::{Category, Position, Record, Rejected};

/// Sends records to Elasticsearch or OpenSearch through `_bulk`.
#[derive(Debug)]
pub struct ElasticSink {
    config: ElasticConfig,
    categories: Vec<Category>,
    client: BulkClient,
    runtime: Runtime,
    rejected: Vec<Rejected>,
}

/// Items rejected in one `send`: (position in the encoded items, status, reason).
type Refused = Vec<(usize, u16, String)>;

impl ElasticSink {
    /// Validates the configuration and builds the sink (reads `tls_ca_file`; connects lazily).
    pub fn new(config: ElasticConfig) -> Result<ElasticSink, SinkError> {
        let categories = config
            .resolve()
            .map_err(|e| crate::util::config_failed(&e))?;
        Ok(ElasticSink {
            client: BulkClient::new(&config)?,
            runtime: Runtime::new()?,
            categories,
            config,
            rejected: Vec::new(),
        })
    }

    /// Posts `pending` items (split by size, 413 halves them), resending 429/5xx items up to
    /// `item_retries` times; returns the items rejected for good.
    async fn deliver(
        client: &BulkClient,
        config: &ElasticConfig,
        items: &[Vec<u8>],
    ) -> Result<Refused, SinkError> {
        let mut refused = Refused::new();
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let mut attempt = 0;
        loop {
            let mut retry: Vec<(usize, u16, String)> = Vec::new();
            let mut work: Vec<Vec<usize>> = chunks(&pending, items, config.max_batch_bytes);
            work.reverse();
            while let Some(chunk) = work.pop() {
                let body: Vec<u8> = chunk
                    .iter()
                    .flat_map(|&i| items[i].iter().copied())
                    .collect();
                match client.bulk(body, chunk.len()).await? {
                    BulkResult::TooLarge if chunk.len() > 1 => {
                        let (a, b) = chunk.split_at(chunk.len() / 2);
                        work.push(b.to_vec());
                        work.push(a.to_vec());
                    }
                    BulkResult::TooLarge => refused.push((
                        chunk[0],
                        413,
                        "document larger than the server's request limit (413)".into(),
                    )),
                    BulkResult::Items(results) => {
                        for (&i, r) in chunk.iter().zip(results) {
                            match r {
                                ItemResult::Stored => {}
                                ItemResult::Retry { status, reason } => {
                                    retry.push((i, status, reason));
                                }
                                ItemResult::Rejected { status, reason } => {
                                    refused.push((i, status, reason));
                                }
                            }
                        }
                    }
                }
            }
            let Some((_, status, reason)) = retry.first().cloned() else {
                return Ok(refused);
            };
            if attempt >= config.item_retries {
                let throttled = retry.iter().any(|r| r.1 == 429);
                return Err(SinkError::Status {
                    target: client.target().to_owned(),
                    status: if throttled { 429 } else { status },
                    code: None,
                    text: format!(
                        "{} of {} items still failing after {} resends: {reason}",
                        retry.len(),
                        items.len(),
                        attempt
                    ),
                    retry_after: None,
                });
            }
            tracing::debug!(
                component = %config.id, items = retry.len(), status, attempt,
                "resending bulk items that failed"
            );
            tokio::time::sleep(backoff(
                config.retry_backoff,
                config.max_retry_backoff,
                attempt,
            ))
            .await;
            attempt += 1;
            pending = retry.into_iter().map(|r| r.0).collect();
        }
    }
}

/// Groups item positions into requests of at most `max` bytes (a larger lone item goes alone).
fn chunks(pending: &[usize], items: &[Vec<u8>], max: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut size = 0;
    for &i in pending {
        if !cur.is_empty() && size + items[i].len() > max {
            out.push(std::mem::take(&mut cur));
            size = 0;
        }
        size += items[i].len();
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Sink for ElasticSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        // Rejections of an earlier, failed attempt come again with this one.
        self.rejected.clear();
        let records: Vec<&Record> = batch.iter().filter(|r| self.accepts(r.category)).collect();
        if records.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(records.len());
        for r in &records {
            let mut item = Vec::with_capacity(r.raw.len() * 2 + 512);
            encode_item(&mut item, &self.config, r).map_err(|e| SinkError::Io {
                target: "encoding".into(),
                source: e.into(),
            })?;
            items.push(item);
        }
        let fut = Self::deliver(&self.client, &self.config, &items);
        let result = self.runtime.block_on(self.client.target(), fut);
        match result {
            Ok(refused) => {
                for (i, status, reason) in refused {
                    let r = records[i];
                    tracing::warn!(
                        component = %self.config.id, key = %r.key, status, %reason,
                        "document rejected; quarantined"
                    );
                    self.rejected.push(Rejected {
                        position: Position {
                            source: self.config.id.clone(),
                            location: target(&self.config, r),
                            at: format!("key {} revision {}", r.key, r.revision),
                        },
                        raw: r.raw.as_bytes().to_vec(),
                        reason: format!("rejected by the sink ({status}): {reason}"),
                        category: Some(r.category.name().to_owned()),
                    });
                }
                Ok(())
            }
            Err(e) => {
                log_failure(&self.config.id, "elasticsearch", &e);
                Err(e)
            }
        }
    }

    fn take_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.rejected)
    }
}
