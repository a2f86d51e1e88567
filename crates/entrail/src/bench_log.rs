//! `entrail bench log`: group-commit throughput of the durable log with fsync on, and dedupe index checks.

use crate::output;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::dedupe::{DEFAULT_HORIZON, DedupeIndex};
use store::log::{Log, LogConfig};

pub(crate) fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let payload = vec![7u8; 1024];
    let mut t = output::table(&[
        "threads",
        "linger ms",
        "appends/s (1 KiB)",
        "appends per fsync",
        "read entries/s",
    ]);
    for (i, (threads, delay_ms)) in [(1u64, 0u64), (8, 0), (8, 5), (32, 5)]
        .into_iter()
        .enumerate()
    {
        let cfg = LogConfig {
            max_commit_delay: Duration::from_millis(delay_ms),
            ..LogConfig::default()
        };
        let log = Arc::new(Log::open(&dir.join(format!("log{i}")), cfg)?);
        let per_thread = 4000 / threads.min(8);
        let start = Instant::now();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let log = Arc::clone(&log);
                    let payload = &payload;
                    s.spawn(move || {
                        (0..per_thread).try_for_each(|_| log.append(&[payload]).map(|_| ()))
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("append thread panicked"))?
                    .map_err(anyhow::Error::from)
            })
        })?;
        let calls = threads * per_thread;
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        let n = log.reader(0).count();
        let read = n as f64 / start.elapsed().as_secs_f64();
        t.add_row(vec![
            threads.to_string(),
            delay_ms.to_string(),
            format!("{rate:.0}"),
            format!("{:.1}", calls as f64 / log.fsyncs().max(1) as f64),
            format!("{read:.0}"),
        ]);
    }
    output::line(&t.to_string());

    let mut idx = DedupeIndex::open(&dir.join("dedupe.redb"), DEFAULT_HORIZON)?;
    let n = 2_000_000u64;
    let keys: Vec<[u8; 36]> = (0..n)
        .map(|i| {
            let mut k = [b'0'; 36];
            k[..8].copy_from_slice(&(i % 500_000).to_le_bytes());
            k
        })
        .collect();
    let start = Instant::now();
    for (i, k) in keys.iter().enumerate() {
        idx.check_and_insert(
            k,
            u128::from(i as u64 % 3),
            1_700_000_000_000_000 + i as i64,
        );
    }
    let checks = start.elapsed();
    let start = Instant::now();
    idx.checkpoint(n)?;
    output::line(&format!(
        "dedupe: {n} checks over {} keys at {:.2} M/s; checkpoint of {} keys in {:.2} s",
        idx.len(),
        n as f64 / checks.as_secs_f64() / 1e6,
        idx.len(),
        start.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}
