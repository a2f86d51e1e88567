//! Support for the query benchmark (`entrail bench query`, `cargo run --release -p store --example
//! query_bench`): the analyst queries, a parallel loader that decodes generated records on worker
//! threads and writes them through the real [`Archive`] writer, and median timing.
//!
//! The loader exists so that the benchmark can reach the scale (10M sign-ins) on a small
//! machine: a 10M-record JSON input would be ~39 GB and its ingest takes an hour. The rows it
//! archives are the ones ingest archives (the same decoder, the same writer, the same file
//! settings, see [`pipeline_like_config`]); only the JSON file and the durable log are skipped.
//! It compacts after every commit (as a long-running `entrail run` does), so the small files of
//! one commit interval are all that exists beside the compacted archive: the disk used peaks
//! near the final archive's size instead of several times it.
mod duckdb;
#[cfg(test)]
mod tests;

pub use duckdb::{BenchError, DuckDb, time_interleaved};

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

/// Time-range queries over the latest hour and one whole day of the data (not among the issue's
/// ten; reported beside them): (name, SQL) with the times as literals, for an archive whose
/// `SigninLogs` hold sign-ins from `first` to `last` (microseconds). The archive sorts a file's
/// rows by user, not time, so inside a day a time range prunes little; these show what it costs.
pub fn time_range_queries(first: i64, last: i64) -> Vec<(&'static str, String)> {
    let fmt = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;
    let last_hour = last.div_euclid(HOUR) * HOUR;
    // The middle day of the data (the first day when it spans less than three).
    let day = (first + (last - first) / 2).div_euclid(DAY) * DAY;
    vec![
        (
            "last hour by app",
            format!(
                "SELECT AppDisplayName, count(*) AS n FROM SigninLogs WHERE CreatedDateTime >= TIMESTAMP '{}' GROUP BY 1 ORDER BY n DESC, AppDisplayName",
                fmt(last_hour)
            ),
        ),
        (
            "one day's failures by user",
            format!(
                "SELECT UserPrincipalName, count(*) AS n FROM SigninLogs WHERE CreatedDateTime >= TIMESTAMP '{}' AND CreatedDateTime < TIMESTAMP '{}' AND ResultType <> '0' GROUP BY 1 ORDER BY n DESC, UserPrincipalName LIMIT 20",
                fmt(day),
                fmt(day + DAY)
            ),
        ),
    ]
}

/// The first and last `_EventTime` of `SigninLogs` (microseconds; 0 when empty), for
/// [`time_range_queries`].
pub async fn sign_in_time_range(engine: &QueryEngine) -> Result<(i64, i64), QueryError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::TimestampMicrosecondType;
    let batches = engine
        .sql("SELECT min(_EventTime), max(_EventTime) FROM SigninLogs")
        .await?;
    let value = |column: usize| {
        batches
            .first()
            .and_then(|b| {
                b.column(column)
                    .as_primitive_opt::<TimestampMicrosecondType>()
            })
            .filter(|a| !a.is_empty() && a.is_valid(0))
            .map_or(0, |a| a.value(0))
    };
    Ok((value(0), value(1)))
}

/// The archive settings `entrail` runs with (`pipeline`'s `archive_config` with default config
/// values: 64 MiB partition buffers, 128 MiB in all), so that loaded files look like ingested ones.
pub fn pipeline_like_config() -> ArchiveConfig {
    ArchiveConfig {
        flush_bytes: 64 << 20,
        max_buffered_bytes: 128 << 20,
        ..ArchiveConfig::default()
    }
}

/// Rows between commits, as the pipeline's archive consumer does: [`LoadOptions::commit_every`]'s
/// usual value.
pub const COMMIT_EVERY_ROWS: u64 = 1_000_000;

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
    /// Commit after this many rows (at least 1; usually [`COMMIT_EVERY_ROWS`]).
    pub commit_every: u64,
    /// Run [`Archive::compact`] after every commit, so that small files never pile up (disk
    /// bounded by the compacted archive plus one commit interval). Off: compact only at the end.
    pub compact: bool,
}

impl LoadOptions {
    /// `threads` decode workers, at most `max_records` records, no dedupe, a commit every
    /// [`COMMIT_EVERY_ROWS`] rows, each followed by a compaction.
    pub fn new(threads: usize, max_records: u64) -> LoadOptions {
        LoadOptions {
            threads,
            max_records,
            dedupe: false,
            commit_every: COMMIT_EVERY_ROWS,
            compact: true,
        }
    }
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
    /// Compactions run (the final one included).
    pub compactions: u64,
    /// The most files the manifest listed at once (right after a commit, before compacting).
    pub peak_files: usize,
    /// The most bytes of Parquet the archive held at once: the listed files after a commit plus
    /// the files the following compaction wrote before it deleted its inputs.
    pub peak_bytes: u64,
}

/// Decodes `items` on worker threads with `decode` and writes the records, in input order,
/// through `archive` (log offsets [`Archive::next_offset`], +1, ...), committing every
/// [`LoadOptions::commit_every`] rows and at the end, and compacting after each commit (or once
/// at the end); see [`LoadOptions`]. `decode` runs on the workers; the archive writer (and the
/// dedupe index) on the calling thread.
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
                        if archive.uncommitted_rows() >= options.commit_every.max(1) {
                            commit(archive, &mut report, options.compact)?;
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
    commit(archive, &mut report, true)?;
    Ok(report)
}

/// Commits, then (with `compact`) compacts, keeping the report's peaks.
fn commit(
    archive: &mut Archive,
    report: &mut LoadReport,
    compact: bool,
) -> Result<(), ArchiveError> {
    archive.commit()?;
    let files = &archive.manifest().files;
    let listed: u64 = files.iter().map(|f| f.bytes).sum();
    report.peak_files = report.peak_files.max(files.len());
    let mut peak = listed;
    if compact {
        peak += archive.compact()?.bytes_after;
        report.compactions += 1;
    }
    report.peak_bytes = report.peak_bytes.max(peak);
    Ok(())
}

/// Decodes one generated JSON record (the simulator's diagnostic shape, `sim::signin_rows`) as
/// ingest does, with source `bench` and `ingest_time` (microseconds); nothing if it does not
/// decode.
pub fn decode_generated(json: &str, ingest_time: i64) -> Vec<Record> {
    let cx = model::normalize::DecodeContext {
        source: "bench".into(),
        location: "generated".into(),
        ingest_time,
        category: None,
        shape: None,
    };
    model::normalize::decode_record(json, &cx).unwrap_or_default()
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
