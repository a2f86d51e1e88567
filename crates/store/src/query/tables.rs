//! Registering the archive's tables: one [`ListingTable`] per category over `<dir>/<Table>/`
//! with the `day` partition column, whose file list is exactly the manifest's.
//!
//! DataFusion lists a table's directory through the session's list-files cache; the engine
//! fills that cache with the manifest's files before any query, so files the manifest does not
//! list (an interrupted commit, a compaction in progress) are never read, and the directory is
//! never listed. The cache's budget is sized so that these entries are not evicted, and each
//! entry is checked after it is stored.
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::cache::TableScopedPath;
use datafusion::execution::cache::cache_manager::CachedFileList;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::logical_expr::JoinType;
use datafusion::object_store::ObjectMeta;
use datafusion::prelude::{SessionContext, ident, lit};
use model::Category;

use super::{QueryError, QueryOptions};
use crate::archive::manifest::{FileEntry, Manifest};
use crate::archive::{DAY_COLUMN, KEY_COLUMN, REVISION_COLUMN, arrow_schema};

/// One registered table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The category.
    pub category: Category,
    /// The table name (`SigninLogs`); `<name>_all` shows every revision.
    pub name: String,
    /// Committed files read by queries.
    pub files: usize,
    /// Rows in them (every revision).
    pub rows: u64,
    /// Whether some row has `_Revision` > 0, so `<name>` hides older revisions.
    pub has_revisions: bool,
}

/// Registers every category's table (and its `_all` twin) in `ctx`.
pub(crate) fn register_all(
    ctx: &SessionContext,
    dir: &Path,
    manifest: &Manifest,
    query_options: &QueryOptions,
) -> Result<Vec<TableInfo>, QueryError> {
    let cache = ctx
        .runtime_env()
        .cache_manager
        .get_list_files_cache()
        .ok_or_else(|| internal("the list-files cache is disabled"))?;
    // The session's `datafusion.execution.parquet.*` settings (from `DATAFUSION_*` variables),
    // as `register_parquet` would apply them: a bare `ParquetFormat::default()` ignores them.
    let parquet = ctx.state().default_table_options().parquet;
    let mut infos = Vec::new();
    for category in Category::ALL {
        let name = category.table();
        let files: Vec<&FileEntry> = manifest.files.iter().filter(|f| f.table == name).collect();
        let url = ListingTableUrl::parse(format!("{}/{name}/", dir.display()))?;
        // At least one slot: DataFusion's cache does not store a list it sizes at 0 bytes, and
        // an empty table must not fall back to listing its directory.
        let mut metas = Vec::with_capacity(files.len().max(1));
        for f in &files {
            metas.push(object_meta(dir, f)?);
        }
        let key = TableScopedPath {
            table: None,
            path: url.prefix().clone(),
        };
        cache.put(&key, CachedFileList::new(metas));
        if !cache.contains_key(&key) {
            return Err(internal("the list-files cache dropped a table's file list"));
        }
        let format = ParquetFormat::default().with_options(parquet.clone());
        let options = ListingOptions::new(Arc::new(format))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![(DAY_COLUMN.to_owned(), DataType::Utf8)]);
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(read_schema(*category, query_options.string_views));
        let mut listing: Arc<dyn TableProvider> = Arc::new(ListingTable::try_new(config)?);
        if files.iter().any(|f| f.raw_residual) {
            listing = super::raw::decoded_view(ctx, listing, *category)?;
        }
        let has_revisions = files.iter().any(|f| f.max_revision > 0);
        ctx.register_table(TableReference::bare(format!("{name}_all")), listing.clone())?;
        let latest = if has_revisions && !query_options.all_revisions {
            latest_revisions(ctx, listing)?
        } else {
            listing
        };
        ctx.register_table(TableReference::bare(name), latest)?;
        infos.push(TableInfo {
            category: *category,
            name: name.to_owned(),
            files: files.len(),
            rows: files.iter().map(|f| f.rows).sum(),
            has_revisions,
        });
    }
    Ok(infos)
}

/// The schema a table is read with: the archive's, with text columns as `Utf8View` when
/// `string_views` (the Parquet reader then points into the decoded pages instead of copying every
/// string, and LIKE, comparisons and grouping work on the views' inline prefixes).
fn read_schema(category: Category, string_views: bool) -> SchemaRef {
    let schema = arrow_schema(category);
    if !string_views {
        return schema;
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
            _ => f.clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A view of `all` without the rows that a higher revision of the same key replaces: an anti
/// join against the keys that have revisions (a scan of `_Revision > 0`, which Parquet
/// statistics prune to the few row groups that hold revisions).
fn latest_revisions(
    ctx: &SessionContext,
    all: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, QueryError> {
    // `ident`, not `col`: `col` parses its argument and lower-cases unquoted names.
    let rows = ctx.read_table(all)?;
    let revised = rows
        .clone()
        .filter(ident(REVISION_COLUMN).gt(lit(0)))?
        .aggregate(
            vec![ident(KEY_COLUMN)],
            vec![max(ident(REVISION_COLUMN)).alias("__max_revision")],
        )?
        .select(vec![
            ident(KEY_COLUMN).alias("__key"),
            ident("__max_revision"),
        ])?;
    let latest = rows.join_on(
        revised,
        JoinType::LeftAnti,
        vec![
            ident(KEY_COLUMN).eq(ident("__key")),
            ident(REVISION_COLUMN).lt(ident("__max_revision")),
        ],
    )?;
    Ok(latest.into_view())
}

/// The object-store entry of a listed file, as DataFusion's own listing would produce it.
fn object_meta(dir: &Path, f: &FileEntry) -> Result<ObjectMeta, QueryError> {
    let url = ListingTableUrl::parse(dir.join(&f.path).display().to_string())?;
    Ok(ObjectMeta {
        location: url.prefix().clone(),
        last_modified: chrono::DateTime::from_timestamp_micros(f.created_us).unwrap_or_default(),
        size: f.bytes,
        e_tag: None,
        version: None,
    })
}

fn internal(message: &str) -> QueryError {
    QueryError::Execution {
        message: message.to_owned(),
        kind: super::ErrorKind::Internal,
    }
}
