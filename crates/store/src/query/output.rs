//! Rendering query results: a text table for people, CSV and JSON lines for tools.
//!
//! Timestamps are RFC 3339 in UTC in every format. `dynamic` columns are JSON text and stay text
//! (a JSON string in JSON lines).
use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::QueryError;

fn output(source: datafusion::arrow::error::ArrowError) -> QueryError {
    QueryError::Output { source }
}

/// Formats `batches` as a bordered text table with a header row (an empty result is a header
/// only, or an empty string without a schema).
pub fn format_table(batches: &[RecordBatch]) -> Result<String, QueryError> {
    Ok(pretty_format_batches(batches).map_err(output)?.to_string())
}

/// Writes `batches` as CSV with a header line (written once, also for an empty result with a
/// schema), comma-separated, RFC 4180 quoting. Returns the rows written.
pub fn write_csv(batches: &[RecordBatch], out: impl Write) -> Result<u64, QueryError> {
    let mut writer = WriterBuilder::new().with_header(true).build(out);
    let mut rows = 0;
    for batch in batches {
        writer.write(batch).map_err(output)?;
        rows += batch.num_rows() as u64;
    }
    let mut out = writer.into_inner();
    out.flush().map_err(|e| {
        output(datafusion::arrow::error::ArrowError::IoError(
            e.to_string(),
            e,
        ))
    })?;
    Ok(rows)
}

/// Writes `batches` as JSON lines: one object per row, nulls omitted. Returns the rows written.
pub fn write_json_lines(batches: &[RecordBatch], out: impl Write) -> Result<u64, QueryError> {
    let mut writer = LineDelimitedWriter::new(out);
    let mut rows = 0;
    for batch in batches {
        writer.write(batch).map_err(output)?;
        rows += batch.num_rows() as u64;
    }
    writer.finish().map_err(output)?;
    let mut out = writer.into_inner();
    out.flush().map_err(|e| {
        output(datafusion::arrow::error::ArrowError::IoError(
            e.to_string(),
            e,
        ))
    })?;
    Ok(rows)
}
