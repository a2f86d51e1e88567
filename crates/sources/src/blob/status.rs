//! Per-container accounting of the Blob source, saved by the pipeline for `entrail status`.

use crate::graph::Accepted;
use serde::{Deserialize, Serialize};

/// One Blob source's accounting.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlobStatus {
    /// Source id.
    pub source: String,
    /// The blob endpoint.
    pub endpoint: String,
    /// When the last poll ended (RFC 3339).
    pub last_poll: Option<String>,
    /// Per container, by name.
    pub containers: Vec<ContainerStatus>,
}

/// One container's progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ContainerStatus {
    /// Container name.
    pub container: String,
    /// The oldest hour still re-read (RFC 3339); older hours are closed.
    pub open_from: Option<String>,
    /// Blobs with a saved offset (in open hours).
    pub open_blobs: u64,
    /// Resource folders found.
    pub resources: u64,
    /// Blobs read from (any new bytes), all polls.
    pub blobs_read: u64,
    /// Bytes read, all polls.
    pub bytes_read: u64,
    /// Records decoded (flow logs: tuples), all polls.
    pub records: u64,
    /// The pipeline's counts.
    pub accepted: Accepted,
    /// When a poll of this container last completed.
    pub last_success: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<String>,
}
