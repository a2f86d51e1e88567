//! `entrail bench blob`: diagnostic-shape sign-ins written by the simulator to Azurite in Microsoft's
//! Storage layout (append blobs, one record a line, per hour) and read by the Blob source into the archive,
//! against the file-ingest path over the same lines in the same run: records and MiB per CPU-second of each
//! and their ratio (Azurite runs in its own process; its CPU is reported apart, as Azure's would not be
//! ours). Then the listing phase: `--blobs` small NSG flow-log blobs (100 NSGs x 10 hours x NICs) are written
//! and read by a fresh source, reporting the peak RSS while it lists and reads them all.

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
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let rt = crate::collect::runtime()?;
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

    listing(b, &rt, &azurite, dir)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `blobs` one-record NSG flow-log blobs and reads them all with a fresh source.
fn listing(
    b: &BlobBench,
    rt: &tokio::runtime::Runtime,
    azurite: &sim::azurite::Azurite,
    dir: &Path,
) -> anyhow::Result<()> {
    let (nsgs, hours) = (100u64, 10u64);
    let per_folder = b.blobs.div_ceil(nsgs * hours).max(1);
    output::line(&format!(
        "writing {} flow-log blobs ({nsgs} NSGs x {hours} hours x {per_folder} NICs) into {NSG} ...",
        b.blobs
    ));
    let client = azurite.client();
    let wall0 = Instant::now();
    rt.block_on(async {
        client.create_container(NSG).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..b.blobs {
            let (nsg, rest) = (i % nsgs, i / nsgs);
            let (hour, nic) = (rest % hours, rest / hours);
            let id = format!(
                "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG{nsg:03}"
            );
            let mac = format!("00224871{nic:04X}");
            let epoch = 1_709_510_400 + hour * 3600 + (i % 3600);
            let name = format!("resourceId={id}/y=2024/m=03/d=04/h={hour:02}/m=00/macAddress={mac}/PT1H.json");
            let body = format!(
                r#"{{"records":[{{"time":"2024-03-04T{hour:02}:30:00.0000000Z","systemId":"5f2b7a1c-0000-0000-0000-000000000000","macAddress":"{mac}","category":"NetworkSecurityGroupFlowEvent","resourceId":"{id}","operationName":"NetworkSecurityGroupFlowEvents","properties":{{"Version":2,"flows":[{{"rule":"DefaultRule_AllowInternetOutBound","flows":[{{"mac":"{mac}","flowTuples":["{epoch},10.0.{}.{},13.107.21.200,{},443,T,O,A,C,7,1158,12,8143"]}}]}}]}}}}]}}"#,
                nsg,
                nic % 250,
                1024 + (i % 60000)
            );
            let c = client.clone();
            tasks.spawn(async move { c.put_block_blob(NSG, &name, body.into_bytes()).await });
            while tasks.len() >= 32 {
                if let Some(r) = tasks.join_next().await {
                    r??;
                }
            }
        }
        while let Some(r) = tasks.join_next().await {
            r??;
        }
        anyhow::Ok(())
    })?;
    output::line(&format!(
        "written in {:.1} s",
        wall0.elapsed().as_secs_f64()
    ));
    let mut lp = open(&dir.join("list-data"), vec![blob_source(azurite, &[NSG])])?;
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
    lp.archive()?;
    anyhow::ensure!(
        blobs == b.blobs && records == b.blobs && appended == b.blobs,
        "every blob read once: {blobs} blobs read, {records} records, {appended} appended of {}",
        b.blobs
    );
    output::line(&format!(
        "listing: {blobs} blobs listed and read in {wall:.1} s ({:.0} blobs/s, CPU {cpu:.2} s); RSS {before:.0} MiB before, peak {peak:.0} MiB while listing",
        blobs as f64 / wall.max(1e-9)
    ));
    Ok(())
}
