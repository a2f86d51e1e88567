//! [`Frames`]: entries encoded straight into frame layout, so a caller that serializes records (the
//! hub) writes each payload once, into the buffer the writer thread writes to disk, instead of into a
//! buffer of its own that [`Log::append`](super::Log::append) then copies.
//!
//! A large owned payload tail ([`Frames::push_with_tail`], the hub's raw record text) is not copied at
//! all: the batch keeps it beside the buffer and the writer writes both with one vectored write, so the
//! file holds exactly the frames [`Frames::push_with`] would have built.
use std::io::{self, IoSlice, Write};

use super::segment::FRAME_HEADER;
use super::{LogError, MAX_ENTRY_BYTES};

/// Tails shorter than this are copied into the buffer: an I/O vector entry costs more than the copy.
const MIN_TAIL_BYTES: usize = 1024;
/// I/O vector entries per `write` call (Linux accepts 1024).
const MAX_IOVECS: usize = 512;

/// A batch of entries in frame layout with their checksums still open (the offsets are assigned when
/// the batch is queued). Build with [`Frames::push_with`] or [`Frames::push_with_tail`], append with
/// [`Log::enqueue`](super::Log::enqueue).
#[derive(Debug, Default)]
pub struct Frames {
    /// Frame headers and payloads, but for the tails.
    pub(crate) buf: Vec<u8>,
    /// crc32c of each payload, in order.
    pub(crate) crcs: Vec<u32>,
    /// Where each frame's header starts in `buf`.
    pub(crate) starts: Vec<usize>,
    /// Payload tails kept out of `buf`: each goes after `buf[..at]`, in order of `at`.
    tails: Vec<(usize, Vec<u8>)>,
    /// Bytes in `tails`.
    tail_bytes: usize,
}

impl Frames {
    /// An empty batch with room for `bytes` of frames.
    pub fn with_capacity(bytes: usize) -> Frames {
        Frames {
            buf: Vec::with_capacity(bytes),
            ..Frames::default()
        }
    }

    /// Appends one entry whose payload `write` appends to the vector it is given. An entry larger than
    /// [`MAX_ENTRY_BYTES`] is refused and leaves the batch as it was.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), LogError> {
        self.push_with_tail(write, Vec::new())
    }

    /// Appends one entry whose payload is what `write` appends followed by `tail`; a large tail is
    /// written from where it is, never copied (see the module docs). An entry larger than
    /// [`MAX_ENTRY_BYTES`] is refused and leaves the batch as it was.
    pub fn push_with_tail(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>),
        tail: Vec<u8>,
    ) -> Result<(), LogError> {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; FRAME_HEADER]);
        write(&mut self.buf);
        let head = self.buf.len() - start - FRAME_HEADER;
        let total = head + tail.len();
        let Some(len) = u32::try_from(total)
            .ok()
            .filter(|_| total <= MAX_ENTRY_BYTES)
        else {
            self.buf.truncate(start);
            return Err(LogError::EntryTooLarge {
                len: total,
                max: MAX_ENTRY_BYTES,
            });
        };
        let crc = crc32c::crc32c(&self.buf[start + FRAME_HEADER..]);
        self.crcs.push(crc32c::crc32c_append(crc, &tail));
        self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
        self.starts.push(start);
        if tail.len() < MIN_TAIL_BYTES {
            self.buf.extend_from_slice(&tail);
        } else {
            self.tail_bytes += tail.len();
            self.tails.push((self.buf.len(), tail));
        }
        Ok(())
    }

    /// Appends one entry by copying `payload`.
    pub fn push(&mut self, payload: &[u8]) -> Result<(), LogError> {
        self.push_with(|out| out.extend_from_slice(payload))
    }

    /// Entries in the batch.
    pub fn len(&self) -> usize {
        self.crcs.len()
    }

    /// Whether the batch holds no entry.
    pub fn is_empty(&self) -> bool {
        self.crcs.is_empty()
    }

    /// Bytes of frames (headers and payloads).
    pub fn bytes(&self) -> usize {
        self.buf.len() + self.tail_bytes
    }

    /// The batch's bytes in file order, as non-empty pieces of the buffer and the tails.
    pub(crate) fn pieces(&self) -> Vec<&[u8]> {
        let mut out = Vec::with_capacity(2 * self.tails.len() + 1);
        let mut from = 0;
        for (at, tail) in &self.tails {
            if *at > from {
                out.push(&self.buf[from..*at]);
            }
            out.push(tail.as_slice());
            from = *at;
        }
        if self.buf.len() > from {
            out.push(&self.buf[from..]);
        }
        out
    }

    /// Where each frame starts, in bytes from the start of the batch as written.
    pub(crate) fn positions(&self) -> impl Iterator<Item = u64> + '_ {
        let mut tails = self.tails.iter().peekable();
        let mut before = 0usize;
        self.starts.iter().map(move |&start| {
            while let Some((_, t)) = tails.next_if(|(at, _)| *at <= start) {
                before += t.len();
            }
            (start + before) as u64
        })
    }
}

/// Writes `pieces` in order with vectored writes, all of it or an error.
pub(crate) fn write_pieces(out: &mut impl Write, pieces: &[&[u8]]) -> io::Result<()> {
    for chunk in pieces.chunks(MAX_IOVECS) {
        let mut slices: Vec<IoSlice<'_>> = chunk.iter().map(|p| IoSlice::new(p)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
