//! `entrail bench syslog`: generated syslog messages (RFC 5424 and RFC 3164 auth/sudo/firewall lines, one in
//! ten a CEF event, each unique) sent over loopback TCP (octet counting) and UDP into the syslog source, its
//! batches through dedupe, the durable log and Parquet; against file import of the same records (the
//! `Syslog` rows the source builds, as Log Analytics JSON lines) in the same run. Reported: records/s and
//! records and MiB per CPU-second of each path (MiB of its own input: bytes on the wire for syslog, the
//! file's bytes for import) and the ratio in records per CPU-second. The sender thread runs in this process
//! (`bench-send`); its CPU is not counted. TCP is sent as fast as the source reads (backpressure); UDP at
//! `--udp-rate` messages per second, with what was lost reported.

use crate::bench::{cpu_seconds, peak_rss_mib, read_proc, reset_peak_rss};
use crate::output;
use anyhow::Context;
use pipeline::config::RawSourceConfig;
use pipeline::{Pipeline, RawConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use sources::graph::CancellationToken;
use sources::syslog::row::Received;
use sources::syslog::{ListenerConfig, Protocol, SyslogSourceConfig};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SENDER_THREAD: &str = "bench-send";

/// What `bench syslog` runs.
#[derive(Debug, Clone)]
pub(crate) struct SyslogBench {
    pub messages: u64,
    /// UDP send rate, messages per second (UDP has no backpressure).
    pub udp_rate: u64,
}

/// Message `i`: unique text, a mix of RFC 5424, RFC 3164 and CEF over RFC 5424.
fn message(i: u64) -> String {
    let host = format!("web{:02}", i % 40);
    let user = format!("user{}", i % 997);
    let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    let sec = i % 60;
    let min = (i / 60) % 60;
    match i % 10 {
        0 => format!(
            "<134>1 2024-03-04T10:{min:02}:{sec:02}.{:06}Z fw01 asa - - - CEF:0|Cisco|ASA|9.16|106023|Deny tcp|5|src={ip} dst=13.107.21.200 spt={} dpt=443 proto=TCP act=deny cs1=outside-in cs1Label=acl msg=seq {i}",
            i % 1_000_000,
            1024 + i % 60_000
        ),
        1..=4 => format!(
            "<38>1 2024-03-04T10:{min:02}:{sec:02}.{:06}Z {host} sshd {} - [origin ip=\"{ip}\"] Failed password for invalid user {user} from {ip} port {} ssh2 seq={i}",
            i % 1_000_000,
            1000 + i % 30_000,
            1024 + i % 60_000
        ),
        5..=7 => format!(
            "<86>Mar  4 10:{min:02}:{sec:02} {host} sudo[{}]: {user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx seq={i}",
            1000 + i % 30_000,
            i % 8
        ),
        _ => format!(
            "<30>1 2024-03-04T10:{min:02}:{sec:02}.{:06}Z {host} systemd 1 - - Started Session {i} of User {user}.",
            i % 1_000_000
        ),
    }
}

/// CPU seconds of this process's sender thread.
fn sender_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total = 0.0;
    for t in tasks.flatten() {
        let dir = t.path();
        if read_proc(&dir.join("comm").display().to_string()).trim() != SENDER_THREAD {
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

fn open(dir: &Path, sources: Vec<RawSourceConfig>) -> anyhow::Result<Pipeline> {
    let raw = RawConfig {
        data_dir: Some(dir.to_path_buf()),
        sources,
        ..RawConfig::default()
    };
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(Pipeline::open(config)?)
}

/// One path's figures.
struct Measured {
    records: u64,
    bytes: u64,
    cpu: f64,
    wall: f64,
    archived: u64,
    peak_rss_mib: f64,
}

impl Measured {
    fn line(&self, name: &str) -> String {
        let mib = self.bytes as f64 / (1024.0 * 1024.0);
        format!(
            "{name}: {} records, {}; CPU {:.2} s: {:.0} records and {:.1} MiB per CPU-second; wall {:.2} s ({:.0} records/s); {} archived; peak RSS {:.0} MiB",
            self.records,
            output::bytes(self.bytes),
            self.cpu,
            self.records as f64 / self.cpu.max(1e-9),
            mib / self.cpu.max(1e-9),
            self.wall,
            self.records as f64 / self.wall.max(1e-9),
            self.archived,
            self.peak_rss_mib
        )
    }
}

/// Sends `n` messages over one protocol into a fresh pipeline's syslog source and archives them.
fn through_syslog(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    protocol: Protocol,
    n: u64,
    udp_rate: u64,
) -> anyhow::Result<Measured> {
    let mut cfg =
        SyslogSourceConfig::new("bench", vec![ListenerConfig::new(protocol, "127.0.0.1:0")]);
    cfg.collector_host_name = Some("bench".to_owned());
    cfg.batch_size = 4096;
    let mut p = open(dir, vec![RawSourceConfig::Syslog(Box::new(cfg))])?;
    let collector = p.syslog_collector()?;
    let bound = rt.block_on(collector.bind())?;
    let addr = bound
        .iter()
        .flat_map(|l| l.addrs())
        .map(|(_, a)| a)
        .next()
        .context("the syslog listener did not bind")?;
    let shutdown = CancellationToken::new();
    reset_peak_rss();
    let (cpu0, send0, wall0) = (cpu_seconds(), sender_cpu_seconds(), Instant::now());
    let sender = std::thread::Builder::new()
        .name(SENDER_THREAD.to_owned())
        .spawn(move || -> std::io::Result<u64> {
            let mut bytes = 0u64;
            match protocol {
                Protocol::Udp => {
                    let s = std::net::UdpSocket::bind("127.0.0.1:0")?;
                    let start = Instant::now();
                    for i in 0..n {
                        let m = message(i);
                        s.send_to(m.as_bytes(), addr)?;
                        bytes += m.len() as u64;
                        // UDP has no backpressure: send at `udp_rate` messages per second.
                        let due = Duration::from_secs_f64((i + 1) as f64 / udp_rate.max(1) as f64);
                        if let Some(ahead) = due.checked_sub(start.elapsed()) {
                            std::thread::sleep(ahead);
                        }
                    }
                }
                _ => {
                    let mut s = std::io::BufWriter::with_capacity(
                        1 << 16,
                        std::net::TcpStream::connect(addr)?,
                    );
                    for i in 0..n {
                        let m = message(i);
                        write!(s, "{} {m}", m.len())?;
                        bytes += m.len() as u64;
                    }
                    s.flush()?;
                }
            }
            Ok(bytes)
        })?;
    let result = rt.block_on(async {
        let serve = collector.serve(bound, shutdown.clone(), Duration::from_secs(3600));
        let watch = async {
            // Done when every message is accounted for, or nothing moved for 2 s after the sender ended.
            let (mut last, mut still) = (u64::MAX, Instant::now());
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let s = collector.status();
                let done: u64 = s
                    .iter()
                    .map(|s| {
                        s.accepted.new
                            + s.accepted.revised
                            + s.accepted.duplicates
                            + s.accepted.quarantined
                    })
                    .sum();
                if done >= n {
                    break;
                }
                if done != last {
                    (last, still) = (done, Instant::now());
                } else if sender.is_finished() && still.elapsed() > Duration::from_secs(2) {
                    break;
                }
            }
            shutdown.cancel();
        };
        let (served, ()) = tokio::join!(serve, watch);
        served
    });
    result?;
    let bytes = sender
        .join()
        .map_err(|_| anyhow::anyhow!("the sender panicked"))?
        .context("sending")?;
    let status = collector.status();
    let stored: u64 = status
        .iter()
        .map(|s| s.accepted.new + s.accepted.revised)
        .sum();
    let dropped: u64 = status.iter().map(|s| s.udp_dropped).sum();
    drop(collector);
    let archived = p.archive()?.records;
    let m = Measured {
        records: stored,
        bytes,
        cpu: (cpu_seconds() - cpu0) - (sender_cpu_seconds() - send0),
        wall: wall0.elapsed().as_secs_f64(),
        archived,
        peak_rss_mib: peak_rss_mib(),
    };
    if stored < n {
        let received: u64 = status.iter().map(|s| s.messages).sum();
        output::line(&format!(
            "{}: {stored} of {n} messages stored; {received} received, {dropped} of them dropped at the full queue, {} lost in the socket buffer",
            protocol.as_str(),
            n.saturating_sub(received)
        ));
    }
    Ok(m)
}

pub(crate) fn run(b: &SyslogBench, dir: &Path) -> anyhow::Result<ExitCode> {
    crate::bench::fresh_dir(dir)?;
    let rt = crate::collect::runtime()?;
    let n = b.messages;

    // The baseline's input: the rows the source builds for the same messages, as LA JSON lines.
    let rows = dir.join("syslog-rows.json");
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&rows)?);
    let peer: std::net::SocketAddr = "127.0.0.1:40000".parse()?;
    let at = chrono::Utc::now().timestamp_micros();
    let mut wire = 0u64;
    for i in 0..n {
        let m = message(i);
        wire += m.len() as u64;
        let r = Received {
            source: "bench",
            listener: "tcp 127.0.0.1:514",
            peer,
            at: at + i as i64,
            collector: "bench",
        };
        serde_json::to_writer(
            &mut file,
            &serde_json::Value::Object(sources::syslog::row::row(m.as_bytes(), 0, &r)),
        )?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    drop(file);
    let file_bytes = std::fs::metadata(&rows)?.len();
    output::line(&format!(
        "input: {n} syslog messages, {} on the wire; the same as Syslog rows in {} ({})",
        output::bytes(wire),
        rows.display(),
        output::bytes(file_bytes)
    ));

    let mut fp = open(&dir.join("file-data"), Vec::new())?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![rows.display().to_string()],
    ))?;
    reset_peak_rss();
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let report = fp.import(&source, Progress::default())?;
    let archived = fp.archive()?.records;
    let file = Measured {
        records: report.outcome.appended,
        bytes: file_bytes,
        cpu: cpu_seconds() - cpu0,
        wall: wall0.elapsed().as_secs_f64(),
        archived,
        peak_rss_mib: peak_rss_mib(),
    };
    drop(fp);
    output::line(&file.line("file import (Syslog rows)"));

    let tcp = through_syslog(&rt, &dir.join("tcp-data"), Protocol::Tcp, n, b.udp_rate)?;
    output::line(&tcp.line("syslog tcp (octet counting)"));
    anyhow::ensure!(
        tcp.records == file.records && tcp.archived == file.archived,
        "both paths must store every record: file {} / {} archived, syslog tcp {} / {}",
        file.records,
        file.archived,
        tcp.records,
        tcp.archived
    );
    let udp = through_syslog(&rt, &dir.join("udp-data"), Protocol::Udp, n, b.udp_rate)?;
    output::line(&udp.line("syslog udp"));
    let per_cpu = |m: &Measured| m.records as f64 / m.cpu.max(1e-9);
    output::line(&format!(
        "ratio in records per CPU-second: syslog tcp {:.2}x file import, syslog udp {:.2}x",
        per_cpu(&tcp) / per_cpu(&file).max(1e-9),
        per_cpu(&udp) / per_cpu(&file).max(1e-9)
    ));
    Ok(ExitCode::SUCCESS)
}
