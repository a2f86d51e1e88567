//! `entrail bench graph`: a backfill of a simulated tenant over HTTP with the tenant's throttle limits,
//! measured against the API-bound minimum (the time the limits alone impose for the pages that had to be
//! read) and checked against the tenant's ground truth (records lost, records archived twice).

use crate::output;
use anyhow::Context;
use pipeline::Pipeline;
use sim::server::{Limits, ServerConfig, SimServer};
use sources::graph::BackfillProgress;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `bench graph` simulates.
#[derive(Debug, Clone)]
pub(crate) struct GraphBench {
    pub users: u32,
    pub days: u32,
    pub volume_scale: f64,
    pub reports_per_window: u32,
    pub reports_window: Duration,
    pub identity_protection_per_s: u32,
    pub categories: Vec<String>,
}

/// Identity Protection endpoints (their own throttle class).
fn is_identity_protection(endpoint: &str) -> bool {
    endpoint.contains("identityProtection/")
}

pub(crate) fn run(b: &GraphBench, dir: &Path) -> anyhow::Result<ExitCode> {
    let rt = crate::collect::runtime()?;
    let mut cfg = ServerConfig::default();
    cfg.tenant.users = b.users;
    cfg.tenant.days = b.days;
    cfg.tenant.volume_scale = b.volume_scale;
    let limits = Limits {
        reports_per_window: b.reports_per_window,
        reports_window: b.reports_window,
        identity_protection_per_window: b.identity_protection_per_s,
        identity_protection_window: Duration::from_secs(1),
    };
    cfg.limits = limits.clone();
    cfg.clock.start = Some(cfg.tenant.end() + chrono::TimeDelta::hours(3));
    cfg.clock.frozen = true;
    let since = cfg.tenant.start;
    let generating = Instant::now();
    let server = rt.block_on(SimServer::start(cfg))?;
    output::line(&format!(
        "simulated tenant: {} users, {} days, {} records generated in {:.1}s",
        b.users,
        b.days,
        server.stats().records_generated,
        generating.elapsed().as_secs_f64()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    // Every category the tenant serves unless named (the beta ones included).
    let text = format!(
        "data_dir = {:?}\n{}",
        dir.join("data").display().to_string(),
        crate::demo_graph::source_toml(&server, &limits, "bench", &b.categories)
    );
    let config = pipeline::config::parse(&text)?
        .validate()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut pipeline = Pipeline::open(config)?;
    let collector = pipeline.collector()?;
    let collected: Vec<model::Category> = collector.sources()[0].categories().to_vec();
    let started = Instant::now();
    let reports =
        rt.block_on(collector.backfill(since, &[], &[Arc::new(BackfillProgress::new())]))?;
    let elapsed = started.elapsed().as_secs_f64();
    drop(collector);
    pipeline.archive()?;

    let stats = server.stats();
    let (mut reports_ok, mut ip_ok) = (0u64, 0u64);
    for (endpoint, n) in &stats.by_endpoint {
        if endpoint == "token" || endpoint.starts_with("_sim") || endpoint == "imds" {
            continue;
        }
        if is_identity_protection(endpoint) {
            ip_ok += n;
        } else {
            reports_ok += n;
        }
    }
    // 429s are requests too, but the minimum counts only the pages that had to be read.
    let throttled = stats.throttled;
    let reports_ok = reports_ok.saturating_sub(stats.throttled_reports);
    let ip_ok = ip_ok.saturating_sub(stats.throttled_identity_protection);
    let reports_rate = f64::from(b.reports_per_window) / b.reports_window.as_secs_f64();
    let ip_rate = f64::from(b.identity_protection_per_s);
    // Both classes run in parallel; each starts with a full window.
    let min_reports =
        reports_ok.saturating_sub(u64::from(b.reports_per_window)) as f64 / reports_rate;
    let min_ip = ip_ok.saturating_sub(u64::from(b.identity_protection_per_s)) as f64 / ip_rate;
    let minimum = min_reports.max(min_ip);
    let records: u64 = reports
        .iter()
        .flat_map(|(_, r)| &r.categories)
        .map(|c| c.records)
        .sum();
    let truth = server.truth();
    let visible: u64 = truth
        .categories
        .iter()
        .filter(|(name, _)| {
            model::Category::from_name(name).is_some_and(|c| collected.contains(&c))
        })
        .map(|(_, t)| t.ids.len() as u64)
        .sum();
    let status = pipeline.status()?;
    let archived: u64 = status.categories.iter().map(|c| c.archived_rows).sum();
    output::line(&format!(
        "backfill: {records} records in {elapsed:.1}s = {:.0} records/s; {} pages ({reports_ok} reports, {ip_ok} identity protection), {throttled} throttled (429)",
        records as f64 / elapsed,
        reports_ok + ip_ok
    ));
    output::line(&format!(
        "API-bound minimum for those pages: {minimum:.1}s (reports {reports_rate:.2} req/s, identity protection {ip_rate:.0} req/s); achieved {:.1}% of the ceiling",
        100.0 * minimum / elapsed
    ));
    output::line(&format!(
        "ground truth: {visible} visible ids, {archived} archived rows, {} lost, {} extra; Retry-After violations {}",
        visible.saturating_sub(archived),
        archived.saturating_sub(visible),
        stats.retry_after_violations
    ));
    rt.block_on(server.shutdown());
    Ok(ExitCode::SUCCESS)
}
