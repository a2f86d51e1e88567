//! Stitched compaction (`archive.compaction = "stitch"`): a file made of its inputs' row groups copied
//! byte for byte (pages, statistics, column and offset index), in input order. Nothing is decoded or
//! compressed again, so compaction costs a read and a write of the bytes; each row group stays sorted as
//! its input was (the footer says so per row group), but rows of one user in different inputs are not
//! brought together, so the archive stays the size of the inputs (docs/archive.md).
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::parquet::column::writer::ColumnCloseResult;
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::metadata::{
    PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;

use super::ArchiveError;
use super::file::HashingWriter;
use super::merge::STITCHED_KEY;

/// What a stitched file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stitched {
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) xxh3: u128,
}

/// An input: its file and its footer with the page index.
struct Input {
    path: PathBuf,
    file: File,
    meta: ParquetMetaData,
}

/// Writes every row group of `inputs`, in order, into a new file at `out` (created, fsynced) with the
/// footer settings of `props` (its sorting columns are claimed for every row group: the caller passes
/// them only when every input's footer says the same). `None`, and nothing written, when the inputs'
/// Parquet schemas differ (the caller merges them instead).
pub(crate) fn stitch(
    inputs: &[PathBuf],
    out: &Path,
    props: WriterProperties,
) -> Result<Option<Stitched>, ArchiveError> {
    let mut opened = Vec::with_capacity(inputs.len());
    for path in inputs {
        let file = File::open(path).map_err(|e| ArchiveError::io(path, e))?;
        let meta = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)
            .map_err(|e| ArchiveError::parquet(path, e))?;
        opened.push(Input {
            path: path.clone(),
            file,
            meta,
        });
    }
    let Some(first) = opened.first() else {
        return Ok(None);
    };
    let schema = first.meta.file_metadata().schema_descr().root_schema_ptr();
    if opened
        .iter()
        .any(|i| i.meta.file_metadata().schema_descr().root_schema() != schema.as_ref())
    {
        return Ok(None);
    }
    let key_values = first
        .meta
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    let sink = HashingWriter::create(out)?;
    let parquet = |e| ArchiveError::parquet(out, e);
    let mut writer = SerializedFileWriter::new(sink, schema, Arc::new(props)).map_err(parquet)?;
    // The Arrow schema (`ARROW:schema`) readers use to restore the column types, as the inputs have it.
    for kv in key_values.into_iter().filter(|kv| kv.key != STITCHED_KEY) {
        writer.append_key_value_metadata(kv);
    }
    writer.append_key_value_metadata(KeyValue::new(STITCHED_KEY.to_owned(), "true".to_owned()));
    let mut rows = 0u64;
    for input in &opened {
        let from = |e| ArchiveError::parquet(&input.path, e);
        let column_index = input.meta.column_index();
        let offset_index = input.meta.offset_index();
        for (g, group) in input.meta.row_groups().iter().enumerate() {
            let mut rg = writer.next_row_group().map_err(parquet)?;
            for (c, chunk) in group.columns().iter().enumerate() {
                let close = ColumnCloseResult {
                    bytes_written: u64::try_from(chunk.compressed_size()).unwrap_or(0),
                    rows_written: u64::try_from(group.num_rows()).unwrap_or(0),
                    metadata: chunk.clone(),
                    bloom_filter: None,
                    column_index: column_index
                        .and_then(|ci| ci.get(g))
                        .and_then(|ci| ci.get(c))
                        .cloned(),
                    offset_index: offset_index
                        .and_then(|oi| oi.get(g))
                        .and_then(|oi| oi.get(c))
                        .cloned(),
                };
                rg.append_column(&input.file, close).map_err(from)?;
            }
            rg.close().map_err(parquet)?;
            rows += u64::try_from(group.num_rows()).unwrap_or(0);
        }
    }
    writer.finish().map_err(parquet)?;
    let (bytes, xxh3) = writer.inner_mut().sync(out)?;
    Ok(Some(Stitched { rows, bytes, xxh3 }))
}
