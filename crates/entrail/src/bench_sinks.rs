//! `entrail bench sinks`: every sink and encoding delivering generated sign-ins into local receivers started in
//! this process (HTTP on loopback for Splunk HEC, Elasticsearch and Logs Ingestion; TCP and UDP sockets for
//! syslog; a local file), reported as records/s and MiB per CPU-second of the sink (the receivers' own threads
//! are measured apart and subtracted), with the JSON-lines file sink as the baseline of the same run. Then the
//! end-to-end latency, durable append -> acknowledged by the receiver, p50/p99 at a paced rate.

use crate::bench::{read_proc, write_signins};
use crate::output;
use anyhow::Context;
use axum::body::Bytes;
use axum::routing::post;
use model::Record;
use pipeline::{Pipeline, RawConfig};
use serde_json::json;
use sinks::Sink;
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Name prefix of the receivers' threads (their CPU is not the sinks').
const RECEIVER_THREAD: &str = "bench-recv";
/// Records per `send`, as the pipeline's consumer batches.
const BATCH: usize = 8192;
const DCR: &str = "dcr-00000000000000000000000000000001";
const GUID: &str = "11111111-2222-3333-4444-555555555555";

/// What `entrail bench sinks` runs.
#[derive(Debug, Clone)]
pub(crate) struct SinksBench {
    /// Records for the throughput runs.
    pub(crate) records: u64,
    /// Paced rate of the latency runs (records/s).
    pub(crate) rate: u64,
    /// Length of each latency run.
    pub(crate) latency_secs: u64,
}

/// Bytes and requests the receivers got.
#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    requests: AtomicU64,
}

/// The in-process receivers.
struct Receivers {
    http: String,
    tcp: String,
    udp: String,
    counters: Arc<Counters>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for Receivers {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn count(c: &Counters, n: usize) {
    c.bytes.fetch_add(n as u64, Ordering::Relaxed);
    c.requests.fetch_add(1, Ordering::Relaxed);
}

fn start_receivers() -> anyhow::Result<Receivers> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(RECEIVER_THREAD)
        .enable_all()
        .build()?;
    let counters = Arc::new(Counters::default());
    let (c1, c2, c3, c4) = (
        counters.clone(),
        counters.clone(),
        counters.clone(),
        counters.clone(),
    );
    let app = axum::Router::new()
        .route(
            "/_bulk",
            post(move |body: Bytes| async move {
                count(&c1, body.len());
                // One action and one document line per item; answer every item created.
                let items = body.iter().filter(|b| **b == b'\n').count() / 2;
                let mut out = String::with_capacity(items * 28 + 32);
                out.push_str("{\"errors\":false,\"items\":[");
                for i in 0..items {
                    out.push_str(if i == 0 { "" } else { "," });
                    out.push_str("{\"create\":{\"status\":201}}");
                }
                out.push_str("]}");
                out
            }),
        )
        .route(
            "/services/collector/event",
            post(move |body: Bytes| async move {
                count(&c2, body.len());
                "{\"text\":\"Success\",\"code\":0}"
            }),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async {
                json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "bench"})
                    .to_string()
            }),
        )
        .route(
            "/dataCollectionRules/{dcr}/streams/{stream}",
            post(move |body: Bytes| async move {
                count(&c3, body.len());
                axum::http::StatusCode::NO_CONTENT
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    let http = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let tcp = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let udp = rt.block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))?;
    let (http_addr, tcp_addr, udp_addr) =
        (http.local_addr()?, tcp.local_addr()?, udp.local_addr()?);
    rt.spawn(async move { axum::serve(http, app).await });
    rt.spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut conn, _)) = tcp.accept().await {
            let c = c4.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 20];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    count(&c, n);
                }
            });
        }
    });
    let c5 = counters.clone();
    rt.spawn(async move {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = udp.recv(&mut buf).await {
            count(&c5, n);
        }
    });
    Ok(Receivers {
        http: format!("http://{http_addr}"),
        tcp: tcp_addr.to_string(),
        udp: udp_addr.to_string(),
        counters,
        rt: Some(rt),
    })
}

/// CPU seconds of this process's threads whose name starts with [`RECEIVER_THREAD`].
fn receiver_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total = 0.0;
    for t in tasks.flatten() {
        let p = t.path();
        let stat = read_proc(&p.join("stat").display().to_string());
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(')')) else {
            continue;
        };
        if !name.starts_with(RECEIVER_THREAD) {
            continue;
        }
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        total += (ticks(11) + ticks(12)) / 100.0;
    }
    total
}

/// The sinks under test: (name, configuration as JSON for the sink's serde config).
fn sinks(r: &Receivers, dir: &Path) -> Vec<(&'static str, anyhow::Result<Box<dyn Sink>>)> {
    fn build<C: serde::de::DeserializeOwned, S: Sink + 'static>(
        v: serde_json::Value,
        new: impl FnOnce(C) -> Result<S, sinks::SinkError>,
    ) -> anyhow::Result<Box<dyn Sink>> {
        let c: C = serde_json::from_value(v)?;
        Ok(Box::new(new(c)?))
    }
    let syslog = |transport: &str, encoding: &str| {
        let address = if transport == "udp" { &r.udp } else { &r.tcp };
        build(
            json!({"id": "syslog", "address": address, "transport": transport, "encoding": encoding}),
            sinks::syslog::SyslogSink::new,
        )
    };
    vec![
        (
            "file (baseline)",
            Ok(
                Box::new(sinks::file::FileSink::new(sinks::file::FileSinkConfig {
                    id: "file".into(),
                    path: dir.join("out.jsonl"),
                    rotate_bytes: 1 << 30,
                    categories: Vec::new(),
                })) as Box<dyn Sink>,
            ),
        ),
        (
            "splunk_hec (gzip)",
            build(
                json!({"id": "hec", "url": r.http, "token": GUID}),
                sinks::splunk::SplunkHecSink::new,
            ),
        ),
        ("syslog tcp json", syslog("tcp", "rfc5424_json")),
        ("syslog tcp cef", syslog("tcp", "cef")),
        ("syslog tcp leef", syslog("tcp", "leef")),
        ("syslog udp json", syslog("udp", "rfc5424_json")),
        ("syslog udp cef", syslog("udp", "cef")),
        ("syslog udp leef", syslog("udp", "leef")),
        (
            "elasticsearch (ecs)",
            build(
                json!({"id": "es", "url": r.http}),
                sinks::elastic::ElasticSink::new,
            ),
        ),
        (
            "elasticsearch (native)",
            build(
                json!({"id": "es", "url": r.http, "encoding": "native"}),
                sinks::elastic::ElasticSink::new,
            ),
        ),
        (
            "sentinel (gzip)",
            build(
                json!({"id": "la", "endpoint": r.http, "authority_host": r.http, "dcr_immutable_id": DCR,
                    "tenant_id": GUID, "client_id": GUID, "client_secret": "bench"}),
                sinks::sentinel::SentinelSink::new,
            ),
        ),
    ]
}

fn load_records(dir: &Path, records: u64) -> anyhow::Result<Vec<Record>> {
    let input = dir.join("signins.json");
    write_signins(&input, records, 7, false)?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![input.display().to_string()],
    ))?;
    let mut out = Vec::new();
    for batch in source.batches(chrono::Utc::now().timestamp_micros(), Progress::default()) {
        out.extend(batch?.records);
    }
    Ok(out)
}

/// One throughput figure.
struct Throughput {
    name: &'static str,
    records_per_s: f64,
    sink_cpu: f64,
    in_mib_per_cpu_s: f64,
    wire_mib_per_cpu_s: f64,
    wire_mib: f64,
}

fn throughput(
    name: &'static str,
    sink: &mut dyn Sink,
    records: &[Record],
    r: &Receivers,
) -> anyhow::Result<Throughput> {
    let in_mib = records.iter().map(|r| r.raw.len()).sum::<usize>() as f64 / 1048576.0;
    let bytes0 = r.counters.bytes.load(Ordering::Relaxed);
    let (cpu0, recv0, t0) = (
        crate::bench::cpu_seconds(),
        receiver_cpu_seconds(),
        Instant::now(),
    );
    for chunk in records.chunks(BATCH) {
        sink.send(chunk).with_context(|| format!("{name}: send"))?;
    }
    let wall = t0.elapsed().as_secs_f64();
    // Let the receivers finish reading what the sockets still hold (syslog is fire-and-forget).
    std::thread::sleep(Duration::from_millis(200));
    let sink_cpu =
        ((crate::bench::cpu_seconds() - cpu0) - (receiver_cpu_seconds() - recv0)).max(0.01);
    let wire_mib = (r.counters.bytes.load(Ordering::Relaxed) - bytes0) as f64 / 1048576.0;
    Ok(Throughput {
        name,
        records_per_s: records.len() as f64 / wall,
        sink_cpu,
        in_mib_per_cpu_s: in_mib / sink_cpu,
        wire_mib_per_cpu_s: wire_mib / sink_cpu,
        wire_mib,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Appends `records` to a fresh log at `rate` records/s (10 ms ticks) while this thread drains the log into
/// `sink`; returns every record's append -> acknowledged latency.
fn latency(
    dir: &Path,
    sink: &mut dyn Sink,
    records: Vec<Record>,
    rate: u64,
) -> anyhow::Result<Vec<Duration>> {
    let raw = RawConfig {
        data_dir: Some(dir.to_path_buf()),
        ..RawConfig::default()
    };
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let pipeline = Pipeline::open(config)?;
    let hub = pipeline.shared_hub();
    let log = pipeline.log().clone();
    let appended: Arc<Mutex<std::collections::HashMap<(String, u32), Instant>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let per_tick = (rate / 100).max(1) as usize;
    let producer = {
        let (appended, done) = (appended.clone(), done.clone());
        std::thread::spawn(move || -> anyhow::Result<()> {
            let start = Instant::now();
            for (tick, chunk) in records.chunks(per_tick).enumerate() {
                let due = start + Duration::from_millis(10 * tick as u64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let now = Instant::now();
                {
                    let mut a = appended.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                    for r in chunk {
                        a.insert((r.key.clone(), r.revision), now);
                    }
                }
                hub.lock()
                    .map_err(|_| anyhow::anyhow!("hub poisoned"))?
                    .ingest(chunk.to_vec(), Vec::new())?;
            }
            done.store(true, Ordering::SeqCst);
            Ok(())
        })
    };
    let mut reader = log.reader(0);
    let mut latencies = Vec::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let batch = reader.read_batch(BATCH, 16 << 20)?;
        if batch.is_empty() {
            // Appends are durable when `ingest` returns: after the producer finished, empty means the end.
            if finished {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let recs: Vec<Record> = batch
            .iter()
            .map(|(_, b)| model::codec::decode(b))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("decode: {e}"))?;
        sink.send(&recs)?;
        let acked = Instant::now();
        let a = appended.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        for r in &recs {
            if let Some(t) = a.get(&(r.key.clone(), r.revision)) {
                latencies.push(acked - *t);
            }
        }
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("producer panicked"))??;
    latencies.sort_unstable();
    Ok(latencies)
}

/// Runs the benchmark in `dir` (replaced).
pub(crate) fn run(b: &SinksBench, dir: &Path) -> anyhow::Result<ExitCode> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    output::line(&format!("generating {} sign-ins ...", b.records));
    let records = load_records(dir, b.records)?;
    let r = start_receivers()?;
    let mut figures = Vec::new();
    for (name, sink) in sinks(&r, dir) {
        let mut sink = sink.with_context(|| format!("building {name}"))?;
        figures.push(throughput(name, sink.as_mut(), &records, &r)?);
    }
    let base = figures.first().map_or(1.0, |f| f.records_per_s);
    let mut t = output::table(&[
        "sink",
        "records/s",
        "vs file",
        "sink CPU s",
        "input MiB/CPU-s",
        "wire MiB/CPU-s",
        "wire MiB",
    ]);
    for f in &figures {
        t.add_row(vec![
            f.name.to_owned(),
            format!("{:.0}", f.records_per_s),
            format!("{:.2}x", f.records_per_s / base),
            format!("{:.2}", f.sink_cpu),
            format!("{:.1}", f.in_mib_per_cpu_s),
            format!("{:.1}", f.wire_mib_per_cpu_s),
            format!("{:.1}", f.wire_mib),
        ]);
    }
    output::line(&format!(
        "throughput: {} records ({:.1} MiB as received), batches of {BATCH}",
        records.len(),
        records.iter().map(|r| r.raw.len()).sum::<usize>() as f64 / 1048576.0
    ));
    output::line(&t.to_string());
    if let Some(tcp) = figures.iter().find(|f| f.name == "syslog tcp cef") {
        output::line(&format!(
            "goal syslog TCP >= 100 MiB per CPU-second: cef {:.1} wire MiB/CPU-s -> {}",
            tcp.wire_mib_per_cpu_s,
            if tcp.wire_mib_per_cpu_s >= 100.0 {
                "met"
            } else {
                "NOT met"
            }
        ));
    }
    let n = (b.rate * b.latency_secs).min(records.len() as u64) as usize;
    let mut t = output::table(&[
        "sink",
        "records",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99 <= 2 s",
    ]);
    for (name, sink) in sinks(&r, dir) {
        if name.starts_with("syslog udp")
            || name.contains("leef")
            || name.contains("json")
            || name.contains("native")
        {
            continue;
        }
        let mut sink = sink?;
        let lat_dir = dir.join(format!("latency-{}", name.split(' ').next().unwrap_or("x")));
        let l = latency(&lat_dir, sink.as_mut(), records[..n].to_vec(), b.rate)?;
        let p99 = percentile(&l, 0.99);
        t.add_row(vec![
            name.to_owned(),
            l.len().to_string(),
            format!("{:.1}", percentile(&l, 0.50).as_secs_f64() * 1e3),
            format!("{:.1}", p99.as_secs_f64() * 1e3),
            format!(
                "{:.1}",
                l.last().copied().unwrap_or_default().as_secs_f64() * 1e3
            ),
            if p99 <= Duration::from_secs(2) {
                "yes"
            } else {
                "NO"
            }
            .to_owned(),
        ]);
    }
    output::line(&format!(
        "latency: durable append -> acknowledged, {} records/s for {} s",
        b.rate, b.latency_secs
    ));
    output::line(&t.to_string());
    Ok(ExitCode::SUCCESS)
}
