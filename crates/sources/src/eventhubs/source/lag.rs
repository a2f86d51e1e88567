//! Lag of the partitions a consumer holds, from the watermarks librdkafka reports in its statistics (no
//! request to the broker), and whether a one-pass run has caught up.

use super::super::client::{STATS_EVERY, Seen, Shared};
use super::super::watermark::TopicPartition;
use super::{EventHubsSource, KafkaConsumer};
use rdkafka::consumer::Consumer;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a ListOffsets request may take (asked only for a partition librdkafka reported nothing about).
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(5);
/// A partition whose watermarks librdkafka has not reported for this long is asked for directly when a
/// one-pass run checks whether it is caught up.
const STATS_STALE: Duration = Duration::from_secs(3 * STATS_EVERY.as_secs());

impl EventHubsSource {
    /// Updates lag and assignment flags from the watermarks librdkafka last reported in its statistics
    /// (no request to the broker). With `fresh_since` (a one-pass run checking its end), a partition
    /// librdkafka has reported nothing about for [`STATS_STALE`] is asked for directly, and the answer is
    /// whether every assigned partition has no lag by watermarks reported after `fresh_since`.
    pub(super) async fn refresh_lag(
        &self,
        consumer: &Arc<KafkaConsumer>,
        shared: &Shared,
        fresh_since: Option<Instant>,
    ) -> bool {
        let (assigned, mut seen): (Vec<TopicPartition>, Vec<Option<Seen>>) = {
            let st = shared.lock();
            let assigned: Vec<TopicPartition> = st.assigned.iter().cloned().collect();
            let seen = assigned.iter().map(|tp| st.seen.get(tp).copied()).collect();
            (assigned, seen)
        };
        if fresh_since.is_some() {
            let stale: Vec<usize> = (0..assigned.len())
                .filter(|&i| seen[i].is_none_or(|s| s.at.elapsed() >= STATS_STALE))
                .collect();
            if !stale.is_empty() {
                let c = consumer.clone();
                let asked: Vec<TopicPartition> =
                    stale.iter().map(|&i| assigned[i].clone()).collect();
                let answers = tokio::task::spawn_blocking(move || {
                    asked
                        .iter()
                        .map(|(t, p)| c.fetch_watermarks(t, *p, WATERMARK_TIMEOUT).ok())
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap_or_default();
                for (&i, answer) in stale.iter().zip(answers) {
                    if let Some((low, high)) = answer {
                        seen[i] = Some(Seen {
                            low,
                            high,
                            committed: seen[i].and_then(|s| s.committed),
                            at: Instant::now(),
                        });
                    }
                }
            }
        }
        let st = shared.lock();
        let mut s = self.lock_status();
        for p in &mut s.partitions {
            p.assigned = st.assigned.contains(&(p.event_hub.clone(), p.partition));
        }
        let mut caught_up = !assigned.is_empty();
        for ((t, p), seen) in assigned.iter().zip(seen) {
            let committed = st
                .marks
                .last_committed(&(t.clone(), *p))
                .or(s.partition(t, *p).committed);
            let ps = s.partition(t, *p);
            ps.assigned = true;
            let Some(seen) = seen else {
                caught_up = false;
                continue;
            };
            ps.high_watermark = Some(seen.high);
            ps.committed = committed;
            // Without a commit of ours, what the group committed before, else everything retained from
            // our read position (or the start) counts.
            let from = committed
                .or(ps.position)
                .or(seen.committed)
                .unwrap_or(seen.low);
            let lag = (seen.high - from).max(0);
            ps.lag = Some(lag);
            if lag > 0 || fresh_since.is_some_and(|since| seen.at < since) {
                caught_up = false;
            }
        }
        s.rebalances = st.rebalances;
        caught_up
    }
}
