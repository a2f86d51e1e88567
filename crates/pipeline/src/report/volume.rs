//! `entrail report volume`: records, raw bytes and archive bytes per category and UTC day (SQL over the
//! archive and its manifest), traffic per sink and day (`crate::routes::volume`), and with `[report.price_per_gb]`
//! the projected monthly cost of each sink and what its route filter saves.

use super::ReportError;
use super::config::ReportConfig;
use crate::routes::volume::{DayVolume, SinkVolume as SinkTraffic};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use model::Category;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use store::archive::Manifest;
use store::query::{AsArray, Int64Type, QueryEngine};

/// Days a projected month has.
pub const DAYS_PER_MONTH: f64 = 30.0;
/// Bytes in the GB prices are given per (decimal, as SIEM and cloud price lists count).
pub const BYTES_PER_GB: f64 = 1e9;

/// The whole UTC days a report covers, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First day.
    pub first_day: NaiveDate,
    /// Last day.
    pub last_day: NaiveDate,
}

impl Window {
    /// The days that `[since, until)` touches (at least one).
    pub fn new(since: DateTime<Utc>, until: DateTime<Utc>) -> Window {
        let first_day = since.date_naive();
        // An end exactly at midnight does not touch that day.
        let last = (until - TimeDelta::microseconds(1)).date_naive();
        Window {
            first_day,
            last_day: last.max(first_day),
        }
    }

    /// Number of days.
    pub fn days(&self) -> u32 {
        u32::try_from((self.last_day - self.first_day).num_days() + 1).unwrap_or(1)
    }

    /// Every day, `YYYY-MM-DD`.
    pub fn day_list(&self) -> Vec<String> {
        self.first_day
            .iter_days()
            .take_while(|d| *d <= self.last_day)
            .map(|d| d.to_string())
            .collect()
    }

    /// Whether `day` (`YYYY-MM-DD`) lies in the window.
    pub fn contains(&self, day: &str) -> bool {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .is_ok_and(|d| d >= self.first_day && d <= self.last_day)
    }
}

/// One category on one day (by event time: the archive's `day` partition).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Records archived (every revision: what was ingested).
    pub records: u64,
    /// Bytes of the records as received (`_Raw`).
    pub raw_bytes: u64,
    /// Bytes of the Parquet files holding the day.
    pub archive_bytes: u64,
}

/// One category over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryVolume {
    /// Category (`SignInLogs`).
    pub category: String,
    /// Its table (`SigninLogs`).
    pub table: String,
    /// Days with data, oldest first.
    pub days: Vec<CategoryDay>,
    /// Records over the window.
    pub records: u64,
    /// Raw bytes over the window.
    pub raw_bytes: u64,
    /// Archive bytes over the window.
    pub archive_bytes: u64,
    /// Records per day (over every day of the window).
    pub records_per_day: f64,
    /// Raw bytes per day.
    pub raw_bytes_per_day: f64,
    /// Archive bytes per day.
    pub archive_bytes_per_day: f64,
}

/// One sink over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinkReport {
    /// Sink id.
    pub sink: String,
    /// Days with traffic, oldest first.
    pub days: Vec<SinkDay>,
    /// Sums over the window.
    pub total: DayVolume,
    /// Bytes sent per day.
    pub sent_bytes_per_day: f64,
    /// Bytes sent, projected to a month.
    pub monthly_sent_bytes: f64,
    /// Bytes the route filter kept out, projected to a month.
    pub monthly_filtered_bytes: f64,
    /// `[report.price_per_gb]` of this sink.
    pub price_per_gb: Option<f64>,
    /// Monthly cost of what is sent (when priced).
    pub monthly_cost: Option<f64>,
    /// What the route filter saves per month (when priced).
    pub monthly_savings: Option<f64>,
}

/// One sink on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The counters.
    #[serde(flatten)]
    pub traffic: DayVolume,
}

/// Sums over every category and sink.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Records archived.
    pub records: u64,
    /// Raw bytes.
    pub raw_bytes: u64,
    /// Archive bytes.
    pub archive_bytes: u64,
    /// Bytes sent to sinks.
    pub sent_bytes: u64,
    /// Bytes route filters kept out.
    pub filtered_bytes: u64,
    /// Monthly cost of every priced sink.
    pub monthly_cost: f64,
    /// Monthly savings of every priced sink's filter.
    pub monthly_savings: f64,
}

/// The answer of `entrail report volume`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeReport {
    /// The days covered.
    pub window: Window,
    /// Number of days (the divisor of every per-day figure).
    pub days: u32,
    /// Days a projected month has.
    pub days_per_month: f64,
    /// Bytes per GB in prices.
    pub bytes_per_gb: f64,
    /// Categories with records in the window, in `Category::ALL` order.
    pub categories: Vec<CategoryVolume>,
    /// Sinks with recorded traffic in the window, by id.
    pub sinks: Vec<SinkReport>,
    /// Sums.
    pub totals: Totals,
    /// Sinks priced in `[report.price_per_gb]` without traffic in the window (a typo, or an idle sink).
    pub unmatched_prices: Vec<String>,
}

/// Archive bytes per (table, day) in the window, from the manifest.
fn archive_bytes(manifest: &Manifest, window: &Window) -> BTreeMap<(String, String), u64> {
    let mut out: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in manifest.files.iter().filter(|f| window.contains(&f.day)) {
        *out.entry((f.table.clone(), f.day.clone())).or_default() += f.bytes;
    }
    out
}

/// Records and raw bytes per category and day (SQL over every revision), archive bytes from the manifest.
pub async fn category_volume(
    data_dir: &Path,
    window: &Window,
) -> Result<Vec<CategoryVolume>, ReportError> {
    let dir = data_dir.join("archive");
    let Some(manifest) = Manifest::load(&dir)? else {
        return Ok(Vec::new());
    };
    let bytes = archive_bytes(&manifest, window);
    let engine = QueryEngine::new(&dir)?;
    let days = f64::from(window.days());
    let mut out = Vec::new();
    for c in Category::ALL {
        let table = c.table();
        if !bytes.keys().any(|(t, _)| t == table) {
            continue;
        }
        let sql = format!(
            "SELECT CAST(day AS VARCHAR) AS d, count(*) AS n, CAST(sum(octet_length(\"_Raw\")) AS BIGINT) AS b \
             FROM \"{table}_all\" WHERE day >= '{}' AND day <= '{}' GROUP BY 1",
            window.first_day, window.last_day
        );
        let mut per_day: BTreeMap<String, CategoryDay> = BTreeMap::new();
        for b in engine.sql(&sql).await? {
            let (d, n, raw) = (
                b.column(0),
                b.column(1).as_primitive::<Int64Type>(),
                b.column(2).as_primitive::<Int64Type>(),
            );
            for i in 0..b.num_rows() {
                // VARCHAR is Utf8 or Utf8View depending on the engine's settings.
                let day = match (d.as_string_opt::<i32>(), d.as_string_view_opt()) {
                    (Some(a), _) => a.value(i).to_owned(),
                    (None, Some(a)) => a.value(i).to_owned(),
                    (None, None) => continue,
                };
                let e = per_day.entry(day.clone()).or_default();
                e.day = day;
                e.records += u64::try_from(n.value(i)).unwrap_or(0);
                e.raw_bytes += u64::try_from(raw.value(i)).unwrap_or(0);
            }
        }
        for ((t, day), b) in &bytes {
            if t == table {
                let e = per_day.entry(day.clone()).or_default();
                e.day.clone_from(day);
                e.archive_bytes = *b;
            }
        }
        let days_vec: Vec<CategoryDay> = per_day.into_values().collect();
        let records: u64 = days_vec.iter().map(|d| d.records).sum();
        let raw_bytes: u64 = days_vec.iter().map(|d| d.raw_bytes).sum();
        let archive_bytes: u64 = days_vec.iter().map(|d| d.archive_bytes).sum();
        out.push(CategoryVolume {
            category: c.name().to_owned(),
            table: table.to_owned(),
            days: days_vec,
            records,
            raw_bytes,
            archive_bytes,
            records_per_day: records as f64 / days,
            raw_bytes_per_day: raw_bytes as f64 / days,
            archive_bytes_per_day: archive_bytes as f64 / days,
        });
    }
    Ok(out)
}

/// Per-sink figures over the window, with the cost projection. Pure: the arithmetic the tests check.
pub fn sink_volume(
    traffic: &SinkTraffic,
    window: &Window,
    config: &ReportConfig,
) -> Vec<SinkReport> {
    let days = f64::from(window.days());
    let mut out = Vec::new();
    for (sink, per_day) in &traffic.sinks {
        let mut total = DayVolume::default();
        let mut list = Vec::new();
        for (day, t) in per_day.iter().filter(|(d, _)| window.contains(d)) {
            total.sent_records += t.sent_records;
            total.sent_bytes += t.sent_bytes;
            total.filtered_records += t.filtered_records;
            total.filtered_bytes += t.filtered_bytes;
            list.push(SinkDay {
                day: day.clone(),
                traffic: *t,
            });
        }
        if list.is_empty() {
            continue;
        }
        let monthly_sent_bytes = total.sent_bytes as f64 * DAYS_PER_MONTH / days;
        let monthly_filtered_bytes = total.filtered_bytes as f64 * DAYS_PER_MONTH / days;
        let price = config.price_per_gb.get(sink).copied();
        out.push(SinkReport {
            sink: sink.clone(),
            days: list,
            total,
            sent_bytes_per_day: total.sent_bytes as f64 / days,
            monthly_sent_bytes,
            monthly_filtered_bytes,
            price_per_gb: price,
            monthly_cost: price.map(|p| monthly_sent_bytes / BYTES_PER_GB * p),
            monthly_savings: price.map(|p| monthly_filtered_bytes / BYTES_PER_GB * p),
        });
    }
    out
}

/// Puts the report together from its parts.
pub fn assemble(
    window: Window,
    categories: Vec<CategoryVolume>,
    sinks: Vec<SinkReport>,
    config: &ReportConfig,
) -> VolumeReport {
    let mut totals = Totals::default();
    for c in &categories {
        totals.records += c.records;
        totals.raw_bytes += c.raw_bytes;
        totals.archive_bytes += c.archive_bytes;
    }
    for s in &sinks {
        totals.sent_bytes += s.total.sent_bytes;
        totals.filtered_bytes += s.total.filtered_bytes;
        totals.monthly_cost += s.monthly_cost.unwrap_or(0.0);
        totals.monthly_savings += s.monthly_savings.unwrap_or(0.0);
    }
    let unmatched_prices = config
        .price_per_gb
        .keys()
        .filter(|k| !sinks.iter().any(|s| &s.sink == *k))
        .cloned()
        .collect();
    VolumeReport {
        window,
        days: window.days(),
        days_per_month: DAYS_PER_MONTH,
        bytes_per_gb: BYTES_PER_GB,
        categories,
        sinks,
        totals,
        unmatched_prices,
    }
}

/// `entrail report volume`: reads the archive and the sinks' accounting of `data_dir`.
pub async fn volume(
    data_dir: &Path,
    window: Window,
    config: &ReportConfig,
) -> Result<VolumeReport, ReportError> {
    let categories = category_volume(data_dir, &window).await?;
    let traffic = crate::routes::volume::load(data_dir)
        .map_err(ReportError::pipeline("the sinks' volume accounting"))?;
    let sinks = sink_volume(&traffic, &window, config);
    Ok(assemble(window, categories, sinks, config))
}
