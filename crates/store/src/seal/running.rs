//! [`SegmentDigest`]: the seal of a log segment computed from the bytes as they are written, so sealing a
//! closed segment does not read it back. [`super::hash_segment`] (reading a file back) uses the same
//! digest, so both give the same [`Body::Segment`].
use super::entry::{Block, Body};
use super::hash::{BLOCK_BYTES, Digest32, HashAlg, Hasher, root_of};
use super::hex;
use crate::log::MAX_ENTRY_BYTES;

/// Walks frame headers across a byte stream, tracking the offset of the record each byte belongs to.
pub(crate) struct FrameWalk {
    /// Offset the next frame to start will have.
    next: u64,
    /// Payload bytes left in the current frame.
    skip: u64,
    /// Header bytes gathered so far.
    header: [u8; 8],
    have: usize,
}

impl FrameWalk {
    /// The record holding the next byte: the current frame, or the next one at a frame boundary.
    fn current(&self) -> u64 {
        if self.skip == 0 && self.have == 0 {
            self.next
        } else {
            self.next.saturating_sub(1)
        }
    }

    fn feed(&mut self, mut buf: &[u8]) {
        while !buf.is_empty() {
            if self.skip > 0 {
                let n = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                buf = &buf[n..];
                self.skip -= n as u64;
                continue;
            }
            if self.have == 0 {
                self.next += 1;
            }
            let n = (8 - self.have).min(buf.len());
            self.header[self.have..self.have + n].copy_from_slice(&buf[..n]);
            self.have += n;
            buf = &buf[n..];
            if self.have == 8 {
                let [l0, l1, l2, l3, ..] = self.header;
                let len = u64::from(u32::from_le_bytes([l0, l1, l2, l3]));
                // A damaged length is not followed: the rest counts as this record.
                self.skip = if len > MAX_ENTRY_BYTES as u64 {
                    u64::MAX
                } else {
                    len
                };
                self.have = 0;
            }
        }
    }
}

/// Pieces smaller than this are gathered before they are hashed.
const STAGE_BYTES: usize = 64 << 10;

/// A log segment's seal under construction: fed the segment's bytes in order (in pieces of any size), it
/// keeps one running digest per 1 MiB block and the record offsets each block covers.
pub struct SegmentDigest {
    alg: HashAlg,
    /// Offset of the segment's first entry.
    base: u64,
    walk: FrameWalk,
    /// Digest of the block being filled.
    block: Hasher,
    /// Bytes of the block not yet given to `block`: hashing small pieces one by one would lose the hash's
    /// SIMD parallelism (BLAKE3 hashes many 1 KiB chunks at once only when given them at once).
    staged: Vec<u8>,
    /// Bytes in the block being filled.
    block_len: u64,
    /// Record holding the first byte of the block being filled.
    block_first: u64,
    blocks: Vec<Block>,
    digests: Vec<Digest32>,
    /// Bytes fed so far.
    bytes: u64,
}

impl std::fmt::Debug for SegmentDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentDigest")
            .field("alg", &self.alg)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl SegmentDigest {
    /// An empty digest of a segment whose first entry has offset `base`.
    pub fn new(alg: HashAlg, base: u64) -> SegmentDigest {
        SegmentDigest {
            alg,
            base,
            walk: FrameWalk {
                next: base,
                skip: 0,
                header: [0; 8],
                have: 0,
            },
            block: alg.hasher(),
            staged: Vec::new(),
            block_len: 0,
            block_first: base,
            blocks: Vec::new(),
            digests: Vec::new(),
            bytes: 0,
        }
    }

    /// The hash function.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Feeds the next bytes of the segment.
    pub fn update(&mut self, mut buf: &[u8]) {
        while !buf.is_empty() {
            if self.block_len == 0 {
                self.block_first = self.walk.current();
            }
            let room = usize::try_from(BLOCK_BYTES - self.block_len).unwrap_or(usize::MAX);
            let (part, rest) = buf.split_at(room.min(buf.len()));
            self.walk.feed(part);
            if self.staged.is_empty() && part.len() >= STAGE_BYTES {
                self.block.update(part);
            } else {
                if self.staged.capacity() == 0 {
                    self.staged.reserve_exact(STAGE_BYTES);
                }
                self.staged.extend_from_slice(part);
                if self.staged.len() >= STAGE_BYTES {
                    self.block.update(&self.staged);
                    self.staged.clear();
                }
            }
            self.block_len += part.len() as u64;
            self.bytes += part.len() as u64;
            buf = rest;
            if self.block_len == BLOCK_BYTES {
                self.close_block();
            }
        }
    }

    fn close_block(&mut self) {
        if !self.staged.is_empty() {
            self.block.update(&self.staged);
            self.staged.clear();
        }
        let digest = std::mem::replace(&mut self.block, self.alg.hasher()).finalize();
        let first = self.block_first;
        self.blocks.push(Block {
            start: self.bytes - self.block_len,
            len: self.block_len,
            first,
            last: self.walk.next.saturating_sub(1).max(first),
            digest: hex(&digest),
        });
        self.digests.push(digest);
        self.block_len = 0;
    }

    /// The seal of the segment fed so far, at `rel` (relative to the data directory), holding `entries`
    /// entries.
    pub fn finish(mut self, rel: String, entries: u64) -> Body {
        if self.block_len > 0 {
            self.close_block();
        }
        Body::Segment {
            path: rel,
            alg: self.alg,
            bytes: self.bytes,
            root: root_of(self.alg, &self.digests),
            base: self.base,
            entries,
            blocks: self.blocks,
        }
    }
}
