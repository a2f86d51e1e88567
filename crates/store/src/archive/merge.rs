//! What a compaction input's footer says about its order: sorted by the writer's
//! [`sort_columns`](super::file::sort_columns) (then it can be merged in that order, see
//! [`super::colmerge`]), or stitched (sorted per row group only).
use datafusion::parquet::file::metadata::ParquetMetaData;

/// Whether a file's footer says that every row group is sorted by `columns` (ascending, nulls first), as
/// the archive writes them. The writer sorts a whole file, not each row group alone; a stitched file
/// ([`footer_stitched`]) is sorted per row group only.
pub(crate) fn footer_sorted_by(metadata: &ParquetMetaData, columns: &[usize]) -> bool {
    let groups = metadata.row_groups();
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
/// file as a whole is not, so it cannot be merged in sort order.
pub(crate) const STITCHED_KEY: &str = "entrail.stitched";

/// Whether a file's footer says it was stitched ([`STITCHED_KEY`]).
pub(crate) fn footer_stitched(metadata: &ParquetMetaData) -> bool {
    metadata
        .file_metadata()
        .key_value_metadata()
        .is_some_and(|kv| kv.iter().any(|kv| kv.key == STITCHED_KEY))
}
