//! Writing one Parquet file durably (zstd, dictionaries, page-level statistics, hashed while it is
//! written), hashing a file on disk, and directory fsync.
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{self, SortColumn, SortOptions};
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef, TimestampMicrosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use xxhash_rust::xxh3::Xxh3;

use super::ArchiveError;
use super::schema::{EVENT_TIME_COLUMN, KEY_COLUMN, REVISION_COLUMN};

/// The raw record column: large, unique JSON text, never dictionary-encoded.
const RAW_COLUMN: &str = "_Raw";

/// Encoded bytes a row group may buffer before it is closed early (checked after every slice written).
/// The writer holds a whole row group's pages (and each column's dictionary) until it closes, so this is
/// most of a flush's memory: 16 MiB cost 11 MiB more peak RSS than 6 MiB once partition buffers grew to
/// 256 MiB, for no smaller archive (docs/benchmarks.md). Compaction's merges write 16 MiB row groups
/// (`colmerge::ROW_GROUP_BYTES`): they hold one column chunk at a time, not a row group.
const MAX_ROW_GROUP_BUFFER: usize = 6 << 20;

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

/// Columns a table's rows are sorted by within a written file, in order of preference: the first two the
/// table has, then `_EventTime`. Rows of one user (or app, or operation) side by side compress far better
/// than rows in time order: measured on generated non-interactive sign-ins, `_Raw` shrank by 31% at zstd
/// level 3 (docs/benchmarks.md).
const SORT_KEY_CANDIDATES: &[&str] = &[
    "UserPrincipalName",
    "AppId",
    "ServicePrincipalId",
    "OperationName",
    "Caller",
    "ResourceId",
];

/// Columns whose values are (nearly) unique per row: a dictionary gains nothing there, and building one up
/// to its size limit before falling back to plain encoding costs CPU. They are written `PLAIN`:
/// `DELTA_LENGTH_BYTE_ARRAY` would save 1-6% of their bytes, but Spark 3.5's vectorized reader fails on it
/// (SPARK-52240, an index out of bounds once a page starts inside a read batch), and the lake must stay
/// readable by Spark.
const UNIQUE_COLUMNS: &[&str] = &[
    RAW_COLUMN,
    KEY_COLUMN,
    "Id",
    "CorrelationId",
    "OriginalRequestId",
    "UniqueTokenIdentifier",
];

/// Data page size limit. Every column being written holds one page of this size uncompressed, and a merge
/// in compaction holds one per column of every input: 1 MiB instead of 4 MiB costs ~2% of `_Raw`'s
/// compressed bytes (measured) and bounds that memory.
const DATA_PAGE_BYTES: usize = 1 << 20;

/// Rows copied into sorted order at a time while a file is written: the sorted copy of a partition buffer
/// never exists whole, only one slice of it.
#[cfg(test)] // the archive's buffers write in sorted order themselves (buffer.rs)
const WRITE_SLICE_ROWS: usize = 2048;

/// The columns (indices into `schema`) a file of this table is sorted by: up to two of
/// [`SORT_KEY_CANDIDATES`], then `_EventTime`.
pub(crate) fn sort_columns(schema: &SchemaRef) -> Vec<usize> {
    let mut keys: Vec<usize> = SORT_KEY_CANDIDATES
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .take(2)
        .collect();
    keys.extend(schema.index_of(EVENT_TIME_COLUMN).ok());
    keys
}

/// Whether a file sorted by `columns` is sorted by `_EventTime` alone (the manifest's `sorted` flag).
pub(crate) fn sorted_by_event_time(schema: &SchemaRef, columns: &[usize]) -> bool {
    matches!(columns, [only] if schema.index_of(EVENT_TIME_COLUMN).ok() == Some(*only))
}

/// Writer properties: zstd at `level`, dictionaries on except for unique columns (written `PLAIN`) and
/// timestamps (written `DELTA_BINARY_PACKED`), page-level statistics (column
/// and offset index), `row_group_rows` rows per row group; `sorted_by` (column indices, ascending, nulls
/// first) is recorded as the sort order in the footer. Every encoding used is read by Spark (3.3+), Trino,
/// DuckDB and DataFusion (checked with Spark 3.5.3 and DuckDB 1.5.6, docs/archive.md).
pub(crate) fn writer_properties(
    schema: &SchemaRef,
    row_group_rows: usize,
    zstd_level: i32,
    sorted_by: &[usize],
) -> Result<WriterProperties, ArchiveError> {
    let level = ZstdLevel::try_new(zstd_level).map_err(|e| ArchiveError::Config {
        problems: vec![format!("zstd_level: {e}")],
    })?;
    let sorting: Vec<SortingColumn> = sorted_by
        .iter()
        .filter_map(|i| i32::try_from(*i).ok())
        .map(|column_idx| SortingColumn {
            column_idx,
            descending: false,
            nulls_first: true,
        })
        .collect();
    // Min/max statistics of raw JSON prune nothing.
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_column_statistics_enabled(ColumnPath::from(RAW_COLUMN), EnabledStatistics::None)
        .set_data_page_size_limit(DATA_PAGE_BYTES)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_sorting_columns((!sorting.is_empty()).then_some(sorting))
        .set_created_by(concat!("entrail ", env!("CARGO_PKG_VERSION")).to_owned());
    for field in schema.fields() {
        let Some(encoding) = column_encoding(field.name(), field.data_type()) else {
            continue;
        };
        let path = ColumnPath::from(field.name().as_str());
        builder = builder
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_encoding(path, encoding);
    }
    Ok(builder.build())
}

/// The encoding of a column written without a dictionary, `None` for dictionary-encoded columns: `PLAIN`
/// for the text of [`UNIQUE_COLUMNS`], `DELTA_BINARY_PACKED` for timestamps (rows are sorted by entity, then
/// time, so a dictionary of near-unique microsecond values only adds indices, while deltas of one entity's
/// events are small: -30% on the timestamp columns of generated sign-ins, docs/archive.md).
pub(crate) fn column_encoding(name: &str, data_type: &DataType) -> Option<Encoding> {
    match data_type {
        DataType::Timestamp(..) => Some(Encoding::DELTA_BINARY_PACKED),
        _ if UNIQUE_COLUMNS.contains(&name) => Some(Encoding::PLAIN),
        _ => None,
    }
}

/// The permutation that sorts `batch` by `columns` (ascending, nulls first); `None` when the rows are
/// already in that order.
pub(crate) fn sort_indices(
    batch: &RecordBatch,
    columns: &[usize],
) -> Result<Option<UInt32Array>, datafusion::arrow::error::ArrowError> {
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let keys: Vec<SortColumn> = columns
        .iter()
        .filter_map(|i| batch.columns().get(*i))
        .map(|values| SortColumn {
            values: values.clone(),
            options: Some(options),
        })
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let indices = compute::lexsort_to_indices(&keys, None)?;
    let identity = indices
        .values()
        .iter()
        .enumerate()
        .all(|(i, v)| *v as usize == i);
    Ok((!identity).then_some(indices))
}

/// Streams Parquet into a file while hashing and counting what is written. The Parquet writer is created
/// at the first non-empty batch, once [`plain_text_columns`] has looked at its values.
pub(crate) struct FileWriter {
    state: WriterState,
    path: std::path::PathBuf,
    rows: u64,
    min_event_time: Option<i64>,
    max_event_time: Option<i64>,
    max_revision: u32,
}

/// What a [`FileWriter`]'s Parquet writer will be made of.
struct Pending {
    sink: HashingWriter<BufWriter<File>>,
    schema: SchemaRef,
    props: WriterProperties,
}

/// A [`FileWriter`]'s Parquet writer, or what it will be made of.
enum WriterState {
    /// No row written yet.
    Pending(Box<Pending>),
    /// Writing.
    Open(Box<ArrowWriter<HashingWriter<BufWriter<File>>>>),
    /// Failed while being opened.
    Broken,
}

impl FileWriter {
    /// Creates (truncates) `path` for a file of `schema`.
    pub(crate) fn create(
        path: &Path,
        schema: SchemaRef,
        props: WriterProperties,
    ) -> Result<Self, ArchiveError> {
        let sink = HashingWriter::create(path)?;
        Ok(Self {
            state: WriterState::Pending(Box::new(Pending {
                sink,
                schema,
                props,
            })),
            path: path.to_path_buf(),
            rows: 0,
            min_event_time: None,
            max_event_time: None,
            max_revision: 0,
        })
    }

    /// The Parquet writer, created on first use with the dictionary choices [`plain_text_columns`] makes
    /// from `first` (the file's first rows).
    fn open(
        &mut self,
        first: Option<&RecordBatch>,
    ) -> Result<&mut ArrowWriter<HashingWriter<BufWriter<File>>>, ArchiveError> {
        if let WriterState::Pending(_) = self.state {
            let WriterState::Pending(pending) =
                std::mem::replace(&mut self.state, WriterState::Broken)
            else {
                return Err(broken(&self.path));
            };
            let Pending {
                sink,
                schema,
                props,
            } = *pending;
            let plain = first.map(plain_text_columns).unwrap_or_default();
            let props = super::colmerge::with_plain(props, plain);
            let writer = ArrowWriter::try_new(sink, schema, Some(props))
                .map_err(|e| ArchiveError::parquet(&self.path, e))?;
            self.state = WriterState::Open(Box::new(writer));
        }
        let path = &self.path;
        match &mut self.state {
            WriterState::Open(w) => Ok(w),
            _ => Err(broken(path)),
        }
    }

    /// Appends a batch (its schema must be the file's).
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), ArchiveError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
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
        let path = self.path.clone();
        let writer = self.open(Some(batch))?;
        writer
            .write(batch)
            .map_err(|e| ArchiveError::parquet(&path, e))?;
        // The writer buffers a whole row group before encoding it; with 4 KB records a 128k-row group would
        // hold ~500 MB. Close the row group early once it holds this much, so memory stays bounded.
        if writer.in_progress_size() > MAX_ROW_GROUP_BUFFER {
            writer
                .flush()
                .map_err(|e| ArchiveError::parquet(&path, e))?;
        }
        Ok(())
    }

    /// Appends `batch` in the order of `indices` (as is when `None`), copying at most
    /// [`WRITE_SLICE_ROWS`] rows at a time.
    #[cfg(test)] // the reference for the buffers' sorted write-out (archive/tests_encoded.rs)
    pub(crate) fn write_sorted(
        &mut self,
        batch: &RecordBatch,
        indices: Option<&UInt32Array>,
    ) -> Result<(), ArchiveError> {
        let Some(indices) = indices else {
            return self.write(batch);
        };
        let mut start = 0;
        while start < indices.len() {
            let n = WRITE_SLICE_ROWS.min(indices.len() - start);
            let slice = compute::take_record_batch(batch, &indices.slice(start, n))
                .map_err(|e| ArchiveError::parquet(&self.path, e.into()))?;
            self.write(&slice)?;
            start += n;
        }
        Ok(())
    }

    /// Writes the footer, flushes and fsyncs the file.
    pub(crate) fn finish(mut self) -> Result<FileSummary, ArchiveError> {
        self.open(None)?;
        let path = self.path;
        let WriterState::Open(mut writer) = self.state else {
            return Err(broken(&path));
        };
        writer
            .finish()
            .map_err(|e| ArchiveError::parquet(&path, e))?;
        // `finish` wrote the footer; the sink still has to reach the disk.
        let sink = writer.inner_mut();
        let (bytes, xxh3) = sink.sync(&path)?;
        Ok(FileSummary {
            rows: self.rows,
            bytes,
            xxh3,
            min_event_time: self.min_event_time.unwrap_or(0),
            max_event_time: self.max_event_time.unwrap_or(0),
            max_revision: self.max_revision,
        })
    }
}

/// The error of a [`FileWriter`] whose Parquet writer failed to open.
fn broken(path: &Path) -> ArchiveError {
    ArchiveError::Mismatch {
        path: path.to_path_buf(),
        reason: "the Parquet writer failed to open earlier".to_owned(),
    }
}

/// Rows of a file's first batch looked at to choose its text columns' encodings.
const DICTIONARY_SAMPLE_ROWS: usize = 1024;

/// Fewer non-null sampled values than this decide nothing (the dictionary stays on).
const DICTIONARY_SAMPLE_MIN: usize = 64;

/// The dictionary-encoded text columns of `batch` (a file's first rows) whose sampled values are more than
/// 90% distinct: a dictionary there only costs interning until it passes its size limit and falls back to
/// `PLAIN`, so they are written `PLAIN` from the start. Generated sign-ins' `LocationDetails`,
/// `DeviceDetail` and `AuthenticationDetails` are such columns (random coordinates, browser versions,
/// step times); real tenants' `LocationDetails` of one user repeat and keep their dictionary. The rows are
/// sorted by entity, so the sample holds the rows of a few users: a column that repeats per user keeps
/// its dictionary.
pub(crate) fn plain_text_columns(batch: &RecordBatch) -> Vec<String> {
    let n = batch.num_rows().min(DICTIONARY_SAMPLE_ROWS);
    let schema = batch.schema();
    let mut plain = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if field.data_type() != &DataType::Utf8
            || column_encoding(field.name(), field.data_type()).is_some()
        {
            continue;
        }
        let Some(values) = column.as_string_opt::<i32>() else {
            continue;
        };
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut non_null = 0usize;
        for i in (0..n).filter(|i| values.is_valid(*i)) {
            non_null += 1;
            seen.insert(xxhash_rust::xxh3::xxh3_64(values.value(i).as_bytes()));
        }
        if non_null >= DICTIONARY_SAMPLE_MIN && seen.len() * 10 > non_null * 9 {
            plain.push(field.name().clone());
        }
    }
    plain
}

/// A `Write` that hashes and counts every byte on its way to `inner`.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Xxh3,
    bytes: u64,
}

impl HashingWriter<BufWriter<File>> {
    /// Creates (truncates) the file at `path`, written through a 1 MiB buffer.
    pub(crate) fn create(path: &Path) -> Result<Self, ArchiveError> {
        let file = File::create(path).map_err(|e| ArchiveError::io(path, e))?;
        Ok(Self {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Xxh3::new(),
            bytes: 0,
        })
    }

    /// Flushes and fsyncs the file; its size and xxh3-128.
    pub(crate) fn sync(&mut self, path: &Path) -> Result<(u64, u128), ArchiveError> {
        self.inner.flush().map_err(|e| ArchiveError::io(path, e))?;
        self.inner
            .get_ref()
            .sync_all()
            .map_err(|e| ArchiveError::io(path, e))?;
        Ok((self.bytes, self.hasher.digest128()))
    }
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
