//! `entrail query`: SQL over the archive through DataFusion.

use crate::cli::OutputFormat;
use crate::output;
use std::path::Path;
use std::process::ExitCode;
use store::query::{
    QueryEngine, QueryOptions, RecordBatch, format_table, write_csv, write_json_lines,
};

/// Runs one statement and prints the result.
pub(crate) fn run(
    data_dir: &Path,
    sql: &str,
    format: OutputFormat,
    all_revisions: bool,
) -> anyhow::Result<ExitCode> {
    let batches = block_on(sql_batches(data_dir, sql, all_revisions))??;
    match format {
        OutputFormat::Table => output::line(&format_table(&batches)?),
        OutputFormat::Csv => {
            write_csv(&batches, std::io::stdout().lock())?;
        }
        OutputFormat::Json => {
            write_json_lines(&batches, std::io::stdout().lock())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs SQL and returns the batches (shared with the demo).
pub(crate) async fn sql_batches(
    data_dir: &Path,
    sql: &str,
    all_revisions: bool,
) -> Result<Vec<RecordBatch>, store::query::QueryError> {
    let engine = QueryEngine::with_options(
        &data_dir.join("archive"),
        QueryOptions {
            all_revisions,
            ..QueryOptions::default()
        },
    )?;
    // The alert store's flat table (docs/alerts.md).
    engine
        .register_json_lines(
            "Alerts",
            &data_dir
                .join("alerts")
                .join(pipeline::detection::TABLE_FILE),
            pipeline::detection::TABLE_COLUMNS,
        )
        .await?;
    engine.sql(sql).await
}

/// Runs a future on a fresh Tokio runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(f))
}
