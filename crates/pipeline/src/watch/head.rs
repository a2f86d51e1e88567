//! The chain head to the alert destinations (`[integrity] publish_alerts = true`): every checkpoint the
//! integrity chain gained since the last round becomes an informational `entrail.chain_head` finding whose
//! message ends with the head as JSON (`{"seq","hash","time_us","key_id","sig"}`, the `publish_file` line),
//! so a webhook, a SIEM or a syslog server keeps a copy out of reach of whoever can write the data
//! directory; `entrail verify --head` compares such a copy with the chain. The chain file is read
//! incrementally (from where the last round stopped).

use super::finding::{Finding, RULE_CHAIN_HEAD};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Longest chain line read (a 4 GiB segment's entry is about 700 KiB).
const MAX_LINE: u64 = 8 << 20;

/// Where the last round stopped.
#[derive(Debug, Default)]
pub(crate) struct HeadWatch {
    offset: u64,
    started: bool,
}

/// The chain file of a data directory.
fn chain_path(data_dir: &Path) -> PathBuf {
    data_dir.join("seal").join("chain.jsonl")
}

/// A checkpoint entry as its published head, or `None` for other entries.
pub fn head_of(entry: &store::seal::Entry) -> Option<serde_json::Value> {
    match &entry.body {
        store::seal::Body::Checkpoint { key_id, .. } => Some(serde_json::json!({
            "seq": entry.seq, "hash": entry.hash, "time_us": entry.time_us,
            "key_id": key_id, "sig": entry.sig,
        })),
        _ => None,
    }
}

impl HeadWatch {
    /// The checkpoints appended since the last call (all of them the first time when `from_start`; else
    /// only the latest one of the existing chain), as findings.
    pub(crate) fn poll(&mut self, data_dir: &Path, now_ms: i64) -> Vec<Finding> {
        let path = chain_path(data_dir);
        let Ok(mut file) = std::fs::File::open(&path) else {
            return Vec::new();
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            // The chain shrank: someone cut it. Read it again; verify reports the rest.
            self.offset = 0;
        }
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut reader = BufReader::new(file);
        let mut heads = Vec::new();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let Ok(n) = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf) else {
                break;
            };
            if n == 0 || buf.last() != Some(&b'\n') {
                break; // a line still being written is read next round
            }
            self.offset += n as u64;
            if let Ok(e) = serde_json::from_slice::<store::seal::Entry>(&buf)
                && let Some(h) = head_of(&e)
            {
                heads.push((e.seq, e.time_us, h));
            }
        }
        if !self.started {
            // The first round after start publishes the current head only, not the whole history.
            self.started = true;
            heads = heads.split_off(heads.len().saturating_sub(1));
        }
        heads
            .into_iter()
            .map(|(seq, time_us, h)| Finding {
                rule: RULE_CHAIN_HEAD,
                title: "Integrity chain head",
                severity_id: 1,
                entity: format!("chain seq {seq}"),
                categories: Vec::new(),
                source: None,
                detail: h.to_string(),
                first_ms: time_us / 1000,
                at_ms: now_ms,
            })
            .collect()
    }
}

/// The published heads in `text`: one head JSON, a JSON-lines file of heads (`publish_file`), or alerts
/// (`entrail.chain_head` findings as the destinations received them, one per line or one object), each
/// normalised to the head line `entrail verify` compares.
pub fn parse_heads(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(v)) => v,
        Ok(v) => vec![v],
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| format!("line {}: not JSON: {e}", i + 1))
            })
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let head = if v.get("seq").is_some() && v.get("hash").is_some() {
            v
        } else if v
            .pointer("/finding_info/analytic/uid")
            .and_then(|u| u.as_str())
            == Some(RULE_CHAIN_HEAD)
        {
            let message = v.get("message").and_then(|m| m.as_str()).unwrap_or("");
            let json = message.find('{').map_or("", |at| &message[at..]);
            serde_json::from_str(json)
                .map_err(|e| format!("head {}: the alert's message holds no head: {e}", i + 1))?
        } else {
            return Err(format!(
                "head {}: neither a chain head ({{\"seq\",\"hash\",...}}) nor an entrail.chain_head alert",
                i + 1
            ));
        };
        if head.get("seq").and_then(|s| s.as_u64()).is_none()
            || head.get("hash").and_then(|s| s.as_str()).is_none()
        {
            return Err(format!("head {}: needs a numeric seq and a hash", i + 1));
        }
        out.push(head);
    }
    if out.is_empty() {
        return Err("no head given".into());
    }
    Ok(out)
}
