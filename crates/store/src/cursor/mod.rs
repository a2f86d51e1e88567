//! Durable source positions ("cursors"): small JSON values under string keys, each save one ACID redb
//! transaction. A source reads its cursor at start and saves it only after the data it covers is durable in
//! the log, so a crash between the two re-reads data (dedupe absorbs it) and never skips any.
//!
//! Keys are chosen by the sources (`<source id>/<category>/tail`, `<source id>/<category>/backfill/<slice>`);
//! values are whatever the source needs to resume. The store is shared between tasks (`&self` methods) and
//! owns its file exclusively while open: other processes read positions from the status snapshot instead.
#[cfg(test)]
mod tests;

use redb::{Database, ReadableDatabase, TableDefinition};
use std::path::{Path, PathBuf};

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("cursors");

/// Cursor store failures.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// The database could not be opened, read or written.
    #[error("cursor store {path}: {action}: {message}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        message: String,
    },
    /// A stored value is not valid JSON.
    #[error("cursor store {path}: key {key}: stored value is not JSON: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The key.
        key: String,
        /// The parser's message.
        message: String,
    },
}

/// Durable key → JSON store for source positions.
#[derive(Debug)]
pub struct Cursors {
    db: Database,
    path: PathBuf,
}

impl Cursors {
    /// Opens (creating) `cursors.redb` in `dir`.
    pub fn open(dir: &Path) -> Result<Cursors, CursorError> {
        let path = dir.join("cursors.redb");
        std::fs::create_dir_all(dir).map_err(|e| db_err(&path, "create directory", e))?;
        let db = Database::create(&path).map_err(|e| db_err(&path, "open", e))?;
        let tx = db.begin_write().map_err(|e| db_err(&path, "begin", e))?;
        tx.open_table(TABLE)
            .map_err(|e| db_err(&path, "create table", e))?;
        tx.commit().map_err(|e| db_err(&path, "commit", e))?;
        Ok(Cursors { db, path })
    }

    /// The value saved under `key`, if any.
    pub fn load(&self, key: &str) -> Result<Option<serde_json::Value>, CursorError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| db_err(&self.path, "begin read", e))?;
        let table = tx
            .open_table(TABLE)
            .map_err(|e| db_err(&self.path, "open table", e))?;
        let Some(v) = table.get(key).map_err(|e| db_err(&self.path, "read", e))? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| CursorError::Corrupt {
                path: self.path.clone(),
                key: key.to_owned(),
                message: e.to_string(),
            })
    }

    /// Saves `value` under `key`; durable (fsynced) when this returns.
    pub fn save(&self, key: &str, value: &serde_json::Value) -> Result<(), CursorError> {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        let tx = self
            .db
            .begin_write()
            .map_err(|e| db_err(&self.path, "begin write", e))?;
        {
            let mut table = tx
                .open_table(TABLE)
                .map_err(|e| db_err(&self.path, "open table", e))?;
            table
                .insert(key, bytes.as_slice())
                .map_err(|e| db_err(&self.path, "write", e))?;
        }
        tx.commit().map_err(|e| db_err(&self.path, "commit", e))
    }

    /// Every key starting with `prefix`, with its value, in key order.
    pub fn list(&self, prefix: &str) -> Result<Vec<(String, serde_json::Value)>, CursorError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| db_err(&self.path, "begin read", e))?;
        let table = tx
            .open_table(TABLE)
            .map_err(|e| db_err(&self.path, "open table", e))?;
        let mut out = Vec::new();
        for item in table
            .range(prefix..)
            .map_err(|e| db_err(&self.path, "scan", e))?
        {
            let (k, v) = item.map_err(|e| db_err(&self.path, "scan", e))?;
            let key = k.value();
            if !key.starts_with(prefix) {
                break;
            }
            let value = serde_json::from_slice(v.value()).map_err(|e| CursorError::Corrupt {
                path: self.path.clone(),
                key: key.to_owned(),
                message: e.to_string(),
            })?;
            out.push((key.to_owned(), value));
        }
        Ok(out)
    }
}

fn db_err(path: &Path, action: &'static str, e: impl std::fmt::Display) -> CursorError {
    CursorError::Db {
        path: path.to_path_buf(),
        action,
        message: e.to_string(),
    }
}
