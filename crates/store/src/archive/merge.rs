//! K-way merge of Parquet files that are each sorted by the same columns (the writer's
//! [`sort_columns`](super::file::sort_columns)), for compaction: the merged file is sorted by them too, so
//! a day's rows of one user end up side by side (which is what makes them compress), while memory holds
//! one batch per input and one output slice.
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{SortOptions, interleave_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderBuilder, ParquetRecordBatchReader};

/// Whether a file's footer says that every row group is sorted by `columns` (ascending, nulls first), as
/// the archive writes them. The writer sorts a whole file, not each row group alone; a stitched file
/// ([`footer_stitched`]) is sorted per row group only.
pub(crate) fn footer_sorted_by<T>(builder: &ArrowReaderBuilder<T>, columns: &[usize]) -> bool {
    let groups = builder.metadata().row_groups();
    !groups.is_empty()
        && groups.iter().all(|rg| {
            rg.sorting_columns().is_some_and(|s| {
                s.len() == columns.len()
                    && s.iter().zip(columns).all(|(s, c)| {
                        usize::try_from(s.column_idx).ok() == Some(*c)
                            && !s.descending
                            && s.nulls_first
                    })
            })
        })
}

/// Footer key-value of a stitched file ([`super::stitch`]): each row group is sorted on its own, the
/// file as a whole is not, so it cannot be an input of a [`SortedMerge`].
pub(crate) const STITCHED_KEY: &str = "entrail.stitched";

/// Whether a file's footer says it was stitched ([`STITCHED_KEY`]).
pub(crate) fn footer_stitched<T>(builder: &ArrowReaderBuilder<T>) -> bool {
    builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .is_some_and(|kv| kv.iter().any(|kv| kv.key == STITCHED_KEY))
}

/// One input: its reader, the batch being merged and that batch's sort keys.
struct Input {
    reader: ParquetRecordBatchReader,
    batch: RecordBatch,
    keys: Rows,
    next: usize,
}

impl Input {
    /// Reads the next non-empty batch; `None` at the end of the file.
    fn load(
        mut reader: ParquetRecordBatchReader,
        converter: &RowConverter,
        columns: &[usize],
    ) -> Result<Option<Input>, ArrowError> {
        for batch in reader.by_ref() {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            let keys = converter.convert_columns(&key_columns(&batch, columns))?;
            return Ok(Some(Input {
                reader,
                batch,
                keys,
                next: 0,
            }));
        }
        Ok(None)
    }
}

fn key_columns(batch: &RecordBatch, columns: &[usize]) -> Vec<datafusion::arrow::array::ArrayRef> {
    columns
        .iter()
        .filter_map(|i| batch.columns().get(*i).cloned())
        .collect()
}

/// Merges sorted inputs into sorted slices of at most `slice_rows` rows. Rows with equal keys keep the
/// order of the inputs (and their order within an input).
pub(crate) struct SortedMerge {
    converter: RowConverter,
    columns: Vec<usize>,
    inputs: Vec<Input>,
    slice_rows: usize,
}

impl SortedMerge {
    /// A merge of `readers` (each sorted by `columns` of `schema`).
    pub(crate) fn new(
        schema: &SchemaRef,
        columns: &[usize],
        readers: Vec<ParquetRecordBatchReader>,
        slice_rows: usize,
    ) -> Result<Self, ArrowError> {
        let options = SortOptions {
            descending: false,
            nulls_first: true,
        };
        let fields = columns
            .iter()
            .map(|i| SortField::new_with_options(schema.field(*i).data_type().clone(), options))
            .collect();
        let converter = RowConverter::new(fields)?;
        let mut inputs = Vec::with_capacity(readers.len());
        for reader in readers {
            inputs.extend(Input::load(reader, &converter, columns)?);
        }
        Ok(Self {
            converter,
            columns: columns.to_vec(),
            inputs,
            slice_rows: slice_rows.max(1),
        })
    }

    /// The next slice of merged rows; `None` when every input is done.
    pub(crate) fn next_slice(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(self.slice_rows);
        // Stop at a slice's end or when an input's batch runs out (its next batch replaces it).
        while picks.len() < self.slice_rows {
            let mut best: Option<(usize, &Input)> = None;
            for (i, input) in self.inputs.iter().enumerate() {
                let better = match best {
                    None => true,
                    Some((_, b)) => input.keys.row(input.next) < b.keys.row(b.next),
                };
                if better {
                    best = Some((i, input));
                }
            }
            let Some((i, _)) = best else { break };
            let Some(input) = self.inputs.get_mut(i) else {
                break;
            };
            picks.push((i, input.next));
            input.next += 1;
            if input.next >= input.batch.num_rows() {
                break;
            }
        }
        if picks.is_empty() {
            return Ok(None);
        }
        let batches: Vec<&RecordBatch> = self.inputs.iter().map(|i| &i.batch).collect();
        let slice = interleave_record_batch(&batches, &picks)?;
        // Replace the spent batch (at most one) by the input's next, or drop the finished input.
        if let Some(spent) = self
            .inputs
            .iter()
            .position(|i| i.next >= i.batch.num_rows())
        {
            let input = self.inputs.remove(spent);
            if let Some(next) = Input::load(input.reader, &self.converter, &self.columns)? {
                self.inputs.insert(spent, next);
            }
        }
        Ok(Some(slice))
    }
}
