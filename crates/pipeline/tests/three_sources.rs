//! One simulated day delivered at the same time through three sources of ONE pipeline (one hub, one dedupe
//! index): Microsoft Graph (the simulated tenant over HTTP), Event Hubs (librdkafka's mock cluster) and
//! Storage-account blobs (a real Azurite, started by the test; run `scripts/install-test-deps` first). The
//! three collectors run concurrently on one runtime and every record key is archived exactly once.
//!
//! What "exactly once per key" means here, with republications and revisions:
//! * The key is the category's id (`id`, `requestId`, ...) or, for categories without one, `h:` + a hash of
//!   the canonical content (flow logs: one key per flow tuple). The same event in its Graph shape and in its
//!   diagnostic-settings shape (Event Hubs message, blob line) has the same key and the same content hash.
//! * The latest-revision view (`<Table>`) holds one row per key, and its keys are exactly the ground truth's:
//!   the generator's distinct ids (or distinct records, or flow tuples) of every category.
//! * `<Table>_all` holds one row per distinct *version* of a key: the original plus each enriched
//!   republication (which Event Hubs and Blob deliver as they happened, while Graph serves only the latest
//!   version). Which version carries the highest `_Revision` depends on which source delivered first.
//! * Every other delivery (the second and third copy of each version through the other sources, and the
//!   generator's exact duplicates) is an exact duplicate: counted by the hub, never archived. So
//!   delivered = archived versions + duplicates, exactly.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use model::Category;
use pipeline::Pipeline;
use sim::azurite::Azurite;
use sim::server::{GraphTruth, Limits, ServerConfig, SimServer};
use sources::graph::BackfillProgress;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::query::{AsArray, QueryEngine};
use testkit::pipeline::{count, runtime};

const TOPIC: &str = "insights-logs";
const PARTITIONS: i32 = 4;

/// A 30-user tenant's day that ended yesterday at midnight UTC, as production would see it. Every source
/// (Graph included, whatever the simulated server's `Date`) stamps `_IngestTime` with the local clock, which
/// the dedupe index's 72-hour retention is measured in.
fn tenant_config() -> sim::TenantConfig {
    let today = Utc::now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    sim::TenantConfig {
        users: 30,
        days: 1,
        start: today - chrono::TimeDelta::days(2),
        ..sim::TenantConfig::default()
    }
}

/// The simulated tenant over HTTP, frozen three hours after the day: every record is visible.
fn server_config(tenant: &sim::TenantConfig) -> ServerConfig {
    let mut cfg = ServerConfig {
        tenant: tenant.clone(),
        limits: Limits {
            reports_per_window: 400,
            reports_window: Duration::from_secs(1),
            identity_protection_per_window: 200,
            identity_protection_window: Duration::from_secs(1),
        },
        ..ServerConfig::default()
    };
    cfg.clock.start = Some(tenant.end() + chrono::TimeDelta::hours(3));
    cfg.clock.frozen = true;
    cfg
}

/// One pipeline with the three sources.
fn open(
    dir: &Path,
    tenant: &sim::TenantConfig,
    server: &SimServer,
    bootstrap: &str,
    azurite: &Azurite,
) -> Pipeline {
    let text = format!(
        r#"
data_dir = {data:?}

[[sources]]
type = "graph"
id = "graph"
tenant_id = {tenant:?}
authority_host = {base:?}
graph_endpoint = {base:?}
categories = ["SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs", "AuditLogs", "ProvisioningLogs", "RiskyUsers", "UserRiskEvents",
    "RiskyServicePrincipals", "ServicePrincipalRiskEvents", "NetworkAccessTrafficLogs",
    "RemoteNetworkHealthLogs", "RiskyAgents", "AgentRiskEvents"]
start = "1m"
max_backoff = "2s"
request_timeout = "10s"
limits = {{ reports_per_window = 400, reports_window = "1s", identity_protection_per_s = 200 }}
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}

[[sources]]
type = "eventhubs"
id = "hub"
bootstrap_servers = {bootstrap:?}
event_hubs = [{TOPIC:?}]
consumer_group = "entrail"
max_batch_records = 500
max_wait = "50ms"
session_timeout = "6s"
auth = {{ type = "plaintext" }}

[[sources]]
type = "blob"
id = "storage"
endpoint = {endpoint:?}
since = {since:?}
batch_records = 500
auth = {{ type = "connection_string", connection_string = {conn:?} }}
"#,
        data = dir.join("data").display().to_string(),
        tenant = sim::server::DEFAULT_TENANT_ID,
        base = server.base_url(),
        client = sim::server::DEFAULT_CLIENT_ID,
        secret = sim::server::DEFAULT_CLIENT_SECRET,
        endpoint = azurite.blob_endpoint(),
        conn = azurite.connection_string(),
        since = (tenant.start - chrono::TimeDelta::days(1)).to_rfc3339(),
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    Pipeline::open(config).unwrap()
}

/// What the archive must hold per category, from the generator's ground truth: (keys, versions).
fn expected(truth: &sim::GroundTruth) -> BTreeMap<Category, (u64, u64)> {
    let mut out: BTreeMap<Category, (u64, u64)> = BTreeMap::new();
    for (name, t) in &truth.categories {
        let c = Category::from_name(name).unwrap_or(Category::ResourceDiagnostics);
        let (keys, versions) = if t.flow_tuples > 0 {
            (t.flow_tuples, t.flow_tuples)
        } else if t.id_field.is_some() {
            (t.distinct_ids, t.distinct_ids + t.republished)
        } else {
            (t.originals, t.originals)
        };
        let e = out.entry(c).or_default();
        e.0 += keys;
        e.1 += versions;
    }
    out
}

fn keys(engine: &QueryEngine, rt: &tokio::runtime::Runtime, table: &str) -> BTreeSet<String> {
    let batches = rt
        .block_on(engine.sql(&format!("SELECT _Key FROM {table}")))
        .unwrap();
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| a.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The Graph-served categories' visible ids are the generator's ids (the server generates the same day).
fn assert_graph_serves_the_same_day(graph: &GraphTruth, truth: &sim::GroundTruth) {
    assert_eq!(graph.categories.len(), 14, "{:?}", graph.categories.keys());
    for (name, g) in &graph.categories {
        let t = truth.categories.get(name).cloned().unwrap_or_default();
        let visible: BTreeSet<String> = g.ids.keys().cloned().collect();
        assert_eq!(
            visible, t.ids,
            "{name}: Graph serves other ids than the diagnostic stream holds"
        );
    }
}

#[test]
fn the_same_day_through_graph_event_hubs_and_blob_at_once_is_archived_once_per_key() {
    let rt = runtime();
    let cfg = tenant_config();
    let tenant = sim::Tenant::new(&cfg);

    // The same day, three ways: Graph over HTTP, diagnostic settings to a topic and to a Storage account.
    let server = rt.block_on(SimServer::start(server_config(&cfg))).unwrap();
    let cluster = sim::kafka::mock_cluster(1).unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let (produced, truth) =
        sim::kafka::produce_day(&cfg, &bootstrap, TOPIC, PARTITIONS, 50).unwrap();
    let azurite = Azurite::start().unwrap();
    let mut generator = sim::Generator::new(&tenant, &cfg).with_truth(true);
    let written = rt
        .block_on(sim::blob::write_events(
            &azurite.client(),
            generator.by_ref(),
            cfg.quirks,
            &tenant,
        ))
        .unwrap();
    assert_eq!(
        generator.into_truth().unwrap(),
        truth,
        "Event Hubs and Blob carry the same day"
    );
    let blob_lines: u64 = written.records.values().sum();
    assert_eq!(blob_lines, produced.records, "every record in both");
    let graph_truth = server.truth();
    assert_graph_serves_the_same_day(&graph_truth, &truth);
    let want = expected(&truth);
    assert!(want.len() >= 20, "every category: {want:?}");

    // One pipeline, three sources, collecting concurrently into one hub.
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(dir.path(), &cfg, &server, &bootstrap, &azurite);
    let collector = p.collector().unwrap();
    let hub = p.eventhubs_collector().unwrap();
    let progress = vec![Arc::new(BackfillProgress::new())];
    let since = cfg.start - chrono::TimeDelta::hours(1);
    let (graph, streamed, polled) = rt.block_on(async {
        tokio::join!(
            collector.backfill(since, &[], &progress),
            hub.run_until_caught_up(Duration::from_secs(2)),
            collector.blob().poll_once(),
        )
    });
    let (graph, streamed, polled) = (graph.unwrap(), streamed.unwrap(), polled.unwrap());

    // What each source handed over, and what the hub said about it.
    let mut delivered: BTreeMap<&str, (u64, sources::graph::Accepted)> = BTreeMap::new();
    for c in &graph[0].1.categories {
        assert!(c.error.is_none(), "{}: {:?}", c.category, c.error);
        let e = delivered.entry("graph").or_default();
        e.0 += c.records;
        e.1.add(&c.accepted);
    }
    for (_, r) in &streamed {
        let e = delivered.entry("eventhubs").or_default();
        e.0 += r.records;
        e.1.add(&r.accepted);
    }
    for c in polled.iter().flat_map(|(_, r)| &r.containers) {
        assert!(c.error.is_none(), "{}: {:?}", c.container, c.error);
        let e = delivered.entry("blob").or_default();
        e.0 += c.records;
        e.1.add(&c.accepted);
    }
    let (graph_records, eh_records, blob_records) = (
        delivered["graph"].0,
        delivered["eventhubs"].0,
        delivered["blob"].0,
    );
    assert!(
        graph_records >= graph_truth.distinct_ids() as u64,
        "Graph delivered every visible id: {graph_records} < {}",
        graph_truth.distinct_ids()
    );
    assert_eq!(
        eh_records, blob_records,
        "Event Hubs and Blob decode the same records"
    );
    assert_eq!(streamed[0].1.messages, produced.messages);
    for (source, (records, a)) in &delivered {
        assert_eq!(a.quarantined, 0, "{source}: nothing generated is malformed");
        assert_eq!(
            a.new + a.revised + a.duplicates,
            *records,
            "{source}: every record delivered got a verdict"
        );
        assert!(
            a.new + a.revised > 0,
            "{source}: it ran concurrently and archived a share of the day: {a:?}"
        );
    }
    drop(collector);
    drop(hub);
    p.archive().unwrap();

    // The archive against the ground truth, per category.
    let engine = QueryEngine::new(&dir.path().join("data/archive")).unwrap();
    let stats = p.hub().stats().clone();
    let mut mismatches = Vec::new();
    let (mut versions_total, mut duplicates_total) = (0, 0);
    for c in Category::ALL {
        let (want_keys, want_versions) = want.get(c).copied().unwrap_or_default();
        let latest = count(&engine, &rt, &format!("SELECT count(*) FROM {}", c.table()));
        let distinct = count(
            &engine,
            &rt,
            &format!("SELECT count(DISTINCT _Key) FROM {}", c.table()),
        );
        let all = count(
            &engine,
            &rt,
            &format!("SELECT count(*) FROM {}_all", c.table()),
        );
        if latest != want_keys || distinct != latest || all != want_versions {
            mismatches.push(format!(
                "{}: latest view {latest} rows ({distinct} keys), all revisions {all}; ground truth {want_keys} keys, {want_versions} versions",
                c.name()
            ));
        }
        versions_total += all;
        let s = stats.categories.get(c.name()).cloned().unwrap_or_default();
        assert_eq!(
            s.appended,
            all,
            "{}: every appended version archived",
            c.name()
        );
        duplicates_total += s.duplicates;
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");

    // Graph categories: exactly the ids the tenant made visible, each once.
    for (name, g) in &graph_truth.categories {
        let table = Category::from_name(name).unwrap().table();
        let got = keys(&engine, &rt, table);
        let visible: BTreeSet<String> = g.ids.keys().cloned().collect();
        assert_eq!(got, visible, "{name}: archived keys");
    }

    // Every delivery beyond the first of each version is an exact duplicate, counted and not archived.
    let delivered_total = graph_records + eh_records + blob_records;
    assert_eq!(
        versions_total + duplicates_total,
        delivered_total,
        "delivered {delivered_total} = archived versions {versions_total} + duplicates {duplicates_total}"
    );
    assert!(
        duplicates_total >= eh_records + graph_truth.distinct_ids() as u64,
        "the second and third deliveries of the day are duplicates: {duplicates_total}"
    );
    rt.block_on(server.shutdown());
}
