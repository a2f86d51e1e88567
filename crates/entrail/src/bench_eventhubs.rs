//! `entrail bench eventhubs`: diagnostic-shape sign-ins as Event Hubs messages (`{"records":[...]}`) from
//! librdkafka's in-process mock cluster through the Event Hubs source, dedupe, the durable log and Parquet,
//! against the file-ingest path over the same message bodies (one per line) in the same run. Reported:
//! records and MiB per CPU-second of each and their ratio, with and without the CPU of the simulated broker
//! (its `rdk:mock` thread runs in this process; in production the broker is Azure's).

use crate::bench::{cpu_seconds, peak_rss_mib, read_proc, reset_peak_rss};
use crate::output;
use anyhow::Context;
use pipeline::{Pipeline, RawConfig};
use sources::eventhubs::{EventHubsAuth, EventHubsSource, EventHubsSourceConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const TOPIC: &str = "insights-logs-signinlogs";

/// What `bench eventhubs` runs.
#[derive(Debug, Clone)]
pub(crate) struct EventHubsBench {
    pub records: u64,
    pub per_message: usize,
    pub partitions: i32,
}

/// CPU seconds of this process's `rdk:mock` threads (librdkafka's mock broker).
fn mock_broker_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total = 0.0;
    for t in tasks.flatten() {
        let dir = t.path();
        let comm = read_proc(&dir.join("comm").display().to_string());
        if comm.trim() != "rdk:mock" {
            continue;
        }
        let stat = read_proc(&dir.join("stat").display().to_string());
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        total += (ticks(11) + ticks(12)) / 100.0;
    }
    total
}

/// Generates the sign-ins, sends them as messages to the mock cluster and writes the same bodies, one per
/// line, to `bodies`. Returns (messages, body bytes).
fn generate(b: &EventHubsBench, bootstrap: &str, bodies: &Path) -> anyhow::Result<(u64, u64)> {
    let cfg = sim::TenantConfig {
        seed: 7,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut producer = sim::kafka::DiagnosticProducer::new(bootstrap, TOPIC, b.partitions, 1)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(bodies)?);
    let (mut n, mut messages, mut bytes) = (0u64, 0u64, 0u64);
    let mut body: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut in_body = 0usize;
    let mut flush = |body: &mut Vec<u8>, in_body: &mut usize| -> anyhow::Result<()> {
        if *in_body == 0 {
            return Ok(());
        }
        body.extend_from_slice(b"]}");
        producer.send_raw(body, (messages % b.partitions.max(1) as u64) as i32)?;
        out.write_all(body)?;
        out.write_all(b"\n")?;
        messages += 1;
        bytes += body.len() as u64 + 1;
        body.clear();
        *in_body = 0;
        Ok(())
    };
    for event in sim::Generator::sign_ins_only(&tenant, &cfg).with_truth(false) {
        if n >= b.records {
            break;
        }
        let Some(v) = sim::render(&event, sim::Shape::Diagnostic, cfg.quirks, &tenant) else {
            continue;
        };
        let rec = serde_json::to_vec(&v)?;
        if in_body > 0 && body.len() + rec.len() + 3 > sim::kafka::MAX_MESSAGE_BYTES {
            flush(&mut body, &mut in_body)?;
        }
        body.extend_from_slice(if in_body == 0 {
            b"{\"records\":["
        } else {
            b","
        });
        body.extend_from_slice(&rec);
        in_body += 1;
        n += 1;
        if in_body >= b.per_message {
            flush(&mut body, &mut in_body)?;
        }
    }
    flush(&mut body, &mut in_body)?;
    out.flush()?;
    producer.finish().context("producing to the mock cluster")?;
    anyhow::ensure!(n == b.records, "the generator produced only {n} sign-ins");
    Ok((messages, bytes))
}

fn open(dir: &Path) -> anyhow::Result<Pipeline> {
    let raw = RawConfig {
        data_dir: Some(dir.to_path_buf()),
        ..RawConfig::default()
    };
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(Pipeline::open(config)?)
}

/// One path's figures.
struct Measured {
    cpu: f64,
    broker_cpu: f64,
    wall: f64,
    appended: u64,
    archived: u64,
    peak_rss_mib: f64,
}

pub(crate) fn run(b: &EventHubsBench, dir: &Path) -> anyhow::Result<ExitCode> {
    // librdkafka's mock broker keeps only the last 5 MiB of each partition: spread the input (~4 KB a
    // sign-in) so that no partition holds more than ~4 MiB.
    let needed = i32::try_from(b.records.saturating_mul(4096) / (4 << 20) + 1).unwrap_or(i32::MAX);
    let b = &EventHubsBench {
        partitions: b.partitions.max(needed),
        ..b.clone()
    };
    crate::bench::fresh_dir(dir)?;
    let rt = crate::collect::runtime()?;
    let cluster = sim::kafka::mock_cluster(1)?;
    cluster.create_topic(TOPIC, b.partitions, 1)?;
    let bootstrap = cluster.bootstrap_servers();
    let bodies = dir.join("bodies.json");
    output::line(&format!(
        "generating {} diagnostic-shape sign-ins as messages of {} records into {} partitions (mock cluster) and {} ...",
        b.records,
        b.per_message,
        b.partitions,
        bodies.display()
    ));
    let (messages, bytes) = generate(b, &bootstrap, &bodies)?;
    let mib = bytes as f64 / (1024.0 * 1024.0);
    output::line(&format!(
        "input: {} records in {messages} messages, {} ({} bytes/record)",
        b.records,
        output::bytes(bytes),
        bytes / b.records.max(1)
    ));

    // The file path over the same bodies.
    let mut file_pipeline = open(&dir.join("file-data"))?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![bodies.display().to_string()],
    ))?;
    reset_peak_rss();
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let report = file_pipeline.import(&source, Progress::default())?;
    let archived = file_pipeline.archive()?;
    let file = Measured {
        cpu: cpu_seconds() - cpu0,
        broker_cpu: 0.0,
        wall: wall0.elapsed().as_secs_f64(),
        appended: report.outcome.appended,
        archived: archived.records,
        peak_rss_mib: peak_rss_mib(),
    };
    drop(file_pipeline);

    // The Event Hubs path: consumer group from the earliest offset until caught up, then the archive.
    let mut eh_pipeline = open(&dir.join("eventhubs-data"))?;
    let mut cfg = EventHubsSourceConfig::new(
        "bench",
        bootstrap,
        vec![TOPIC.to_owned()],
        EventHubsAuth::Plaintext,
    );
    cfg.consumer_group = "bench".into();
    let collector = eh_pipeline.eventhubs_collector_with(vec![EventHubsSource::new(cfg)?]);
    reset_peak_rss();
    let (cpu0, broker0, wall0) = (cpu_seconds(), mock_broker_cpu_seconds(), Instant::now());
    let idle = Duration::from_millis(300);
    let reports = rt.block_on(collector.run_until_caught_up(idle))?;
    let archived = eh_pipeline.archive()?;
    let eh = Measured {
        cpu: cpu_seconds() - cpu0,
        broker_cpu: mock_broker_cpu_seconds() - broker0,
        // The last idle wait only confirms the end.
        wall: (wall0.elapsed() - idle).as_secs_f64(),
        appended: reports
            .iter()
            .map(|(_, r)| r.accepted.new + r.accepted.revised)
            .sum(),
        archived: archived.records,
        peak_rss_mib: peak_rss_mib(),
    };
    anyhow::ensure!(
        eh.appended == file.appended && eh.archived == file.archived,
        "both paths must store the same records: file {} appended / {} archived, Event Hubs {} / {}",
        file.appended,
        file.archived,
        eh.appended,
        eh.archived
    );
    let line = |name: &str, m: &Measured, cpu: f64| {
        format!(
            "{name}: {} records appended, {} archived; CPU {cpu:.2} s: {:.0} records and {:.1} MiB per CPU-second; wall {:.2} s; peak RSS {:.0} MiB",
            m.appended,
            m.archived,
            b.records as f64 / cpu.max(1e-9),
            mib / cpu.max(1e-9),
            m.wall,
            m.peak_rss_mib
        )
    };
    output::line(&line("file import", &file, file.cpu));
    output::line(&line("event hubs (incl. mock broker)", &eh, eh.cpu));
    output::line(&line(
        "event hubs (excl. mock broker)",
        &eh,
        eh.cpu - eh.broker_cpu,
    ));
    output::line(&format!(
        "ratio: event hubs {:.2}x file import in MiB per CPU-second ({:.2}x with the simulated broker's {:.2} CPU-s counted)",
        file.cpu / (eh.cpu - eh.broker_cpu).max(1e-9),
        file.cpu / eh.cpu.max(1e-9),
        eh.broker_cpu
    ));
    Ok(ExitCode::SUCCESS)
}
