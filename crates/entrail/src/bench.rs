//! `entrail bench`: benchmarks over generated data, reported as ratios against a baseline measured in the
//! same run (DuckDB through its Python package). Run them with a release build; see docs/benchmarks.md.

use crate::output;
use anyhow::{Context, bail};
use clap::Subcommand;
use pipeline::{Pipeline, RawConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Tamper evidence: ingest CPU with sealing off vs on (alternating runs), the sealing work alone, and
    /// `entrail verify` throughput vs a plain sequential read of the same files.
    Seal {
        /// Sign-in records to generate.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Working directory (replaced; kept for inspection).
        #[arg(long, default_value = "entrail-bench-seal")]
        dir: PathBuf,
        /// Ingest runs per side (the best is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Diagnostic-shape sign-ins through decode -> dedupe -> durable append -> Parquet, vs DuckDB's
    /// read_json -> COPY (FORMAT parquet) of the same file.
    Ingest {
        /// Sign-in records to generate.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Working directory (kept for inspection).
        #[arg(long, default_value = "entrail-bench")]
        dir: PathBuf,
        /// Skip the DuckDB baseline.
        #[arg(long)]
        no_baseline: bool,
        /// Stream: a child process generates the input into a pipe (nothing on disk), the archive runs
        /// beside the import and the log is trimmed as the archive commits, so disk stays bounded. No
        /// DuckDB baseline; samples RSS over time (docs/benchmarks.md, "Ingest memory").
        #[arg(long)]
        stream: bool,
        /// With `--stream`: log entries the archive may lag behind before the import waits (bounds disk).
        #[arg(long, default_value_t = 250_000)]
        stream_lag: u64,
        /// Archive settings for the run.
        #[command(flatten)]
        archive: ArchiveKnobs,
    },
    /// Writes generated diagnostic-shape sign-ins, one per line, to stdout (the `--stream` input).
    #[command(hide = true)]
    GenSignins {
        /// Sign-in records to generate.
        #[arg(long)]
        records: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// The durable log's group commit (appends/s with fsync, 1..32 threads) and the dedupe index (checks/s).
    Log {
        /// Working directory (a real disk: fsync is measured).
        #[arg(long, default_value = "entrail-bench-log")]
        dir: PathBuf,
    },
    /// A Graph backfill of a simulated tenant over HTTP under its throttle limits, vs the API-bound minimum.
    Graph {
        /// Users in the simulated tenant.
        #[arg(long, default_value_t = 500)]
        users: u32,
        /// Simulated days to backfill.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Scale on every event rate (below 1 keeps a long backfill of a big tenant in memory).
        #[arg(long, default_value_t = 1.0)]
        volume_scale: f64,
        /// Reports-API requests allowed per window (Microsoft: 5 per 10 s per app per tenant).
        #[arg(long, default_value_t = 5)]
        reports_per_window: u32,
        /// The reports window.
        #[arg(long, default_value = "10s")]
        reports_window: String,
        /// Identity Protection requests per second (Microsoft: 1).
        #[arg(long, default_value_t = 1)]
        identity_protection_per_s: u32,
        /// Categories to collect (comma-separated; default: all the tenant serves by default).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Working directory (replaced).
        #[arg(long, default_value = "entrail-bench-graph")]
        dir: PathBuf,
    },
    /// Sign-ins as append blobs in Azurite through the Blob source into the archive, vs the file-ingest path
    /// over the same lines; then peak RSS while listing and reading `--blobs` blobs (docs/blob.md).
    Blob {
        /// Sign-in records to generate.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Flow-log blobs of the largest listing run (1/100 and 1/10 of it run first).
        #[arg(long, default_value_t = 100_000)]
        blobs: u64,
        /// Only the listing phase (a loopback List Blobs server; no Azurite).
        #[arg(long)]
        listing_only: bool,
        /// Working directory (replaced).
        #[arg(long, default_value = "entrail-bench-blob")]
        dir: PathBuf,
    },
    /// Syslog messages over loopback TCP and UDP through the syslog source into the archive, vs file import
    /// of the same records as Syslog rows (docs/benchmarks.md, "Syslog source").
    Syslog {
        /// Messages to send.
        #[arg(long, default_value_t = 200_000)]
        messages: u64,
        /// UDP send rate in messages per second (UDP has no backpressure).
        #[arg(long, default_value_t = 20_000)]
        udp_rate: u64,
        /// Working directory (replaced).
        #[arg(long, default_value = "entrail-bench-syslog")]
        dir: PathBuf,
    },
    /// Sign-ins as Event Hubs messages from the Kafka mock cluster through the Event Hubs source into the
    /// archive, vs the file-ingest path over the same message bodies (docs/eventhubs.md).
    Eventhubs {
        /// Sign-in records to generate (held in memory by the mock broker).
        #[arg(long, default_value_t = 50_000)]
        records: u64,
        /// Records per message (Event Hubs batches diagnostic settings; at most ~900 KB a message).
        #[arg(long, default_value_t = 100)]
        per_message: usize,
        /// Partitions of the topic (at least one per ~4 MiB of input: the mock broker keeps 5 MiB each).
        #[arg(long, default_value_t = 4)]
        partitions: i32,
        /// Working directory (replaced).
        #[arg(long, default_value = "entrail-bench-eventhubs")]
        dir: PathBuf,
    },
    /// Every sink and encoding into in-process loopback receivers: records/s and MiB per CPU-second vs the
    /// file sink, then append -> acknowledged latency p50/p99 at a paced rate (docs/benchmarks.md).
    Sinks {
        /// Sign-in records to generate for the throughput runs.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Paced append rate of the latency runs (records/s).
        #[arg(long, default_value_t = 10_000)]
        rate: u64,
        /// Seconds of each latency run.
        #[arg(long, default_value_t = 5)]
        latency_secs: u64,
        /// Working directory (replaced).
        #[arg(long, default_value = "entrail-bench-sinks")]
        dir: PathBuf,
    },
    /// `entrail hunt` over an NDJSON file of diagnostic-settings records vs the `rsigma` 0.23 command line
    /// on the same file and rules: records/s, CPU-seconds, ratio (docs/benchmarks.md, "Hunt vs rsigma").
    Hunt {
        /// Records to generate (the file is kept in `--dir` and reused).
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Sigma rules directory (default: the 123 SigmaHQ azure rules of the shared test data).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The rsigma binary (`scripts/bench-deps` installs it there).
        #[arg(long, default_value = "/var/tmp/rsigma/bin/rsigma")]
        rsigma: PathBuf,
        /// Working directory (the generated file is kept and reused).
        #[arg(long, default_value = "entrail-bench-hunt")]
        dir: PathBuf,
        /// Runs of each side (the fastest is compared).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Ten analyst queries over generated sign-ins in the archive, vs DuckDB over the same Parquet files.
    Query {
        /// Sign-in records to generate.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Working directory (kept; reused when it already holds the same number of records).
        #[arg(long, default_value = "entrail-bench-query")]
        dir: PathBuf,
        /// Runs per query (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

/// Empties (or creates) a bench's working directory.
pub(crate) fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// The archive settings `bench ingest` takes from its flags.
#[derive(Debug, clap::Args)]
pub(crate) struct ArchiveKnobs {
    /// `archive.max_buffer_mib` for the run (default: the config default).
    #[arg(long)]
    max_buffer_mib: Option<u64>,
    /// `archive.spill = false` for the run: partition buffers keep their entries in memory.
    #[arg(long)]
    no_spill: bool,
    /// `archive.raw` for the run: `text` (default) or `residual`.
    #[arg(long, value_parser = ["text", "residual"])]
    raw: Option<String>,
    /// `archive.compact_zstd_level` for the run (1..=22).
    #[arg(long)]
    compact_zstd_level: Option<i32>,
    /// `archive.zstd_level` (of the files partition buffers are written to) for the run (1..=22).
    #[arg(long)]
    zstd_level: Option<i32>,
    /// `archive.compaction` for the run: `merge` (default) or `stitch`.
    #[arg(long, value_parser = ["merge", "stitch"])]
    compaction: Option<String>,
}

impl ArchiveKnobs {
    /// Sets these in `raw`'s `[archive]`.
    pub(crate) fn apply(&self, raw: &mut RawConfig) {
        raw.archive.max_buffer_mib = self.max_buffer_mib;
        raw.archive.spill = Some(!self.no_spill);
        raw.archive.raw = match self.raw.as_deref() {
            Some("residual") => Some(store::archive::RawMode::Residual),
            Some(_) => Some(store::archive::RawMode::Text),
            None => None,
        };
        if self.compact_zstd_level.is_some() {
            raw.archive.compact_zstd_level = self.compact_zstd_level;
        }
        if self.zstd_level.is_some() {
            raw.archive.zstd_level = self.zstd_level;
        }
        raw.archive.compaction = match self.compaction.as_deref() {
            Some("stitch") => Some(store::archive::CompactionMode::Stitch),
            Some(_) => Some(store::archive::CompactionMode::Merge),
            None => None,
        };
    }
}

pub(crate) fn run(which: &BenchCommand) -> anyhow::Result<ExitCode> {
    match which {
        BenchCommand::Seal { records, dir, runs } => crate::bench_seal::run(*records, dir, *runs),
        BenchCommand::Ingest {
            records,
            dir,
            stream: true,
            stream_lag,
            archive,
            ..
        } => crate::bench_ingest::stream(*records, dir, *stream_lag, archive),
        BenchCommand::Ingest {
            records,
            dir,
            no_baseline,
            archive,
            ..
        } => ingest(*records, dir, *no_baseline, archive),
        BenchCommand::GenSignins { records, seed } => {
            let mut out = std::io::stdout().lock();
            write_signins_to(&mut out, *records, *seed, true)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Query { records, dir, runs } => crate::bench_query::run(*records, dir, *runs),
        BenchCommand::Hunt {
            records,
            rules,
            rsigma,
            dir,
            runs,
        } => crate::bench_hunt::run(&crate::bench_hunt::HuntBench {
            records: *records,
            rules: rules
                .clone()
                .unwrap_or_else(crate::bench_hunt::default_rules),
            rsigma: rsigma.clone(),
            dir: dir.clone(),
            runs: *runs,
        }),
        BenchCommand::Log { dir } => crate::bench_log::run(dir),
        BenchCommand::Sinks {
            records,
            rate,
            latency_secs,
            dir,
        } => crate::bench_sinks::run(
            &crate::bench_sinks::SinksBench {
                records: *records,
                rate: *rate,
                latency_secs: *latency_secs,
            },
            dir,
        ),
        BenchCommand::Blob {
            records,
            blobs,
            listing_only,
            dir,
        } => crate::bench_blob::run(
            &crate::bench_blob::BlobBench {
                records: *records,
                blobs: *blobs,
                listing_only: *listing_only,
            },
            dir,
        ),
        BenchCommand::Syslog {
            messages,
            udp_rate,
            dir,
        } => crate::bench_syslog::run(
            &crate::bench_syslog::SyslogBench {
                messages: *messages,
                udp_rate: *udp_rate,
            },
            dir,
        ),
        BenchCommand::Eventhubs {
            records,
            per_message,
            partitions,
            dir,
        } => crate::bench_eventhubs::run(
            &crate::bench_eventhubs::EventHubsBench {
                records: *records,
                per_message: *per_message,
                partitions: *partitions,
            },
            dir,
        ),
        BenchCommand::Graph {
            users,
            days,
            volume_scale,
            reports_per_window,
            reports_window,
            identity_protection_per_s,
            categories,
            dir,
        } => crate::bench_graph::run(
            &crate::bench_graph::GraphBench {
                users: *users,
                days: *days,
                volume_scale: *volume_scale,
                reports_per_window: *reports_per_window,
                reports_window: humantime::parse_duration(reports_window)
                    .context("--reports-window")?,
                identity_protection_per_s: *identity_protection_per_s,
                categories: categories.clone(),
            },
            dir,
        ),
    }
}

/// A small /proc file as text; empty when unreadable (the figure derived from it is then 0).
pub(crate) fn read_proc(path: &str) -> String {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| model::limits::read_capped(f, 1 << 16).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
pub(crate) fn cpu_seconds() -> f64 {
    let stat = read_proc("/proc/self/stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the state field.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size of this process in MiB, from /proc/self/status.
pub(crate) fn peak_rss_mib() -> f64 {
    let status = read_proc("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the kernel's peak-RSS mark of this process (`VmHWM`), where the kernel allows it.
pub(crate) fn reset_peak_rss() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        tracing::warn!(error = %e, "cannot reset the peak RSS mark; it includes earlier phases");
    }
}

/// Writes `records` generated sign-ins (interactive and non-interactive) in the diagnostic shape, one per
/// line (the Storage `PT1H.json` form DuckDB's read_json also reads). Returns bytes written.
pub(crate) fn write_signins(
    path: &Path,
    records: u64,
    seed: u64,
    republish: bool,
) -> anyhow::Result<u64> {
    write_signins_to(std::fs::File::create(path)?, records, seed, republish)
}

/// [`write_signins`] into any writer (a file, or stdout for `bench ingest --stream`).
pub(crate) fn write_signins_to(
    out: impl Write,
    records: u64,
    seed: u64,
    republish: bool,
) -> anyhow::Result<u64> {
    let mut cfg = sim::TenantConfig {
        seed,
        users: 10_000,
        days: 3650,
        ..sim::TenantConfig::default()
    };
    if !republish {
        cfg.duplicate_rate = 0.0;
        cfg.republish_rate = 0.0;
    }
    let tenant = sim::Tenant::new(&cfg);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut bytes = 0u64;
    let mut n = 0u64;
    for event in sim::Generator::sign_ins_only(&tenant, &cfg).with_truth(false) {
        if n >= records {
            break;
        }
        let Some(v) = sim::render(&event, sim::Shape::Diagnostic, cfg.quirks, &tenant) else {
            continue;
        };
        let line = serde_json::to_vec(&v)?;
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        bytes += line.len() as u64 + 1;
        n += 1;
    }
    out.flush()?;
    if n < records {
        bail!("the generator produced only {n} sign-ins");
    }
    Ok(bytes)
}

fn ingest(
    records: u64,
    dir: &Path,
    no_baseline: bool,
    knobs: &ArchiveKnobs,
) -> anyhow::Result<ExitCode> {
    crate::bench::fresh_dir(dir)?;
    let input = dir.join("signins.json");
    output::line(&format!(
        "generating {records} diagnostic-shape sign-ins into {} ...",
        input.display()
    ));
    let input_bytes = write_signins(&input, records, 7, true)?;
    let mib = input_bytes as f64 / (1024.0 * 1024.0);
    output::line(&format!(
        "input: {} ({} bytes/record)",
        output::bytes(input_bytes),
        input_bytes / records.max(1)
    ));

    let mut raw = RawConfig {
        data_dir: Some(dir.join("data")),
        ..RawConfig::default()
    };
    knobs.apply(&mut raw);
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut pipeline = Pipeline::open(config)?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![input.display().to_string()],
    ))?;
    // Generating the input ran in this process too: reset the peak-RSS mark so it measures ingest alone.
    reset_peak_rss();
    let cpu0 = cpu_seconds();
    let wall0 = Instant::now();
    let report = pipeline.import(&source, Progress::default())?;
    let cpu_ingest = cpu_seconds() - cpu0;
    let rss_ingest = peak_rss_mib();
    let archived = pipeline.archive()?;
    let cpu = cpu_seconds() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let archive_bytes: u64 = pipeline
        .open_archive()?
        .stats()
        .iter()
        .map(|t| t.bytes)
        .sum();
    let rate = mib / cpu.max(1e-9);
    output::line(&format!(
        "entrail: {} records appended, {} archived; CPU {cpu:.2} s (decode+dedupe+append {cpu_ingest:.2} s, Parquet {:.2} s), wall {wall:.2} s",
        report.outcome.appended,
        archived.records,
        cpu - cpu_ingest
    ));
    output::line(&format!(
        "entrail: {rate:.1} MiB per CPU-second; archive {} = 1/{:.1} of the input; peak RSS {:.0} MiB",
        output::bytes(archive_bytes),
        input_bytes as f64 / archive_bytes.max(1) as f64,
        peak_rss_mib()
    ));
    let (keys, dedupe_bytes) = {
        let hub = pipeline.hub();
        (hub.dedupe_keys(), hub.dedupe_memory_bytes())
    };
    output::line(&format!(
        "entrail: peak RSS {rss_ingest:.0} MiB after decode+dedupe+append; dedupe index {keys} keys ~{:.1} MiB ({:.0} bytes/key)",
        dedupe_bytes as f64 / (1024.0 * 1024.0),
        dedupe_bytes as f64 / keys.max(1) as f64
    ));
    if no_baseline {
        return Ok(ExitCode::SUCCESS);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/duckdb_ingest.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&input)
        .arg(dir.join("duckdb.parquet"))
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "DuckDB baseline failed (pip install duckdb): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("DuckDB baseline output")?;
    let duck_cpu = v["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
    let duck_rate = mib / duck_cpu;
    let duck_bytes = v["parquet_bytes"].as_u64().unwrap_or(0);
    output::line(&format!(
        "duckdb {}: CPU {duck_cpu:.2} s, {duck_rate:.1} MiB per CPU-second, Parquet 1/{:.1} of the input",
        v["version"].as_str().unwrap_or("?"),
        input_bytes as f64 / duck_bytes.max(1) as f64
    ));
    output::line(&format!(
        "ratio: entrail {:.2}x DuckDB (MiB per CPU-second)",
        rate / duck_rate
    ));
    Ok(ExitCode::SUCCESS)
}
