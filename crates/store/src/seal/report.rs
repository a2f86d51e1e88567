//! What verification reports: options, findings with their location, deletions by policy.
use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The data directory (holding `log/`, `archive/` and `seal/`).
    pub data_dir: PathBuf,
    /// Checkpoints must be signed by this key; `None` skips signature checks (reported).
    pub verify_key: Option<VerifyingKey>,
    /// A file of published heads (the `publish_file`) the chain must agree with.
    pub published: Option<PathBuf>,
    /// Only files sealed (segments) or holding events (Parquet) at or after this time, microseconds.
    pub from_us: Option<i64>,
    /// ... and before this time.
    pub to_us: Option<i64>,
}

/// What kind of problem a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A sealed file's bytes differ from its seal in the named regions.
    FileEdited,
    /// A sealed file is gone without a recorded deletion.
    FileRemoved,
    /// A file is on disk that the chain never sealed (or sealed and recorded as deleted, with other bytes).
    FileInserted,
    /// A log segment holds the content sealed for another segment (files renamed or swapped).
    Reordered,
    /// A sealed file is shorter than sealed.
    Truncated,
    /// A chain entry's content does not match its hash, or the line is not an entry.
    ChainEntryEdited,
    /// Entries are missing, duplicated or out of order (sequence or `prev` link broken).
    ChainBroken,
    /// A checkpoint's signature does not verify with the configured key, or the chain disagrees with a
    /// published head: the chain was rewritten.
    ChainRewritten,
    /// A deletion is not covered by a signed checkpoint.
    UnsignedDeletion,
}

/// One problem, with its exact location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The file (relative to the data directory), if the finding is about one.
    pub path: Option<String>,
    /// The chain entry, if the finding is about one.
    pub seq: Option<u64>,
    /// Where: byte and record ranges, row groups, chain line.
    pub location: String,
    /// What was found.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        write!(f, "{kind}")?;
        if let Some(p) = &self.path {
            write!(f, " {p}")?;
        }
        if let Some(s) = self.seq {
            write!(f, " (chain entry {s})")?;
        }
        write!(f, ": {}: {}", self.location, self.detail)
    }
}

/// A deletion by policy: verifies cleanly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDeletion {
    /// The file.
    pub path: String,
    /// The deletion entry.
    pub seq: u64,
    /// When, microseconds.
    pub time_us: i64,
    /// `retention`, `compaction`, `log_trim`.
    pub reason: String,
    /// The rule applied.
    pub detail: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Chain entries read.
    pub entries: u64,
    /// Checkpoints among them.
    pub checkpoints: u64,
    /// Entries covered by the last checkpoint whose signature verified (0 without a key).
    pub signed_through: u64,
    /// Entries after the last verified checkpoint.
    pub unsigned_tail: u64,
    /// Whether signatures were checked (a verify key was given).
    pub signatures_checked: bool,
    /// Published heads compared.
    pub published_heads: u64,
    /// Sealed files checked.
    pub files_checked: u64,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Every problem found; empty means the data directory is as sealed.
    pub findings: Vec<Finding>,
    /// Deletions by policy (not problems).
    pub deleted_by_policy: Vec<PolicyDeletion>,
}

impl VerifyReport {
    /// Adds a finding.
    pub(crate) fn find(
        &mut self,
        kind: FindingKind,
        path: Option<&str>,
        seq: Option<u64>,
        location: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.findings.push(Finding {
            kind,
            path: path.map(str::to_owned),
            seq,
            location: location.into(),
            detail: detail.into(),
        });
    }
}
