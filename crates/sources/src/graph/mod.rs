//! Microsoft Graph source: Entra audit, sign-in (all four types, through beta), provisioning, Identity
//! Protection and Global Secure Access logs, pulled in overlapping time windows.
//!
//! Invariants:
//! - a cursor (a window's end) is saved only after every page of the window was delivered durably
//!   ([`Deliver`]); a failure anywhere leaves it where it was, and the window is read again;
//! - windows overlap (`overlap`, default 2h10m) and end `delay` behind now, so late and revised events are
//!   read again; the pipeline dedupes;
//! - nothing is dropped: undecodable objects go to the quarantine, throttling (with or without
//!   `Retry-After`) and transient failures are retried with capped backoff, and every failure is recorded in
//!   [`GraphStatus`] and logged;
//! - requests are paced per (authority, tenant, app) by one shared [`Scheduler`]; the tail has priority
//!   over backfill;
//! - secrets and tokens never appear in `Debug`, logs or errors.
//!
//! Layout: `config` (settings, validation), `endpoints` (per-category API table), `auth` + `assertion`
//! (tokens), `client` (HTTP), `scheduler` (pacing), `stream` (one range, page by page), `tail` (windows and
//! cursors), `backfill` (slices), `status` (accounting), `handoff` (what the pipeline implements), `clock`.
mod assertion;
pub(crate) mod auth;
mod backfill;
pub(crate) mod client;
mod clock;
mod config;
pub mod endpoints;
mod error;
mod handoff;
mod scheduler;
mod source;
mod status;
mod stream;
mod tail;

pub use auth::{AccessToken, TokenFuture, TokenProvider};
/// Token flows and HTTP helpers shared with the ARM client (`crate::arm`), which asks for another scope.
pub(crate) use auth::{TokenCache, provider as token_provider};
pub use backfill::{BackfillProgress, BackfillReport, CategoryProgress};
pub(crate) use client::{http_client, read_body, retry_after};
pub use clock::{Clock, ServerDateClock, SystemClock};
pub use config::{ClockKind, ConfigError, GraphAuth, GraphLimits, GraphSourceConfig};
pub use error::{ErrorKind, GraphError};
pub use handoff::{Accepted, CursorError, CursorStore, Deliver, DeliverError, MemoryCursors};
pub use scheduler::{Priority, Scheduler};
pub use source::GraphSource;
pub use status::{CategoryStatus, GraphStatus, WindowStats};
pub use tail::{CategoryPoll, PollReport};
/// Re-exported for [`GraphSource::run_tail`]'s shutdown signal.
pub use tokio_util::sync::CancellationToken;

#[cfg(test)]
mod tests;
