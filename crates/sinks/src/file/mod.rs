//! JSON-lines file sink: one canonical record (`Record::to_json`) per line, fsynced before `send` returns,
//! rotated by size (`records.jsonl` -> `records.jsonl.1` -> ...).
mod sink;

pub use sink::{FileSink, FileSinkConfig};

#[cfg(test)]
mod tests;
