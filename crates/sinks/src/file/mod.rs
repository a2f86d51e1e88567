//! JSON-lines file sink: one record per line (the canonical record, `Record::to_json`, or another
//! [`crate::ocsf::RecordEncoding`]), fsynced before `send` returns, rotated by size (`records.jsonl` ->
//! `records.jsonl.1` -> ...).
mod sink;

pub use sink::{FileSink, FileSinkConfig};

#[cfg(test)]
mod tests;
