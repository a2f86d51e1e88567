//! Micro-benchmark of the Event Hubs source alone (no hub, no archive): message bodies (one per line of a
//! file, as `entrail bench eventhubs` writes them to `bodies.json`) are produced into librdkafka's
//! in-process mock cluster and read back through [`EventHubsSource`] into a `Deliver` that only counts,
//! against decoding the same bodies directly. Reports wall and CPU per side, CPU per thread name, and the
//! delivery timeline, so the source's own cost and stalls can be profiled (`perf record` on a release
//! build of this example) without building the DataFusion-linked binary.
//!
//! ```sh
//! cargo run --release -p sources --example eventhubs_bench -- entrail-bench-eventhubs/bodies.json 20
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use model::normalize::{DecodeContext, Format, decode_stream};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use sources::Batch;
use sources::eventhubs::{EventHubsAuth, EventHubsSource, EventHubsSourceConfig, RunMode};
use sources::graph::{Accepted, CancellationToken, Deliver, DeliverError};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// CPU seconds (user + system) of this process, or of each thread name.
fn cpu(stat: &str) -> f64 {
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// A small /proc file (bounded read).
fn read_proc(path: impl AsRef<std::path::Path>) -> String {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| model::limits::read_capped(f, 1 << 16).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn process_cpu() -> f64 {
    cpu(&read_proc("/proc/self/stat"))
}

fn thread_cpu() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = read_proc(t.path().join("comm"));
        let stat = read_proc(t.path().join("stat"));
        *out.entry(comm.trim().to_owned()).or_insert(0.0) += cpu(&stat);
    }
    out
}

/// Counts records and notes when each batch arrived.
struct Count {
    start: Instant,
    seen: Mutex<Vec<(f64, usize, usize)>>,
}

impl Deliver for Count {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        let n = batch.records.len();
        let bytes: usize = batch.records.iter().map(|r| r.raw.len()).sum();
        self.seen
            .lock()
            .unwrap()
            .push((self.start.elapsed().as_secs_f64(), n, bytes));
        Ok(Accepted {
            new: n as u64,
            ..Accepted::default()
        })
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: eventhubs_bench <bodies.json> [partitions]");
    let partitions: i32 = args.next().map_or(20, |p| p.parse().unwrap());
    let bodies: Vec<Vec<u8>> = std::io::BufReader::new(std::fs::File::open(&path).unwrap())
        .split(b'\n')
        .map(Result::unwrap)
        .filter(|l| !l.is_empty())
        .collect();
    let total: usize = bodies.iter().map(Vec::len).sum();
    let mib = total as f64 / (1024.0 * 1024.0);
    println!("{} messages, {mib:.1} MiB", bodies.len());

    // Decoding alone (what the file path does with the same bytes).
    let (c0, w0) = (process_cpu(), Instant::now());
    let mut records = 0usize;
    for b in &bodies {
        let cx = DecodeContext {
            source: "bench".into(),
            location: "x".into(),
            ingest_time: 0,
            category: None,
            shape: None,
        };
        records += decode_stream(&b[..], Format::JsonLines, cx)
            .filter(Result::is_ok)
            .count();
    }
    let decode_cpu = process_cpu() - c0;
    println!(
        "decode only: {records} records, CPU {decode_cpu:.2} s ({:.1} MiB/CPU-s), wall {:.2} s",
        mib / decode_cpu,
        w0.elapsed().as_secs_f64()
    );

    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("hub", partitions, 1).unwrap();
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("message.max.bytes", "1000000")
        .create()
        .unwrap();
    for (i, b) in bodies.iter().enumerate() {
        producer
            .send(
                BaseRecord::<(), [u8]>::to("hub")
                    .payload(&b[..])
                    .partition(i as i32 % partitions),
            )
            .unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    drop(bodies);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = EventHubsSourceConfig::new(
        "bench",
        cluster.bootstrap_servers(),
        vec!["hub".into()],
        EventHubsAuth::Plaintext,
    );
    cfg.consumer_group = "bench".into();
    let source = EventHubsSource::new(cfg).unwrap();
    let count = Count {
        start: Instant::now(),
        seen: Mutex::new(Vec::new()),
    };
    let idle = Duration::from_millis(300);
    let (t0, c0, w0) = (thread_cpu(), process_cpu(), Instant::now());
    let report = rt
        .block_on(source.run(
            &count,
            RunMode::UntilCaughtUp { idle },
            CancellationToken::new(),
        ))
        .unwrap();
    let (t1, source_cpu, wall) = (thread_cpu(), process_cpu() - c0, w0.elapsed().as_secs_f64());
    println!(
        "source: {} messages, {} records, CPU {source_cpu:.2} s ({:.1} MiB/CPU-s), wall {wall:.2} s",
        report.messages,
        report.records,
        mib / source_cpu
    );
    for (name, after) in &t1 {
        let d = after - t0.get(name).copied().unwrap_or(0.0);
        if d >= 0.01 {
            println!("  thread {name}: {d:.2} CPU-s");
        }
    }
    for (at, n, bytes) in count.seen.lock().unwrap().iter() {
        println!("  batch at {at:.2} s: {n} records, {bytes} raw bytes");
    }
    let status = source.status();
    println!(
        "status: {} batches, {} commits, lag {:?}",
        status.batches,
        status.commits,
        status.partitions.iter().map(|p| p.lag).collect::<Vec<_>>()
    );
}
