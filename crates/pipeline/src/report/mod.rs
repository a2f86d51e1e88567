//! Reports over a data directory (issue 6, "Volume and cost"): `volume` (records, raw and archive bytes per
//! category and day; per-sink traffic, monthly cost and what route filters save) and `html` (one
//! self-contained page: coverage matrix, volume charts, ingest lag (`crate::lag`), alerts timeline, sink volume).
//! `entrail report` prints them; docs/report.md explains every figure.
mod config;
mod html;
mod page;
mod svg;
mod volume;

pub(crate) use config::validate as validate_config;
pub use config::{RawReportConfig, ReportConfig};
pub use html::{HtmlInput, escape, render};
pub use page::{
    COVERAGE_FILE, CoverageMatrix, CoverageRow, CoverageSource, collect as collect_page,
    offline_coverage,
};
pub use volume::{
    BYTES_PER_GB, CategoryDay, CategoryVolume, DAYS_PER_MONTH, SinkDay, SinkReport, Totals,
    VolumeReport, Window, assemble, category_volume, sink_volume, volume,
};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The archive manifest could not be read.
    #[error("archive")]
    Archive(#[from] store::archive::ArchiveError),
    /// A query over the archive failed.
    #[error("query over the archive")]
    Query(#[from] store::query::QueryError),
    /// The alert store or the sinks' volume accounting could not be read.
    #[error("{what}")]
    Pipeline {
        /// What was being read.
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<crate::PipelineError>,
    },
}

impl ReportError {
    pub(crate) fn pipeline(what: &'static str) -> impl FnOnce(crate::PipelineError) -> ReportError {
        move |e| ReportError::Pipeline {
            what,
            source: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests;
