//! File source: exported files in any of the three shapes and any framing `model::normalize` reads (JSON
//! lines, JSON arrays, `{"records":[...]}` bodies, Graph pages, Log Analytics CSV). Paths may be globs.
//! Files are streamed: memory stays bounded by the batch size whatever the file size.
mod config;
mod source;

pub use config::FileSourceConfig;
pub use source::{FileBatches, FileSource, Progress};

#[cfg(test)]
mod tests;
