//! The benchmark's baseline: one DuckDB process (`scripts/bench/duckdb_query.py ARCHIVE --serve`)
//! that runs a query per request, so that its runs can be interleaved with entrail's and both
//! engines are measured under the same machine load (on a shared machine, timing every entrail
//! run first and every DuckDB run afterwards lets a change in load skew the ratio).
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use super::{QueryTiming, median};
use crate::query::{QueryEngine, QueryError, RecordBatch};

/// Why a paired timing failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// entrail's query failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The DuckDB process failed or answered with an error.
    #[error("DuckDB baseline (run scripts/bench-deps): {0}")]
    Baseline(String),
}

/// A running DuckDB baseline; see the module docs. The process ends when this is dropped.
#[derive(Debug)]
pub struct DuckDb {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl DuckDb {
    /// Starts `python3 script archive --serve` (2 threads, views over the archive's sign-in
    /// tables) and waits until it is ready.
    pub fn start(script: &Path, archive: &Path) -> Result<DuckDb, BenchError> {
        let fail = |e: std::io::Error| BenchError::Baseline(format!("{}: {e}", script.display()));
        let mut child = Command::new("python3")
            .arg(script)
            .arg(archive)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(fail)?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Baseline("no stdout".into()))?;
        let mut duck = DuckDb {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            version: String::new(),
        };
        let hello = duck.read()?;
        duck.version = hello["version"].as_str().unwrap_or("?").to_owned();
        Ok(duck)
    }

    /// DuckDB's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Runs `sql` once over the plain views (`dedup` false) or over views with entrail's
    /// latest-revision semantics; returns (seconds, rows).
    pub fn run(&mut self, sql: &str, dedup: bool) -> Result<(f64, usize), BenchError> {
        let request = serde_json::json!({ "sql": sql, "dedup": dedup });
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| BenchError::Baseline("stdin closed".into()))?;
        writeln!(stdin, "{request}")
            .and_then(|()| stdin.flush())
            .map_err(|e| BenchError::Baseline(e.to_string()))?;
        let answer = self.read()?;
        if let Some(error) = answer["error"].as_str() {
            return Err(BenchError::Baseline(format!("{error} (query: {sql})")));
        }
        let seconds = answer["s"].as_f64().unwrap_or(f64::NAN);
        let rows = answer["rows"].as_u64().unwrap_or(0) as usize;
        Ok((seconds, rows))
    }

    fn read(&mut self) -> Result<serde_json::Value, BenchError> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| BenchError::Baseline(e.to_string()))?;
        if n == 0 {
            return Err(BenchError::Baseline(
                "the process ended (is the duckdb Python package installed?)".into(),
            ));
        }
        serde_json::from_str(&line).map_err(|e| BenchError::Baseline(format!("{e}: {line}")))
    }
}

impl Drop for DuckDb {
    fn drop(&mut self) {
        // Closing stdin ends the serve loop.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Runs `sql` `runs` times (at least once) in entrail and, alternating run by run, in `duck`
/// once per entry of `dedup` (false: plain views, true: latest-revision views). Returns
/// entrail's timing and DuckDB's, one per entry of `dedup`.
pub async fn time_interleaved(
    engine: &QueryEngine,
    duck: &mut DuckDb,
    dedup: &[bool],
    sql: &str,
    runs: usize,
) -> Result<(QueryTiming, Vec<QueryTiming>), BenchError> {
    let mut ours = Vec::new();
    let mut rows = 0;
    let mut theirs: Vec<(Vec<f64>, usize)> = dedup.iter().map(|_| (Vec::new(), 0)).collect();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let batches = engine.sql(sql).await?;
        ours.push(t.elapsed().as_secs_f64());
        rows = batches.iter().map(RecordBatch::num_rows).sum();
        for (&latest, (times, n)) in dedup.iter().zip(theirs.iter_mut()) {
            let (s, r) = duck.run(sql, latest)?;
            times.push(s);
            *n = r;
        }
    }
    let timing = |runs_s: Vec<f64>, rows| QueryTiming {
        median_s: median(&runs_s),
        runs_s,
        rows,
    };
    Ok((
        timing(ours, rows),
        theirs.into_iter().map(|(t, n)| timing(t, n)).collect(),
    ))
}
