//! Sequential reader over durable entries that can follow the tail.
//!
//! A reader only returns entries below the durable end, so it never sees a frame that a crash
//! could still take away. Every frame's checksum is verified; a failing frame is reported as
//! [`LogError::Corrupt`] every time it is reached, never skipped.
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::LogError;
use super::segment::{self, Frame};
use super::writer::{Shared, lock};

/// Read buffer per open segment.
const READ_BUFFER: usize = 64 * 1024;

/// An open segment positioned at a frame boundary.
struct Cursor {
    base: u64,
    path: PathBuf,
    file: BufReader<File>,
    /// Offset of the frame the file is positioned at.
    offset: u64,
}

/// Reads entries in offset order from a starting offset; see the module docs.
///
/// As an [`Iterator`] it yields `Ok((offset, payload))` until it reaches the durable end and
/// then `None`; calling `next` again later returns entries appended since (it is not fused).
/// [`LogReader::wait`] blocks until there is something new.
pub struct LogReader {
    shared: Arc<Shared>,
    next: u64,
    cur: Option<Cursor>,
    payload: Vec<u8>,
}

impl LogReader {
    pub(crate) fn new(shared: Arc<Shared>, from: u64) -> Self {
        Self {
            shared,
            next: from,
            cur: None,
            payload: Vec::new(),
        }
    }

    /// Offset of the entry the next read returns.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Moves to `offset`; errors about it surface on the next read.
    pub fn seek(&mut self, offset: u64) {
        self.next = offset;
    }

    /// Blocks until an entry at [`position`](Self::position) is durable or `timeout` passes;
    /// returns whether one is readable now. Also returns early if the log's writer stopped.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared.state);
        loop {
            if self.shared.durable_end.load(Ordering::Acquire) > self.next {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || !st.running() {
                return false;
            }
            st = self
                .shared
                .done
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Reads the next entry into a borrowed buffer: `Ok(Some((offset, payload)))`, or
    /// `Ok(None)` at the durable end. The buffer is reused by the next call.
    pub fn next_borrowed(&mut self) -> Result<Option<(u64, &[u8])>, LogError> {
        if self.next >= self.shared.durable_end.load(Ordering::Acquire) {
            return Ok(None);
        }
        match self.read_one() {
            Ok(offset) => Ok(Some((offset, &self.payload))),
            Err(err) => {
                self.cur = None;
                Err(err)
            }
        }
    }

    /// Reads up to `max_entries` entries, stopping early at the durable end or once
    /// `max_bytes` of payload are collected (the last entry may overshoot, and one entry is
    /// returned even if it alone is larger). An empty result means nothing new yet. An error is
    /// returned only if no entry could be read before it; otherwise it surfaces on the next call.
    pub fn read_batch(
        &mut self,
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, LogError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max_entries && bytes < max_bytes {
            match self.next_borrowed() {
                Ok(Some((offset, payload))) => {
                    bytes += payload.len();
                    out.push((offset, payload.to_vec()));
                }
                Ok(None) => break,
                Err(err) if out.is_empty() => return Err(err),
                Err(_) => break,
            }
        }
        Ok(out)
    }

    /// Reads the frame at `self.next` into `self.payload`; returns its offset.
    fn read_one(&mut self) -> Result<u64, LogError> {
        let offset = self.next;
        if self.cur.as_ref().is_none_or(|c| c.offset != offset) {
            self.cur = Some(self.open_at(offset)?);
        }
        for _ in 0..2 {
            let Some(cur) = self.cur.as_mut() else { break };
            match segment::read_frame(&mut cur.file, offset, u64::MAX, &mut self.payload) {
                Ok(Frame::Good(_)) => {
                    cur.offset += 1;
                    self.next += 1;
                    return Ok(offset);
                }
                Ok(Frame::End | Frame::Bad) => {
                    // The entry may live in the next segment: the writer rolled since we opened.
                    let segment = cur.path.clone();
                    let base = cur.base;
                    let other = self.open_at(offset)?;
                    if other.base == base {
                        return Err(LogError::Corrupt { segment, offset });
                    }
                    self.cur = Some(other);
                }
                Err(e) => return Err(LogError::io(&cur.path, e)),
            }
        }
        Err(LogError::Corrupt {
            segment: self
                .cur
                .as_ref()
                .map(|c| c.path.clone())
                .unwrap_or_default(),
            offset,
        })
    }

    /// Opens the segment holding `offset` and positions it there via the sparse index.
    fn open_at(&mut self, offset: u64) -> Result<Cursor, LogError> {
        let (base, path, start, pos) = {
            let segs = self
                .shared
                .segments
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let start = segs.first().map_or(0, |s| s.base);
            if offset < start {
                return Err(LogError::BelowStart {
                    requested: offset,
                    start,
                });
            }
            let i = segs.partition_point(|s| s.base <= offset).saturating_sub(1);
            let Some(seg) = segs.get(i) else {
                return Err(LogError::Closed);
            };
            let (o, p) = seg.index.seek(offset).unwrap_or((seg.base, 0));
            (seg.base, seg.path.clone(), o, p)
        };
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Retention removed it after we looked.
                let start = self.shared.start_offset();
                return Err(if offset < start {
                    LogError::BelowStart {
                        requested: offset,
                        start,
                    }
                } else {
                    LogError::io(&path, e)
                });
            }
            Err(e) => return Err(LogError::io(&path, e)),
        };
        let mut file = BufReader::with_capacity(READ_BUFFER, file);
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| LogError::io(&path, e))?;
        let mut cur = Cursor {
            base,
            path,
            file,
            offset: start,
        };
        while cur.offset < offset {
            match segment::read_frame(&mut cur.file, cur.offset, u64::MAX, &mut self.payload) {
                Ok(Frame::Good(_)) => cur.offset += 1,
                Ok(Frame::End | Frame::Bad) => {
                    return Err(LogError::Corrupt {
                        segment: cur.path,
                        offset: cur.offset,
                    });
                }
                Err(e) => return Err(LogError::io(&cur.path, e)),
            }
        }
        Ok(cur)
    }
}

impl Iterator for LogReader {
    type Item = Result<(u64, Vec<u8>), LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_borrowed() {
            Ok(Some((offset, payload))) => Some(Ok((offset, payload.to_vec()))),
            Ok(None) => None,
            Err(err) => Some(Err(err)),
        }
    }
}
