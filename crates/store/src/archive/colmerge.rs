//! Compaction's writer: the output file is written one row group at a time and, inside a row group, one
//! column at a time. First the inputs' sort key columns alone are merged into the output's row order (one
//! byte per row: the input it comes from; each input's rows are taken in their order, so a row group takes
//! a contiguous range of rows from each input). Then, per row group and column, that column's values of
//! those ranges are read from the inputs, interleaved in that order and encoded into the column chunk,
//! which goes to the file before the next column is read.
//!
//! Memory: one column of each input being read (a page and a batch of one column), the output column's
//! encoded chunk and one zstd context, instead of every column of every input and the whole output row
//! group with a compression context per column (measured: the archive's heap peak, the merge's at
//! 151.7 MB before, is now the flush's at 128.1 MB; docs/archive.md "Memory of compaction").
use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::{SortOptions, interleave};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use datafusion::parquet::arrow::arrow_writer::compute_leaves;
use datafusion::parquet::basic::Encoding;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::PageIndexPolicy;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use super::ArchiveError;
use super::file::{HashingWriter, column_encoding};

/// Rows per batch read from an input while its key columns are merged (keys are small).
const KEY_BATCH_ROWS: usize = 8192;

/// Rows per batch of one column read from an input, and at most per slice written to the output column.
const COLUMN_BATCH_ROWS: usize = 2048;

/// Bytes (by the inputs' uncompressed column sizes) a batch of one wide column is sized for: a column of
/// ~4 KB values (`_Raw`) is read 256 rows at a time per input instead of 2,048 (8 MB per input).
const COLUMN_BATCH_BYTES: u64 = 1 << 20;

/// Rows per batch of column `c` for these inputs: [`COLUMN_BATCH_ROWS`], fewer for a wide column so that
/// one batch is about [`COLUMN_BATCH_BYTES`].
pub(crate) fn column_batch_rows(inputs: &[MergeInput], c: usize) -> usize {
    let (mut bytes, mut rows) = (0u64, 0u64);
    for input in inputs {
        for rg in input.metadata.metadata().row_groups() {
            if let Some(column) = rg.columns().get(c) {
                bytes += u64::try_from(column.uncompressed_size()).unwrap_or(0);
                rows += u64::try_from(rg.num_rows()).unwrap_or(0);
            }
        }
    }
    let per_row = bytes.checked_div(rows).unwrap_or(0).max(1);
    usize::try_from(COLUMN_BATCH_BYTES / per_row)
        .unwrap_or(COLUMN_BATCH_ROWS)
        .clamp(64, COLUMN_BATCH_ROWS)
}

/// Encoded bytes an output row group is sized for, estimated from the inputs' bytes per row.
const ROW_GROUP_BYTES: u64 = 16 << 20;

/// The fewest rows an output row group is given (unless the file has fewer).
const MIN_ROW_GROUP_ROWS: usize = 1024;

/// One input file of a merge: open, with its metadata (and offset index, so that a row range is found
/// without decoding the pages before it).
pub(crate) struct MergeInput {
    file: File,
    path: std::path::PathBuf,
    metadata: ArrowReaderMetadata,
    rows: usize,
}

impl MergeInput {
    /// Opens `path` and reads its footer and offset index.
    pub(crate) fn open(path: &Path) -> Result<Self, ArchiveError> {
        let file = File::open(path).map_err(|e| ArchiveError::io(path, e))?;
        // The offset index (page locations) only: the column index's statistics are not needed.
        let options = ArrowReaderOptions::new().with_offset_index_policy(PageIndexPolicy::Optional);
        let metadata = ArrowReaderMetadata::load(&file, options)
            .map_err(|e| ArchiveError::parquet(path, e))?;
        let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
        Ok(Self {
            file,
            path: path.to_path_buf(),
            metadata,
            rows,
        })
    }

    /// The file's metadata.
    pub(crate) fn metadata(&self) -> &ArrowReaderMetadata {
        &self.metadata
    }

    /// A reader of the root columns `columns`, rows `start..start + count`, in batches of `batch` rows.
    fn reader(
        &self,
        columns: &[usize],
        start: usize,
        count: usize,
        batch: usize,
    ) -> Result<ParquetRecordBatchReader, ArchiveError> {
        let fail = |e| ArchiveError::parquet(&self.path, e);
        let file = self
            .file
            .try_clone()
            .map_err(|e| ArchiveError::io(&self.path, e))?;
        let meta = self.metadata.metadata();
        // Only the row groups holding the range; the selection is relative to the first of them.
        let mut groups = Vec::new();
        let mut first_row = None;
        let mut at = 0usize;
        for (g, rg) in meta.row_groups().iter().enumerate() {
            let n = usize::try_from(rg.num_rows()).unwrap_or(0);
            if at + n > start && at < start + count {
                groups.push(g);
                first_row.get_or_insert(at);
            }
            at += n;
        }
        let skip = start - first_row.unwrap_or(start);
        let selection =
            RowSelection::from(vec![RowSelector::skip(skip), RowSelector::select(count)]);
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), columns.iter().copied());
        ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
            .with_row_groups(groups)
            .with_projection(mask)
            .with_row_selection(selection)
            .with_batch_size(batch)
            .build()
            .map_err(fail)
    }
}

/// The dictionary-encoded text columns that every input wrote without a dictionary (the flush decided
/// they are near-unique, [`super::file::plain_text_columns`]): the output writes them `PLAIN` too.
pub(crate) fn plain_columns(schema: &SchemaRef, inputs: &[MergeInput]) -> Vec<String> {
    let mut plain = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        if field.data_type() != &DataType::Utf8
            || column_encoding(field.name(), field.data_type()).is_some()
        {
            continue;
        }
        let no_dictionary = inputs.iter().all(|input| {
            let groups = input.metadata.metadata().row_groups();
            !groups.is_empty()
                && groups.iter().all(|rg| {
                    i < rg.num_columns() && rg.column(i).dictionary_page_offset().is_none()
                })
        });
        if no_dictionary {
            plain.push(field.name().clone());
        }
    }
    plain
}

/// `props` with the columns `plain` written `PLAIN` without a dictionary.
pub(crate) fn with_plain(props: WriterProperties, plain: Vec<String>) -> WriterProperties {
    if plain.is_empty() {
        return props;
    }
    plain
        .into_iter()
        .fold(props.into_builder(), |b, name| {
            let path = ColumnPath::from(name);
            b.set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::PLAIN)
        })
        .build()
}

/// The output order of a merge of `inputs` (each sorted by the root columns `keys`, ascending, nulls
/// first) in that order: for each output row, the index of its input. Rows with equal keys keep the
/// order of the inputs.
pub(crate) fn merge_order(
    schema: &SchemaRef,
    keys: &[usize],
    inputs: &[MergeInput],
) -> Result<Vec<u8>, ArchiveError> {
    let arrow = |e| ArchiveError::Arrow {
        table: String::new(),
        source: e,
    };
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let fields = keys
        .iter()
        .map(|i| SortField::new_with_options(schema.field(*i).data_type().clone(), options))
        .collect();
    let converter = RowConverter::new(fields).map_err(arrow)?;
    struct Cursor {
        reader: ParquetRecordBatchReader,
        rows: Option<Rows>,
        next: usize,
    }
    // The projection reads the key columns in file order; the converter takes them in `keys` order.
    let names: Vec<&str> = keys
        .iter()
        .map(|i| schema.field(*i).name().as_str())
        .collect();
    let load = |c: &mut Cursor, path: &Path| -> Result<(), ArchiveError> {
        c.rows = None;
        c.next = 0;
        for batch in c.reader.by_ref() {
            let batch = batch.map_err(|e| ArchiveError::parquet(path, ParquetError::from(e)))?;
            if batch.num_rows() > 0 {
                let mut columns = Vec::with_capacity(names.len());
                for name in &names {
                    columns.push(batch.column_by_name(name).cloned().ok_or_else(|| {
                        ArchiveError::parquet(
                            path,
                            ParquetError::General(format!("no column {name}")),
                        )
                    })?);
                }
                c.rows = Some(converter.convert_columns(&columns).map_err(arrow)?);
                break;
            }
        }
        Ok(())
    };
    let mut cursors = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut c = Cursor {
            reader: input.reader(keys, 0, input.rows, KEY_BATCH_ROWS)?,
            rows: None,
            next: 0,
        };
        load(&mut c, &input.path)?;
        cursors.push(c);
    }
    let total: usize = inputs.iter().map(|i| i.rows).sum();
    let mut order = Vec::with_capacity(total);
    loop {
        let mut best: Option<(usize, &Rows, usize)> = None;
        for (i, c) in cursors.iter().enumerate() {
            let Some(rows) = &c.rows else { continue };
            if best.is_none_or(|(_, b, next)| rows.row(c.next) < b.row(next)) {
                best = Some((i, rows, c.next));
            }
        }
        let best = best.map(|(i, _, _)| i);
        let Some(i) = best else { break };
        order.push(u8::try_from(i).unwrap_or(u8::MAX));
        let (Some(c), Some(input)) = (cursors.get_mut(i), inputs.get(i)) else {
            break;
        };
        c.next += 1;
        if c.rows.as_ref().is_none_or(|r| c.next >= r.num_rows()) {
            load(c, &input.path)?;
        }
    }
    Ok(order)
}

/// The output order of `inputs` concatenated in that order.
pub(crate) fn concat_order(inputs: &[MergeInput]) -> Vec<u8> {
    let mut order = Vec::with_capacity(inputs.iter().map(|i| i.rows).sum());
    for (i, input) in inputs.iter().enumerate() {
        order.extend(std::iter::repeat_n(
            u8::try_from(i).unwrap_or(u8::MAX),
            input.rows,
        ));
    }
    order
}

/// Rows per output row group: about [`ROW_GROUP_BYTES`] of encoded data by the inputs' bytes per row, at
/// most `row_group_rows`.
pub(crate) fn row_group_rows(input_bytes: u64, input_rows: usize, row_group_rows: usize) -> usize {
    let per_row = (input_bytes / (input_rows.max(1) as u64)).max(1);
    let by_bytes = usize::try_from(ROW_GROUP_BYTES / per_row).unwrap_or(usize::MAX);
    by_bytes.max(MIN_ROW_GROUP_ROWS).min(row_group_rows.max(1))
}

/// Writes the rows of `inputs` in `order` (see [`merge_order`]) to `sink` as a Parquet file of `schema`
/// with `props`, `group_rows` rows per row group, column by column (module docs). Returns the sink after
/// the footer is written.
pub(crate) fn write_merged(
    sink: HashingWriter<std::io::BufWriter<File>>,
    tmp: &Path,
    schema: &SchemaRef,
    props: WriterProperties,
    inputs: &[MergeInput],
    order: &[u8],
    group_rows: usize,
) -> Result<HashingWriter<std::io::BufWriter<File>>, ArchiveError> {
    let pq = |e| ArchiveError::parquet(tmp, e);
    if inputs.len() > usize::from(u8::MAX) {
        return Err(pq(ParquetError::General(
            "at most 255 inputs are merged at once".into(),
        )));
    }
    let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(pq)?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(pq)?;
    let mut taken = vec![0usize; inputs.len()];
    for (g, group) in order.chunks(group_rows.max(1)).enumerate() {
        // Each input's contiguous range of rows in this row group.
        let mut counts = vec![0usize; inputs.len()];
        for i in group {
            if let Some(n) = counts.get_mut(usize::from(*i)) {
                *n += 1;
            }
        }
        let writers = factory.create_column_writers(g).map_err(pq)?;
        if writers.len() != schema.fields().len() {
            return Err(pq(ParquetError::General(
                "nested columns are not merged column by column".into(),
            )));
        }
        let mut rg = file.next_row_group().map_err(pq)?;
        for (c, (field, mut column)) in schema.fields().iter().zip(writers).enumerate() {
            let batch_rows = column_batch_rows(inputs, c);
            let mut readers = Vec::with_capacity(inputs.len());
            for ((input, start), count) in inputs.iter().zip(&taken).zip(&counts) {
                readers.push(if *count == 0 {
                    None
                } else {
                    Some(input.reader(&[c], *start, *count, batch_rows)?)
                });
            }
            let mut columns = ColumnCursors::new(readers, inputs, field.data_type(), batch_rows)?;
            let mut at = 0;
            while at < group.len() {
                let (array, n) = columns.next_slice(group.get(at..).unwrap_or_default())?;
                for leaf in compute_leaves(field, &array).map_err(pq)? {
                    column.write(&leaf).map_err(pq)?;
                }
                at += n;
            }
            column
                .close()
                .and_then(|chunk| chunk.append_to_row_group(&mut rg))
                .map_err(pq)?;
        }
        rg.close().map_err(pq)?;
        for (t, n) in taken.iter_mut().zip(&counts) {
            *t += n;
        }
    }
    // Writes the footer (with the page index) and hands back the sink.
    file.into_inner().map_err(pq)
}

/// The batches of one column being read from each input of a row group.
struct ColumnCursors<'a> {
    readers: Vec<Option<ParquetRecordBatchReader>>,
    arrays: Vec<Option<ArrayRef>>,
    next: Vec<usize>,
    inputs: &'a [MergeInput],
    /// An empty array of the column's type, in place of an input without a batch.
    empty: ArrayRef,
    /// Rows per slice at most (and per batch read).
    batch_rows: usize,
}

impl<'a> ColumnCursors<'a> {
    fn new(
        readers: Vec<Option<ParquetRecordBatchReader>>,
        inputs: &'a [MergeInput],
        data_type: &DataType,
        batch_rows: usize,
    ) -> Result<Self, ArchiveError> {
        let n = readers.len();
        let mut cursors = Self {
            readers,
            arrays: vec![None; n],
            next: vec![0; n],
            inputs,
            empty: datafusion::arrow::array::new_empty_array(data_type),
            batch_rows,
        };
        for i in 0..n {
            cursors.load(i)?;
        }
        Ok(cursors)
    }

    /// Reads input `i`'s next non-empty batch (none at its end).
    fn load(&mut self, i: usize) -> Result<(), ArchiveError> {
        let (Some(reader), Some(array), Some(next)) = (
            self.readers.get_mut(i).and_then(Option::as_mut),
            self.arrays.get_mut(i),
            self.next.get_mut(i),
        ) else {
            return Ok(());
        };
        *array = None;
        *next = 0;
        for batch in reader.by_ref() {
            let batch = batch.map_err(|e| {
                let path = self
                    .inputs
                    .get(i)
                    .map(|x| x.path.clone())
                    .unwrap_or_default();
                ArchiveError::parquet(path, ParquetError::from(e))
            })?;
            if batch.num_rows() > 0 {
                *array = batch.columns().first().cloned();
                break;
            }
        }
        Ok(())
    }

    /// The values of the rows `order` starts with (input indices), up to `batch_rows` of them or until an
    /// input's batch is used up; and how many rows that is.
    fn next_slice(&mut self, order: &[u8]) -> Result<(ArrayRef, usize), ArchiveError> {
        let mut picks = Vec::with_capacity(self.batch_rows.min(order.len()));
        let mut spent = None;
        for i in order.iter().take(self.batch_rows) {
            let i = usize::from(*i);
            let (Some(Some(array)), Some(next)) = (self.arrays.get(i), self.next.get_mut(i)) else {
                return Err(self.short(i));
            };
            picks.push((i, *next));
            *next += 1;
            if *next >= array.len() {
                spent = Some(i);
                break;
            }
        }
        let values: Vec<&dyn Array> = self
            .arrays
            .iter()
            .map(|a| a.as_ref().unwrap_or(&self.empty).as_ref())
            .collect();
        let out = interleave(&values, &picks).map_err(|e| self.arrow(e))?;
        let n = picks.len();
        if let Some(i) = spent {
            self.load(i)?;
        }
        Ok((out, n))
    }

    fn short(&self, i: usize) -> ArchiveError {
        let path = self
            .inputs
            .get(i)
            .map(|x| x.path.clone())
            .unwrap_or_default();
        ArchiveError::Mismatch {
            path,
            reason: "the file has fewer rows than its footer says".to_owned(),
        }
    }

    fn arrow(&self, source: ArrowError) -> ArchiveError {
        ArchiveError::Arrow {
            table: String::new(),
            source,
        }
    }
}
