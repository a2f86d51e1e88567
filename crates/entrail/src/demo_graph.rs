//! The Graph half of `entrail demo`: the simulated tenant served over HTTP on a free loopback port, a Graph
//! source pointed at it, a backfill of the simulated day with a progress bar per category, and the server's
//! throttling statistics.

use crate::output;
use anyhow::Context;
use pipeline::Pipeline;
use sim::server::{GraphTruth, Limits, ServerConfig, ServerStats, SimServer};
use sources::graph::BackfillProgress;
use std::sync::Arc;
use std::time::Duration;

/// The demo's throttle limits: ten times Microsoft's documented ones, so a 500-user day takes seconds
/// rather than minutes. `entrail bench graph` measures collection under the documented limits.
pub(crate) fn demo_limits() -> Limits {
    Limits {
        reports_per_window: 50,
        reports_window: Duration::from_secs(10),
        identity_protection_per_window: 10,
        identity_protection_window: Duration::from_secs(1),
    }
}

/// A running simulated tenant.
pub(crate) struct Tenant {
    pub rt: tokio::runtime::Runtime,
    pub server: SimServer,
}

/// Starts the simulated tenant for `cfg`, frozen three hours after its last day so every record
/// (late ones included) is visible.
pub(crate) fn start(cfg: &sim::TenantConfig) -> anyhow::Result<Tenant> {
    let rt = crate::collect::runtime()?;
    let mut server_cfg = ServerConfig {
        tenant: cfg.clone(),
        limits: demo_limits(),
        ..ServerConfig::default()
    };
    server_cfg.clock.start = Some(cfg.end() + chrono::TimeDelta::hours(3));
    server_cfg.clock.frozen = true;
    let server = rt
        .block_on(SimServer::start(server_cfg))
        .context("starting the simulated tenant")?;
    Ok(Tenant { rt, server })
}

/// The `[[sources]]` section of a Graph source against `server` with `limits`; `categories` empty: all 14.
pub(crate) fn source_toml(
    server: &SimServer,
    limits: &Limits,
    id: &str,
    categories: &[String],
) -> String {
    let categories = if categories.is_empty() {
        r#"["SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs", "AuditLogs", "ProvisioningLogs", "RiskyUsers", "UserRiskEvents",
    "RiskyServicePrincipals", "ServicePrincipalRiskEvents", "NetworkAccessTrafficLogs",
    "RemoteNetworkHealthLogs", "RiskyAgents", "AgentRiskEvents"]"#
            .to_owned()
    } else {
        let names: Vec<String> = categories.iter().map(|c| format!("{c:?}")).collect();
        format!("[{}]", names.join(", "))
    };
    format!(
        r#"[[sources]]
type = "graph"
id = {id:?}
tenant_id = {tenant:?}
authority_host = {base:?}
graph_endpoint = {base:?}
categories = {categories}
start = "1m"
limits = {{ reports_per_window = {rpw}, reports_window = "{rw}ms", identity_protection_per_s = {ip} }}
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}
"#,
        tenant = sim::server::DEFAULT_TENANT_ID,
        base = server.base_url(),
        rpw = limits.reports_per_window,
        rw = limits.reports_window.as_millis(),
        ip = limits.identity_protection_per_window,
        client = sim::server::DEFAULT_CLIENT_ID,
        secret = sim::server::DEFAULT_CLIENT_SECRET,
    )
}

/// Backfills every Graph category from `since` with progress bars; returns the ground truth and stats.
pub(crate) fn collect(
    tenant: &Tenant,
    pipeline: &Pipeline,
    since: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(GraphTruth, ServerStats)> {
    let collector = pipeline.collector()?;
    let progress = vec![Arc::new(BackfillProgress::new())];
    let started = std::time::Instant::now();
    let reports = crate::collect::with_progress(&tenant.rt, &progress, false, || {
        tenant
            .rt
            .block_on(collector.backfill(since, &[], &progress))
    })?;
    let records: u64 = reports
        .iter()
        .flat_map(|(_, r)| &r.categories)
        .map(|c| c.records)
        .sum();
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|(_, r)| &r.categories)
        .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.category)))
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "Graph collection failed: {}",
        failed.join("; ")
    );
    let stats = tenant.server.stats();
    let l = demo_limits();
    output::line(&format!(
        "collected {records} records through Microsoft Graph ({}) in {:.1}s: {} requests, {} pages, {} throttled (429), {} requests before a Retry-After expired, {} token(s); limits {} per {}s for reports, {}/s for Identity Protection",
        tenant.server.base_url(),
        started.elapsed().as_secs_f64(),
        stats.requests,
        stats.pages_served,
        stats.throttled,
        stats.retry_after_violations,
        stats.tokens_issued,
        l.reports_per_window,
        l.reports_window.as_secs(),
        l.identity_protection_per_window,
    ));
    Ok((tenant.server.truth(), stats))
}
