//! Syslog sink micro-benchmark: real sign-ins (the model's golden inputs, repeated) through the syslog sink
//! over TCP (octet counting) and UDP into a discarding receiver thread on loopback, per encoding. Reports
//! records/s and wire MiB per CPU-second of the sending thread (its own CPU time from
//! `/proc/thread-self/schedstat`, so the receiver thread does not count).
//!
//! `CARGO_TARGET_DIR=/var/tmp/entrail-sinks-rel cargo bench -p sinks --bench syslog_encode [-- RECORDS]`
//!
//! `SYSLOG_BENCH_ONLY=cef` (or `leef`, `rfc5424json`, `ocsf`, `tcp`, `udp`; comma-separated, case ignored)
//! runs only the matching rows, e.g. to profile one encoder with `perf record`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use model::{Category, DecodeContext, Record, decode_stream, detect_format};
use sinks::Sink;
use sinks::syslog::{SyslogConfig, SyslogEncoding, SyslogSink, SyslogTransport};
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::Instant;

/// CPU time of the calling thread, seconds.
fn thread_cpu() -> f64 {
    let mut text = String::new();
    std::fs::File::open("/proc/thread-self/schedstat")
        .unwrap()
        .take(4096)
        .read_to_string(&mut text)
        .unwrap();
    text.split_whitespace()
        .next()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1e9
}

fn records(n: usize) -> Vec<Record> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/testdata/normalize/SignInLogs/graph.input.jsonl");
    let mut reader = BufReader::new(std::fs::File::open(&path).unwrap());
    let format = detect_format(reader.fill_buf().unwrap());
    let cx = DecodeContext {
        source: "bench".into(),
        location: path.display().to_string(),
        ingest_time: 1_709_600_000_000_000,
        category: Some(Category::SignInLogs),
        shape: None,
    };
    let base: Vec<Record> = decode_stream(reader, format, cx)
        .filter_map(Result::ok)
        .collect();
    (0..n)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r.key = format!("{}-{i}", r.key);
            r
        })
        .collect()
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    let records = records(n);
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in tcp.incoming() {
            let mut conn = conn.unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while conn.read(&mut buf).is_ok_and(|r| r > 0) {}
            });
        }
    });
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while udp.recv(&mut buf).is_ok() {}
    });
    let only: Vec<String> = std::env::var("SYSLOG_BENCH_ONLY")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let wanted = |transport: SyslogTransport, encoding: SyslogEncoding| {
        let (t, e) = (
            format!("{transport:?}").to_ascii_lowercase(),
            format!("{encoding:?}").to_ascii_lowercase(),
        );
        let picked = |names: &[&str]| only.iter().any(|o| names.contains(&o.as_str()));
        let any_t = only.iter().any(|o| o == "tcp" || o == "udp");
        let any_e = only.iter().any(|o| o != "tcp" && o != "udp");
        (!any_t || picked(&[&t])) && (!any_e || picked(&[&e]))
    };
    println!("{n} sign-ins, batches of 8192");
    println!("| transport encoding | records/s | wire MiB/CPU-s | CPU-s |");
    println!("|---|---|---|---|");
    for (transport, port) in [
        (SyslogTransport::Tcp, tcp_port),
        (SyslogTransport::Udp, udp_port),
    ] {
        for encoding in [
            SyslogEncoding::Cef,
            SyslogEncoding::Leef,
            SyslogEncoding::Rfc5424Json,
            SyslogEncoding::Ocsf,
        ] {
            if !wanted(transport, encoding) {
                continue;
            }
            let mut c = SyslogConfig::new("bench", format!("127.0.0.1:{port}"));
            c.transport = transport;
            c.encoding = encoding;
            c.hostname = Some("bench".into());
            let mut sink = SyslogSink::new(c).unwrap();
            let wire: usize = records.iter().map(|r| sink.encode(r).len()).sum();
            let (cpu0, wall0) = (thread_cpu(), Instant::now());
            for chunk in records.chunks(8192) {
                sink.send(chunk).unwrap();
            }
            let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed().as_secs_f64());
            println!(
                "| {transport:?} {encoding:?} | {:.0} | {:.1} | {cpu:.2} |",
                n as f64 / wall,
                wire as f64 / 1_048_576.0 / cpu,
            );
        }
    }
}
