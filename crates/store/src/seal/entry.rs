//! Chain entries: what each kind binds, and how an entry's hash is computed.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{HashAlg, SealError, hex};

/// The `prev` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One 1 MiB block of a log segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// First byte of the block in the segment.
    pub start: u64,
    /// Bytes in it (1 MiB but for the last block).
    pub len: u64,
    /// Offset of the record holding the block's first byte.
    pub first: u64,
    /// Offset of the record holding its last byte.
    pub last: u64,
    /// Digest of the block's bytes (the body's `alg`), hex.
    pub digest: String,
}

/// One region of a Parquet file: a row group (from the end of the previous region to the end of its last
/// column chunk, so the regions cover the whole file) or the footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// Bytes.
    pub len: u64,
    /// Rows in the row group; 0 for the footer.
    pub rows: u64,
    /// Smallest and largest `_EventTime` of the row group from its footer statistics: identifies a row
    /// group even when the file is rewritten around it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_times: Option<(i64, i64)>,
    /// Digest of the bytes (the body's `alg`), hex.
    pub digest: String,
}

/// What an entry seals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A closed log segment.
    Segment {
        /// Path relative to the data directory (`log/<20 digits>.seg`).
        path: String,
        /// Hash function of `blocks` and `root`.
        alg: HashAlg,
        /// Size in bytes.
        bytes: u64,
        /// Hash (`alg`) over the block digests, hex.
        root: String,
        /// Offset of its first entry.
        base: u64,
        /// Entries in it.
        entries: u64,
        /// Its 1 MiB blocks.
        blocks: Vec<Block>,
    },
    /// An archive Parquet file.
    Parquet {
        /// Path relative to the data directory (`archive/<Table>/day=<day>/part-<a>-<b>.parquet`).
        path: String,
        /// Hash function of `row_groups`, `footer` and `root`.
        alg: HashAlg,
        /// Size in bytes.
        bytes: u64,
        /// Hash (`alg`) over the region digests, hex.
        root: String,
        /// Rows in the file.
        rows: u64,
        /// Smallest `_EventTime`, microseconds.
        min_event_time_us: i64,
        /// Largest `_EventTime`, microseconds.
        max_event_time_us: i64,
        /// Its row groups in order.
        row_groups: Vec<Region>,
        /// Everything after the last row group (page indexes, metadata, length, magic).
        footer: Region,
    },
    /// A sealed file deleted by policy.
    Deletion {
        /// Path relative to the data directory.
        path: String,
        /// The `seq` of the entry that sealed it.
        sealed_seq: u64,
        /// Its `root` as sealed.
        root: String,
        /// `retention`, `compaction` or `log_trim`.
        reason: String,
        /// The rule applied (policy and age, the file rows were merged into, the offset all consumers passed).
        detail: String,
    },
    /// A signed checkpoint over every entry before it.
    Checkpoint {
        /// Entries covered (all with a smaller `seq`).
        covered: u64,
        /// [`key_id`](super::key_id) of the signing key; empty when unsigned.
        key_id: String,
    },
}

impl Body {
    /// The sealed path, for file kinds.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Segment { path, .. }
            | Self::Parquet { path, .. }
            | Self::Deletion { path, .. } => Some(path),
            Self::Checkpoint { .. } => None,
        }
    }

    /// `segment`, `parquet`, `deletion` or `checkpoint`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Segment { .. } => "segment",
            Self::Parquet { .. } => "parquet",
            Self::Deletion { .. } => "deletion",
            Self::Checkpoint { .. } => "checkpoint",
        }
    }
}

/// One line of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 0, 1, 2, ...
    pub seq: u64,
    /// When it was appended, microseconds since the epoch.
    pub time_us: i64,
    /// The previous entry's `hash` ([`GENESIS`] for the first).
    pub prev: String,
    /// What it seals.
    #[serde(flatten)]
    pub body: Body,
    /// SHA-256 of the entry without `hash` and `sig`, hex; see [`Entry::compute_hash`].
    pub hash: String,
    /// Checkpoints: Ed25519 signature of the 32 hash bytes, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// The hashed part of an entry, serialized as compact JSON in field order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    time_us: i64,
    prev: &'a str,
    #[serde(flatten)]
    body: &'a Body,
}

impl Entry {
    /// A new entry with its hash filled in (unsigned).
    pub(crate) fn new(
        seq: u64,
        time_us: i64,
        prev: String,
        body: Body,
    ) -> Result<Entry, SealError> {
        let mut e = Entry {
            seq,
            time_us,
            prev,
            body,
            hash: String::new(),
            sig: None,
        };
        e.hash = hex(&e.compute_hash()?);
        Ok(e)
    }

    /// SHA-256 of the compact JSON of `{seq, time_us, prev, kind, <body fields>}`.
    pub fn compute_hash(&self) -> Result<[u8; 32], SealError> {
        let json = serde_json::to_vec(&Hashed {
            seq: self.seq,
            time_us: self.time_us,
            prev: &self.prev,
            body: &self.body,
        })
        .map_err(|source| SealError::Encode {
            seq: self.seq,
            source,
        })?;
        Ok(Sha256::digest(&json).into())
    }
}
