//! Segment files, frames and the sparse offset index.
//!
//! A segment is `<dir>/<20-digit first offset>.seg`, a plain sequence of frames:
//! `u32 LE payload length | u32 LE crc32c(payload ‖ u64 LE offset) | payload`. Offsets are dense
//! entry numbers, so a frame copied to the wrong place fails its checksum. A sealed segment may
//! have a `<20-digit first offset>.idx` sidecar holding its entry count, byte length and sparse
//! index; it is only a cache (written without fsync, checked by its own crc32c) and is rebuilt
//! by scanning when missing or stale.
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::{LogError, MAX_ENTRY_BYTES};

/// Bytes before each payload: length and checksum.
pub(crate) const FRAME_HEADER: usize = 8;
/// The sparse index keeps one position per this many bytes of segment.
pub(crate) const INDEX_INTERVAL: u64 = 64 * 1024;
const INDEX_MAGIC: &[u8; 8] = b"ENTRIDX1";
/// Largest sidecar accepted when loading (far above what a 4 GiB segment needs).
const MAX_INDEX_FILE: u64 = 16 * 1024 * 1024;

/// The checksum stored in a frame: crc32c over the payload followed by the offset (u64 LE).
pub(crate) fn frame_crc(payload: &[u8], offset: u64) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(payload), &offset.to_le_bytes())
}

/// `<dir>/<base:020>.seg`.
pub(crate) fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.seg"))
}

/// `<dir>/<base:020>.idx`.
pub(crate) fn index_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.idx"))
}

/// The first offset encoded in a segment file name, if `name` is one.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Fills in the checksum fields of frames built by [`super::Frames`] (headers at `starts` in `buf`, payload
/// checksums `payload_crcs`), the first at offset `first`.
pub(crate) fn seal_frames(buf: &mut [u8], starts: &[usize], payload_crcs: &[u32], first: u64) {
    for ((offset, crc), &pos) in (first..).zip(payload_crcs).zip(starts) {
        let Some(header) = buf.get_mut(pos..pos + FRAME_HEADER) else {
            return;
        };
        let crc = crc32c::crc32c_append(*crc, &offset.to_le_bytes());
        header[4..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Positions of some frames in one segment: `(offset, byte position)` pairs, ascending, about
/// one per [`INDEX_INTERVAL`] bytes, always including the first frame. 16 bytes per entry.
#[derive(Debug, Default, Clone)]
pub(crate) struct SparseIndex {
    entries: Vec<(u64, u64)>,
    next_pos: u64,
}

impl SparseIndex {
    /// Notes that the frame for `offset` starts at `pos`; frames must come in order.
    pub(crate) fn observe(&mut self, offset: u64, pos: u64) {
        if pos >= self.next_pos {
            self.entries.push((offset, pos));
            self.next_pos = pos.saturating_add(INDEX_INTERVAL);
        }
    }

    /// Number of indexed positions.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends `other`'s entries from position `from` on (both index the same segment).
    pub(crate) fn extend_from(&mut self, other: &Self, from: usize) {
        if let Some(tail) = other.entries.get(from..) {
            self.entries.extend_from_slice(tail);
        }
        self.next_pos = other.next_pos;
    }

    /// The indexed frame closest at or before `offset`.
    pub(crate) fn seek(&self, offset: u64) -> Option<(u64, u64)> {
        let i = self.entries.partition_point(|&(o, _)| o <= offset);
        i.checked_sub(1).map(|i| self.entries[i])
    }
}

/// How reading one frame went.
pub(crate) enum Frame {
    /// A verified frame of this many payload bytes (now in the buffer).
    Good(usize),
    /// End of data exactly at a frame boundary.
    End,
    /// A partial, oversized or checksum-failing frame.
    Bad,
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Reads and verifies the frame for `offset` into `payload` (resized to fit). `remaining` is how
/// many bytes the source has left, to reject lengths that run past the end without reading.
pub(crate) fn read_frame(
    r: &mut impl Read,
    offset: u64,
    remaining: u64,
    payload: &mut Vec<u8>,
) -> io::Result<Frame> {
    let mut header = [0u8; FRAME_HEADER];
    match read_full(r, &mut header)? {
        0 => return Ok(Frame::End),
        FRAME_HEADER => {}
        _ => return Ok(Frame::Bad),
    }
    let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    if len > MAX_ENTRY_BYTES || (FRAME_HEADER + len) as u64 > remaining {
        return Ok(Frame::Bad);
    }
    payload.clear();
    payload.resize(len, 0);
    if read_full(r, payload)? != len || frame_crc(payload, offset) != crc {
        return Ok(Frame::Bad);
    }
    Ok(Frame::Good(len))
}

/// What a full scan of a segment found.
#[derive(Debug)]
pub(crate) struct Scan {
    /// Verified frames from the start.
    pub(crate) count: u64,
    /// Bytes up to the end of the last verified frame.
    pub(crate) valid_bytes: u64,
    /// File length at scan time.
    pub(crate) file_len: u64,
    /// Sparse index over the verified frames.
    pub(crate) index: SparseIndex,
}

/// Reads every frame of the segment at `path` (first offset `base`), stopping at the first one
/// that fails verification.
pub(crate) fn scan_segment(path: &Path, base: u64) -> Result<Scan, LogError> {
    let file = File::open(path).map_err(|e| LogError::io(path, e))?;
    let file_len = file.metadata().map_err(|e| LogError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut scan = Scan {
        count: 0,
        valid_bytes: 0,
        file_len,
        index: SparseIndex::default(),
    };
    let mut payload = Vec::new();
    loop {
        let offset = base + scan.count;
        let remaining = file_len - scan.valid_bytes;
        match read_frame(&mut r, offset, remaining, &mut payload) {
            Ok(Frame::Good(len)) => {
                scan.index.observe(offset, scan.valid_bytes);
                scan.valid_bytes += (FRAME_HEADER + len) as u64;
                scan.count += 1;
            }
            Ok(Frame::End | Frame::Bad) => return Ok(scan),
            Err(e) => return Err(LogError::io(path, e)),
        }
    }
}

/// Writes the sidecar of a sealed segment (temp file + rename, no fsync: it is a cache).
pub(crate) fn write_index_file(
    dir: &Path,
    base: u64,
    count: u64,
    bytes: u64,
    index: &SparseIndex,
) -> Result<(), LogError> {
    let mut buf = Vec::with_capacity(32 + index.entries.len() * 16);
    buf.extend_from_slice(INDEX_MAGIC);
    buf.extend_from_slice(&count.to_le_bytes());
    buf.extend_from_slice(&bytes.to_le_bytes());
    buf.extend_from_slice(&(index.entries.len() as u64).to_le_bytes());
    for (offset, pos) in &index.entries {
        buf.extend_from_slice(&offset.to_le_bytes());
        buf.extend_from_slice(&pos.to_le_bytes());
    }
    buf.extend_from_slice(&crc32c::crc32c(&buf).to_le_bytes());
    let path = index_path(dir, base);
    let tmp = path.with_extension("idx.tmp");
    let mut file = File::create(&tmp).map_err(|e| LogError::io(&tmp, e))?;
    file.write_all(&buf).map_err(|e| LogError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| LogError::io(&path, e))
}

/// Loads a sidecar written by [`write_index_file`]: `(count, bytes, index)`, or `None` when it
/// is missing, damaged or does not belong to `base`.
pub(crate) fn read_index_file(dir: &Path, base: u64) -> Option<(u64, u64, SparseIndex)> {
    let path = index_path(dir, base);
    let mut file = File::open(&path).ok()?;
    let len = file.metadata().ok()?.len();
    if !(36..=MAX_INDEX_FILE).contains(&len) {
        return None;
    }
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact(&mut buf).ok()?;
    let (body, crc) = buf.split_at(buf.len() - 4);
    if crc32c::crc32c(body).to_le_bytes() != crc || !body.starts_with(INDEX_MAGIC) {
        return None;
    }
    let mut words = body[8..]
        .chunks_exact(8)
        .map(|c| c.try_into().map(u64::from_le_bytes).unwrap_or(0));
    let (count, bytes, n) = (words.next()?, words.next()?, words.next()?);
    let mut index = SparseIndex::default();
    for _ in 0..n {
        let (offset, pos) = (words.next()?, words.next()?);
        if offset < base || offset >= base.saturating_add(count) || pos >= bytes {
            return None;
        }
        index.observe(offset, pos);
    }
    if words.next().is_some() || body.len() % 8 != 0 {
        return None;
    }
    Some((count, bytes, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_roundtrip_and_bind_offset() {
        let entries: [&[u8]; 3] = [b"a", b"", b"hello"];
        let mut frames = super::super::Frames::default();
        for e in entries {
            frames.push(e).unwrap();
        }
        let mut buf = frames.buf;
        seal_frames(&mut buf, &frames.starts, &frames.crcs, 7);
        assert_eq!(buf.len(), 3 * FRAME_HEADER + 6);
        let mut r = &buf[..];
        let mut payload = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let remaining = r.len() as u64;
            let got = read_frame(&mut r, 7 + i as u64, remaining, &mut payload).unwrap();
            assert!(matches!(got, Frame::Good(n) if n == e.len()));
            assert_eq!(&payload, e);
        }
        assert!(matches!(
            read_frame(&mut r, 10, 0, &mut payload).unwrap(),
            Frame::End
        ));
        // Same bytes at another offset fail the checksum.
        let mut r = &buf[..];
        assert!(matches!(
            read_frame(&mut r, 8, 100, &mut payload).unwrap(),
            Frame::Bad
        ));
        // A length running past the end is rejected before reading.
        let mut r = &buf[..5];
        assert!(matches!(
            read_frame(&mut r, 7, 5, &mut payload).unwrap(),
            Frame::Bad
        ));
    }

    #[test]
    fn sparse_index_seeks_to_nearest_before() {
        let mut idx = SparseIndex::default();
        for (o, p) in [(10, 0), (11, 100), (20, 70_000), (30, 140_000)] {
            idx.observe(o, p);
        }
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.seek(9), None);
        assert_eq!(idx.seek(15), Some((10, 0)));
        assert_eq!(idx.seek(20), Some((20, 70_000)));
        assert_eq!(idx.seek(99), Some((30, 140_000)));
    }

    #[test]
    fn segment_names_parse() {
        let p = segment_path(Path::new("/x"), 42);
        assert_eq!(p, Path::new("/x/00000000000000000042.seg"));
        assert_eq!(parse_segment_name("00000000000000000042.seg"), Some(42));
        assert_eq!(parse_segment_name("42.seg"), None);
        assert_eq!(parse_segment_name("0000000000000000004x.seg"), None);
        assert_eq!(parse_segment_name("00000000000000000042.idx"), None);
    }
}
