//! `entrail demo --source eventhub|blob|all`: the simulated tenant's day collected through the streaming and
//! archive sources instead of Graph plus imported exports. `eventhub` starts librdkafka's in-process mock
//! cluster, writes the day to it as diagnostic-settings messages and collects it through an Event Hubs source;
//! `blob` starts Azurite (installed by `scripts/install-test-deps`), writes the day in Microsoft's Storage
//! layout and collects it through a Blob source; `all` delivers the same day at once through Graph (the
//! simulated tenant over HTTP), Event Hubs and Blob into one pipeline, whose dedupe keeps each key once. Then
//! the archive summary, a ground-truth line per category, the example queries and the alerts.

use crate::output;
use crate::query::{block_on, sql_batches};
use anyhow::{Context, bail};
use pipeline::Pipeline;
use sources::graph::{Accepted, BackfillProgress};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where `entrail demo` collects the simulated day from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DemoSource {
    /// Graph categories over HTTP from the simulated tenant, the others imported as exports (the default).
    Graph,
    /// Every category through an Event Hubs source from librdkafka's mock cluster.
    Eventhub,
    /// Every category through a Blob source from Azurite.
    Blob,
    /// Graph, Event Hubs and Blob at once into one pipeline.
    All,
}

/// The topic (event hub) the demo writes to.
const TOPIC: &str = "insights-logs";
/// Records per Event Hubs message.
const PER_MESSAGE: usize = 100;
/// librdkafka's mock broker keeps only the last 5 MiB of a partition: at most this much goes to one.
const PARTITION_BYTES: u64 = 4 << 20;

/// The day as Event Hubs carries it: a mock cluster with the messages in a topic.
struct Stream {
    cluster: sim::kafka::MockCluster,
    partitions: i32,
    messages: u64,
}

/// Writes the day's diagnostic records to a new mock cluster, sized so no partition loses data.
fn stream_day(cfg: &sim::TenantConfig, tenant: &sim::Tenant) -> anyhow::Result<Stream> {
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 0u64;
    for ev in sim::Generator::new(tenant, cfg) {
        if let Some(v) = sim::render_owned(ev, sim::Shape::Diagnostic, cfg.quirks, tenant) {
            let r = serde_json::to_vec(&v)?;
            bytes += r.len() as u64;
            records.push(r);
        }
    }
    let partitions = i32::try_from(bytes / PARTITION_BYTES + 4).unwrap_or(i32::MAX);
    let cluster = sim::kafka::mock_cluster(1).context("starting librdkafka's mock cluster")?;
    cluster.create_topic(TOPIC, partitions, 1)?;
    let mut producer = sim::kafka::DiagnosticProducer::new(
        &cluster.bootstrap_servers(),
        TOPIC,
        partitions,
        PER_MESSAGE,
    )?;
    let mut body: Vec<u8> = Vec::with_capacity(1 << 20);
    let (mut in_body, mut next) = (0usize, 0i32);
    let mut send = |body: &mut Vec<u8>, in_body: &mut usize| -> anyhow::Result<()> {
        if *in_body > 0 {
            body.extend_from_slice(b"]}");
            producer.send_raw(body, next)?;
            next = (next + 1) % partitions;
            body.clear();
            *in_body = 0;
        }
        Ok(())
    };
    for r in &records {
        if in_body > 0 && body.len() + r.len() + 3 > sim::kafka::MAX_MESSAGE_BYTES {
            send(&mut body, &mut in_body)?;
        }
        body.extend_from_slice(if in_body == 0 {
            b"{\"records\":["
        } else {
            b","
        });
        body.extend_from_slice(r);
        in_body += 1;
        if in_body >= PER_MESSAGE {
            send(&mut body, &mut in_body)?;
        }
    }
    send(&mut body, &mut in_body)?;
    let produced = producer.finish().context("producing to the mock cluster")?;
    output::line(&format!(
        "wrote {} records ({}) as {} Event Hubs messages to topic {TOPIC} ({partitions} partitions) of librdkafka's mock cluster at {}",
        records.len(),
        output::bytes(bytes),
        produced.messages,
        cluster.bootstrap_servers()
    ));
    Ok(Stream {
        cluster,
        partitions,
        messages: produced.messages,
    })
}

/// Starts Azurite and writes the day's diagnostic records to it in Microsoft's Storage layout.
fn store_day(
    rt: &tokio::runtime::Runtime,
    cfg: &sim::TenantConfig,
    tenant: &sim::Tenant,
) -> anyhow::Result<sim::azurite::Azurite> {
    let azurite = sim::azurite::Azurite::start()
        .context("`entrail demo --source blob|all` needs Azurite: run scripts/install-test-deps")?;
    let report = rt
        .block_on(sim::blob::write_events(
            &azurite.client(),
            sim::Generator::new(tenant, cfg),
            cfg.quirks,
            tenant,
        ))
        .context("writing the day to Azurite")?;
    output::line(&format!(
        "wrote {} records ({}) to {} append and block blobs in {} containers of Azurite at {}",
        report.records.values().sum::<u64>(),
        output::bytes(report.bytes),
        report.blobs,
        report.records.len(),
        azurite.blob_endpoint()
    ));
    Ok(azurite)
}

fn eventhubs_toml(stream: &Stream) -> String {
    format!(
        "[[sources]]\ntype = \"eventhubs\"\nid = \"eventhub\"\nbootstrap_servers = {:?}\nevent_hubs = [{TOPIC:?}]\nconsumer_group = \"entrail-demo\"\nmax_wait = \"100ms\"\nauth = {{ type = \"plaintext\" }}\n",
        stream.cluster.bootstrap_servers()
    )
}

fn blob_toml(azurite: &sim::azurite::Azurite, cfg: &sim::TenantConfig) -> String {
    let since = (cfg.start - chrono::TimeDelta::days(1)).to_rfc3339();
    format!(
        "[[sources]]\ntype = \"blob\"\nid = \"blob\"\nendpoint = {:?}\nsince = {since:?}\nauth = {{ type = \"connection_string\", connection_string = {:?} }}\n",
        azurite.blob_endpoint(),
        azurite.connection_string()
    )
}

/// One source's figures for the summary line.
#[derive(Default)]
struct Took {
    records: u64,
    accepted: Accepted,
}

fn took_line(what: &str, t: &Took, secs: f64) -> String {
    format!(
        "collected {} records through {what} in {secs:.1}s: {} new, {} revised, {} duplicates, {} quarantined",
        t.records,
        t.accepted.new,
        t.accepted.revised,
        t.accepted.duplicates,
        t.accepted.quarantined
    )
}

/// Collects everything configured in `pipeline` concurrently (the Graph part as a backfill from `since`).
fn collect(
    rt: &tokio::runtime::Runtime,
    pipeline: &Pipeline,
    since: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let collector = pipeline.collector()?;
    let hub = pipeline.eventhubs_collector()?;
    let progress: Vec<Arc<BackfillProgress>> = collector
        .sources()
        .iter()
        .map(|_| Arc::new(BackfillProgress::new()))
        .collect();
    let started = Instant::now();
    let (graph, streamed, polled) = rt.block_on(async {
        tokio::join!(
            collector.backfill(since, &[], &progress),
            hub.run_until_caught_up(Duration::from_secs(2)),
            collector.blob().poll_once(),
        )
    });
    let secs = started.elapsed().as_secs_f64();
    let mut failed = Vec::new();
    if !collector.sources().is_empty() {
        let mut t = Took::default();
        for c in graph?.iter().flat_map(|(_, r)| &r.categories) {
            t.records += c.records;
            t.accepted.add(&c.accepted);
            if let Some(e) = &c.error {
                failed.push(format!("Graph {}: {e}", c.category));
            }
        }
        output::line(&took_line(
            "Microsoft Graph (simulated tenant over HTTP)",
            &t,
            secs,
        ));
    }
    if !hub.is_empty() {
        let mut t = Took::default();
        for (_, r) in streamed? {
            t.records += r.records;
            t.accepted.add(&r.accepted);
        }
        output::line(&took_line(
            "Event Hubs (Kafka protocol, mock cluster)",
            &t,
            secs,
        ));
    }
    if !collector.blob().is_empty() {
        let mut t = Took::default();
        for c in polled?.iter().flat_map(|(_, r)| &r.containers) {
            t.records += c.records;
            t.accepted.add(&c.accepted);
            if let Some(e) = &c.error {
                failed.push(format!("Blob {}: {e}", c.container));
            }
        }
        output::line(&took_line("the Blob source (Azurite)", &t, secs));
    }
    if !failed.is_empty() {
        bail!("collection failed: {}", failed.join("; "));
    }
    Ok(())
}

/// `entrail demo --source eventhub|blob|all`.
pub(crate) fn run(
    source: DemoSource,
    users: u32,
    days: u32,
    seed: u64,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    crate::demo::prepare_dir(dir)?;
    let mut cfg = sim::TenantConfig {
        seed,
        users,
        days,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    if source == DemoSource::All {
        // Simulate days that ended yesterday, as production sees them: the Graph tenant's clock (its `Date`
        // header, which moves the Graph windows) then agrees with the local one every source stamps
        // `_IngestTime` with.
        let today = chrono::Utc::now()
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        cfg.start = today - chrono::TimeDelta::days(i64::from(days) + 1);
    }
    output::line(&format!(
        "simulating {users} users for {days} day(s) from {} (seed {seed}), collected through {} ...",
        cfg.start.format("%Y-%m-%d"),
        match source {
            DemoSource::Eventhub => "Event Hubs",
            DemoSource::Blob => "Storage-account blobs",
            _ => "Graph, Event Hubs and Blob at once",
        }
    ));
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg).with_truth(true);
    generator.by_ref().for_each(drop);
    let truth = generator
        .into_truth()
        .context("the generator kept no ground truth")?;

    // The Graph tenant (for `all`) brings its own runtime; the others get one.
    let served = match source {
        DemoSource::All => Some(crate::demo_graph::start(&cfg)?),
        _ => None,
    };
    let own_rt;
    let rt = match &served {
        Some(t) => &t.rt,
        None => {
            own_rt = crate::collect::runtime()?;
            &own_rt
        }
    };
    let stream = match source {
        DemoSource::Eventhub | DemoSource::All => Some(stream_day(&cfg, &tenant)?),
        _ => None,
    };
    let azurite = match source {
        DemoSource::Blob | DemoSource::All => Some(store_day(rt, &cfg, &tenant)?),
        _ => None,
    };
    let mut text = format!("data_dir = {:?}\n", dir.join("data").display().to_string());
    if let Some(t) = &served {
        text.push_str(&crate::demo_graph::source_toml(
            &t.server,
            &crate::demo_graph::demo_limits(),
            "graph",
            &[],
        ));
    }
    if let Some(s) = &stream {
        text.push_str(&eventhubs_toml(s));
    }
    if let Some(a) = &azurite {
        text.push_str(&blob_toml(a, &cfg));
    }
    // Detection with the built-in analytics (docs/alerts.md), as in the default demo.
    text.push_str("\n[detection]\n");
    let config = pipeline::config::parse(&text)?
        .validate()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut pipeline = Pipeline::open(config)?;
    collect(rt, &pipeline, cfg.start)?;
    if let Some(s) = &stream {
        output::line(&format!(
            "  Event Hubs: {} messages in {} partitions, all committed",
            s.messages, s.partitions
        ));
    }
    pipeline.archive()?;
    let all_ok = summarize(&mut pipeline, dir, &truth)?;
    let data = dir.join("data");
    crate::demo::examples(&data)?;
    crate::alerts::demo(&mut pipeline, &data)?;
    output::line(&format!(
        "\nTry next:\n  entrail -d {0} status\n  entrail -d {0} query \"SELECT _Key, _Revision, _Source FROM SigninLogs WHERE _Revision > 0 LIMIT 5\" --all-revisions\n  entrail -d {0} quarantine list",
        data.display()
    ));
    drop(stream);
    drop(azurite);
    if let Some(t) = served {
        t.rt.block_on(t.server.shutdown());
    }
    if !all_ok {
        bail!("the archive does not match the generator's ground truth (see the lines above)");
    }
    Ok(ExitCode::SUCCESS)
}

/// The archive per category against the generator's ground truth: the table, then one line per category.
fn summarize(
    pipeline: &mut Pipeline,
    dir: &Path,
    truth: &sim::GroundTruth,
) -> anyhow::Result<bool> {
    let expected_by = crate::demo::expected_by_category(truth);
    let status = pipeline.status()?;
    let mut table = output::table(&[
        "category",
        "table",
        "generated",
        "appended",
        "revisions",
        "duplicates",
        "archived keys",
        "check",
    ]);
    let mut lines = Vec::new();
    let mut all_ok = true;
    for (c, (emitted, expected)) in &expected_by {
        let s = status.categories.iter().find(|s| s.category == c.name());
        let sql = format!("SELECT count(*) AS n FROM {}", c.table());
        let archived = crate::demo::count(&block_on(sql_batches(&dir.join("data"), &sql, false))??);
        let ok = archived == *expected;
        all_ok &= ok;
        table.add_row(vec![
            c.name().to_owned(),
            c.table().to_owned(),
            emitted.to_string(),
            s.map_or(0, |s| s.appended).to_string(),
            s.map_or(0, |s| s.revisions).to_string(),
            s.map_or(0, |s| s.duplicates).to_string(),
            archived.to_string(),
            if ok {
                "ok".into()
            } else {
                format!("expected {expected}")
            },
        ]);
        lines.push(format!(
            "ground truth {}: archived {archived} keys, expected {expected}: {}",
            c.name(),
            if ok { "ok" } else { "MISMATCH" }
        ));
    }
    output::line(&table.to_string());
    output::line(&lines.join("\n"));
    output::line(&format!("quarantine: {} item(s)", status.quarantine_open));
    Ok(all_ok)
}
