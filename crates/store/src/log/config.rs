//! Configuration of the durable log and its validation (no I/O).
use std::time::Duration;

use super::LogError;

/// Smallest accepted [`LogConfig::segment_bytes`].
pub const MIN_SEGMENT_BYTES: u64 = 1024;
/// Largest accepted [`LogConfig::max_commit_delay`].
pub const MAX_COMMIT_DELAY: Duration = Duration::from_millis(500);

/// How the log stores and commits entries. Build with `LogConfig::default()` and override
/// fields; [`Log::open`](super::Log::open) validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A segment is sealed and a new one started before a batch would grow it past this size
    /// (a single batch larger than this gets a segment of its own). Default 128 MiB, at least
    /// [`MIN_SEGMENT_BYTES`].
    pub segment_bytes: u64,
    /// Longest time the writer thread waits, counted from the arrival of the oldest queued
    /// batch, to collect more batches into one write and fsync. It stops waiting as soon as as
    /// many batches are queued as went into the previous commit, so a lone caller never waits.
    /// Default 5 ms, at most [`MAX_COMMIT_DELAY`]; zero commits as soon as the writer is free.
    pub max_commit_delay: Duration,
    /// Whether `append` fdatasyncs segments (and fsyncs the directory on segment changes) before
    /// it returns. Default `true`; `false` survives a process crash but not a power loss.
    pub fsync: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            segment_bytes: 128 * 1024 * 1024,
            max_commit_delay: Duration::from_millis(5),
            fsync: true,
        }
    }
}

impl LogConfig {
    /// Checks every field and reports all problems at once in [`LogError::Config`].
    pub fn validate(&self) -> Result<(), LogError> {
        let mut problems = Vec::new();
        if self.segment_bytes < MIN_SEGMENT_BYTES {
            problems.push(format!(
                "segment_bytes: must be at least {MIN_SEGMENT_BYTES}, got {}",
                self.segment_bytes
            ));
        }
        if self.max_commit_delay > MAX_COMMIT_DELAY {
            problems.push(format!(
                "max_commit_delay: must be at most {} ms, got {} ms",
                MAX_COMMIT_DELAY.as_millis(),
                self.max_commit_delay.as_millis()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LogError::Config { problems })
        }
    }
}
