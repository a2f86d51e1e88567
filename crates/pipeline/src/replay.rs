//! `entrail replay`: sends a time range of the archive to one sink again, through the sink's routes and
//! encoding, without touching the sink's live offset in the log.
//!
//! The archive's latest revision of each record (`<Table>`, one row per `_Key`) whose event time lies in
//! `[from, to)` is read category by category in `(_EventTime, _Key)` order. After each acknowledged batch the
//! position is saved in `<data_dir>/sinks/replay/replay.<sink>.json` (the replay's consumer name is
//! `replay.<sink>`), so an interrupted replay of the same range resumes after the last acknowledged record;
//! the file is removed once the replay completes (running it again sends the range again).

use crate::routes::{SinkRouter, volume};
use crate::runtime::{Pipeline, PipelineError};
use chrono::{DateTime, Utc};
use model::{Category, ColumnType, Record, Shape, Value};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use store::query::{AsArray, Int64Type, QueryEngine, RecordBatch};

/// What to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    /// Sink id.
    pub sink: String,
    /// First event time included.
    pub from: DateTime<Utc>,
    /// First event time excluded.
    pub to: DateTime<Utc>,
    /// Categories (empty: every category).
    pub categories: Vec<Category>,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Whether it continued an interrupted replay of the same range.
    pub resumed: bool,
    /// Records the sink acknowledged.
    pub sent: u64,
    /// Records the routes (or the sink's category filter) left out.
    pub filtered: u64,
    /// Records route sampling left out.
    pub sampled: u64,
    /// Rows read from the archive, per category name.
    pub read: Vec<(String, u64)>,
}

/// Saved progress of one sink's replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Progress {
    from_us: i64,
    to_us: i64,
    categories: Vec<String>,
    /// Categories finished.
    done: Vec<String>,
    /// Last acknowledged `(category, event time, key)` of the category in progress.
    at: Option<(String, i64, String)>,
}

/// The replay's consumer name for `sink`.
pub fn consumer_name(sink: &str) -> String {
    format!("replay.{sink}")
}

fn progress_path(data_dir: &Path, sink: &str) -> PathBuf {
    data_dir
        .join("sinks")
        .join("replay")
        .join(format!("{}.json", consumer_name(sink)))
}

fn acct(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Accounting(format!("{}: {e}", path.display()))
}

fn save_progress(path: &Path, p: &Progress) -> Result<(), PipelineError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| acct(dir, e))?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec(p).map_err(|e| acct(path, e))?;
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| acct(path, e))
}

fn rerr(e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Replay(e.to_string())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SELECT list: every data column (integers and times as BIGINT, reals as text), then the meta columns.
fn select_list(category: Category) -> String {
    let mut cols: Vec<String> = model::schema(category)
        .columns
        .iter()
        .map(|c| {
            let q = quote(&c.name);
            match c.ty {
                ColumnType::Int | ColumnType::Long | ColumnType::DateTime => {
                    format!("CAST({q} AS BIGINT)")
                }
                ColumnType::Real => format!("CAST({q} AS VARCHAR)"),
                ColumnType::String | ColumnType::Dynamic | ColumnType::Bool => q,
            }
        })
        .collect();
    cols.extend(
        [
            "CAST(\"_EventTime\" AS BIGINT)",
            "CAST(\"_IngestTime\" AS BIGINT)",
            "\"_Key\"",
            "CAST(\"_Revision\" AS BIGINT)",
            "\"_Source\"",
            "\"_Shape\"",
            "\"_Raw\"",
        ]
        .map(str::to_owned),
    );
    cols.join(", ")
}

fn strings(b: &RecordBatch, i: usize) -> Result<Vec<Option<String>>, PipelineError> {
    let c = b.column(i);
    if let Some(a) = c.as_string_opt::<i32>() {
        return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
    }
    if let Some(a) = c.as_string_view_opt() {
        return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
    }
    if let Some(a) = c.as_string_opt::<i64>() {
        return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
    }
    Err(rerr(format!("column {i}: expected text")))
}

fn ints(b: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>, PipelineError> {
    b.column(i)
        .as_primitive_opt::<Int64Type>()
        .map(|a| a.iter().collect())
        .ok_or_else(|| rerr(format!("column {i}: expected BIGINT")))
}

fn bools(b: &RecordBatch, i: usize) -> Result<Vec<Option<bool>>, PipelineError> {
    b.column(i)
        .as_boolean_opt()
        .map(|a| a.iter().collect())
        .ok_or_else(|| rerr(format!("column {i}: expected boolean")))
}

/// A stable stand-in for the content hash (not stored in the archive): FNV-1a over the raw record, twice.
fn raw_hash(raw: &str) -> u128 {
    let fnv = |seed: u64| {
        let mut h = seed;
        for b in raw.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x8422_2325_cbf2_9ce4))
}

/// Turns one result batch of [`select_list`] back into canonical records.
fn records(category: Category, b: &RecordBatch) -> Result<Vec<Record>, PipelineError> {
    let schema = model::schema(category);
    let n = b.num_rows();
    let mut values: Vec<Vec<Value>> = vec![Vec::with_capacity(schema.columns.len()); n];
    for (i, c) in schema.columns.iter().enumerate() {
        let column: Vec<Value> = match c.ty {
            ColumnType::String => strings(b, i)?
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::String))
                .collect(),
            ColumnType::Dynamic => strings(b, i)?
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::Dynamic))
                .collect(),
            ColumnType::Real => strings(b, i)?
                .into_iter()
                .map(|v| {
                    v.and_then(|s| s.parse().ok())
                        .map_or(Value::Null, Value::Real)
                })
                .collect(),
            ColumnType::Int | ColumnType::Long => ints(b, i)?
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::Int))
                .collect(),
            ColumnType::DateTime => ints(b, i)?
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::DateTime))
                .collect(),
            ColumnType::Bool => bools(b, i)?
                .into_iter()
                .map(|v| v.map_or(Value::Null, Value::Bool))
                .collect(),
        };
        for (row, v) in values.iter_mut().zip(column) {
            row.push(v);
        }
    }
    let m = schema.columns.len();
    let (event, ingest, key, revision) = (
        ints(b, m)?,
        ints(b, m + 1)?,
        strings(b, m + 2)?,
        ints(b, m + 3)?,
    );
    let (source, shape, raw) = (strings(b, m + 4)?, strings(b, m + 5)?, strings(b, m + 6)?);
    let mut out = Vec::with_capacity(n);
    for (i, values) in values.into_iter().enumerate() {
        let raw = raw[i].clone().unwrap_or_default();
        out.push(Record {
            category,
            event_time: event[i].unwrap_or(0),
            ingest_time: ingest[i].unwrap_or(0),
            key: key[i].clone().unwrap_or_default(),
            content_hash: raw_hash(&raw),
            revision: revision[i].and_then(|r| u32::try_from(r).ok()).unwrap_or(0),
            source: source[i].clone().unwrap_or_default(),
            shape: shape[i]
                .as_deref()
                .and_then(Shape::parse)
                .unwrap_or(Shape::Graph),
            values,
            raw,
        });
    }
    Ok(out)
}

/// The query of one category's rows in the range, after `at` when resuming.
fn query(category: Category, from_us: i64, to_us: i64, at: Option<(i64, &str)>) -> String {
    let day = |us: i64| volume::day_of(us);
    let t = "CAST(\"_EventTime\" AS BIGINT)";
    let mut sql = format!(
        "SELECT {} FROM {} WHERE day >= '{}' AND day <= '{}' AND {t} >= {from_us} AND {t} < {to_us}",
        select_list(category),
        quote(category.table()),
        day(from_us),
        day(to_us),
    );
    if let Some((ts, key)) = at {
        let key = key.replace('\'', "''");
        sql.push_str(&format!(
            " AND ({t} > {ts} OR ({t} = {ts} AND \"_Key\" > '{key}'))"
        ));
    }
    sql.push_str(&format!(" ORDER BY {t}, \"_Key\""));
    sql
}

impl Pipeline {
    /// Replays `request` from the archive to its sink; see the module docs.
    pub fn replay(&mut self, request: &ReplayRequest) -> Result<ReplayReport, PipelineError> {
        let (from_us, to_us) = (
            request.from.timestamp_micros(),
            request.to.timestamp_micros(),
        );
        if from_us >= to_us {
            return Err(rerr("--from must be before --to"));
        }
        let Some(sink_config) = self
            .config()
            .sinks
            .iter()
            .find(|s| s.id() == request.sink)
            .cloned()
        else {
            return Err(rerr(format!("no sink {:?} in the config", request.sink)));
        };
        let data_dir = self.config().data_dir.clone();
        // Categories no route of the sink can send are not read (nor counted as filtered).
        let routes = self.config().routes.clone();
        let categories: Vec<Category> = Category::ALL
            .iter()
            .copied()
            .filter(|c| request.categories.is_empty() || request.categories.contains(c))
            .filter(|c| routes.may_send(&request.sink, *c))
            .collect();
        let names: Vec<String> = categories.iter().map(|c| c.name().to_owned()).collect();
        let path = progress_path(&data_dir, &request.sink);
        let saved: Option<Progress> = std::fs::File::open(&path)
            .ok()
            .and_then(|f| model::limits::read_capped(f, 1 << 20).ok())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let mut report = ReplayReport::default();
        let mut progress = match saved {
            Some(p) if p.from_us == from_us && p.to_us == to_us && p.categories == names => {
                report.resumed = true;
                p
            }
            _ => Progress {
                from_us,
                to_us,
                categories: names,
                done: Vec::new(),
                at: None,
            },
        };
        let mut sink = crate::runtime::build_sink(sink_config)?;
        let mut router = SinkRouter::new(&routes, &data_dir, &request.sink);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(rerr)?;
        let archive_dir = data_dir.join("archive");
        std::fs::create_dir_all(&archive_dir).map_err(|e| acct(&archive_dir, e))?;
        let engine = QueryEngine::new(&archive_dir).map_err(rerr)?;
        for category in categories {
            let name = category.name().to_owned();
            if progress.done.contains(&name) {
                continue;
            }
            let at = progress
                .at
                .as_ref()
                .filter(|(c, _, _)| *c == name)
                .map(|(_, t, k)| (*t, k.as_str()));
            let sql = query(category, from_us, to_us, at);
            let mut stream = rt.block_on(engine.sql_stream(&sql)).map_err(rerr)?;
            let mut read = 0u64;
            while let Some(batch) = rt.block_on(stream.next_batch()) {
                let rows = records(category, &batch.map_err(rerr)?)?;
                let Some(last) = rows.last() else { continue };
                let last = (name.clone(), last.event_time, last.key.clone());
                read += rows.len() as u64;
                let mut send = Vec::with_capacity(rows.len());
                for r in rows {
                    let bytes = model::codec::encode_to_vec(&r).len();
                    if router.admit(sink.accepts(r.category), &r, bytes) {
                        send.push(r);
                    }
                }
                if let Err(source) = sink.send(&send) {
                    router.failed();
                    return Err(PipelineError::Sink {
                        id: request.sink.clone(),
                        source,
                    });
                }
                let rejected = sink.take_rejected();
                if !rejected.is_empty() {
                    self.hub()
                        .quarantine()
                        .add(rejected)
                        .map_err(|e| PipelineError::Hub(e.into()))?;
                }
                report.sent += send.len() as u64;
                progress.at = Some(last);
                save_progress(&path, &progress)?;
                router.acknowledged();
            }
            report.read.push((name.clone(), read));
            progress.done.push(name);
            progress.at = None;
            save_progress(&path, &progress)?;
        }
        report.filtered = router.filtered;
        report.sampled = router.sampled;
        std::fs::remove_file(&path).map_err(|e| acct(&path, e))?;
        Ok(report)
    }
}
