//! The file source runtime: expands globs, then streams each file through the decoder in batches.

use super::FileSourceConfig;
use crate::{Batch, SourceError};
use model::normalize::{DecodeContext, Format, decode_stream, detect_format};
use model::{Record, Rejected};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes read so far, shared with a progress display.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    /// Bytes read so far across all files.
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A file source with its files resolved.
#[derive(Debug)]
pub struct FileSource {
    config: FileSourceConfig,
    files: Vec<PathBuf>,
}

impl FileSource {
    /// Resolves every path and glob; a pattern matching nothing is an error naming it.
    pub fn new(config: FileSourceConfig) -> Result<FileSource, SourceError> {
        let mut files = Vec::new();
        for pattern in &config.paths {
            let before = files.len();
            let path = PathBuf::from(pattern);
            if path.is_file() {
                files.push(path);
            } else if path.is_dir() {
                let entries = std::fs::read_dir(&path).map_err(|source| SourceError::Io {
                    path: pattern.clone(),
                    source,
                })?;
                let mut inside: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect();
                inside.sort();
                files.extend(inside);
            } else {
                let paths = glob::glob(pattern).map_err(|source| SourceError::BadPattern {
                    pattern: pattern.clone(),
                    source,
                })?;
                let mut matched: Vec<PathBuf> = paths
                    .filter_map(Result::ok)
                    .filter(|p| p.is_file())
                    .collect();
                matched.sort();
                files.extend(matched);
            }
            if files.len() == before {
                return Err(SourceError::NoMatch {
                    pattern: pattern.clone(),
                });
            }
        }
        Ok(FileSource { config, files })
    }

    /// The files this source will read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Total size of the files in bytes (for progress bars).
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    /// Streams every file as batches. `ingest_time` is stamped on every record (microseconds, UTC).
    pub fn batches(&self, ingest_time: i64, progress: Progress) -> FileBatches<'_> {
        FileBatches {
            source: self,
            next_file: 0,
            current: None,
            ingest_time,
            progress,
        }
    }
}

type Items = Box<dyn Iterator<Item = Result<Record, Rejected>>>;

/// Iterator over the batches of a [`FileSource`].
pub struct FileBatches<'a> {
    source: &'a FileSource,
    next_file: usize,
    current: Option<(String, Items, u64)>,
    ingest_time: i64,
    progress: Progress,
}

impl FileBatches<'_> {
    fn open_next(&mut self) -> Option<Result<(), SourceError>> {
        let path = self.source.files.get(self.next_file)?;
        self.next_file += 1;
        let name = path.display().to_string();
        let io = |source| SourceError::Io {
            path: name.clone(),
            source,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return Some(Err(io(e))),
        };
        let mut reader = BufReader::with_capacity(
            1 << 20,
            Counting {
                inner: file,
                progress: self.progress.clone(),
            },
        );
        let format = match reader.fill_buf() {
            Ok(head) => detect_format(head),
            Err(e) => return Some(Err(io(e))),
        };
        let format = if format == Format::JsonLines && name.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            format
        };
        let cx = DecodeContext {
            source: self.source.config.id.clone(),
            location: name.clone(),
            ingest_time: self.ingest_time,
            category: self.source.config.category,
            shape: self.source.config.shape,
        };
        let items: Items = Box::new(decode_stream(reader, format, cx));
        self.current = Some((name, items, 0));
        Some(Ok(()))
    }
}

impl Iterator for FileBatches<'_> {
    type Item = Result<Batch, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let max = self.source.config.batch_records.max(1);
        loop {
            if self.current.is_none() {
                match self.open_next()? {
                    Ok(()) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
            let (name, items, seen) = self.current.as_mut()?;
            let mut batch = Batch::default();
            for item in items.by_ref() {
                *seen += 1;
                match item {
                    Ok(r) => batch.records.push(r),
                    Err(r) => batch.rejected.push(r),
                }
                if batch.records.len() + batch.rejected.len() >= max {
                    break;
                }
            }
            batch.position = format!("{name} item {seen}");
            if batch.records.is_empty() && batch.rejected.is_empty() {
                self.current = None;
                continue;
            }
            return Some(Ok(batch));
        }
    }
}
