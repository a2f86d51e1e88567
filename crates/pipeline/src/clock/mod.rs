//! The host clock checked against configured time servers (`[clock]`): an SNTP v4 client (RFC 4330, plain
//! UDP, [`sntp::measure`]) measures the offset and round-trip delay against each server; the offset of the
//! answer with the smallest delay is the host's (the least disturbed by the network, as NTP picks). `entrail
//! run` checks every `interval` and raises `entrail.clock_skew` when |offset| > `max_offset_ms`
//! (`crate::watch`); `entrail clock check` checks once. The last result is kept in `clock-status.json` for
//! `entrail status`.

mod config;
mod sntp;

pub use config::{ClockConfig, RawClockConfig, server_address};
pub use sntp::{Measurement, SntpError, SntpErrorKind, measure};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One server's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerCheck {
    /// `host:port`.
    pub server: String,
    /// Server minus host, milliseconds (positive: the host is behind).
    pub offset_ms: Option<f64>,
    /// Round-trip delay, milliseconds.
    pub delay_ms: Option<f64>,
    /// The server's stratum.
    pub stratum: Option<u8>,
    /// Why it could not be measured.
    pub error: Option<String>,
}

// Never NaN: the floats are measured times and counts, so equality is total.
impl Eq for ServerCheck {}

/// The result of one check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClockStatus {
    /// When (host clock, RFC 3339).
    pub checked_at: String,
    /// The host's offset: that of the answer with the smallest delay; `None` when no server answered.
    pub offset_ms: Option<f64>,
    /// Its round-trip delay.
    pub delay_ms: Option<f64>,
    /// The server it came from.
    pub server: Option<String>,
    /// The configured limit.
    pub max_offset_ms: f64,
    /// |offset| ≤ limit (false too when no server answered).
    pub ok: bool,
    /// Every server.
    pub servers: Vec<ServerCheck>,
}

// Never NaN: the floats are measured times and counts, so equality is total.
impl Eq for ClockStatus {}

/// The status file `entrail status` reads.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("clock-status.json")
}

/// Measures every configured server once (one after the other, each within the timeout).
pub fn check(config: &ClockConfig) -> ClockStatus {
    let servers: Vec<ServerCheck> = config
        .servers
        .iter()
        .map(|s| match measure(s, config.timeout) {
            Ok(m) => ServerCheck {
                server: s.clone(),
                offset_ms: Some(m.offset_ms),
                delay_ms: Some(m.delay_ms),
                stratum: Some(m.stratum),
                error: None,
            },
            Err(e) => {
                tracing::warn!(server = %s, error = %e, "clock check");
                ServerCheck {
                    server: s.clone(),
                    error: Some(e.to_string()),
                    ..ServerCheck::default()
                }
            }
        })
        .collect();
    let best = servers
        .iter()
        .filter(|s| s.offset_ms.is_some())
        .min_by(|a, b| {
            a.delay_ms
                .unwrap_or(f64::MAX)
                .total_cmp(&b.delay_ms.unwrap_or(f64::MAX))
        });
    let max = config.max_offset.as_secs_f64() * 1000.0;
    let offset = best.and_then(|b| b.offset_ms);
    ClockStatus {
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        offset_ms: offset,
        delay_ms: best.and_then(|b| b.delay_ms),
        server: best.map(|b| b.server.clone()),
        max_offset_ms: max,
        ok: offset.is_some_and(|o| o.abs() <= max),
        servers,
    }
}

/// Writes a check to the status file (atomically; a failure is logged).
pub fn save_status(data_dir: &Path, status: &ClockStatus) {
    crate::status_file::save(&status_path(data_dir), status, "clock");
}

/// The last saved check, if any.
pub fn load_status(data_dir: &Path) -> Option<ClockStatus> {
    if !status_path(data_dir).exists() {
        return None;
    }
    let s: ClockStatus = crate::status_file::load(&status_path(data_dir), "clock");
    (!s.checked_at.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests;
