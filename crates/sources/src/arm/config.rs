//! ARM client configuration: the ARM endpoint and the credentials (tenant, authority, one of the Graph
//! source's token flows), checked without I/O.

use crate::graph::GraphSourceConfig;
use std::time::Duration;

/// The public cloud's ARM endpoint.
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
/// The public cloud's ARM token scope.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// How to reach ARM.
#[derive(Debug, Clone)]
pub struct ArmClientConfig {
    /// ARM base URL (`https://management.azure.com`; `http` only to loopback, for the simulated tenant).
    pub endpoint: String,
    /// Tenant, authority host and token flow: a Graph source's configuration, whose `scope` is replaced by
    /// ARM's.
    pub credentials: GraphSourceConfig,
    /// Timeout of one request.
    pub request_timeout: Duration,
}

impl ArmClientConfig {
    /// A configuration for the public cloud's ARM with `credentials`.
    pub fn new(credentials: GraphSourceConfig) -> ArmClientConfig {
        ArmClientConfig {
            endpoint: DEFAULT_ARM_ENDPOINT.to_owned(),
            credentials,
            request_timeout: Duration::from_secs(60),
        }
    }

    /// The token scope: `{endpoint}/.default` for an `https` endpoint, else the public cloud's.
    pub fn scope(&self) -> String {
        if self.endpoint.starts_with("https://") {
            format!("{}/.default", self.endpoint.trim_end_matches('/'))
        } else {
            ARM_SCOPE.to_owned()
        }
    }

    /// The credentials with ARM's scope.
    pub(crate) fn token_config(&self) -> GraphSourceConfig {
        let mut c = self.credentials.clone();
        c.scope = Some(self.scope());
        c
    }

    /// Every problem at once (field names relative to this config), no I/O.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut errors = Vec::new();
        if let Err(m) = check_endpoint(&self.endpoint) {
            errors.push(("endpoint".to_owned(), m));
        }
        if self.request_timeout.is_zero() {
            errors.push(("request_timeout".to_owned(), "must be positive".to_owned()));
        }
        if let Err(e) = self.credentials.validate() {
            for e in e.into_iter().filter(|e| !e.field.starts_with("categories")) {
                errors.push((e.field, e.message));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// `https://host[:port]`, or `http://` to 127.0.0.1, ::1 or localhost; no query.
pub fn check_endpoint(value: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("not a URL ({e}): {value:?}"))?;
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(format!("must be a base URL without query, got {value:?}"));
    }
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "must use https (plain http is only accepted for 127.0.0.1, ::1 or localhost), got {value:?}"
        )),
        _ => Err(format!("must be http or https, got {value:?}")),
    }
}
