//! Tamper evidence: a hash chain sealing every closed log segment, every archive Parquet file and
//! every deletion made by policy (retention, compaction, log trimming), with periodic Ed25519-signed
//! checkpoints; and the verifier that recomputes it.
//!
//! # Chain
//! `<data>/seal/chain.jsonl`, one JSON [`Entry`] a line, appended and fsynced, never rewritten. Every entry
//! binds its sequence number, its time, the previous entry's hash and its own body; its `hash` is the
//! SHA-256 of that (see [`Entry::compute_hash`]). File contents are hashed with the body's `alg`
//! ([`HashAlg`]: BLAKE3 by default, SHA-256 on request). Bodies ([`Body`]):
//! - `segment`: a closed log segment: path, size, first offset, entries, and one digest per 1 MiB block
//!   with the record offsets the block covers;
//! - `parquet`: an archive file: path, size, rows, event-time range, one digest per row group (the byte
//!   range from the end of the previous one, with its row count) and one for the footer;
//! - `deletion`: a sealed file removed by policy, with the reason (`retention`, `compaction`, `log_trim`)
//!   and the rule (policy, age), so the verifier tells it apart from tampering;
//! - `checkpoint`: signs the chain so far: `sig` is an Ed25519 signature of the checkpoint's hash, so
//!   rewriting the chain needs the signing key; its head can be published outside the data directory.
//!
//! A file's `root` is the hash of its region digests in order (a one-level hash tree): one pass over
//! the bytes gives both the file commitment and the digests that locate an edit.
//!
//! # Hook-ups
//! The log and the archive call a [`SealHook`] (a [`Sealer`]) when a segment is closed, before segments are
//! trimmed, and whenever the archive stores a new manifest (files added, files deleted with their reason).
//! [`Sealer::catch_up_log`] and [`Sealer::catch_up_archive`] seal what a crash left unsealed. The log's writer
//! digests each segment as it writes it ([`SegmentDigest`]), so sealing a closed segment reads nothing back
//! (a segment the writer did not see whole, such as one reopened after a restart, is read back instead).
mod chain;
mod config;
mod entry;
mod error;
mod files;
mod hash;
mod key;
mod report;
mod running;
mod sealer;
mod verify;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use config::SealConfig;
pub use entry::{Block, Body, Entry, GENESIS, Region};
pub use error::{ErrorKind, SealError};
pub use hash::{BLOCK_BYTES, HashAlg, hash_parquet, hash_segment};
pub use key::{generate_key_pair, key_id, load_signing_key, load_verifying_key};
pub use report::{Finding, FindingKind, PolicyDeletion, VerifyOptions, VerifyReport};
pub use running::SegmentDigest;
pub use sealer::Sealer;
pub use verify::verify;

use crate::archive::Manifest;

/// The chain file, relative to the data directory.
pub const CHAIN_FILE: &str = "seal/chain.jsonl";

/// Called by the log and the archive when files are closed, added or removed. Implementations log their
/// own failures (the data path never fails because sealing did); a file left unsealed shows in `verify`.
pub trait SealHook: Send + Sync {
    /// A log segment was closed (fsynced; no entry will be added to it) holding `entries` entries from
    /// offset `base`.
    fn segment_closed(&self, path: &Path, base: u64, entries: u64);
    /// The hash function to digest segments with while they are written, if the hook takes such digests
    /// ([`SealHook::segment_closed_digested`]); `None` (the default) makes the log call
    /// [`SealHook::segment_closed`], which reads the segment back.
    fn running_hash(&self) -> Option<HashAlg> {
        None
    }
    /// As [`SealHook::segment_closed`], with the segment's digest computed while it was written (from its
    /// first byte to its last, with the [`SealHook::running_hash`] function), so the file need not be read.
    fn segment_closed_digested(&self, path: &Path, base: u64, entries: u64, digest: SegmentDigest) {
        let _ = digest;
        self.segment_closed(path, base, entries);
    }
    /// These log segments are about to be deleted because every consumer is past `below_offset`.
    fn segments_removing(&self, paths: &[PathBuf], below_offset: u64);
    /// The archive in `archive_dir` replaced its manifest `before` by `after` (files are in place; removed
    /// files are deleted after this call).
    fn manifest_stored(&self, archive_dir: &Path, before: &Manifest, after: &Manifest);
}

/// `path` relative to `base`, `/`-separated; the whole path when it is not under `base`.
pub(crate) fn rel_path(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Bytes of lower- or upper-case hex; `None` when `s` is not hex.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}
