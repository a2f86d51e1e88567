//! `entrail bench blob`: diagnostic-shape sign-ins written by the simulator to Azurite in Microsoft's
//! Storage layout (append blobs, one record a line, per hour) and read by the Blob source into the archive,
//! against the file-ingest path over the same lines in the same run: records and MiB per CPU-second of each
//! and their ratio (Azurite runs in its own process; its CPU is reported apart, as Azure's would not be
//! ours). Then the listing phase: 1/100, 1/10 and all of `--blobs` small NSG flow-log blobs (100 NSGs x 10
//! hours x NICs) served by a loopback List Blobs / Get Blob server (`sim::blob_server`; Azurite writes only
//! ~30 blobs/s) are listed and read by a fresh source each, reporting the peak RSS of each size.

use crate::bench::{cpu_seconds, peak_rss_mib, read_proc, reset_peak_rss};
use crate::output;
use anyhow::Context;
use pipeline::config::RawSourceConfig;
use pipeline::{Pipeline, RawConfig};
use sources::blob::{BlobAuth, BlobSourceConfig, PollReport};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

const NSG: &str = "insights-logs-networksecuritygroupflowevent";

/// What `bench blob` runs.
#[derive(Debug, Clone)]
pub(crate) struct BlobBench {
    pub records: u64,
    pub blobs: u64,
    /// Only the listing phase (no Azurite).
    pub listing_only: bool,
}

/// CPU seconds (user + system) of another process, from /proc.
fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = read_proc(&format!("/proc/{pid}/stat"));
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn current_rss_mib() -> f64 {
    read_proc("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
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

/// A Blob source over `containers` (empty: every `insights-logs-*` container found).
fn blob_source(azurite: &sim::azurite::Azurite, containers: &[&str]) -> RawSourceConfig {
    let mut cfg = BlobSourceConfig::new(
        "bench",
        azurite.blob_endpoint(),
        BlobAuth::ConnectionString {
            connection_string: azurite.connection_string().into(),
        },
    );
    cfg.containers = containers.iter().map(|c| (*c).to_owned()).collect();
    cfg.since = Some("2024-01-01T00:00:00Z".to_owned());
    RawSourceConfig::Blob(Box::new(cfg))
}

fn totals(reports: &[(String, PollReport)]) -> anyhow::Result<(u64, u64, u64)> {
    let (mut blobs, mut records, mut appended) = (0, 0, 0);
    for c in reports.iter().flat_map(|(_, r)| &r.containers) {
        if let Some(e) = &c.error {
            anyhow::bail!("{}: {e}", c.container);
        }
        blobs += c.blobs_read;
        records += c.records;
        appended += c.accepted.new + c.accepted.revised;
    }
    Ok((blobs, records, appended))
}

/// One path's figures.
struct Measured {
    cpu: f64,
    wall: f64,
    appended: u64,
    archived: u64,
    peak_rss_mib: f64,
}

pub(crate) fn run(b: &BlobBench, dir: &Path) -> anyhow::Result<ExitCode> {
    crate::bench::fresh_dir(dir)?;
    let rt = crate::collect::runtime()?;
    if b.listing_only {
        listing(b, &rt, dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    let azurite = sim::azurite::Azurite::start()?;
    let client = azurite.client();

    // The same sign-ins as append blobs in Azurite and as lines in one file.
    let lines = dir.join("signins.json");
    output::line(&format!(
        "generating {} diagnostic-shape sign-ins (four sign-in categories) into Azurite and {} ...",
        b.records,
        lines.display()
    ));
    let cfg = sim::TenantConfig {
        seed: 7,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&lines)?);
    let mut write_err = None;
    let events = sim::Generator::sign_ins_only(&tenant, &cfg)
        .with_truth(false)
        .take(usize::try_from(b.records).unwrap_or(usize::MAX))
        .inspect(|ev| {
            if let Some(v) = sim::render(ev, sim::Shape::Diagnostic, cfg.quirks, &tenant) {
                let r = serde_json::to_writer(&mut file, &v)
                    .map_err(std::io::Error::from)
                    .and_then(|()| file.write_all(b"\n"));
                if let Err(e) = r {
                    write_err.get_or_insert(e);
                }
            }
        });
    let written = rt.block_on(sim::blob::write_events(
        &client, events, cfg.quirks, &tenant,
    ))?;
    if let Some(e) = write_err {
        return Err(e).context("writing the lines file");
    }
    file.flush()?;
    drop(file);
    let mib = written.bytes as f64 / (1024.0 * 1024.0);
    output::line(&format!(
        "input: {} records, {} blobs, {} Append Block calls, {}",
        written.records.values().sum::<u64>(),
        written.blobs,
        written.appends,
        output::bytes(written.bytes)
    ));

    // The file path.
    let mut fp = open(&dir.join("file-data"), Vec::new())?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![lines.display().to_string()],
    ))?;
    reset_peak_rss();
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let report = fp.import(&source, Progress::default())?;
    let archived = fp.archive()?;
    let file = Measured {
        cpu: cpu_seconds() - cpu0,
        wall: wall0.elapsed().as_secs_f64(),
        appended: report.outcome.appended,
        archived: archived.records,
        peak_rss_mib: peak_rss_mib(),
    };
    drop(fp);

    // The Blob path: one poll over every hour, then the archive.
    let mut bp = open(&dir.join("blob-data"), vec![blob_source(&azurite, &[])])?;
    let collector = bp.collector()?;
    reset_peak_rss();
    let (cpu0, az0, wall0) = (
        cpu_seconds(),
        process_cpu_seconds(azurite.pid()),
        Instant::now(),
    );
    let polled = rt.block_on(collector.blob().poll_once())?;
    let (blobs_read, records_read, appended) = totals(&polled)?;
    output::line(&format!(
        "blob source: {blobs_read} blobs read, {records_read} records decoded"
    ));
    drop(collector);
    let archived = bp.archive()?;
    let blob = Measured {
        cpu: cpu_seconds() - cpu0,
        wall: wall0.elapsed().as_secs_f64(),
        appended,
        archived: archived.records,
        peak_rss_mib: peak_rss_mib(),
    };
    let azurite_cpu = process_cpu_seconds(azurite.pid()) - az0;
    drop(bp);
    anyhow::ensure!(
        blob.appended == file.appended && blob.archived == file.archived,
        "both paths must store the same records: file {} appended / {} archived, blob {} / {}",
        file.appended,
        file.archived,
        blob.appended,
        blob.archived
    );
    let line = |name: &str, m: &Measured| {
        format!(
            "{name}: {} records appended, {} archived; CPU {:.2} s: {:.0} records and {:.1} MiB per CPU-second; wall {:.2} s; peak RSS {:.0} MiB",
            m.appended,
            m.archived,
            m.cpu,
            b.records as f64 / m.cpu.max(1e-9),
            mib / m.cpu.max(1e-9),
            m.wall,
            m.peak_rss_mib
        )
    };
    output::line(&line("file import", &file));
    output::line(&line("blob source", &blob));
    output::line(&format!(
        "ratio: blob source {:.2}x file import in MiB per CPU-second (Azurite, a separate process, used {azurite_cpu:.2} CPU-s serving it)",
        file.cpu / blob.cpu.max(1e-9)
    ));

    drop(azurite);
    listing(b, &rt, dir)?;
    Ok(ExitCode::SUCCESS)
}

/// The listing phase: a loopback Blob service (`sim::blob_server`) holding `blobs / 100`, `blobs / 10` and
/// `blobs` one-record NSG flow-log blobs (100 NSGs x 10 hours x NICs) answers List Blobs (XML pages of at
/// most 5000, `NextMarker`) and ranged Get Blob as Azure does; a fresh Blob source (and data directory)
/// lists and reads every blob of each size through object_store's Azure client, decodes and appends the
/// records durably. Reported per size: blobs/s, CPU, RSS before and the peak while listing, and the
/// largest List Blobs page served. The server computes names and bodies from blob numbers, so its own
/// memory does not grow with the count: a flat peak across sizes is the reader's.
fn listing(b: &BlobBench, rt: &tokio::runtime::Runtime, dir: &Path) -> anyhow::Result<()> {
    let mut sizes = vec![b.blobs / 100, b.blobs / 10, b.blobs];
    sizes.retain(|n| *n >= 1000);
    sizes.dedup();
    if sizes.is_empty() {
        sizes.push(1000);
    }
    let mut peaks = Vec::new();
    for (run, n) in sizes.into_iter().enumerate() {
        let set = sim::blob_server::FlowLogBlobs::about(n);
        let server = rt.block_on(sim::blob_server::BlobServer::start(set))?;
        let mut cfg = BlobSourceConfig::new(
            "bench",
            server.endpoint(),
            BlobAuth::AccountKey {
                key: server.key().to_owned().into(),
            },
        );
        cfg.containers = vec![NSG.to_owned()];
        cfg.since = Some("2024-03-04T00:00:00Z".to_owned());
        let lp = open(
            &dir.join(format!("list-data-{run}")),
            vec![RawSourceConfig::Blob(Box::new(cfg))],
        )?;
        let collector = lp.collector()?;
        let before = current_rss_mib();
        reset_peak_rss();
        let (cpu0, wall0) = (cpu_seconds(), Instant::now());
        let polled = rt.block_on(collector.blob().poll_once())?;
        let (blobs, records, appended) = totals(&polled)?;
        let cpu = cpu_seconds() - cpu0;
        let wall = wall0.elapsed().as_secs_f64();
        let peak = peak_rss_mib();
        drop(collector);
        drop(lp);
        let stats = server.stats();
        anyhow::ensure!(
            blobs == set.len() && records == set.len() && appended == set.len(),
            "every blob read once: {blobs} blobs read, {records} records, {appended} appended of {}",
            set.len()
        );
        output::line(&format!(
            "listing {} blobs ({} NSGs x {} hours x {} NICs, loopback List Blobs server): read in {wall:.1} s ({:.0} blobs/s, CPU {cpu:.2} s); {} List Blobs pages (largest {} entries), {} Get Blob; RSS {before:.0} MiB before, peak {peak:.0} MiB (+{:.0})",
            set.len(),
            set.nsgs,
            set.hours,
            set.nics,
            blobs as f64 / wall.max(1e-9),
            stats.lists.load(std::sync::atomic::Ordering::Relaxed),
            stats
                .largest_page
                .load(std::sync::atomic::Ordering::Relaxed),
            stats.gets.load(std::sync::atomic::Ordering::Relaxed),
            peak - before
        ));
        peaks.push((set.len(), peak - before));
    }
    output::line(&format!(
        "listing peak RSS growth by blob count: {}",
        peaks
            .iter()
            .map(|(n, d)| format!("{n}: +{d:.0} MiB"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}
