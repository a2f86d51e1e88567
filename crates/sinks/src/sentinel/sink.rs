//! The Logs Ingestion sink runtime: encodes records into rows (Log Analytics column names, `TimeGenerated`
//! = event time, `Entrail*` meta columns), groups them by stream, packs JSON arrays of at most
//! `max_request_bytes`, gzips and posts them with a cached Entra token.
//!
//! A request the service acknowledged (204) is remembered for the batch in flight, so when a later request
//! of the same batch fails and the pipeline resends the batch, the acknowledged ones are not sent twice. After
//! a 429/503 with `Retry-After` no request leaves before that time: `send` answers `Throttled` with the time
//! still to wait instead.

use super::auth::TokenSource;
use super::config::SentinelConfig;
use crate::http::{Runtime, call, gzip, log_failure};
use crate::util::cut_with_marker;
use crate::{Sink, SinkError};
use model::{Category, Position, Record, Rejected};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// Largest ingestion response read (errors are small JSON objects).
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Columns Log Analytics fills itself (or the sink sets): never sent from the record.
const RESERVED: &[&str] = &["TimeGenerated", "Type", "SourceSystem", "TenantId", "MG"];

/// The row `record` becomes: `TimeGenerated` (event time), the non-null data columns (strings and JSON
/// longer than `max_field_bytes` cut with the truncation marker), then `EntrailKey`, `EntrailRevision`,
/// `EntrailSource`, `EntrailCategory`, `EntrailIngestTime`. Columns starting with `_` and those in
/// Log Analytics' reserved set are left out.
pub fn encode_row(record: &Record, max_field_bytes: usize) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert(
        "TimeGenerated".into(),
        model::format_micros(record.event_time).into(),
    );
    for (col, v) in record.schema().columns.iter().zip(&record.values) {
        if v.is_null() || col.name.starts_with('_') || RESERVED.contains(&col.name.as_str()) {
            continue;
        }
        let value = match v.to_json() {
            Value::String(s) if s.len() > max_field_bytes => {
                Value::String(cut_with_marker(&s, max_field_bytes))
            }
            s @ Value::String(_) => s,
            other => {
                let text = other.to_string();
                if text.len() > max_field_bytes {
                    Value::String(cut_with_marker(&text, max_field_bytes))
                } else {
                    other
                }
            }
        };
        row.insert(col.name.clone(), value);
    }
    row.insert("EntrailKey".into(), record.key.clone().into());
    row.insert("EntrailRevision".into(), record.revision.into());
    row.insert("EntrailSource".into(), record.source.clone().into());
    row.insert("EntrailCategory".into(), record.category.name().into());
    row.insert(
        "EntrailIngestTime".into(),
        model::format_micros(record.ingest_time).into(),
    );
    row
}

/// The HTTP side: client, token and endpoint.
#[derive(Debug)]
struct Shipper {
    http: reqwest::Client,
    tokens: TokenSource,
    base: String,
    dcr: String,
    api_version: String,
    compression: bool,
    max_request_bytes: usize,
}

/// Result of one post.
enum Posted {
    Stored,
    TooLarge,
}

/// Rows of one stream: (position in the accepted records, encoded row).
type Rows = Vec<(usize, Vec<u8>)>;

impl Shipper {
    async fn post(&mut self, stream: &str, body: &[u8]) -> Result<Posted, SinkError> {
        let mut url = crate::http::join(
            &self.base,
            &format!("/dataCollectionRules/{}/streams/{stream}", self.dcr),
        )?;
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        let target = url.path().to_owned();
        let payload = if self.compression {
            gzip(body)?
        } else {
            body.to_vec()
        };
        for attempt in 0..2 {
            let token = self.tokens.token().await?;
            let mut auth = reqwest::header::HeaderValue::from_str(&format!(
                "Bearer {}",
                token.expose_secret()
            ))
            .map_err(|_| SinkError::Protocol {
                target: "token endpoint".into(),
                message: "token is not a valid header value".into(),
            })?;
            auth.set_sensitive(true);
            let mut req = self
                .http
                .post(url.clone())
                .header(reqwest::header::AUTHORIZATION, auth)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(payload.clone());
            if self.compression {
                req = req.header(reqwest::header::CONTENT_ENCODING, "gzip");
            }
            let reply = call(&target, req, MAX_RESPONSE_BYTES).await?;
            match reply.status {
                200..=299 => return Ok(Posted::Stored),
                413 => return Ok(Posted::TooLarge),
                // An expired or revoked token: fetch a new one and try once more.
                401 if attempt == 0 => self.tokens.invalidate(),
                _ => return Err(reply.error(&target)),
            }
        }
        Err(SinkError::Status {
            target,
            status: 401,
            code: None,
            text: "a freshly fetched token was refused".into(),
            retry_after: None,
        })
    }

    /// Posts every stream's rows in arrays of at most `max_request_bytes`, skipping bodies acknowledged
    /// earlier for this batch; returns the rows refused for good (413 alone).
    async fn deliver(
        &mut self,
        groups: &BTreeMap<String, Rows>,
        acknowledged: &mut HashSet<u64>,
    ) -> Result<Vec<(usize, String)>, SinkError> {
        let mut refused = Vec::new();
        for (stream, rows) in groups {
            let mut work = pack(rows, self.max_request_bytes);
            work.reverse();
            while let Some(chunk) = work.pop() {
                let body = array(&chunk);
                let fingerprint = hash(stream, &body);
                if acknowledged.contains(&fingerprint) {
                    continue;
                }
                match self.post(stream, &body).await? {
                    Posted::Stored => {
                        acknowledged.insert(fingerprint);
                    }
                    Posted::TooLarge if chunk.len() > 1 => {
                        let (a, b) = chunk.split_at(chunk.len() / 2);
                        work.push(b.to_vec());
                        work.push(a.to_vec());
                    }
                    Posted::TooLarge => refused.push((
                        chunk[0].0,
                        "row larger than the service's request limit (413)".to_owned(),
                    )),
                }
            }
        }
        Ok(refused)
    }
}

/// Groups rows into arrays of at most `max` bytes (`[`, `,` and `]` counted).
fn pack(rows: &Rows, max: usize) -> Vec<Vec<(usize, &[u8])>> {
    let mut out = Vec::new();
    let mut cur: Vec<(usize, &[u8])> = Vec::new();
    let mut size = 1;
    for (i, row) in rows {
        if !cur.is_empty() && size + 1 + row.len() > max {
            out.push(std::mem::take(&mut cur));
            size = 1;
        }
        size += 1 + row.len();
        cur.push((*i, row.as_slice()));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn array(rows: &[(usize, &[u8])]) -> Vec<u8> {
    let mut body = Vec::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (n, (_, row)) in rows.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(row);
    }
    body.push(b']');
    body
}

fn hash(stream: &str, body: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    stream.hash(&mut h);
    body.hash(&mut h);
    h.finish()
}

/// Sends records to Azure Monitor (Microsoft Sentinel) through the Logs Ingestion API.
#[derive(Debug)]
pub struct SentinelSink {
    config: SentinelConfig,
    categories: Vec<Category>,
    streams: BTreeMap<Category, String>,
    shipper: Shipper,
    runtime: Runtime,
    /// No request before this instant (the service's `Retry-After`).
    blocked_until: Option<Instant>,
    /// The batch in flight (hash of its keys) and the bodies already acknowledged for it.
    in_flight: u64,
    acknowledged: HashSet<u64>,
    rejected: Vec<Rejected>,
}

impl SentinelSink {
    /// Validates the configuration and builds the sink (reads `tls_ca_file`; connects lazily).
    pub fn new(config: SentinelConfig) -> Result<SentinelSink, SinkError> {
        let resolved = config
            .resolve()
            .map_err(|e| crate::util::config_failed(&e))?;
        let http = crate::http::client(config.request_timeout, config.tls_ca_file.as_deref())?;
        let shipper = Shipper {
            tokens: TokenSource::new(&config, http.clone())?,
            http,
            base: config.endpoint.clone(),
            dcr: config.dcr_immutable_id.clone(),
            api_version: config.api_version.clone(),
            compression: config.compression,
            max_request_bytes: config.max_request_bytes,
        };
        Ok(SentinelSink {
            categories: resolved.categories,
            streams: resolved.streams,
            shipper,
            runtime: Runtime::new()?,
            blocked_until: None,
            in_flight: 0,
            acknowledged: HashSet::new(),
            rejected: Vec::new(),
            config,
        })
    }

    /// The stream records of `category` go to.
    pub fn stream(&self, category: Category) -> String {
        self.config.stream(&self.streams, category)
    }

    /// Tokens fetched since the sink started.
    pub fn tokens_fetched(&self) -> u64 {
        self.shipper.tokens.fetched
    }
}

impl Sink for SentinelSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        self.rejected.clear();
        let records: Vec<&Record> = batch.iter().filter(|r| self.accepts(r.category)).collect();
        if records.is_empty() {
            return Ok(());
        }
        if let Some(until) = self.blocked_until {
            let now = Instant::now();
            if now < until {
                return Err(SinkError::Status {
                    target: self.config.endpoint.clone(),
                    status: 429,
                    code: None,
                    text: "waiting for the service's Retry-After before sending again".into(),
                    retry_after: Some(until - now),
                });
            }
            self.blocked_until = None;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for r in &records {
            (&r.key, r.revision).hash(&mut h);
        }
        let fingerprint = h.finish();
        if fingerprint != self.in_flight {
            self.in_flight = fingerprint;
            self.acknowledged.clear();
        }
        let mut groups: BTreeMap<String, Rows> = BTreeMap::new();
        let mut oversized = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let row =
                serde_json::to_vec(&encode_row(r, self.config.max_field_bytes)).map_err(|e| {
                    SinkError::Io {
                        target: "encoding".into(),
                        source: e.into(),
                    }
                })?;
            if row.len() + 2 > self.config.max_request_bytes {
                oversized.push((i, format!(
                    "row of {} bytes after cutting fields to {} bytes exceeds max_request_bytes",
                    row.len(),
                    self.config.max_field_bytes
                )));
                continue;
            }
            groups
                .entry(self.stream(r.category))
                .or_default()
                .push((i, row));
        }
        let Self {
            runtime,
            shipper,
            acknowledged,
            ..
        } = self;
        let target = shipper.base.clone();
        let result = runtime.block_on(&target, shipper.deliver(&groups, acknowledged));
        match result {
            Ok(refused) => {
                self.acknowledged.clear();
                self.in_flight = 0;
                for (i, reason) in oversized.into_iter().chain(refused) {
                    let r = records[i];
                    tracing::warn!(component = %self.config.id, key = %r.key, %reason, "row refused; quarantined");
                    self.rejected.push(Rejected {
                        position: Position {
                            source: self.config.id.clone(),
                            location: self.stream(r.category),
                            at: format!("key {} revision {}", r.key, r.revision),
                        },
                        raw: r.raw.as_bytes().to_vec(),
                        reason: format!("rejected by the sink: {reason}"),
                        category: Some(r.category.name().to_owned()),
                    });
                }
                Ok(())
            }
            Err(e) => {
                if let crate::ErrorKind::Throttled {
                    retry_after: Some(wait),
                } = e.kind()
                {
                    self.blocked_until = Some(Instant::now() + wait.min(Duration::from_secs(3600)));
                }
                log_failure(&self.config.id, "logs ingestion", &e);
                Err(e)
            }
        }
    }

    fn take_rejected(&mut self) -> Vec<Rejected> {
        std::mem::take(&mut self.rejected)
    }
}
