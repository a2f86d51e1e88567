//! Size limits for untrusted input. Every payload entrail buffers goes through these functions;
//! `clippy.toml` forbids the unbounded alternatives.

use std::io::Read;

/// The largest single record entrail accepts (Microsoft documents 1 MB event bodies; records are smaller).
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// The largest file or blob read whole into memory (larger inputs are streamed).
pub const MAX_WHOLE_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// An input was larger than its cap.
#[derive(Debug, thiserror::Error)]
pub enum CappedReadError {
    /// More than `cap` bytes.
    #[error("input larger than {cap} bytes")]
    TooLarge {
        /// The cap in bytes.
        cap: u64,
    },
    /// The reader failed.
    #[error("read failed")]
    Io(#[from] std::io::Error),
}

/// Reads all of `reader`, failing instead of buffering more than `cap` bytes.
#[allow(clippy::disallowed_methods)] // the one sanctioned read_to_end
pub fn read_capped(reader: impl Read, cap: u64) -> Result<Vec<u8>, CappedReadError> {
    let mut buf = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(CappedReadError::TooLarge { cap });
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_reads() {
        assert_eq!(read_capped(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(matches!(
            read_capped(&b"abcd"[..], 3),
            Err(CappedReadError::TooLarge { cap: 3 })
        ));
    }
}
