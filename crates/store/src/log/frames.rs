//! [`Frames`]: entries encoded straight into frame layout, so a caller that serializes records (the
//! hub) writes each payload once, into the buffer the writer thread writes to disk, instead of into a
//! buffer of its own that [`Log::append`](super::Log::append) then copies.
use super::segment::FRAME_HEADER;
use super::{LogError, MAX_ENTRY_BYTES};

/// A batch of entries in frame layout with their checksums still open (the offsets are assigned when
/// the batch is queued). Build with [`Frames::push_with`], append with
/// [`Log::enqueue`](super::Log::enqueue).
#[derive(Debug, Default)]
pub struct Frames {
    pub(crate) buf: Vec<u8>,
    /// crc32c of each payload, in order.
    pub(crate) crcs: Vec<u32>,
}

impl Frames {
    /// An empty batch with room for `bytes` of frames.
    pub fn with_capacity(bytes: usize) -> Frames {
        Frames {
            buf: Vec::with_capacity(bytes),
            crcs: Vec::new(),
        }
    }

    /// Appends one entry whose payload `write` appends to the vector it is given. An entry larger than
    /// [`MAX_ENTRY_BYTES`] is refused and leaves the batch as it was.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), LogError> {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; FRAME_HEADER]);
        write(&mut self.buf);
        let payload = &self.buf[start + FRAME_HEADER..];
        let Some(len) = u32::try_from(payload.len())
            .ok()
            .filter(|_| payload.len() <= MAX_ENTRY_BYTES)
        else {
            let len = payload.len();
            self.buf.truncate(start);
            return Err(LogError::EntryTooLarge {
                len,
                max: MAX_ENTRY_BYTES,
            });
        };
        self.crcs.push(crc32c::crc32c(payload));
        self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
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
        self.buf.len()
    }
}
