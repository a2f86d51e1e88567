//! The chain file: reading it line by line, replaying it into the set of live sealed files, and appending
//! entries and signed checkpoints (fsynced; each checkpoint also published when configured).
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ed25519_dalek::{Signer, SigningKey};

use super::entry::{Body, Entry, GENESIS};
use super::{CHAIN_FILE, SealConfig, SealError, hex, key_id, load_signing_key, unhex};

/// Longest chain line accepted (a 4 GiB segment's 4096 blocks are about 700 KiB).
const MAX_LINE: u64 = 8 << 20;

/// One line of the chain file as read.
pub(crate) struct Line {
    /// 1-based line number.
    pub(crate) number: usize,
    /// The entry, or why the line is not one.
    pub(crate) entry: Result<Entry, String>,
}

/// Reads every line of the chain at `path`: `(lines, bytes up to the end of the last complete line,
/// file length)`. A missing file is an empty chain.
pub(crate) fn read_lines(path: &Path) -> Result<(Vec<Line>, u64, u64), SealError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0, 0)),
        Err(e) => return Err(SealError::io(path, e)),
    };
    let file_len = file.metadata().map_err(|e| SealError::io(path, e))?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut lines = Vec::new();
    let mut complete = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .map_err(|e| SealError::io(path, e))?;
        if n == 0 {
            break;
        }
        let number = lines.len() + 1;
        if buf.last() != Some(&b'\n') {
            let entry = Err(if n as u64 >= MAX_LINE {
                format!("line longer than {MAX_LINE} bytes")
            } else {
                "incomplete last line".to_owned()
            });
            lines.push(Line { number, entry });
            break;
        }
        complete += n as u64;
        let entry = serde_json::from_slice::<Entry>(&buf).map_err(|e| e.to_string());
        lines.push(Line { number, entry });
    }
    Ok((lines, complete, file_len))
}

/// What the chain says is sealed now: replaying entries in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct ChainState {
    /// `seq` the next entry gets.
    pub(crate) next_seq: u64,
    /// Hash of the last entry ([`GENESIS`] when empty).
    pub(crate) head: String,
    /// Sealed files not deleted since: path -> (seq, body).
    pub(crate) live: BTreeMap<String, (u64, Body)>,
    /// Entries since the last checkpoint.
    pub(crate) since_checkpoint: u64,
    /// One past the last offset of any segment ever sealed (deleted or not).
    pub(crate) segment_end: u64,
}

impl ChainState {
    pub(crate) fn new() -> Self {
        Self {
            head: GENESIS.to_owned(),
            ..Self::default()
        }
    }

    /// Applies `e` (assumed in order).
    pub(crate) fn apply(&mut self, e: &Entry) {
        self.next_seq = e.seq + 1;
        self.head.clone_from(&e.hash);
        match &e.body {
            Body::Segment { path, .. } | Body::Parquet { path, .. } => {
                if let Body::Segment { base, entries, .. } = &e.body {
                    self.segment_end = self.segment_end.max(base.saturating_add(*entries));
                }
                self.live.insert(path.clone(), (e.seq, e.body.clone()));
                self.since_checkpoint += 1;
            }
            Body::Deletion { path, .. } => {
                self.live.remove(path);
                self.since_checkpoint += 1;
            }
            Body::Checkpoint { .. } => self.since_checkpoint = 0,
        }
    }
}

/// The `root` of a sealed file body.
pub(crate) fn root(body: &Body) -> &str {
    match body {
        Body::Segment { root, .. } | Body::Parquet { root, .. } | Body::Deletion { root, .. } => {
            root
        }
        Body::Checkpoint { .. } => "",
    }
}

/// The hash function of a sealed file body (BLAKE3 for bodies without one).
pub(crate) fn alg(body: &Body) -> super::HashAlg {
    match body {
        Body::Segment { alg, .. } | Body::Parquet { alg, .. } => *alg,
        _ => super::HashAlg::default(),
    }
}

/// The open chain, appended to by the [`Sealer`](super::Sealer).
pub(crate) struct Chain {
    path: PathBuf,
    file: File,
    pub(crate) state: ChainState,
    key: Option<SigningKey>,
    key_id: String,
    cfg: SealConfig,
    last_checkpoint: Instant,
}

impl Chain {
    /// Opens (creating) `<data_dir>/seal/chain.jsonl`, cuts a torn last line and replays it.
    pub(crate) fn open(data_dir: &Path, cfg: SealConfig) -> Result<Chain, SealError> {
        cfg.validate()?;
        let key = cfg
            .signing_key_file
            .as_deref()
            .map(load_signing_key)
            .transpose()?;
        let key_id = key
            .as_ref()
            .map(|k| key_id(&k.verifying_key()))
            .unwrap_or_default();
        let path = data_dir.join(CHAIN_FILE);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| SealError::io(dir, e))?;
        }
        let (lines, complete, len) = read_lines(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| SealError::io(&path, e))?;
        if complete < len {
            tracing::warn!(chain = %path.display(), bytes = len - complete, "cutting a torn last chain line");
            file.set_len(complete)
                .map_err(|e| SealError::io(&path, e))?;
        }
        let mut state = ChainState::new();
        for line in &lines {
            match &line.entry {
                Ok(e) => state.apply(e),
                Err(reason) => {
                    tracing::error!(chain = %path.display(), line = line.number, %reason, "chain line is not an entry; `entrail verify` reports it");
                }
            }
        }
        Ok(Chain {
            path,
            file,
            state,
            key,
            key_id,
            cfg,
            last_checkpoint: Instant::now(),
        })
    }

    /// Appends `bodies` as entries with one write and one fsync.
    pub(crate) fn append(&mut self, bodies: Vec<Body>) -> Result<Vec<Entry>, SealError> {
        if bodies.is_empty() {
            return Ok(Vec::new());
        }
        let now = chrono::Utc::now().timestamp_micros();
        let mut next = self.state.clone();
        let mut out = Vec::new();
        let mut entries = Vec::with_capacity(bodies.len());
        for body in bodies {
            let mut e = Entry::new(next.next_seq, now, next.head.clone(), body)?;
            if matches!(e.body, Body::Checkpoint { .. })
                && let Some(key) = &self.key
                && let Some(hash) = unhex(&e.hash)
            {
                e.sig = Some(hex(&key.sign(&hash).to_bytes()));
            }
            serde_json::to_writer(&mut out, &e)
                .map_err(|source| SealError::Encode { seq: e.seq, source })?;
            out.push(b'\n');
            next.apply(&e);
            entries.push(e);
        }
        self.file
            .write_all(&out)
            .map_err(|e| SealError::io(&self.path, e))?;
        if self.cfg.fsync {
            self.file
                .sync_data()
                .map_err(|e| SealError::io(&self.path, e))?;
        }
        self.state = next;
        Ok(entries)
    }

    /// Writes a checkpoint when entries were added since the last one and `force`, `checkpoint_every` or
    /// `checkpoint_interval` says so; publishes it.
    pub(crate) fn maybe_checkpoint(&mut self, force: bool) -> Result<(), SealError> {
        let since = self.state.since_checkpoint;
        if since == 0
            || !(force
                || since >= self.cfg.checkpoint_every
                || self.last_checkpoint.elapsed() >= self.cfg.checkpoint_interval)
        {
            return Ok(());
        }
        let body = Body::Checkpoint {
            covered: self.state.next_seq,
            key_id: self.key_id.clone(),
        };
        let entries = self.append(vec![body])?;
        self.last_checkpoint = Instant::now();
        for e in &entries {
            self.publish(e)?;
        }
        Ok(())
    }

    fn publish(&self, e: &Entry) -> Result<(), SealError> {
        let head = serde_json::json!({
            "seq": e.seq, "hash": e.hash, "time_us": e.time_us,
            "key_id": self.key_id, "sig": e.sig,
        });
        if self.cfg.publish_log {
            tracing::info!(target: "entrail::seal::head", seq = e.seq, hash = %e.hash, key_id = %self.key_id, sig = e.sig.as_deref().unwrap_or(""), "chain head");
        }
        if let Some(path) = &self.cfg.publish_file {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| SealError::io(path, e))?;
            let mut line = head.to_string().into_bytes();
            line.push(b'\n');
            file.write_all(&line).map_err(|e| SealError::io(path, e))?;
            if self.cfg.fsync {
                file.sync_data().map_err(|e| SealError::io(path, e))?;
            }
        }
        Ok(())
    }
}
