//! SQL over the Parquet archive with DataFusion.
//!
//! # Tables
//! Every category's table is registered under its Log Analytics name (`SigninLogs`,
//! `AuditLogs`, `AADNonInteractiveUserSignInLogs`, ...) with its data columns, the meta columns
//! (`_EventTime`, `_Key`, `_Revision`, ...) and the partition column `day` (`YYYY-MM-DD` text),
//! so `WHERE day >= '2024-01-01'` skips other days' files. Tables without files are registered
//! too and return no rows. Identifiers are case-sensitive, as in KQL: `SELECT UserPrincipalName
//! FROM SigninLogs`.
//!
//! `<Table>` shows the latest revision per `_Key`; `<Table>_all` every revision (the same thing,
//! and as cheap, while no file holds a revision). [`QueryOptions::all_revisions`] makes `<Table>`
//! show every revision too.
//!
//! # Snapshot
//! The engine reads the manifest once, in [`QueryEngine::new`], and queries exactly the files it
//! lists, never the directory: it sees the archive as of that commit. Build a new engine to see
//! later commits. Queries are read-only: DDL, DML (`COPY`, `INSERT`) and `SET` are refused.
pub mod bench;
mod error;
mod output;
mod raw;
mod tables;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_raw;

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::{Stream, StreamExt};

/// Arrow, as the query engine links it: for callers that read result batches column by column.
pub use datafusion::arrow;
/// Arrow types the engine's results are made of, for callers that read them.
pub use datafusion::arrow::array::{AsArray, RecordBatch};
/// Arrow's 64-bit integer type (what `count(*)` returns).
pub use datafusion::arrow::datatypes::Int64Type;
pub use error::{ErrorKind, QueryError};
pub use output::{format_table, write_csv, write_json_lines};
pub use tables::TableInfo;

use crate::archive::manifest::Manifest;

/// How the engine presents the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOptions {
    /// `<Table>` shows every revision instead of the latest per `_Key`. Default `false`.
    pub all_revisions: bool,
    /// Parallel partitions per query; `None` (the default) uses the number of CPUs.
    pub target_partitions: Option<usize>,
    /// Read text columns as Arrow `Utf8View` inside queries (faster scans, LIKE and grouping);
    /// results are always handed out as plain `Utf8`. Default `true`.
    pub string_views: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            all_revisions: false,
            target_partitions: None,
            string_views: true,
        }
    }
}

/// SQL over one archive directory; see the module docs.
pub struct QueryEngine {
    ctx: SessionContext,
    dir: PathBuf,
    tables: Vec<TableInfo>,
    generation: u64,
}

impl QueryEngine {
    /// Opens the archive in `archive_dir` (which must exist; without a manifest every table is
    /// empty) with default options.
    pub fn new(archive_dir: &Path) -> Result<QueryEngine, QueryError> {
        Self::with_options(archive_dir, QueryOptions::default())
    }

    /// Opens the archive in `archive_dir` with `options`.
    pub fn with_options(
        archive_dir: &Path,
        options: QueryOptions,
    ) -> Result<QueryEngine, QueryError> {
        // `DATAFUSION_*` environment variables tune the engine (docs/cli.md, `entrail query`),
        // e.g. `DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS=true`.
        Self::with_config(archive_dir, options, SessionConfig::from_env()?)
    }

    /// Opens the archive with `options` on top of DataFusion settings `config`.
    pub(crate) fn with_config(
        archive_dir: &Path,
        options: QueryOptions,
        config: SessionConfig,
    ) -> Result<QueryEngine, QueryError> {
        let archive_error = |source| QueryError::Archive {
            dir: archive_dir.to_path_buf(),
            source,
        };
        let dir = archive_dir.canonicalize().map_err(|e| {
            archive_error(crate::archive::ArchiveError::Io {
                path: archive_dir.to_path_buf(),
                source: e,
            })
        })?;
        let manifest = Manifest::load(&dir)
            .map_err(archive_error)?
            .unwrap_or_default();
        let mut config = config.with_information_schema(true);
        if let Some(n) = options.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        config.options_mut().sql_parser.enable_ident_normalization = false;
        // Room for every listed file in the list-files cache (about 200 bytes each), so that
        // the manifest's lists are never evicted.
        let cache_bytes = 16 * 1024 * 1024 + manifest.files.len().saturating_mul(1024);
        // Parquet footers (with page indexes) of every file stay cached between queries: an
        // 80-column file's metadata is ~100-300 KB and re-reading it is a large part of a short
        // query. The limit is a bound, not an allocation.
        let metadata_bytes = (64usize << 20).max(manifest.files.len().saturating_mul(512 << 10));
        let runtime = RuntimeEnvBuilder::new()
            .with_cache_manager(
                CacheManagerConfig::default()
                    .with_list_files_cache_limit(cache_bytes)
                    .with_metadata_cache_limit(metadata_bytes),
            )
            .build_arc()?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let tables = tables::register_all(&ctx, &dir, &manifest, &options)?;
        Ok(QueryEngine {
            ctx,
            dir,
            tables,
            generation: manifest.generation,
        })
    }

    /// The archive directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every registered table, in category order.
    pub fn tables(&self) -> &[TableInfo] {
        &self.tables
    }

    /// The manifest generation this engine reads (0: no manifest).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The DataFusion session, for callers that need more than SQL text (its tables are the
    /// archive's; registering more is possible but not read-only).
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// Registers a JSON-lines file kept beside the archive (the alert store's `Alerts.jsonl`,
    /// docs/alerts.md) as a read-only table with the given columns; a missing or empty file gives
    /// an empty table.
    pub async fn register_json_lines(
        &self,
        name: &str,
        path: &Path,
        columns: &[(&str, model::ColumnType)],
    ) -> Result<(), QueryError> {
        use datafusion::arrow::datatypes::{Field, Schema};
        use datafusion::common::TableReference;
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(*n, crate::archive::arrow_type(*t), true))
                .collect::<Vec<_>>(),
        );
        let has_rows = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
        match path.to_str() {
            Some(p) if has_rows => {
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(|e| format!(".{e}"))
                    .unwrap_or_default();
                let options =
                    datafusion::datasource::file_format::options::JsonReadOptions::default()
                        .schema(&schema)
                        .file_extension(&ext);
                self.ctx
                    .register_json(TableReference::bare(name), p, options)
                    .await?;
            }
            _ => {
                let table = datafusion::datasource::MemTable::try_new(
                    std::sync::Arc::new(schema),
                    vec![vec![]],
                )?;
                self.ctx
                    .register_table(TableReference::bare(name), std::sync::Arc::new(table))?;
            }
        }
        Ok(())
    }

    /// Runs one read-only SQL statement and collects every result batch.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
        Ok(self.plan(sql).await?.collect().await?)
    }

    /// Runs one read-only SQL statement and returns its results as a stream of batches, for
    /// results too large to hold in memory.
    pub async fn sql_stream(&self, sql: &str) -> Result<QueryStream, QueryError> {
        let inner = self.plan(sql).await?.execute_stream().await?;
        Ok(QueryStream { inner })
    }

    async fn plan(&self, sql: &str) -> Result<DataFrame, QueryError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = self.ctx.sql_with_options(sql, options).await?;
        Ok(plain_strings(df)?)
    }
}

/// `df` with `Utf8View` result columns cast to `Utf8` (the engine reads text as views, see
/// [`QueryOptions::string_views`]; callers get the archive's types). Other plans are unchanged.
fn plain_strings(df: DataFrame) -> Result<DataFrame, datafusion::error::DataFusionError> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::common::Column;
    use datafusion::logical_expr::{Expr, cast};
    let schema = df.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Utf8View))
    {
        return Ok(df);
    }
    let exprs: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            match field.data_type() {
                DataType::Utf8View => cast(column, DataType::Utf8).alias(field.name()),
                _ => column,
            }
        })
        .collect();
    df.select(exprs)
}

/// Result batches of [`QueryEngine::sql_stream`], in order. Also a [`Stream`].
pub struct QueryStream {
    inner: SendableRecordBatchStream,
}

impl QueryStream {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    /// The next batch; `None` at the end.
    pub async fn next_batch(&mut self) -> Option<Result<RecordBatch, QueryError>> {
        self.inner.next().await.map(|r| r.map_err(QueryError::from))
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, QueryError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map_err(QueryError::from)))
    }
}

impl std::fmt::Debug for QueryEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryEngine")
            .field("dir", &self.dir)
            .field("generation", &self.generation)
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}
