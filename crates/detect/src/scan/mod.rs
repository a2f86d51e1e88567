//! Hunting over JSON-lines exports: the input is cut into blocks at line boundaries, worker threads
//! decode the blocks (the same `model` decoder as the file source), and the caller's thread gets the
//! records back in input order, to evaluate them with one engine (correlation and analytic state need
//! the order). Memory is bounded: at most a few blocks per worker are in flight.

use model::normalize::{Projection, decode_stream_projected};
use model::{DecodeContext, Format, Record, decode_stream};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

#[cfg(test)]
mod tests;

/// Bytes per block handed to a worker (a block always ends at a line end, so it may be longer).
pub const BLOCK_BYTES: usize = 1 << 20;

/// Least bytes asked of the input per read.
const READ_BYTES: usize = 64 << 10;

/// Blocks in flight per worker (read and not yet handed back in order).
const IN_FLIGHT_PER_WORKER: usize = 3;

/// What one block decoded to.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Its records, in input order.
    pub records: Vec<Record>,
    /// Why each item that could not be decoded was rejected.
    pub rejected: Vec<String>,
    /// Input bytes of the block.
    pub bytes: u64,
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the input failed.
    #[error("reading the input: {0}")]
    Io(#[from] std::io::Error),
    /// A decoding worker died.
    #[error("a decoding worker stopped")]
    Worker,
}

/// Decodes JSON lines read from `input` on `workers` threads (at least one), in blocks of about
/// `block_bytes` ([`BLOCK_BYTES`] is a good size), and calls `each` with every block's records in input
/// order, on the calling thread. Stops at the first error `each` returns (the inner result).
pub fn decode_json_lines<E>(
    input: impl Read,
    cx: &DecodeContext,
    workers: usize,
    block_bytes: usize,
    each: impl FnMut(Decoded) -> Result<(), E>,
) -> Result<Result<(), E>, ScanError> {
    decode_json_lines_projected(input, cx, None, workers, block_bytes, each)
}

/// [`decode_json_lines`], filling only the columns of `projection` when one is given (from
/// [`Engine::projection`](crate::Engine::projection): the columns the rules read).
pub fn decode_json_lines_projected<E>(
    mut input: impl Read,
    cx: &DecodeContext,
    projection: Option<&Projection>,
    workers: usize,
    block_bytes: usize,
    mut each: impl FnMut(Decoded) -> Result<(), E>,
) -> Result<Result<(), E>, ScanError> {
    let workers = workers.max(1);
    let max_in_flight = workers * IN_FLIGHT_PER_WORKER;
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<u8>)>(max_in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::channel::<(u64, Decoded)>();
    std::thread::scope(|s| {
        for w in 0..workers {
            let rx = Arc::clone(&work_rx);
            let tx = done_tx.clone();
            let cx = cx.clone();
            let projection = projection.cloned();
            let spawned = std::thread::Builder::new()
                .name(format!("hunt-decode-{w}"))
                .spawn_scoped(s, move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok((seq, block)) = job else { return };
                        if tx
                            .send((seq, decode_block(&block, &cx, projection.as_ref())))
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            if spawned.is_err() {
                return Err(ScanError::Worker);
            }
        }
        drop(done_tx);
        let mut blocks = Blocks {
            carry: Vec::new(),
            size: block_bytes.max(1),
        };
        let mut sent = 0u64;
        let mut next = 0u64;
        let mut ready: BTreeMap<u64, Decoded> = BTreeMap::new();
        let mut eof = false;
        let result = loop {
            while !eof && (sent - next) < max_in_flight as u64 {
                match blocks.next(&mut input)? {
                    Some(block) => {
                        work_tx.send((sent, block)).map_err(|_| ScanError::Worker)?;
                        sent += 1;
                    }
                    None => eof = true,
                }
            }
            if next == sent {
                break Ok(());
            }
            let (seq, d) = done_rx.recv().map_err(|_| ScanError::Worker)?;
            ready.insert(seq, d);
            let mut stop = None;
            while let Some(d) = ready.remove(&next) {
                next += 1;
                if let Err(e) = each(d) {
                    stop = Some(e);
                    break;
                }
            }
            if let Some(e) = stop {
                break Err(e);
            }
        };
        drop(work_tx);
        Ok(result)
    })
}

/// Decodes one block of whole lines.
fn decode_block(block: &[u8], cx: &DecodeContext, projection: Option<&Projection>) -> Decoded {
    let mut out = Decoded {
        bytes: block.len() as u64,
        ..Decoded::default()
    };
    let items = match projection {
        Some(p) => decode_stream_projected(block, Format::JsonLines, cx.clone(), p.clone()),
        None => decode_stream(block, Format::JsonLines, cx.clone()),
    };
    for item in items {
        match item {
            Ok(r) => out.records.push(r),
            Err(r) => out.rejected.push(r.reason),
        }
    }
    out
}

/// Cuts a byte stream into blocks of whole lines.
#[derive(Debug)]
struct Blocks {
    /// Bytes read after the last line end of the previous block.
    carry: Vec<u8>,
    /// Bytes per block.
    size: usize,
}

impl Blocks {
    /// The next block: at least `size` bytes and ending at a line end, unless the input ends first;
    /// `None` at the end of the input.
    fn next(&mut self, input: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
        let mut block = std::mem::take(&mut self.carry);
        loop {
            if block.len() >= self.size
                && let Some(p) = memchr::memrchr(b'\n', &block)
            {
                self.carry = block[p + 1..].to_vec();
                block.truncate(p + 1);
                return Ok(Some(block));
            }
            let (len, want) = (block.len(), self.size.max(READ_BYTES));
            block.resize(len + want, 0);
            let mut filled = 0;
            while filled < want {
                match input.read(&mut block[len + filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            block.truncate(len + filled);
            if filled == 0 {
                return Ok((!block.is_empty()).then_some(block));
            }
        }
    }
}
