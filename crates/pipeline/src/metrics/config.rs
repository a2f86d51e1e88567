//! `[metrics]`: where `entrail run` serves `GET /metrics` and `GET /healthz` (docs/metrics.md).

use crate::config::ConfigError;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `[metrics]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetricsConfig {
    /// `ip:port` to listen on (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`); absent: no endpoint.
    pub listen: Option<String>,
    /// Allow an address that is not loopback (`0.0.0.0:9464`, a LAN address). The endpoint has no
    /// authentication: put it behind a firewall or a proxy.
    #[serde(default)]
    pub allow_remote: bool,
}

/// `[metrics]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// The address to bind.
    pub listen: SocketAddr,
}

/// Parses `listen` without resolving anything: an IP address with a port, or `localhost:<port>`.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
            .map_err(|_| format!("{text:?}: the port is not a number 0..=65535"));
    }
    Err(format!(
        "{text:?} is not ip:port (e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"); host names other than \
         localhost are not resolved"
    ))
}

/// Validates `[metrics]`; `None` when no `listen` is set. Problems go to `errors` under `metrics.`.
pub(crate) fn validate_config(
    raw: &RawMetricsConfig,
    errors: &mut Vec<ConfigError>,
) -> Option<MetricsConfig> {
    let text = raw.listen.as_deref()?;
    match parse_listen(text.trim()) {
        Ok(addr) if !addr.ip().is_loopback() && !raw.allow_remote => {
            errors.push(ConfigError::new(
                "metrics.listen",
                format!(
                    "{addr} is not a loopback address; the endpoint has no authentication, so set \
                     metrics.allow_remote = true to expose it beyond this host"
                ),
            ));
            None
        }
        Ok(listen) => Some(MetricsConfig { listen }),
        Err(message) => {
            errors.push(ConfigError::new("metrics.listen", message));
            None
        }
    }
}
