//! Accounting of an Event Hubs source for `entrail status` and metrics: per partition the committed offset,
//! the read position, the high watermark and the lag; overall counts and the last failure.

use crate::graph::Accepted;
use serde::{Deserialize, Serialize};

/// One partition as this consumer last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartitionStatus {
    /// Event hub (topic).
    pub event_hub: String,
    /// Partition number.
    pub partition: i32,
    /// Whether this consumer holds it now.
    pub assigned: bool,
    /// The last offset this consumer committed (the next message to read after a restart).
    pub committed: Option<i64>,
    /// The next offset this consumer will read.
    pub position: Option<i64>,
    /// The partition's high watermark (one past its last message) when last asked.
    pub high_watermark: Option<i64>,
    /// Messages not yet durable and committed: high watermark minus the committed offset.
    pub lag: Option<i64>,
    /// Messages read from it by this consumer.
    pub messages: u64,
}

/// An Event Hubs source's accounting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventHubsStatus {
    /// Source id.
    pub source: String,
    /// Consumer group.
    pub consumer_group: String,
    /// When this snapshot was taken (RFC 3339).
    pub now: Option<String>,
    /// Every partition this consumer held since it started.
    pub partitions: Vec<PartitionStatus>,
    /// Messages read.
    pub messages: u64,
    /// Message bytes read.
    pub bytes: u64,
    /// Records decoded.
    pub records: u64,
    /// The pipeline's counts: new, revised, duplicates, quarantined.
    pub accepted: Accepted,
    /// Batches made durable.
    pub batches: u64,
    /// Offset commits that succeeded.
    pub commits: u64,
    /// Partition assignments and revocations seen.
    pub rebalances: u64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<String>,
}

impl EventHubsStatus {
    /// Total lag over the partitions this consumer holds (those with a known high watermark).
    pub fn total_lag(&self) -> i64 {
        self.partitions
            .iter()
            .filter(|p| p.assigned)
            .filter_map(|p| p.lag)
            .sum()
    }

    /// The entry of a partition, created on first use.
    pub(crate) fn partition(&mut self, event_hub: &str, partition: i32) -> &mut PartitionStatus {
        let i = match self
            .partitions
            .iter()
            .position(|p| p.event_hub == event_hub && p.partition == partition)
        {
            Some(i) => i,
            None => {
                self.partitions.push(PartitionStatus {
                    event_hub: event_hub.to_owned(),
                    partition,
                    ..PartitionStatus::default()
                });
                self.partitions
                    .sort_by(|a, b| (&a.event_hub, a.partition).cmp(&(&b.event_hub, b.partition)));
                self.partitions
                    .iter()
                    .position(|p| p.event_hub == event_hub && p.partition == partition)
                    .unwrap_or(0)
            }
        };
        &mut self.partitions[i]
    }
}
