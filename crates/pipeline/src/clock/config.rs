//! `[clock]`: the time servers the host clock is checked against (SNTP), how often, and the largest
//! offset tolerated; validated with every problem named by its path and no I/O (names are resolved when
//! checking).

use crate::config::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `[clock]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClockConfig {
    /// SNTP servers, `host:port` (`:123` when no port is given); empty: no clock check.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Alert when the measured offset is larger than this, in milliseconds (default 1000).
    pub max_offset_ms: Option<u64>,
    /// How often `entrail run` checks (default `10m`, at least `10s`).
    pub interval: Option<String>,
    /// How long to wait for each server's answer, in milliseconds (default 2000, 10..=30000).
    pub timeout_ms: Option<u64>,
}

/// Validated `[clock]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockConfig {
    /// `host:port` of each server.
    pub servers: Vec<String>,
    /// Largest tolerated offset.
    pub max_offset: Duration,
    /// Time between checks.
    pub interval: Duration,
    /// Answer timeout per server.
    pub timeout: Duration,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            servers: Vec::new(),
            max_offset: Duration::from_millis(1000),
            interval: Duration::from_secs(600),
            timeout: Duration::from_millis(2000),
        }
    }
}

/// `host:port` of a configured server: `:123` added when no port is given; `None` when malformed.
pub fn server_address(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || t.contains(char::is_whitespace) || t.contains('/') {
        return None;
    }
    if let Some(rest) = t.strip_prefix('[') {
        // [v6] or [v6]:port
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after {
            "" => Some(format!("[{host}]:123")),
            p => p
                .strip_prefix(':')?
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .map(|p| format!("[{host}]:{p}")),
        };
    }
    if t.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some(format!("[{t}]:123"));
    }
    match t.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
            (!host.is_empty()).then(|| format!("{host}:{port}"))
        }
        None => Some(format!("{t}:123")),
    }
}

impl RawClockConfig {
    /// Validates, pushing every problem to `errors`.
    pub fn validate(&self, errors: &mut Vec<ConfigError>) -> ClockConfig {
        let mut out = ClockConfig::default();
        for (i, s) in self.servers.iter().enumerate() {
            match server_address(s) {
                Some(a) => out.servers.push(a),
                None => errors.push(ConfigError::new(
                    format!("clock.servers[{i}]"),
                    format!("`{s}` is not host:port"),
                )),
            }
        }
        match self.max_offset_ms {
            Some(0) => errors.push(ConfigError::new(
                "clock.max_offset_ms",
                "must be at least 1",
            )),
            Some(ms) => out.max_offset = Duration::from_millis(ms),
            None => {}
        }
        if let Some(i) = &self.interval
            && let Some(d) = crate::lag::duration(
                i,
                "clock.interval",
                Duration::from_secs(10),
                Duration::MAX,
                errors,
            )
        {
            out.interval = d;
        }
        match self.timeout_ms {
            Some(ms) if !(10..=30_000).contains(&ms) => errors.push(ConfigError::new(
                "clock.timeout_ms",
                format!("must be 10..=30000, got {ms}"),
            )),
            Some(ms) => out.timeout = Duration::from_millis(ms),
            None => {}
        }
        out
    }
}
