//! Helpers shared by the decoder integration tests.
#![allow(dead_code)] // each test file uses part of it

use model::{DecodeContext, Format, Record, Rejected, decode_stream};

/// A context with no hints.
pub(crate) fn cx() -> DecodeContext {
    DecodeContext {
        source: "t".into(),
        location: "mem".into(),
        ingest_time: 0,
        category: None,
        shape: None,
    }
}

/// Decodes `input` in `format`, splitting records from rejected items.
pub(crate) fn run(input: &[u8], format: Format) -> (Vec<Record>, Vec<Rejected>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for r in decode_stream(input, format, cx()) {
        match r {
            Ok(rec) => ok.push(rec),
            Err(rej) => bad.push(rej),
        }
    }
    (ok, bad)
}
