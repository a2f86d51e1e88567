//! Support for the query benchmark (`entrail bench query`, `cargo run --release -p store --example
//! query_bench`): the analyst queries, a parallel loader that decodes generated records on worker
//! threads and writes them through the real [`Archive`] writer, and median timing.
//!
//! The loader exists so that the benchmark can reach the scale (10M sign-ins) on a small
//! machine: a 10M-record JSON input would be ~39 GB and its ingest takes an hour. The rows it
//! archives are the ones ingest archives (the same decoder, the same writer, the same file
//! settings, see [`pipeline_like_config`]); only the JSON file and the durable log are skipped.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

use model::Record;

use super::{QueryEngine, QueryError, RecordBatch};
use crate::archive::{Archive, ArchiveConfig, ArchiveError};

/// The ten analyst queries: (name, SQL). Standard SQL that DataFusion and DuckDB both run
/// unchanged.
pub const ANALYST_QUERIES: &[(&str, &str)] = &[
    (
        "user timeline",
        "SELECT CreatedDateTime, AppDisplayName, IPAddress, ResultType FROM SigninLogs WHERE UserPrincipalName = (SELECT min(UserPrincipalName) FROM SigninLogs) ORDER BY CreatedDateTime",
    ),
    (
        "failures by IP",
        "SELECT IPAddress, count(*) AS n FROM SigninLogs WHERE ResultType <> '0' GROUP BY IPAddress ORDER BY n DESC, IPAddress LIMIT 20",
    ),
    (
        "count by app per day",
        "SELECT AppDisplayName, date_trunc('day', CreatedDateTime) AS d, count(*) AS n FROM SigninLogs GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    (
        "LIKE on user agent",
        "SELECT count(*) AS n FROM SigninLogs WHERE UserAgent LIKE '%Android%'",
    ),
    (
        "distinct users per country",
        "SELECT Location, count(DISTINCT UserPrincipalName) AS users FROM SigninLogs GROUP BY Location ORDER BY users DESC, Location",
    ),
    (
        "hourly volume",
        "SELECT date_trunc('hour', CreatedDateTime) AS h, count(*) AS n FROM SigninLogs GROUP BY 1 ORDER BY 1",
    ),
    (
        "top errors",
        "SELECT ResultType, ResultDescription, count(*) AS n FROM SigninLogs WHERE ResultType <> '0' GROUP BY 1, 2 ORDER BY n DESC, ResultType LIMIT 10",
    ),
    (
        "spray candidates",
        "SELECT IPAddress, count(DISTINCT UserPrincipalName) AS users FROM SigninLogs WHERE ResultType IN ('50126', '50053') GROUP BY IPAddress HAVING count(DISTINCT UserPrincipalName) > 3 ORDER BY users DESC, IPAddress",
    ),
    (
        "non-interactive by app",
        "SELECT AppDisplayName, count(*) AS n FROM AADNonInteractiveUserSignInLogs GROUP BY 1 ORDER BY n DESC, AppDisplayName LIMIT 20",
    ),
    (
        "CA failures by app",
        "SELECT AppDisplayName, count(*) AS n FROM SigninLogs WHERE ConditionalAccessStatus = 'failure' GROUP BY 1 ORDER BY n DESC, AppDisplayName",
    ),
];

/// The archive settings `entrail` runs with (`pipeline`'s `archive_config` with default config
/// values: 64 MiB partition buffers, 128 MiB in all), so that loaded files look like ingested ones.
pub fn pipeline_like_config() -> ArchiveConfig {
    ArchiveConfig {
        flush_bytes: 64 << 20,
        max_buffered_bytes: 128 << 20,
        ..ArchiveConfig::default()
    }
}

/// Rows between commits, as the pipeline's archive consumer does.
const COMMIT_EVERY_ROWS: u64 = 1_000_000;

/// Items handed to a worker at once.
const CHUNK: usize = 2048;

/// How [`load_parallel`] works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Worker threads that decode (at least 1).
    pub threads: usize,
    /// Stop once this many records were written.
    pub max_records: u64,
    /// Do what the log's dedupe stage does before append, with an unbounded in-memory index:
    /// drop exact duplicates (same key, same content hash) and number a key's new contents as
    /// revisions 1, 2, ... Off: every record is written with the revision it decoded with (0).
    pub dedupe: bool,
}

/// What [`load_parallel`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Records written to the archive.
    pub records: u64,
    /// Exact duplicates dropped (with [`LoadOptions::dedupe`]).
    pub duplicates: u64,
    /// Items taken from the input (an item may decode to zero or several records).
    pub items: u64,
}

/// Decodes `items` on worker threads with `decode` and writes the records, in input order,
/// through `archive` (log offsets [`Archive::next_offset`], +1, ...), committing every million
/// rows and at the end; see [`LoadOptions`]. `decode` runs on the workers; the archive writer
/// (and the dedupe index) on the calling thread.
pub fn load_parallel<I, E, F>(
    archive: &mut Archive,
    items: I,
    options: &LoadOptions,
    decode: F,
) -> Result<LoadReport, ArchiveError>
where
    I: Iterator<Item = E> + Send,
    E: Send,
    F: Fn(E) -> Vec<Record> + Sync,
{
    let threads = options.threads.max(1);
    let max_records = options.max_records;
    let mut dedupe = options.dedupe.then(HashMap::<String, (u128, u32)>::new);
    let (work_tx, work_rx) = sync_channel::<(u64, Vec<E>)>(threads * 2);
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<Record>)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut report = LoadReport::default();
    let mut offset = archive.next_offset();
    std::thread::scope(|s| -> Result<(), ArchiveError> {
        let (stop, work_rx, decode) = (&stop, &work_rx, &decode);
        let feeder = s.spawn(move || {
            let mut items = items;
            let mut id = 0u64;
            let mut taken = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let chunk: Vec<E> = items.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                taken += chunk.len() as u64;
                if work_tx.send((id, chunk)).is_err() {
                    break;
                }
                id += 1;
            }
            taken
        });
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            s.spawn(move || {
                // After the writer is gone, keep draining the work (without decoding it) so
                // that the feeder is never blocked on a full queue.
                let mut writer_gone = false;
                while let Some((id, chunk)) = next_work(work_rx) {
                    if writer_gone {
                        continue;
                    }
                    let records: Vec<Record> = chunk.into_iter().flat_map(decode).collect();
                    writer_gone = done_tx.send((id, records)).is_err();
                }
            });
        }
        drop(done_tx);
        let mut waiting = BTreeMap::new();
        let mut next_id = 0u64;
        let result = (|| {
            for (id, records) in &done_rx {
                waiting.insert(id, records);
                while let Some(records) = waiting.remove(&next_id) {
                    next_id += 1;
                    for r in records {
                        if report.records >= max_records {
                            stop.store(true, std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                        let mut r = r;
                        if let Some(seen) = dedupe.as_mut() {
                            match seen.get_mut(&r.key) {
                                Some((hash, _)) if *hash == r.content_hash => {
                                    report.duplicates += 1;
                                    continue;
                                }
                                Some((hash, revision)) => {
                                    *hash = r.content_hash;
                                    *revision += 1;
                                    r.revision = *revision;
                                }
                                None => {
                                    seen.insert(r.key.clone(), (r.content_hash, 0));
                                }
                            }
                        }
                        archive.write(offset, &r)?;
                        offset += 1;
                        report.records += 1;
                        if archive.uncommitted_rows() >= COMMIT_EVERY_ROWS {
                            archive.commit()?;
                        }
                    }
                }
            }
            Ok(())
        })();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(done_rx);
        report.items = feeder.join().unwrap_or(0);
        result
    })?;
    archive.commit()?;
    Ok(report)
}

fn next_work<E>(rx: &Mutex<Receiver<(u64, Vec<E>)>>) -> Option<(u64, Vec<E>)> {
    rx.lock().ok()?.recv().ok()
}

/// One query's timing.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTiming {
    /// Median wall time of the runs, seconds.
    pub median_s: f64,
    /// Every run's wall time, seconds, in run order.
    pub runs_s: Vec<f64>,
    /// Rows the query returned.
    pub rows: usize,
}

/// Runs `sql` `runs` times (at least once) and reports the median wall time and the rows.
pub async fn time_query(
    engine: &QueryEngine,
    sql: &str,
    runs: usize,
) -> Result<QueryTiming, QueryError> {
    let mut runs_s = Vec::new();
    let mut rows = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let batches = engine.sql(sql).await?;
        runs_s.push(t.elapsed().as_secs_f64());
        rows = batches.iter().map(RecordBatch::num_rows).sum();
    }
    Ok(QueryTiming {
        median_s: median(&runs_s),
        runs_s,
        rows,
    })
}

/// The median of `values` (the upper one of an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
