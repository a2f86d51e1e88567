//! Writing one Parquet file durably (zstd, dictionaries, page-level statistics, hashed while it is
//! written), hashing a file on disk, and directory fsync.
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{self, SortOptions};
use datafusion::arrow::datatypes::{Int32Type, SchemaRef, TimestampMicrosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use xxhash_rust::xxh3::Xxh3;

use super::ArchiveError;
use super::schema::{EVENT_TIME_COLUMN, KEY_COLUMN, REVISION_COLUMN};

/// The raw record column: large, unique JSON text, compressed harder and never dictionary-encoded.
const RAW_COLUMN: &str = "_Raw";

/// Encoded bytes a row group may buffer before it is closed early.
const MAX_ROW_GROUP_BUFFER: usize = 48 << 20;

/// What a written file holds, for its manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileSummary {
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) xxh3: u128,
    pub(crate) min_event_time: i64,
    pub(crate) max_event_time: i64,
    pub(crate) max_revision: u32,
}

/// Writer properties: zstd at `level`, dictionaries on, page-level statistics (column and offset
/// index), `row_group_rows` rows per row group; `sorted` records the `_EventTime` sort order in
/// the footer.
pub(crate) fn writer_properties(
    schema: &SchemaRef,
    row_group_rows: usize,
    zstd_level: i32,
    sorted: bool,
) -> Result<WriterProperties, ArchiveError> {
    let level = ZstdLevel::try_new(zstd_level).map_err(|e| ArchiveError::Config {
        problems: vec![format!("zstd_level: {e}")],
    })?;
    let sorting = schema
        .index_of(EVENT_TIME_COLUMN)
        .ok()
        .and_then(|i| i32::try_from(i).ok())
        .filter(|_| sorted)
        .map(|column_idx| {
            vec![SortingColumn {
                column_idx,
                descending: false,
                nulls_first: true,
            }]
        });
    // Unique values gain nothing from a dictionary (the writer would build one and fall back) and min/max
    // statistics of raw JSON prune nothing. The raw column is most of the bytes: a stronger zstd level and
    // larger pages pay for themselves there.
    let raw = ColumnPath::from(RAW_COLUMN);
    let raw_level = level;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_column_dictionary_enabled(raw.clone(), false)
        .set_column_statistics_enabled(raw.clone(), EnabledStatistics::None)
        .set_column_compression(raw, Compression::ZSTD(raw_level))
        .set_column_dictionary_enabled(ColumnPath::from(KEY_COLUMN), false)
        .set_data_page_size_limit(4 << 20)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_sorting_columns(sorting)
        .set_created_by(concat!("entrail ", env!("CARGO_PKG_VERSION")).to_owned())
        .build())
}

/// Sorts a batch by `_EventTime` (nulls first).
pub(crate) fn sort_by_event_time(
    batch: &RecordBatch,
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let Some(column) = batch.column_by_name(EVENT_TIME_COLUMN) else {
        return Ok(batch.clone());
    };
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let indices = compute::sort_to_indices(column, Some(options), None)?;
    // Records mostly arrive in time order: skip copying every column when they already are.
    if indices
        .values()
        .iter()
        .enumerate()
        .all(|(i, v)| *v as usize == i)
    {
        return Ok(batch.clone());
    }
    compute::take_record_batch(batch, &indices)
}

/// Streams Parquet into a file while hashing and counting what is written.
pub(crate) struct FileWriter {
    writer: ArrowWriter<HashingWriter<BufWriter<File>>>,
    path: std::path::PathBuf,
    rows: u64,
    min_event_time: Option<i64>,
    max_event_time: Option<i64>,
    max_revision: u32,
}

impl FileWriter {
    /// Creates (truncates) `path` for a file of `schema`.
    pub(crate) fn create(
        path: &Path,
        schema: SchemaRef,
        props: WriterProperties,
    ) -> Result<Self, ArchiveError> {
        let file = File::create(path).map_err(|e| ArchiveError::io(path, e))?;
        let sink = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Xxh3::new(),
            bytes: 0,
        };
        let writer = ArrowWriter::try_new(sink, schema, Some(props))
            .map_err(|e| ArchiveError::parquet(path, e))?;
        Ok(Self {
            writer,
            path: path.to_path_buf(),
            rows: 0,
            min_event_time: None,
            max_event_time: None,
            max_revision: 0,
        })
    }

    /// Appends a batch (its schema must be the file's).
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), ArchiveError> {
        if let Some(t) = batch.column_by_name(EVENT_TIME_COLUMN)
            && let Some(t) = t.as_primitive_opt::<TimestampMicrosecondType>()
        {
            if let Some(min) = compute::min(t) {
                self.min_event_time = Some(self.min_event_time.map_or(min, |m| m.min(min)));
            }
            if let Some(max) = compute::max(t) {
                self.max_event_time = Some(self.max_event_time.map_or(max, |m| m.max(max)));
            }
        }
        if let Some(r) = batch.column_by_name(REVISION_COLUMN)
            && let Some(r) = r.as_primitive_opt::<Int32Type>()
            && r.null_count() < r.len()
            && let Some(max) = compute::max(r)
        {
            self.max_revision = self.max_revision.max(u32::try_from(max).unwrap_or(0));
        }
        self.rows += batch.num_rows() as u64;
        self.writer
            .write(batch)
            .map_err(|e| ArchiveError::parquet(&self.path, e))?;
        // The writer buffers a whole row group before encoding it; with 4 KB records a 128k-row group would
        // hold ~500 MB. Close the row group early once it holds this much, so memory stays bounded.
        if self.writer.in_progress_size() > MAX_ROW_GROUP_BUFFER {
            self.writer
                .flush()
                .map_err(|e| ArchiveError::parquet(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the footer, flushes and fsyncs the file.
    pub(crate) fn finish(mut self) -> Result<FileSummary, ArchiveError> {
        let path = self.path;
        self.writer
            .finish()
            .map_err(|e| ArchiveError::parquet(&path, e))?;
        // `finish` wrote the footer; the sink still has to reach the disk.
        let sink = self.writer.inner_mut();
        sink.inner.flush().map_err(|e| ArchiveError::io(&path, e))?;
        sink.inner
            .get_ref()
            .sync_all()
            .map_err(|e| ArchiveError::io(&path, e))?;
        Ok(FileSummary {
            rows: self.rows,
            bytes: sink.bytes,
            xxh3: sink.hasher.digest128(),
            min_event_time: self.min_event_time.unwrap_or(0),
            max_event_time: self.max_event_time.unwrap_or(0),
            max_revision: self.max_revision,
        })
    }
}

/// A `Write` that hashes and counts every byte on its way to `inner`.
struct HashingWriter<W> {
    inner: W,
    hasher: Xxh3,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Size and xxh3-128 of a file's content, read in 1 MiB chunks.
pub(crate) fn hash_file(path: &Path) -> Result<(u64, u128), ArchiveError> {
    let mut file = File::open(path).map_err(|e| ArchiveError::io(path, e))?;
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| ArchiveError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or(&buf));
        bytes += n as u64;
    }
    Ok((bytes, hasher.digest128()))
}

/// Formats an xxh3-128 digest as 32 lower-case hex digits.
pub(crate) fn hex128(hash: u128) -> String {
    format!("{hash:032x}")
}

/// Fsyncs a directory so that renames and removals in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ArchiveError::io(dir, e))
}
