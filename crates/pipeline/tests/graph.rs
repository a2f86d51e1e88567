//! Graph collection end to end: the simulated tenant served over HTTP on loopback, the Graph source, the
//! durable log, the archive. Every category and sign-in type, each injected fault alone and mixed, late
//! arrivals during a live tail, and a 403 on some categories: the archive ends with exactly the ground truth
//! (every visible id once), the server saw no request before a Retry-After expired.
#![allow(clippy::unwrap_used)]

use pipeline::Pipeline;
use sim::server::{Faults, Limits, ServerConfig, SimServer, Storm};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use store::query::{AsArray, QueryEngine};
use testkit::pipeline::runtime;

/// Every category the simulated tenant serves over Graph.
const ALL: &str = r#"["SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs", "AuditLogs", "ProvisioningLogs", "RiskyUsers", "UserRiskEvents",
    "RiskyServicePrincipals", "ServicePrincipalRiskEvents", "NetworkAccessTrafficLogs",
    "RemoteNetworkHealthLogs", "RiskyAgents", "AgentRiskEvents"]"#;

/// Limits high enough that a test day takes seconds (the throttle behaviour has its own tests).
fn fast_limits() -> Limits {
    Limits {
        reports_per_window: 400,
        reports_window: Duration::from_secs(1),
        identity_protection_per_window: 200,
        identity_protection_window: Duration::from_secs(1),
    }
}

fn server_config(users: u32) -> ServerConfig {
    let mut cfg = ServerConfig::default();
    cfg.tenant.users = users;
    cfg.limits = fast_limits();
    // Frozen three hours after the generated day: everything (late arrivals included) is visible.
    cfg.clock.start = Some(cfg.tenant.end() + chrono::TimeDelta::hours(3));
    cfg.clock.frozen = true;
    cfg
}

/// A pipeline in `dir` with one Graph source against `server`; `extra` adds source keys.
fn open(dir: &Path, server: &SimServer, extra: &str) -> Pipeline {
    let text = format!(
        r#"
data_dir = {data:?}
[[sources]]
type = "graph"
id = "graph"
tenant_id = {tenant:?}
authority_host = {base:?}
graph_endpoint = {base:?}
categories = {ALL}
start = "30h"
max_window = "26h"
max_backoff = "2s"
denied_retry = "1s"
request_timeout = "5s"
limits = {{ reports_per_window = 400, reports_window = "1s", identity_protection_per_s = 200 }}
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}
{extra}
"#,
        data = dir.join("data").display().to_string(),
        tenant = sim::server::DEFAULT_TENANT_ID,
        base = server.base_url(),
        client = sim::server::DEFAULT_CLIENT_ID,
        secret = sim::server::DEFAULT_CLIENT_SECRET,
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    Pipeline::open(config).unwrap()
}

/// Polls until every category caught up (or failed); returns the failures by category.
fn collect(rt: &tokio::runtime::Runtime, p: &Pipeline) -> BTreeMap<String, String> {
    let collector = p.collector().unwrap();
    let mut failures = BTreeMap::new();
    for _ in 0..20 {
        let polls = rt.block_on(collector.poll_once()).unwrap();
        let mut behind = false;
        for c in polls.iter().flat_map(|(_, r)| &r.categories) {
            match &c.error {
                Some(e) => {
                    failures.insert(c.category.clone(), e.clone());
                }
                None => behind |= !c.caught_up,
            }
        }
        if !behind {
            return failures;
        }
    }
    panic!("collection never caught up");
}

/// Keys per category in the archive (latest revision view) and the number of rows in `<table>_all`.
fn archived(rt: &tokio::runtime::Runtime, dir: &Path) -> BTreeMap<String, (BTreeSet<String>, u64)> {
    let engine = QueryEngine::new(&dir.join("data/archive")).unwrap();
    let mut out = BTreeMap::new();
    for c in model::Category::ALL {
        let keys: BTreeSet<String> =
            match rt.block_on(engine.sql(&format!("SELECT _Key FROM {}", c.table()))) {
                Ok(batches) => batches
                    .iter()
                    .flat_map(|b| {
                        let a = b.column(0).as_string::<i32>();
                        (0..b.num_rows())
                            .map(|i| a.value(i).to_owned())
                            .collect::<Vec<_>>()
                    })
                    .collect(),
                Err(_) => continue,
            };
        let all = rt
            .block_on(engine.sql(&format!("SELECT COUNT(*) FROM {}_all", c.table())))
            .unwrap();
        let rows = all
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                b.column(0)
                    .as_primitive::<store::query::Int64Type>()
                    .value(0) as u64
            })
            .sum();
        out.insert(c.name().to_owned(), (keys, rows));
    }
    out
}

/// The archive holds exactly the visible ids of every category in `expect`, each once (one row per id in
/// `_all` as well: nothing archived twice). Categories not in `expect` hold nothing.
fn assert_exactly_truth(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    truth: &sim::server::GraphTruth,
    expect: &[&str],
) {
    check_truth(rt, dir, truth, expect, false);
}

/// Like [`assert_exactly_truth`] for a live tail, which also sees earlier versions of republished records:
/// every visible id is archived, and each id has at most as many revisions as versions were made visible.
fn assert_exactly_truth_latest(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    truth: &sim::server::GraphTruth,
    expect: &[&str],
) {
    check_truth(rt, dir, truth, expect, true);
}

fn check_truth(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    truth: &sim::server::GraphTruth,
    expect: &[&str],
    revisions: bool,
) {
    let got = archived(rt, dir);
    let mut total = 0;
    for (name, t) in &truth.categories {
        let model_name = model::Category::from_name(name).unwrap().name().to_owned();
        let (keys, rows) = got.get(&model_name).cloned().unwrap_or_default();
        if !expect.contains(&name.as_str()) {
            assert!(
                keys.is_empty(),
                "{name}: expected nothing, got {}",
                keys.len()
            );
            continue;
        }
        let want: BTreeSet<String> = t.ids.keys().cloned().collect();
        let missing: Vec<_> = want.difference(&keys).take(3).collect();
        let extra: Vec<_> = keys.difference(&want).take(3).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: {} archived, {} visible; missing e.g. {missing:?}, unexpected e.g. {extra:?}",
            keys.len(),
            want.len()
        );
        // Risky users, service principals and agents are state records: a state change during the day is a
        // new version the list shows in turn, so even one pass may keep it as a revision.
        if revisions || name.starts_with("Risky") {
            let versions: u64 = t.ids.values().map(|v| u64::from(v.versions)).sum();
            assert!(
                rows >= want.len() as u64 && rows <= versions,
                "{name}: {rows} rows in {model_name}_all for {} ids with {versions} versions",
                want.len()
            );
        } else {
            assert_eq!(rows, want.len() as u64, "{name}: rows in {model_name}_all");
        }
        total += want.len();
    }
    assert!(total > 0, "the tenant made nothing visible");
}

#[test]
fn every_category_and_sign_in_type_exactly_once() {
    let rt = runtime();
    let server = rt.block_on(SimServer::start(server_config(60))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &server, "");
    let failures = collect(&rt, &p);
    assert!(failures.is_empty(), "{failures:?}");
    p.archive().unwrap();
    let truth = server.truth();
    let names: Vec<&str> = truth.categories.keys().map(String::as_str).collect();
    for t in [
        "SignInLogs",
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
    ] {
        assert!(
            !truth.category(t).ids.is_empty(),
            "{t}: the tenant made none visible"
        );
    }
    assert_exactly_truth(&rt, dir.path(), &truth, &names);
    // A second pass re-reads the overlap: everything is a duplicate, nothing new is archived.
    let again = collect(&rt, &p);
    assert!(again.is_empty());
    p.archive().unwrap();
    assert_exactly_truth(&rt, dir.path(), &truth, &names);
    let stats = server.stats();
    assert_eq!(stats.retry_after_violations, 0);
    assert!(
        stats
            .by_endpoint
            .keys()
            .any(|e| e.starts_with("beta/auditLogs/signIns")),
        "{:?}",
        stats.by_endpoint
    );
    rt.block_on(server.shutdown());
}

/// Collects under `faults`; `fired` says which fault counters must have moved (so the test proves something).
fn faulty(faults: Faults, fired: fn(&sim::server::FaultStats) -> bool) {
    let rt = runtime();
    // Enough users and one window for the whole day, so that categories page (nextLinks get to fail).
    let mut cfg = server_config(150);
    cfg.faults = faults;
    let server = rt.block_on(SimServer::start(cfg)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &server, "");
    let failures = collect(&rt, &p);
    assert!(failures.is_empty(), "{failures:?}");
    p.archive().unwrap();
    let truth = server.truth();
    let names: Vec<&str> = truth.categories.keys().map(String::as_str).collect();
    assert_exactly_truth(&rt, dir.path(), &truth, &names);
    let stats = server.stats();
    assert_eq!(stats.retry_after_violations, 0, "{stats:?}");
    assert!(
        fired(&stats.faults),
        "the faults did not fire: {:?}",
        stats.faults
    );
    rt.block_on(server.shutdown());
}

#[test]
fn server_errors_alone_lose_nothing() {
    faulty(
        Faults {
            server_error_rate: 0.3,
            ..Faults::default()
        },
        |f| f.server_errors > 0,
    );
}

#[test]
fn connection_resets_alone_lose_nothing() {
    faulty(
        Faults {
            connection_reset_rate: 0.3,
            ..Faults::default()
        },
        |f| f.connection_resets > 0,
    );
}

#[test]
fn truncated_bodies_alone_lose_nothing() {
    faulty(
        Faults {
            truncated_body_rate: 0.3,
            ..Faults::default()
        },
        |f| f.truncated_bodies > 0,
    );
}

#[test]
fn token_expiry_in_the_middle_of_paging_loses_nothing() {
    faulty(
        Faults {
            token_expiry_after_pages: Some(7),
            ..Faults::default()
        },
        |f| f.tokens_expired_mid_paging > 0,
    );
}

#[test]
fn next_links_that_fail_once_lose_nothing() {
    faulty(
        Faults {
            next_link_fail_every: Some(1),
            ..Faults::default()
        },
        |f| f.next_link_failures > 0,
    );
}

#[test]
fn a_429_storm_is_waited_out_without_early_requests() {
    faulty(
        Faults {
            storm: Some(Storm {
                after: Duration::ZERO,
                duration: Duration::from_secs(2),
            }),
            ..Faults::default()
        },
        |f| f.storm_429s > 0,
    );
}

#[test]
fn every_fault_at_once_loses_nothing() {
    faulty(
        Faults {
            seed: 7,
            storm: Some(Storm {
                after: Duration::from_millis(300),
                duration: Duration::from_secs(1),
            }),
            server_error_rate: 0.15,
            connection_reset_rate: 0.15,
            truncated_body_rate: 0.15,
            token_expiry_after_pages: Some(30),
            next_link_fail_every: Some(1),
            ..Faults::default()
        },
        |f| {
            f.storm_429s > 0
                && f.server_errors > 0
                && f.connection_resets > 0
                && f.truncated_bodies > 0
                && f.tokens_expired_mid_paging > 0
                && f.next_link_failures > 0
        },
    );
}

#[test]
fn forbidden_categories_are_reported_and_the_others_complete() {
    let rt = runtime();
    let mut cfg = server_config(30);
    let perms = &mut cfg.apps[0].permissions;
    perms.retain(|p| p != "IdentityRiskEvent.Read.All");
    let server = rt.block_on(SimServer::start(cfg)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &server, "");
    let failures = collect(&rt, &p);
    let denied: BTreeSet<&str> = failures.keys().map(String::as_str).collect();
    assert_eq!(
        denied,
        BTreeSet::from([
            "AgentRiskEvents",
            "ServicePrincipalRiskEvents",
            "UserRiskEvents"
        ]),
        "{failures:?}"
    );
    for e in failures.values() {
        assert!(e.contains("IdentityRiskEvent.Read.All"), "{e}");
    }
    p.archive().unwrap();
    let truth = server.truth();
    let allowed: Vec<&str> = truth
        .categories
        .keys()
        .map(String::as_str)
        .filter(|c| !denied.contains(c))
        .collect();
    assert_exactly_truth(&rt, dir.path(), &truth, &allowed);
    rt.block_on(server.shutdown());
}

#[test]
fn a_live_tail_collects_records_that_arrive_two_hours_late() {
    let rt = runtime();
    let mut cfg = server_config(40);
    let day_start = cfg.tenant.start;
    let stop = cfg.tenant.end() + chrono::TimeDelta::hours(3);
    // The simulated day runs at 7200x (a day in 12 s of real time) and stops three hours after its end.
    cfg.clock.start = Some(day_start);
    cfg.clock.frozen = false;
    cfg.clock.speed = 7200.0;
    cfg.clock.end = Some(stop);
    cfg.faults.late_arrival_rate = 0.2;
    let server = rt.block_on(SimServer::start(cfg)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &server, r#"poll_interval = "200ms""#);
    let collector = std::sync::Arc::new(p.collector().unwrap());
    let shutdown = sources::graph::CancellationToken::new();
    let tail = {
        let (c, s) = (collector.clone(), shutdown.clone());
        rt.spawn(async move { c.run_tail(s, Duration::from_secs(1)).await })
    };
    let clock = server.clock();
    while clock.now() < stop {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every category completes a window that ends after the last arrival.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = collector.status();
        let done = status[0].categories.iter().all(|c| {
            c.cursor
                .is_some_and(|t| t >= stop - chrono::TimeDelta::minutes(5))
        });
        if done {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    shutdown.cancel();
    rt.block_on(tail).unwrap().unwrap();
    drop(collector);
    p.archive().unwrap();
    let truth = server.truth();
    let names: Vec<&str> = truth.categories.keys().map(String::as_str).collect();
    assert_exactly_truth_latest(&rt, dir.path(), &truth, &names);
    let stats = server.stats();
    assert!(stats.faults.late_records > 0, "{stats:?}");
    assert_eq!(stats.retry_after_violations, 0);
    rt.block_on(server.shutdown());
}
