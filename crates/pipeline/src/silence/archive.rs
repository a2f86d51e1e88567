//! Hourly counts per source and category from the archive's own history (SQL over the Parquet archive),
//! and the current silence state of each: the baseline is learned from the history before the last day,
//! and the detector replays the last day hour by hour.

use super::{Baseline, HourlyCounts, SilenceConfig, SilenceDetector, SilenceEvent, hour_of};
use chrono::{DateTime, Utc};
use model::Category;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use store::query::{AsArray, Int64Type, QueryEngine, QueryError};

/// Which time a record is counted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// When entrail received it (`_IngestTime`): what "still arriving" means.
    Ingest,
    /// Its event time (`_EventTime`): history imported in one go still has the tenant's rhythm.
    Event,
}

impl TimeBasis {
    fn column(self) -> &'static str {
        match self {
            TimeBasis::Ingest => "_IngestTime",
            TimeBasis::Event => "_EventTime",
        }
    }
}

/// Counts per (source, category) since `since`.
pub async fn archive_counts(
    archive_dir: &Path,
    since: DateTime<Utc>,
    basis: TimeBasis,
) -> Result<BTreeMap<(String, Category), HourlyCounts>, QueryError> {
    let engine = QueryEngine::new(archive_dir)?;
    let col = basis.column();
    let mut out: BTreeMap<(String, Category), HourlyCounts> = BTreeMap::new();
    for c in Category::ALL {
        let sql = format!(
            "SELECT \"_Source\" AS s, CAST(\"{col}\" AS BIGINT) / 3600000000 AS h, count(*) AS n FROM \"{}\" \
             WHERE CAST(\"{col}\" AS BIGINT) >= {} GROUP BY 1, 2",
            c.table(),
            since.timestamp_micros()
        );
        for b in engine.sql(&sql).await? {
            let (s, h, n) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_primitive::<Int64Type>(),
                b.column(2).as_primitive::<Int64Type>(),
            );
            for i in 0..b.num_rows() {
                *out.entry((s.value(i).to_owned(), *c))
                    .or_default()
                    .entry(h.value(i))
                    .or_default() += n.value(i).max(0) as u64;
            }
        }
    }
    Ok(out)
}

/// One source and category now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilenceStatus {
    /// Source (`_Source`).
    pub source: String,
    /// Category.
    pub category: String,
    /// Records expected over the last 24 hours.
    pub expected_24h: f64,
    /// Records received over the last 24 hours.
    pub observed_24h: u64,
    /// Silent now.
    pub silent: bool,
    /// Stops, drops and recoveries found over the last 24 hours.
    pub events: Vec<SilenceEvent>,
}

/// The state of every (source, category) at `now`: baseline from the hours before the last day, the last day
/// replayed. Keys without history (fewer than `min_history_hours`) are left out.
pub fn status(
    counts: &BTreeMap<(String, Category), HourlyCounts>,
    history_from: DateTime<Utc>,
    now: DateTime<Utc>,
    config: SilenceConfig,
    min_history_hours: i64,
) -> Vec<SilenceStatus> {
    let now_h = hour_of(now);
    let check_from = now_h - 24;
    let first = hour_of(history_from);
    let mut out = Vec::new();
    for ((source, category), series) in counts {
        let Some(&oldest) = series.keys().next() else {
            continue;
        };
        let learn_from = oldest.max(first);
        if check_from - learn_from < min_history_hours {
            continue;
        }
        let baseline = Baseline::learn(series, learn_from, check_from);
        let mut detector = SilenceDetector::new(config);
        let key = format!("{source}/{}", category.name());
        let events: Vec<SilenceEvent> = (check_from + 1..=now_h)
            .filter_map(|h| detector.check(&key, series, &baseline, h))
            .collect();
        out.push(SilenceStatus {
            source: source.clone(),
            category: category.name().to_owned(),
            expected_24h: (check_from..now_h).map(|h| baseline.expected(h)).sum(),
            observed_24h: (check_from..now_h)
                .map(|h| series.get(&h).copied().unwrap_or(0))
                .sum(),
            silent: detector.is_silent(&key),
            events,
        });
    }
    out
}
