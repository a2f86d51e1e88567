//! Storage-account (Blob) source: diagnostic-settings archives in `insights-logs-<category>` and
//! `insights-activity-logs` containers (`.../y=/m=/d=/h=/m=00/PT1H.json`, one record a line, append blobs
//! that grow during the hour), NSG flow logs v2 and VNet flow logs (`{"records":[...]}` block blobs rewritten
//! in place; expanded to one record per flow tuple by `model::normalize`).
//!
//! Invariants:
//! - listing is incremental: resource folders are walked with the delimiter (cached for `discover_every`),
//!   then only the hour folders `y=/m=/d=/h=` from the container's oldest open hour to now are listed, as a
//!   stream; a whole container is never listed into memory;
//! - every blob has a byte offset; a grown blob is read from it with range requests, and only complete lines
//!   (records of a document) are consumed: an unfinished last line waits for the next poll (or is taken as
//!   it is once its hour is closed);
//! - offsets are saved in the [`CursorStore`](crate::graph::CursorStore) only after the batch reaching them
//!   was delivered durably ([`Deliver`](crate::graph::Deliver)): after a crash the source resumes from the
//!   last durable offset and the pipeline's dedupe absorbs any re-read;
//! - hours that ended more than `lookback` ago are closed and their offsets pruned, so the cursor holds only
//!   the blobs of open hours (bounded memory);
//! - a malformed line goes to the quarantine at `container/blob byte <offset>` with the reason; reading goes
//!   on with the next line.
//!
//! Cursor key: `blob/<source id>/<container>` = `{"from": <oldest open hour>, "blobs": {<blob>: <offset>}}`.
//!
//! Layout: `config` (settings, validation), `client` (object_store clients, List Containers), `reader`
//! (framing, pure), `source` (polling), `status` (accounting).
mod client;
mod config;
mod reader;
mod source;
mod status;
#[cfg(test)]
mod tests;

pub use client::{BlobError, ErrorKind};
pub use config::{BlobAuth, BlobSourceConfig, ConfigError, ConnectionString, Since, Validated};
pub use reader::{Item, Offset, cut, detect};
pub use source::{BlobSource, BlobSourceError, ContainerReport, PollReport};
pub use status::{BlobStatus, ContainerStatus};
