//! Configuration of sealing (`[integrity]`) and its validation (no I/O: keys are read by
//! [`Sealer::open`](super::Sealer::open)).
use std::path::PathBuf;
use std::time::Duration;

use super::SealError;

/// How the chain is written, signed and published. Build with `SealConfig::default()` and override fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealConfig {
    /// Ed25519 private key (PKCS#8 PEM) signing checkpoints; `None` writes unsigned checkpoints (the chain
    /// still detects edits, but not a rewrite of the whole chain).
    pub signing_key_file: Option<PathBuf>,
    /// Ed25519 public key (SPKI PEM) that checkpoints must verify against; kept apart from the signing key
    /// so a rewritten chain signed with another key fails.
    pub verify_key_file: Option<PathBuf>,
    /// A checkpoint is written after this many entries (default 64), at least 1.
    pub checkpoint_every: u64,
    /// ... or when this much time passed since the last one and entries were added (default 10 min).
    pub checkpoint_interval: Duration,
    /// Every checkpoint (seq, hash, signature) is appended (and fsynced) to this file too, which should
    /// live outside the data directory (another disk, an append-only mount, a log shipper's input).
    pub publish_file: Option<PathBuf>,
    /// Every checkpoint is also logged as an `info` line with target `entrail::seal::head`.
    pub publish_log: bool,
    /// fsync the chain (and published heads) after every append. Default true.
    pub fsync: bool,
    /// Hash function over file contents (default BLAKE3); recorded in each seal.
    pub hash: super::HashAlg,
}

impl Default for SealConfig {
    fn default() -> Self {
        Self {
            signing_key_file: None,
            verify_key_file: None,
            checkpoint_every: 64,
            checkpoint_interval: Duration::from_secs(600),
            publish_file: None,
            publish_log: false,
            fsync: true,
            hash: super::HashAlg::Blake3,
        }
    }
}

impl SealConfig {
    /// Checks every field and reports all problems at once.
    pub fn validate(&self) -> Result<(), SealError> {
        let mut problems = Vec::new();
        if self.checkpoint_every == 0 {
            problems.push("checkpoint_every: must be at least 1".to_owned());
        }
        if self.checkpoint_interval < Duration::from_secs(1) {
            problems.push(format!(
                "checkpoint_interval: must be at least 1s, got {:?}",
                self.checkpoint_interval
            ));
        }
        for (name, p) in [
            ("signing_key_file", &self.signing_key_file),
            ("verify_key_file", &self.verify_key_file),
            ("publish_file", &self.publish_file),
        ] {
            if p.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                problems.push(format!("{name}: must not be empty"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SealError::Config { problems })
        }
    }
}
