//! The syslog source's accounting: what was received, kept, cut, quarantined and dropped, per source.

use crate::graph::Accepted;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of one syslog source's counters (`entrail status`, `syslog-status.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyslogStatus {
    /// Source id.
    pub id: String,
    /// Bound listeners (`udp 127.0.0.1:5514`).
    pub listening: Vec<String>,
    /// Messages (frames and datagrams) received.
    pub messages: u64,
    /// Messages cut at `max_message_bytes` (kept, marked).
    pub truncated: u64,
    /// Input that went to the quarantine (invalid octet counts, frames cut short by a closed connection).
    pub quarantined: u64,
    /// UDP datagrams dropped because the queue was full (UDP has no backpressure).
    pub udp_dropped: u64,
    /// Stream connections accepted (TCP and TLS).
    pub connections: u64,
    /// Stream connections open now.
    pub open_connections: u64,
    /// TLS handshakes that failed (no or untrusted client certificate, not TLS).
    pub tls_failures: u64,
    /// Batches delivered.
    pub batches: u64,
    /// Failed delivery attempts (retried).
    pub deliver_failures: u64,
    /// What the pipeline did with the delivered batches.
    pub accepted: Accepted,
}

/// Live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) messages: AtomicU64,
    pub(crate) truncated: AtomicU64,
    pub(crate) quarantined: AtomicU64,
    pub(crate) udp_dropped: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) open_connections: AtomicU64,
    pub(crate) tls_failures: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) deliver_failures: AtomicU64,
    pub(crate) accepted: Mutex<Accepted>,
    pub(crate) listening: Mutex<Vec<String>>,
}

/// Adds one to a counter.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self, id: &str) -> SyslogStatus {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SyslogStatus {
            id: id.to_owned(),
            listening: self
                .listening
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            messages: g(&self.messages),
            truncated: g(&self.truncated),
            quarantined: g(&self.quarantined),
            udp_dropped: g(&self.udp_dropped),
            connections: g(&self.connections),
            open_connections: g(&self.open_connections),
            tls_failures: g(&self.tls_failures),
            batches: g(&self.batches),
            deliver_failures: g(&self.deliver_failures),
            accepted: *self.accepted.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}
