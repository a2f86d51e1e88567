//! Where a partition buffer keeps its rows' encoded entries: in memory (1 MiB chunks), or spilled to an
//! unlinked file in the archive's `.spill/` directory (the default, `ArchiveConfig::spill`, once a buffer
//! passes [`SPILL_AFTER_BYTES`]), so that a buffer's resident cost is its row bookkeeping and sort keys,
//! not its entries. Small buffers stay in memory: at most `max_buffered_bytes / SPILL_AFTER_BYTES` files
//! are open at once however many partitions a backfill touches. A spilled entry is written
//! through a 1 MiB buffer and read back with one positioned read when the buffer is written out in sort
//! order; the file is in the page cache, which the kernel can write back and reclaim, instead of the
//! process's heap. The file has no name once created, so a crash leaves nothing behind.
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::archive::ArchiveError;

/// Size of the memory chunks, and of a spill file's write buffer (an entry larger than this gets a chunk
/// of its own, or is written straight through).
const CHUNK_BYTES: usize = 1 << 20;

/// Bytes a buffer keeps in memory before it moves its entries to a spill file.
pub(crate) const SPILL_AFTER_BYTES: usize = CHUNK_BYTES;

/// The directory of spill files, under the archive directory.
pub(crate) const SPILL_DIR: &str = ".spill";

/// Makes spill file names unique within the process (the archive lock makes the directory ours).
static SPILL_SEQ: AtomicU64 = AtomicU64::new(0);

/// Where one entry is: a chunk and a position in it (memory), or a byte position (spill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub(crate) pos: u64,
    pub(crate) len: u32,
}

/// The entries of one partition buffer.
pub(crate) enum Entries {
    /// Copied into chunks; `Loc::pos` is `chunk << 32 | start`.
    Memory(Vec<Vec<u8>>),
    /// Written to a file.
    Spill(Spill),
}

/// An unlinked spill file and its write buffer.
pub(crate) struct Spill {
    file: File,
    /// What the file was called, for errors (it is unlinked right after it is created).
    path: PathBuf,
    /// Bytes in the file.
    written: u64,
    /// Entries not yet written to the file.
    pending: Vec<u8>,
}

impl Entries {
    /// Entries kept in memory.
    pub(crate) fn memory() -> Self {
        Self::Memory(Vec::new())
    }

    /// Entries spilled to a new file in `archive_dir/.spill/`.
    fn spill(archive_dir: &Path) -> Result<Self, ArchiveError> {
        let dir = archive_dir.join(SPILL_DIR);
        fs::create_dir_all(&dir).map_err(|e| ArchiveError::io(&dir, e))?;
        let seq = SPILL_SEQ.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{}-{seq}.entries", std::process::id()));
        // A file of this name can only be left by a crash between create and unlink below.
        let _ = fs::remove_file(&path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ArchiveError::io(&path, e))?;
        fs::remove_file(&path).map_err(|e| ArchiveError::io(&path, e))?;
        Ok(Self::Spill(Spill {
            file,
            path,
            written: 0,
            pending: Vec::new(),
        }))
    }

    /// Whether entries go to a file.
    pub(crate) fn is_spilled(&self) -> bool {
        matches!(self, Self::Spill(_))
    }

    /// Bytes of entries held in memory.
    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Self::Memory(chunks) => chunks.iter().map(Vec::len).sum(),
            Self::Spill(s) => s.pending.len(),
        }
    }

    /// Moves entries kept in memory to a new spill file in `archive_dir/.spill/`, chunk after chunk, and
    /// returns each chunk's position in the file: an entry at `(chunk, start)` is now at
    /// `bases[chunk] + start`. Already spilled entries stay where they are (no bases).
    pub(crate) fn spill_to(&mut self, archive_dir: &Path) -> Result<Vec<u64>, ArchiveError> {
        let Self::Memory(chunks) = self else {
            return Ok(Vec::new());
        };
        let mut spilled = Self::spill(archive_dir)?;
        let mut bases = Vec::with_capacity(chunks.len());
        if let Self::Spill(s) = &mut spilled {
            for chunk in chunks.iter() {
                bases.push(s.written);
                s.write(chunk)?;
            }
        }
        *self = spilled;
        Ok(bases)
    }

    /// Stores `entry`; returns where it is.
    pub(crate) fn push(&mut self, entry: &[u8]) -> Result<Loc, ArchiveError> {
        let len = entry.len() as u32;
        match self {
            Self::Memory(chunks) => {
                let fits = chunks
                    .last()
                    .is_some_and(|c| c.capacity() - c.len() >= entry.len());
                if !fits {
                    chunks.push(Vec::with_capacity(CHUNK_BYTES.max(entry.len())));
                }
                let chunk = chunks.len() - 1;
                let mut start = 0;
                if let Some(c) = chunks.last_mut() {
                    start = c.len();
                    c.extend_from_slice(entry);
                }
                Ok(Loc {
                    pos: (chunk as u64) << 32 | start as u64,
                    len,
                })
            }
            Self::Spill(s) => {
                let pos = s.written + s.pending.len() as u64;
                if s.pending.len() + entry.len() > CHUNK_BYTES {
                    s.write_pending()?;
                }
                if entry.len() >= CHUNK_BYTES {
                    s.write(entry)?;
                } else {
                    if s.pending.capacity() == 0 {
                        s.pending.reserve_exact(CHUNK_BYTES);
                    }
                    s.pending.extend_from_slice(entry);
                }
                Ok(Loc { pos, len })
            }
        }
    }

    /// The entry at `loc`: borrowed from memory, or read into `scratch`.
    pub(crate) fn get<'a>(
        &'a self,
        loc: Loc,
        scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], ArchiveError> {
        match self {
            Self::Memory(_) => Ok(self.borrowed(loc).unwrap_or_default()),
            Self::Spill(s) => {
                if loc.pos >= s.written {
                    return Ok(self.borrowed(loc).unwrap_or_default());
                }
                scratch.clear();
                scratch.resize(loc.len as usize, 0);
                s.file
                    .read_exact_at(scratch, loc.pos)
                    .map_err(|e| ArchiveError::io(&s.path, e))?;
                Ok(scratch)
            }
        }
    }

    /// The entry at `loc` when it is in memory (not yet in the spill file).
    pub(crate) fn borrowed(&self, loc: Loc) -> Option<&[u8]> {
        let len = loc.len as usize;
        match self {
            Self::Memory(chunks) => {
                let (chunk, start) = ((loc.pos >> 32) as usize, (loc.pos as u32) as usize);
                chunks.get(chunk).and_then(|c| c.get(start..start + len))
            }
            Self::Spill(s) => {
                let at = loc.pos.checked_sub(s.written)? as usize;
                s.pending.get(at..at + len)
            }
        }
    }

    /// Moves buffered spill bytes to the file and frees the write buffer: called before the entries are
    /// read back, when no more are pushed.
    pub(crate) fn finish_writes(&mut self) -> Result<(), ArchiveError> {
        if let Self::Spill(s) = self {
            s.write_pending()?;
            s.pending = Vec::new();
        }
        Ok(())
    }
}

impl Spill {
    fn write_pending(&mut self) -> Result<(), ArchiveError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let r = self.write(&pending);
        self.pending = pending;
        self.pending.clear();
        r
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.file
            .write_all(bytes)
            .map_err(|e| ArchiveError::io(&self.path, e))?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}
