//! Helpers shared by the sinks: configuration errors, duration parsing, category filters, the
//! truncation marker, and the local host name.

use model::Category;
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Appended to every value (or message) a sink had to cut to fit a receiver's limit: a cut is never silent.
pub const TRUNCATION_MARKER: &str = "...[truncated by entrail]";

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault (`tls.ca_file`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Joins validation errors into one [`crate::SinkError::Config`].
pub(crate) fn config_failed(errors: &[ConfigError]) -> crate::SinkError {
    crate::SinkError::Config {
        message: errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A duration as a humantime string (`"2s"`, `"500ms"`) or a number of seconds.
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => humantime::parse_duration(t.trim()).map_err(serde::de::Error::custom),
    }
}

/// Resolves category names (diagnostic-settings or table names); unknown or repeated names are errors.
pub(crate) fn resolve_categories(names: &[String], errors: &mut Vec<ConfigError>) -> Vec<Category> {
    let mut out = Vec::new();
    for name in names {
        match Category::from_name(name) {
            Some(c) if out.contains(&c) => {
                errors.push(ConfigError::new(
                    "categories",
                    format!("{name}: listed twice"),
                ));
            }
            Some(c) => out.push(c),
            None => errors.push(ConfigError::new(
                "categories",
                format!("{name}: unknown category"),
            )),
        }
    }
    out
}

/// Cuts `s` to at most `max` bytes (on a character boundary) including [`TRUNCATION_MARKER`].
pub(crate) fn cut_with_marker(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(TRUNCATION_MARKER.len()).min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + TRUNCATION_MARKER.len());
    out.push_str(&s[..end]);
    out.push_str(TRUNCATION_MARKER);
    out
}

/// This machine's host name (`/proc/sys/kernel/hostname`, `$HOSTNAME`), or `entrail` when unknown.
pub(crate) fn local_hostname() -> String {
    std::fs::File::open("/proc/sys/kernel/hostname")
        .ok()
        .and_then(|f| model::limits::read_capped(f, 256).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "entrail".to_owned())
}

/// Whether `host` names this machine (`localhost`, a loopback address).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_char_boundaries_with_marker() {
        let s = "é".repeat(100);
        let cut = cut_with_marker(&s, 50);
        assert!(cut.len() <= 50);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        assert_eq!(cut_with_marker("short", 50), "short");
    }
}
