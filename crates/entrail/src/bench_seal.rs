//! `entrail bench seal`: the cost of tamper evidence. Sealing overhead on ingest (the `bench ingest` path run
//! with `[integrity]` off and on, alternately, in this process; plus the sealing work measured alone by
//! re-sealing every sealed file), and `entrail verify` throughput against a plain sequential read of the
//! same files. See docs/benchmarks.md.

use crate::bench::{cpu_seconds, write_signins};
use crate::output;
use pipeline::{Pipeline, RawConfig};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use store::seal::{Body, Entry, VerifyOptions};

/// One ingest run: CPU seconds of import + archive.
fn ingest_once(input: &Path, data: &Path, keys: Option<&Path>) -> anyhow::Result<f64> {
    if data.exists() {
        std::fs::remove_dir_all(data)?;
    }
    let mut raw = RawConfig {
        data_dir: Some(data.to_owned()),
        ..RawConfig::default()
    };
    // Small segments so that segments roll (and are sealed) during the run; the same for both sides.
    raw.log.segment_mib = Some(16);
    raw.integrity.enabled = Some(keys.is_some());
    raw.integrity.signing_key_file = keys.map(|k| k.join("signing.pem"));
    raw.integrity.verify_key_file = keys.map(|k| k.join("verify.pem"));
    let config = raw.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let source = FileSource::new(FileSourceConfig::new(
        "bench",
        vec![input.display().to_string()],
    ))?;
    let cpu0 = cpu_seconds();
    let mut pipeline = Pipeline::open(config)?;
    pipeline.import(&source, Progress::default())?;
    pipeline.archive()?;
    drop(pipeline);
    Ok(cpu_seconds() - cpu0)
}

/// Re-seals every file the chain of `data` holds with `alg`, returning (CPU seconds, bytes).
fn reseal(data: &Path, alg: store::seal::HashAlg) -> anyhow::Result<(f64, u64)> {
    let text = std::fs::File::open(data.join(store::seal::CHAIN_FILE))
        .map_err(anyhow::Error::from)
        .and_then(|f| Ok(model::limits::read_capped(f, 1 << 30)?))?;
    let entries: Vec<Entry> = String::from_utf8(text)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let cpu0 = cpu_seconds();
    let mut bytes = 0;
    for e in entries {
        match e.body {
            Body::Segment {
                path,
                base,
                entries,
                bytes: b,
                ..
            } => {
                store::seal::hash_segment(&data.join(&path), path, base, entries, alg)?;
                bytes += b;
            }
            Body::Parquet { path, bytes: b, .. } if data.join(&path).exists() => {
                store::seal::hash_parquet(&data.join(&path), path, 0, 0, alg)?;
                bytes += b;
            }
            _ => {}
        }
    }
    Ok((cpu_seconds() - cpu0, bytes))
}

/// Asks the kernel to drop its page cache (root only); whether it worked.
fn drop_caches() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            files_under(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "seg" || x == "parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads `files` sequentially in 1 MiB chunks: (bytes, wall seconds).
fn sequential_read(files: &[PathBuf]) -> anyhow::Result<(u64, f64)> {
    let mut buf = vec![0u8; 1 << 20];
    let t = Instant::now();
    let mut total = 0u64;
    for f in files {
        let mut file = std::fs::File::open(f)?;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    Ok((total, t.elapsed().as_secs_f64()))
}

pub(crate) fn run(records: u64, dir: &Path, runs: usize) -> anyhow::Result<ExitCode> {
    crate::bench::fresh_dir(dir)?;
    let input = dir.join("signins.json");
    output::line(&format!(
        "generating {records} diagnostic-shape sign-ins ..."
    ));
    let input_bytes = write_signins(&input, records, 7, true)?;
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys)?;
    store::seal::generate_key_pair(&keys.join("signing.pem"), &keys.join("verify.pem"))?;
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for i in 0..runs.max(1) {
        off.push(ingest_once(&input, &dir.join("off"), None)?);
        on.push(ingest_once(&input, &dir.join("on"), Some(&keys))?);
        output::line(&format!(
            "run {i}: ingest CPU {:.2} s without sealing, {:.2} s with",
            off[i], on[i]
        ));
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (off_cpu, on_cpu) = (min(&off), min(&on));
    let data = dir.join("on");
    let (seal_cpu, sealed_bytes) = reseal(&data, store::seal::HashAlg::Blake3)?;
    let (sha_cpu, _) = reseal(&data, store::seal::HashAlg::Sha256)?;
    output::line(&format!(
        "input {}; ingest CPU (best of {runs}): {off_cpu:.2} s off, {on_cpu:.2} s on: {:+.1}% with sealing",
        output::bytes(input_bytes),
        (on_cpu / off_cpu - 1.0) * 100.0
    ));
    output::line(&format!(
        "sealing work alone (re-sealing {} of segments and Parquet): CPU {seal_cpu:.3} s = {:.1}% of ingest CPU ({:.0} MiB/s)",
        output::bytes(sealed_bytes),
        seal_cpu / off_cpu * 100.0,
        sealed_bytes as f64 / (1024.0 * 1024.0) / seal_cpu.max(1e-9)
    ));
    output::line(&format!(
        "the same with integrity.hash = \"sha256\": CPU {sha_cpu:.3} s = {:.1}% of ingest CPU ({:.0} MiB/s); blake3 / sha256 CPU = {:.2}",
        sha_cpu / off_cpu * 100.0,
        sealed_bytes as f64 / (1024.0 * 1024.0) / sha_cpu.max(1e-9),
        seal_cpu / sha_cpu.max(1e-9)
    ));

    let mut files = Vec::new();
    files_under(&data.join("log"), &mut files)?;
    files_under(&data.join("archive"), &mut files)?;
    let cold = drop_caches();
    let (read_bytes, read_secs) = sequential_read(&files)?;
    drop_caches();
    let opts = VerifyOptions {
        data_dir: data.clone(),
        verify_key: Some(store::seal::load_verifying_key(&keys.join("verify.pem"))?),
        ..VerifyOptions::default()
    };
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let report = store::seal::verify(&opts)?;
    let (verify_secs, verify_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    anyhow::ensure!(
        report.findings.is_empty(),
        "verify found problems in a clean run: {:?}",
        report.findings
    );
    let mib = |b: u64, s: f64| b as f64 / (1024.0 * 1024.0) / s.max(1e-9);
    output::line(&format!(
        "page cache: {}",
        if cold {
            "dropped before each pass (cold reads)"
        } else {
            "could not be dropped (not root): both passes read from memory"
        }
    ));
    output::line(&format!(
        "sequential read: {} in {read_secs:.2} s = {:.0} MiB/s",
        output::bytes(read_bytes),
        mib(read_bytes, read_secs)
    ));
    output::line(&format!(
        "entrail verify: {} hashed ({} files, {} chain entries) in {verify_secs:.2} s (CPU {verify_cpu:.2} s) = {:.0} MiB/s, {:.2}x the sequential read",
        output::bytes(report.bytes_hashed),
        report.files_checked,
        report.entries,
        mib(report.bytes_hashed, verify_secs),
        mib(report.bytes_hashed, verify_secs) / mib(read_bytes, read_secs)
    ));
    Ok(ExitCode::SUCCESS)
}
