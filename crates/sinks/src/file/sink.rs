//! The file sink runtime.

use crate::ocsf::RecordEncoding;
use crate::{Sink, SinkError};
use model::{Category, Record};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// File sink settings.
#[derive(Debug, Clone)]
pub struct FileSinkConfig {
    /// Sink name (consumer name).
    pub id: String,
    /// Output path.
    pub path: PathBuf,
    /// Rotate when the file passes this size.
    pub rotate_bytes: u64,
    /// Only these categories (empty: all).
    pub categories: Vec<Category>,
}

/// Writes canonical records as JSON lines.
#[derive(Debug)]
pub struct FileSink {
    config: FileSinkConfig,
    encoding: RecordEncoding,
    file: Option<File>,
    size: u64,
}

impl FileSink {
    /// Creates the sink; the file is opened (appending) on the first batch.
    pub fn new(config: FileSinkConfig) -> FileSink {
        FileSink {
            config,
            encoding: RecordEncoding::Native,
            file: None,
            size: 0,
        }
    }

    /// Writes each line in `encoding` (default: the canonical record, [`RecordEncoding::Native`]).
    #[must_use]
    pub fn with_encoding(mut self, encoding: RecordEncoding) -> FileSink {
        self.encoding = encoding;
        self
    }

    fn io(&self, source: std::io::Error) -> SinkError {
        SinkError::Io {
            target: self.config.path.display().to_string(),
            source,
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        let path = &self.config.path;
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", path.display()));
        let mut last = 1;
        while numbered(last).exists() {
            last += 1;
        }
        for n in (1..last).rev() {
            std::fs::rename(numbered(n), numbered(n + 1))?;
        }
        std::fs::rename(path, numbered(1))?;
        self.size = 0;
        Ok(())
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            if let Some(parent) = self
                .config
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.config.path)?;
            self.size = file.metadata()?.len();
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file sink not open"))
    }
}

impl Sink for FileSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.config.categories.is_empty() || self.config.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        if self.size >= self.config.rotate_bytes && self.config.path.exists() {
            self.rotate().map_err(|e| self.io(e))?;
        }
        let mut buf = Vec::with_capacity(batch.len() * 1024);
        for r in batch.iter().filter(|r| self.accepts(r.category)) {
            self.encoding
                .write_json(r, &mut buf)
                .map_err(|e| self.io(e.into()))?;
            buf.push(b'\n');
        }
        let len = buf.len() as u64;
        let file = self.open().map_err(|e| SinkError::Io {
            target: String::new(),
            source: e,
        })?;
        let mut w = BufWriter::new(&mut *file);
        let written = w.write_all(&buf).and_then(|()| w.flush());
        drop(w);
        written
            .and_then(|()| file.sync_data())
            .map_err(|e| self.io(e))?;
        self.size += len;
        Ok(())
    }
}
