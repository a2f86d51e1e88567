//! The Blob source runtime: per container, walk the resource folders, list only the hour folders from the
//! container's open hour to now, read each blob from its saved offset, deliver, and save the offsets once
//! the batch is durable. Listing (containers, resource folders, hour folders) is in `listing`.

mod listing;

use super::client::{BlobError, Client};
use super::config::{BlobSourceConfig, ConfigError, Since, Validated};
use super::reader::{self, Item, Offset};
use super::status::{BlobStatus, ContainerStatus};
use crate::Batch;
use crate::graph::{Accepted, CursorError, CursorStore, Deliver, DeliverError};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
pub(crate) use listing::hour_of;
use listing::{hour_floor, store_err};
use model::normalize::{DecodeContext, decode_record};
use model::{Position, Rejected};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// The longest single line or record read (a longer one goes to the quarantine).
const MAX_ITEM: usize = 64 << 20;

/// Blob source failures. Retry code matches on [`BlobSourceError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum BlobSourceError {
    /// The configuration is invalid.
    #[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigError>),
    /// Storage failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The pipeline could not make a batch durable.
    #[error("delivering a batch")]
    Deliver(#[from] DeliverError),
    /// The cursor store failed.
    #[error("cursor store")]
    Cursor(#[from] CursorError),
}

impl BlobSourceError {
    /// The retry class of this error.
    pub fn kind(&self) -> super::client::ErrorKind {
        use super::client::ErrorKind;
        match self {
            BlobSourceError::Config(_) => ErrorKind::Fatal,
            BlobSourceError::Blob(e) => e.kind(),
            BlobSourceError::Deliver(_) | BlobSourceError::Cursor(_) => ErrorKind::Transient,
        }
    }
}

/// The saved state of one container: its oldest open hour and the offsets of the blobs of open hours.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    blobs: BTreeMap<String, Offset>,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Per container: its name and what happened.
    pub containers: Vec<ContainerReport>,
}

/// One container in a poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerReport {
    /// Container name.
    pub container: String,
    /// Blobs with new bytes.
    pub blobs_read: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records decoded.
    pub records: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
    /// Why the container's poll stopped early (its offsets stay at the last durable batch).
    pub error: Option<String>,
}

/// Reads diagnostic-settings archives from a Storage account.
pub struct BlobSource {
    config: BlobSourceConfig,
    settings: Validated,
    client: Client,
    containers: Mutex<Option<(Instant, Vec<String>)>>,
    resources: Mutex<HashMap<String, Discovered>>,
    status: Mutex<BTreeMap<String, ContainerStatus>>,
    last_poll: Mutex<Option<DateTime<Utc>>>,
}

/// A container's resource folders and when they were walked.
type Discovered = (Instant, Vec<Option<Path>>);

/// A batch being filled, with the offsets it reaches.
#[derive(Default)]
struct Pending {
    records: Vec<model::Record>,
    rejected: Vec<Rejected>,
    offsets: Vec<(String, Offset)>,
    position: String,
}

impl BlobSource {
    /// Builds the source from a config (validates it; sends nothing).
    pub fn from_config(config: BlobSourceConfig) -> Result<BlobSource, BlobSourceError> {
        let settings = config.validate().map_err(BlobSourceError::Config)?;
        Ok(BlobSource {
            client: Client::new(&config),
            config,
            settings,
            containers: Mutex::new(None),
            resources: Mutex::new(HashMap::new()),
            status: Mutex::new(BTreeMap::new()),
            last_poll: Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BlobSourceConfig {
        &self.config
    }

    /// Reads a container from another store (tests: an in-memory store).
    #[cfg(test)]
    pub(crate) fn set_store(&self, container: &str, store: std::sync::Arc<dyn ObjectStore>) {
        self.client.set_store(container, store);
    }

    /// One pass over every container up to now.
    pub async fn poll_once<D: Deliver, C: CursorStore>(
        &self,
        deliver: &D,
        cursors: &C,
    ) -> Result<PollReport, BlobSourceError> {
        self.poll_once_at(Utc::now(), deliver, cursors).await
    }

    /// One pass with `now` as the current time (tests and simulations). A container that fails keeps its
    /// offsets at the last durable batch and is named in the report; the others still run. Fails only when
    /// the containers cannot be listed.
    pub async fn poll_once_at<D: Deliver, C: CursorStore>(
        &self,
        now: DateTime<Utc>,
        deliver: &D,
        cursors: &C,
    ) -> Result<PollReport, BlobSourceError> {
        let containers = self.containers().await?;
        let mut report = PollReport::default();
        for c in containers {
            let mut r = ContainerReport {
                container: c.clone(),
                ..ContainerReport::default()
            };
            let result = self.poll_container(&c, now, deliver, cursors, &mut r).await;
            let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
            let s = status.entry(c.clone()).or_default();
            s.container.clone_from(&c);
            s.blobs_read += r.blobs_read;
            s.bytes_read += r.bytes;
            s.records += r.records;
            s.accepted.add(&r.accepted);
            match result {
                Ok((from, open, resources)) => {
                    s.open_from = Some(from.to_rfc3339());
                    s.open_blobs = open;
                    s.resources = resources;
                    s.last_success = Some(Utc::now().to_rfc3339());
                }
                Err(e) => {
                    let msg = error_chain(&e);
                    tracing::warn!(source = %self.config.id, container = %c, error = %msg, "blob container poll failed");
                    s.last_error = Some(msg.clone());
                    s.last_error_at = Some(Utc::now().to_rfc3339());
                    r.error = Some(msg);
                }
            }
            report.containers.push(r);
        }
        *self.last_poll.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now());
        Ok(report)
    }

    /// Polls every `poll_interval` until `shutdown` is cancelled; failures are logged and retried next poll.
    pub async fn run_tail<D: Deliver, C: CursorStore>(
        &self,
        deliver: &D,
        cursors: &C,
        shutdown: CancellationToken,
    ) {
        loop {
            if let Err(e) = self.poll_once(deliver, cursors).await {
                tracing::warn!(source = %self.config.id, error = %error_chain(&e), "blob poll failed");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// Per-container accounting.
    pub fn status(&self) -> BlobStatus {
        BlobStatus {
            source: self.config.id.clone(),
            endpoint: self.client.endpoint().to_owned(),
            last_poll: self
                .last_poll
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .map(|t| t.to_rfc3339()),
            containers: self
                .status
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .cloned()
                .collect(),
        }
    }

    /// Polls one container; returns its open hour, open blobs and resources.
    async fn poll_container<D: Deliver, C: CursorStore>(
        &self,
        container: &str,
        now: DateTime<Utc>,
        deliver: &D,
        cursors: &C,
        report: &mut ContainerReport,
    ) -> Result<(DateTime<Utc>, u64, u64), BlobSourceError> {
        let key = format!("blob/{}/{container}", self.config.id);
        let mut cur: Cursor = cursors
            .load(&key)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let start = match self.settings.since {
            Since::At(t) => t,
            Since::Ago(d) => now - TimeDelta::from_std(d).unwrap_or(TimeDelta::zero()),
        };
        let from = hour_floor(cur.from.unwrap_or(start));
        let lookback = TimeDelta::from_std(self.settings.lookback).unwrap_or(TimeDelta::zero());
        let store = self.client.store(container)?;
        let store = store.as_ref();
        let resources = self.resources(container, store).await?;
        // The hour folders from the open hour to now of every resource, oldest hour first: an hour is read
        // in every resource before the next one starts, so that a closed hour's offsets are dropped from the
        // cursor as soon as it is durable. The cursor then holds the blobs of one closed hour and of the open
        // hours only, and each listing holds one page: memory does not grow with the blobs of the container.
        let mut folders = Vec::new();
        for res in &resources {
            folders.extend(self.hours(container, store, res, from, now).await?);
        }
        folders.sort();
        let mut pending = Pending::default();
        let mut next_folder = folders.iter().peekable();
        while let Some((hour, prefix)) = next_folder.next() {
            let closed = *hour + TimeDelta::hours(1) + lookback <= now;
            tracing::debug!(container, %prefix, closed, "listing an hour folder");
            let mut list = store.list(Some(prefix));
            while let Some(meta) = list.next().await {
                let meta = meta.map_err(store_err(format!("listing {container}/{prefix}")))?;
                let name = meta.location.to_string();
                let off = cur.blobs.get(&name).copied();
                if meta.size == 0 || off.is_some_and(|o| o.pos() >= meta.size) {
                    continue;
                }
                report.blobs_read += 1;
                tracing::debug!(container, blob = %name, size = meta.size, offset = ?off, "reading a blob");
                self.read_blob(container, store, &meta, off, closed, &mut pending, report)
                    .await?;
                if pending.records.len() >= self.config.batch_records {
                    self.flush(&mut pending, &mut cur, &key, deliver, cursors, report)
                        .await?;
                }
            }
            let hour_done = next_folder.peek().is_none_or(|(h, _)| h != hour);
            if closed && hour_done {
                // Every blob of a closed hour was read to its end: once that is durable, the hour is
                // closed for good and its offsets are dropped.
                self.flush(&mut pending, &mut cur, &key, deliver, cursors, report)
                    .await?;
                let next = *hour + TimeDelta::hours(1);
                if cur.from.is_none_or(|f| f < next) {
                    cur.from = Some(next);
                    cur.blobs
                        .retain(|name, _| hour_of(name).is_none_or(|h| h >= next));
                    cursors.save(&key, &serde_json::to_value(&cur).unwrap_or_default())?;
                }
            }
        }
        self.flush(&mut pending, &mut cur, &key, deliver, cursors, report)
            .await?;
        // Hours that ended more than `lookback` ago are closed: their offsets are dropped.
        let new_from = from
            .max(cur.from.unwrap_or(from))
            .max(hour_floor(now - lookback));
        cur.from = Some(new_from);
        cur.blobs
            .retain(|name, _| hour_of(name).is_none_or(|h| h >= new_from));
        cursors.save(&key, &serde_json::to_value(&cur).unwrap_or_default())?;
        Ok((new_from, cur.blobs.len() as u64, resources.len() as u64))
    }

    /// Reads one blob from its offset to its listed size, cutting complete items into `pending`.
    #[allow(clippy::too_many_arguments)]
    async fn read_blob(
        &self,
        container: &str,
        store: &dyn ObjectStore,
        meta: &ObjectMeta,
        off: Option<Offset>,
        closed: bool,
        pending: &mut Pending,
        report: &mut ContainerReport,
    ) -> Result<(), BlobSourceError> {
        let name = meta.location.to_string();
        let location = format!("{container}/{name}");
        let size = meta.size;
        let mut cap = self.config.read_bytes;
        // A new blob: its first chunk tells the framing and is cut right away (one request).
        let mut first = None;
        let mut off = match off {
            Some(o) => o,
            None => {
                let end = size.min(cap as u64);
                let bytes = read(store, meta, &location, 0..end).await?;
                let o = reader::detect(&bytes[..bytes.len().min(64)]);
                first = Some(bytes);
                o
            }
        };
        let cx = DecodeContext {
            source: self.config.id.clone(),
            location: location.clone(),
            ingest_time: Utc::now().timestamp_micros(),
            category: None,
            shape: Some(model::Shape::Diagnostic),
        };
        while off.pos() < size {
            let end = size.min(off.pos() + cap as u64);
            let bytes = match first.take() {
                Some(b) => b,
                None => read(store, meta, &location, off.pos()..end).await?,
            };
            report.bytes += bytes.len() as u64;
            let (items, next) = reader::cut(&bytes, off, closed && end == size);
            if next == off {
                if end < size && cap < MAX_ITEM {
                    cap = (cap * 4).min(MAX_ITEM);
                    continue;
                }
                if end < size {
                    // An item longer than MAX_ITEM: quarantine its first bytes and skip past them.
                    pending.rejected.push(rejected(
                        &cx,
                        off.pos(),
                        bytes[..4096.min(bytes.len())].to_vec(),
                        format!("longer than {MAX_ITEM} bytes"),
                    ));
                    off = match off {
                        Offset::Lines(p) => Offset::Lines(p + bytes.len() as u64),
                        Offset::Document { doc } => Offset::Document {
                            doc: doc + bytes.len() as u64,
                        },
                    };
                    pending.offsets.push((name.clone(), off));
                    continue;
                }
                break; // An unfinished last item waits for the next poll.
            }
            for item in items {
                match item {
                    Item::Record(at, text) => match std::str::from_utf8(text) {
                        Ok(t) => match decode_record(t, &cx) {
                            Ok(recs) => {
                                report.records += recs.len() as u64;
                                pending.records.extend(recs);
                            }
                            Err(e) => pending.rejected.push(Rejected {
                                category: e.category.map(|c| c.name().to_owned()),
                                ..rejected(&cx, at, text.to_vec(), e.to_string())
                            }),
                        },
                        Err(e) => pending.rejected.push(rejected(
                            &cx,
                            at,
                            text.to_vec(),
                            format!("not UTF-8: {e}"),
                        )),
                    },
                    Item::Garbage(at, text, why) => {
                        pending
                            .rejected
                            .push(rejected(&cx, at, text.to_vec(), why.to_owned()))
                    }
                }
            }
            off = next;
            pending.offsets.push((name.clone(), off));
            pending.position = format!("{location}:{}", off.pos());
            cap = self.config.read_bytes;
            if end == size {
                // What is left (an unfinished line, a document's closing `]}`) was in this chunk and could
                // not be cut: reading it again now would give the same; the next poll looks again.
                break;
            }
        }
        Ok(())
    }

    /// Delivers the pending batch and, once it is durable, saves the offsets it reached.
    async fn flush<D: Deliver, C: CursorStore>(
        &self,
        pending: &mut Pending,
        cur: &mut Cursor,
        key: &str,
        deliver: &D,
        cursors: &C,
        report: &mut ContainerReport,
    ) -> Result<(), BlobSourceError> {
        if pending.offsets.is_empty() {
            return Ok(());
        }
        let p = std::mem::take(pending);
        if !p.records.is_empty() || !p.rejected.is_empty() {
            let accepted = deliver
                .deliver(Batch {
                    records: p.records,
                    rejected: p.rejected,
                    position: p.position,
                })
                .await?;
            report.accepted.add(&accepted);
        }
        for (name, off) in p.offsets {
            cur.blobs.insert(name, off);
        }
        cursors.save(key, &serde_json::to_value(&*cur).unwrap_or_default())?;
        Ok(())
    }
}

async fn read(
    store: &dyn ObjectStore,
    meta: &ObjectMeta,
    location: &str,
    range: std::ops::Range<u64>,
) -> Result<impl std::ops::Deref<Target = [u8]>, BlobError> {
    store
        .get_range(&meta.location, range.clone())
        .await
        .map_err(store_err(format!(
            "reading {location} bytes {}..{}",
            range.start, range.end
        )))
}

fn rejected(cx: &DecodeContext, at: u64, raw: Vec<u8>, reason: String) -> Rejected {
    Rejected {
        position: Position {
            source: cx.source.clone(),
            location: cx.location.clone(),
            at: format!("byte {at}"),
        },
        raw,
        reason,
        category: None,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}
