//! `entrail bench ingest --stream`: an input of any size through decode -> dedupe -> durable append ->
//! Parquet with bounded disk and a memory timeline. A child process (`entrail bench gen-signins`) generates
//! the diagnostic-shape sign-ins into a pipe, so the input never sits on disk and the generator's CPU and
//! memory are not counted; the import runs on one thread while the archive consumer runs on this one, as
//! `entrail run` does; the log is trimmed after every archive commit, and the import waits while the log
//! retains more than `--stream-lag` entries. A sampler thread reads VmRSS every 100 ms.
use crate::bench::{cpu_seconds, peak_rss_mib, read_proc, reset_peak_rss};
use crate::output;
use anyhow::{Context, bail};
use model::normalize::{DecodeContext, Format, decode_stream};
use pipeline::{Pipeline, RawConfig};
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::hub::{Hub, IngestOutcome};
use store::log::Log;

/// Records per batch: the file source's default, so both modes commit alike.
const BATCH_RECORDS: usize = 4096;
/// Sampling period of the RSS timeline.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// A timeline line is printed this often.
const PRINT_EVERY: Duration = Duration::from_secs(15);

/// What the threads tell the sampler.
#[derive(Default)]
struct Gauges {
    /// Input bytes read from the pipe.
    input_bytes: AtomicU64,
    /// The import thread is inside `Hub::ingest`.
    ingesting: AtomicBool,
    /// The archive consumer is inside `Pipeline::archive`.
    archiving: AtomicBool,
    /// The import reached the end of the input (or failed).
    import_done: AtomicBool,
    /// Stop everything (an error elsewhere).
    abort: AtomicBool,
    /// Everything archived; the sampler stops.
    finished: AtomicBool,
}

/// A reader that counts bytes into [`Gauges::input_bytes`].
struct Counting<'a, R> {
    inner: R,
    gauges: &'a Gauges,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.gauges
            .input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Resident set size of this process now, in MiB (VmRSS).
fn rss_mib() -> f64 {
    read_proc("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) of the calling thread, from /proc/thread-self/stat.
fn thread_cpu_seconds() -> f64 {
    let stat = read_proc("/proc/thread-self/stat");
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

const MIB: f64 = 1024.0 * 1024.0;

/// The sampler's findings.
#[derive(Debug, Default)]
struct Samples {
    peak_rss: f64,
    /// What ran when the peak was sampled.
    peak_state: String,
    peak_log_bytes: u64,
    /// Highest RSS while only the import ran / only the archive ran / both.
    peak_import_only: f64,
    peak_archive_only: f64,
    peak_both: f64,
}

fn sample(gauges: &Gauges, log: &Log, wall0: Instant) -> Samples {
    let mut s = Samples::default();
    let mut last_print = Instant::now();
    while !gauges.finished.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        let rss = rss_mib();
        let ingesting = gauges.ingesting.load(Ordering::Relaxed);
        let archiving = gauges.archiving.load(Ordering::Relaxed);
        let log_bytes = log.disk_bytes();
        s.peak_log_bytes = s.peak_log_bytes.max(log_bytes);
        let slot = match (ingesting, archiving) {
            (true, false) => &mut s.peak_import_only,
            (false, true) => &mut s.peak_archive_only,
            (true, true) => &mut s.peak_both,
            (false, false) => &mut s.peak_rss,
        };
        *slot = slot.max(rss);
        if rss >= s.peak_rss {
            s.peak_rss = rss;
            s.peak_state = format!(
                "import {}, archive {}, {:.0} MiB of input read, log {:.0} MiB on disk",
                if ingesting { "running" } else { "waiting" },
                if archiving { "running" } else { "waiting" },
                gauges.input_bytes.load(Ordering::Relaxed) as f64 / MIB,
                log_bytes as f64 / MIB
            );
        }
        if last_print.elapsed() >= PRINT_EVERY {
            last_print = Instant::now();
            output::line(&format!(
                "  t={:>5.0}s input {:>7.0} MiB, RSS {rss:>4.0} MiB (peak {:.0}), log {:>5.0} MiB on disk, offset {}",
                wall0.elapsed().as_secs_f64(),
                gauges.input_bytes.load(Ordering::Relaxed) as f64 / MIB,
                s.peak_rss,
                log_bytes as f64 / MIB,
                log.end_offset()
            ));
        }
    }
    s
}

/// What the import thread did.
#[derive(Debug, Default)]
struct Imported {
    records: u64,
    outcome: IngestOutcome,
    cpu: f64,
    waited: Duration,
}

/// Decodes the pipe into batches and ingests each, waiting while the log retains more than `lag` entries.
fn import(
    input: impl Read,
    hub: &Mutex<Hub>,
    log: &Log,
    lag: u64,
    gauges: &Gauges,
) -> anyhow::Result<Imported> {
    let reader = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: input,
            gauges,
        },
    );
    let cx = DecodeContext {
        source: "bench".into(),
        location: "stdin".into(),
        ingest_time: chrono::Utc::now().timestamp_micros(),
        category: None,
        shape: None,
    };
    let mut items = decode_stream(reader, Format::JsonLines, cx);
    let mut done = Imported::default();
    loop {
        let mut records = Vec::with_capacity(BATCH_RECORDS);
        let mut rejected = Vec::new();
        for item in items.by_ref() {
            match item {
                Ok(r) => records.push(r),
                Err(r) => rejected.push(r),
            }
            if records.len() + rejected.len() >= BATCH_RECORDS {
                break;
            }
        }
        if records.is_empty() && rejected.is_empty() {
            break;
        }
        let waited = Instant::now();
        while log.end_offset().saturating_sub(log.start_offset()) > lag {
            if gauges.abort.load(Ordering::Relaxed) {
                bail!("stopped: the archive failed");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        done.waited += waited.elapsed();
        done.records += records.len() as u64;
        gauges.ingesting.store(true, Ordering::Relaxed);
        let o = hub
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .ingest(records, rejected);
        gauges.ingesting.store(false, Ordering::Relaxed);
        let o = o?;
        done.outcome.appended += o.appended;
        done.outcome.revisions += o.revisions;
        done.outcome.duplicates += o.duplicates;
        done.outcome.quarantined += o.quarantined;
    }
    hub.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .checkpoint()?;
    done.cpu = thread_cpu_seconds();
    Ok(done)
}

/// Archives and trims until the import is done and everything is archived; returns (records, thread CPU).
fn archive(pipeline: &mut Pipeline, gauges: &Gauges) -> anyhow::Result<(u64, f64)> {
    let mut archived = 0;
    loop {
        let import_done = gauges.import_done.load(Ordering::Acquire);
        gauges.archiving.store(true, Ordering::Relaxed);
        let r = pipeline.archive();
        gauges.archiving.store(false, Ordering::Relaxed);
        let r = r?;
        archived += r.records;
        pipeline.trim_log()?;
        if import_done && r.records == 0 {
            return Ok((archived, thread_cpu_seconds()));
        }
        if r.records == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `entrail bench ingest --stream`; see the module docs.
pub(crate) fn stream(
    records: u64,
    dir: &Path,
    lag: u64,
    knobs: &crate::bench::ArchiveKnobs,
) -> anyhow::Result<ExitCode> {
    crate::bench::fresh_dir(dir)?;
    let mut raw = RawConfig {
        data_dir: Some(dir.join("data")),
        ..RawConfig::default()
    };
    knobs.apply(&mut raw);
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut pipeline = Pipeline::open(config)?;
    let mut child = Command::new(std::env::current_exe().context("locating entrail")?)
        .args(["bench", "gen-signins", "--records", &records.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the generator")?;
    let pipe = child.stdout.take().context("generator stdout")?;
    output::line(&format!(
        "streaming {records} generated diagnostic-shape sign-ins through a pipe; the log retains at most ~{lag} entries"
    ));
    let hub = pipeline.shared_hub();
    let log: Arc<Log> = pipeline.log().clone();
    let gauges = Gauges::default();
    reset_peak_rss();
    let cpu0 = cpu_seconds();
    let wall0 = Instant::now();
    let (imported, archived, samples) = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample(&gauges, &log, wall0));
        let importer = s.spawn(|| {
            let r = import(pipe, &hub, &log, lag, &gauges);
            gauges.import_done.store(true, Ordering::Release);
            r
        });
        let archived = archive(&mut pipeline, &gauges);
        if archived.is_err() {
            gauges.abort.store(true, Ordering::Relaxed);
        }
        let imported = importer.join();
        gauges.finished.store(true, Ordering::Relaxed);
        let samples = sampler.join();
        (imported, archived, samples)
    });
    let status = child.wait().context("waiting for the generator")?;
    let imported = imported
        .map_err(|_| anyhow::anyhow!("the import thread panicked"))?
        .context("import")?;
    let (archived, archive_cpu) = archived.context("archive")?;
    let samples = samples.map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
    if !status.success() {
        bail!("the generator failed: {status}");
    }
    let cpu = cpu_seconds() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let input_bytes = gauges.input_bytes.load(Ordering::Relaxed);
    let mib = input_bytes as f64 / MIB;
    let archive_bytes: u64 = pipeline
        .open_archive()?
        .stats()
        .iter()
        .map(|t| t.bytes)
        .sum();
    let (keys, dedupe_bytes) = {
        let hub = pipeline.hub();
        (hub.dedupe_keys(), hub.dedupe_memory_bytes())
    };
    output::line(&format!(
        "input: {} through the pipe ({} bytes/record), never on disk",
        output::bytes(input_bytes),
        input_bytes / imported.records.max(1)
    ));
    output::line(&format!(
        "entrail: {} records appended ({} duplicates), {archived} archived; CPU {cpu:.1} s (archive thread {archive_cpu:.1} s, import thread {:.1} s), wall {wall:.1} s (import waited {:.1} s for the archive)",
        imported.outcome.appended,
        imported.outcome.duplicates,
        imported.cpu,
        imported.waited.as_secs_f64()
    ));
    output::line(&format!(
        "entrail: {:.1} MiB per CPU-second; archive {} = 1/{:.1} of the input; log peak {:.0} MiB on disk",
        mib / cpu.max(1e-9),
        output::bytes(archive_bytes),
        input_bytes as f64 / archive_bytes.max(1) as f64,
        samples.peak_log_bytes as f64 / MIB
    ));
    output::line(&format!(
        "memory: peak RSS {:.0} MiB (VmHWM); sampled peak {:.0} MiB with {}",
        peak_rss_mib(),
        samples.peak_rss,
        samples.peak_state
    ));
    output::line(&format!(
        "memory: sampled peaks by phase: import alone {:.0} MiB, archive alone {:.0} MiB, both {:.0} MiB; dedupe index {keys} keys ~{:.0} MiB ({:.0} bytes/key)",
        samples.peak_import_only,
        samples.peak_archive_only,
        samples.peak_both,
        dedupe_bytes as f64 / MIB,
        dedupe_bytes as f64 / keys.max(1) as f64
    ));
    Ok(ExitCode::SUCCESS)
}
