//! The quarantine: input that could not become a canonical record, kept durably with its position, raw bytes
//! and reason, so nothing is dropped silently. Append-only: entries and their resolutions are lines in
//! `<dir>/quarantine.jsonl`; an entry is open until a `resolved` line names it (after `entrail quarantine
//! retry` decoded it successfully). Input already held by an open entry (same position, bytes and reason: a
//! repeating run re-reading the same file) is not added again.

use model::Rejected;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Quarantine failures.
#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    /// Reading or writing the quarantine file failed.
    #[error("quarantine file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of the quarantine file is not valid.
    #[error("quarantine file {path} line {line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// One quarantined item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Sequence number, from 1.
    pub id: u64,
    /// When it was quarantined (RFC 3339).
    pub time: String,
    /// What was rejected and why.
    #[serde(flatten)]
    pub rejected: Rejected,
    /// Whether a retry has since decoded it.
    #[serde(default)]
    pub resolved: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Resolution { resolved_id: u64, time: String },
    Entry(Box<Entry>),
}

/// The quarantine store.
#[derive(Debug)]
pub struct Quarantine {
    path: PathBuf,
    file: File,
    entries: Vec<Entry>,
    /// [`fingerprint`]s of the open entries.
    open: HashSet<u128>,
}

/// What makes two rejections the same: where the input was, its bytes and why it failed.
fn fingerprint(r: &Rejected) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [
        r.position.source.as_bytes(),
        r.position.location.as_bytes(),
        r.position.at.as_bytes(),
        &r.raw,
        r.reason.as_bytes(),
    ] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.digest128()
}

impl Quarantine {
    /// Opens (or creates) the quarantine in `dir`.
    pub fn open(dir: &Path) -> Result<Quarantine, QuarantineError> {
        let path = dir.join("quarantine.jsonl");
        let io = |source| QuarantineError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io)?;
        let mut entries: Vec<Entry> = Vec::new();
        for (i, line) in BufReader::new(&file).lines().enumerate() {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Entry(e)) => entries.push(*e),
                Ok(Line::Resolution { resolved_id, .. }) => {
                    if let Some(e) = entries.iter_mut().find(|e| e.id == resolved_id) {
                        e.resolved = true;
                    }
                }
                // A torn last line after a crash: everything before it was synced before being acknowledged.
                Err(_) if i + 1 == count_lines(&path).unwrap_or(0) => break,
                Err(e) => {
                    return Err(QuarantineError::Corrupt {
                        path: path.clone(),
                        line: i + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
        let open = entries
            .iter()
            .filter(|e| !e.resolved)
            .map(|e| fingerprint(&e.rejected))
            .collect();
        Ok(Quarantine {
            path,
            file,
            entries,
            open,
        })
    }

    /// Removes from `items` what an open entry already holds (same position, bytes and reason), and
    /// duplicates within `items`; returns how many were removed.
    pub fn retain_new(&self, items: &mut Vec<Rejected>) -> usize {
        let before = items.len();
        let mut seen = HashSet::new();
        items.retain(|r| {
            let f = fingerprint(r);
            !self.open.contains(&f) && seen.insert(f)
        });
        before - items.len()
    }

    /// Adds rejected items and syncs them to disk before returning their ids. Items already held by an
    /// open entry are added again; call [`Quarantine::retain_new`] first to skip them.
    pub fn add(&mut self, items: Vec<Rejected>) -> Result<Vec<u64>, QuarantineError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let time = chrono::Utc::now().to_rfc3339();
        let mut buf = Vec::new();
        let mut ids = Vec::with_capacity(items.len());
        let first = self.entries.last().map_or(1, |e| e.id + 1);
        let mut new = Vec::with_capacity(items.len());
        for (next, rejected) in (first..).zip(items) {
            let entry = Entry {
                id: next,
                time: time.clone(),
                rejected,
                resolved: false,
            };
            serde_json::to_writer(&mut buf, &Line::Entry(Box::new(entry.clone())))
                .map_err(|e| self.corrupt(e))?;
            buf.push(b'\n');
            ids.push(next);
            new.push(entry);
        }
        self.write_synced(&buf)?;
        self.open
            .extend(new.iter().map(|e| fingerprint(&e.rejected)));
        self.entries.extend(new);
        Ok(ids)
    }

    /// Marks an entry as resolved (a retry decoded it), durably.
    pub fn resolve(&mut self, id: u64) -> Result<(), QuarantineError> {
        let line = Line::Resolution {
            resolved_id: id,
            time: chrono::Utc::now().to_rfc3339(),
        };
        let mut buf = serde_json::to_vec(&line).map_err(|e| self.corrupt(e))?;
        buf.push(b'\n');
        self.write_synced(&buf)?;
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.resolved = true;
            let f = fingerprint(&e.rejected);
            if !self
                .entries
                .iter()
                .any(|o| !o.resolved && fingerprint(&o.rejected) == f)
            {
                self.open.remove(&f);
            }
        }
        Ok(())
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// One entry by id.
    pub fn get(&self, id: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// How many entries are still open.
    pub fn open_count(&self) -> usize {
        self.entries.iter().filter(|e| !e.resolved).count()
    }

    fn corrupt(&self, e: serde_json::Error) -> QuarantineError {
        QuarantineError::Corrupt {
            path: self.path.clone(),
            line: 0,
            message: e.to_string(),
        }
    }

    fn write_synced(&mut self, buf: &[u8]) -> Result<(), QuarantineError> {
        let io = |source| QuarantineError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(buf).map_err(io)?;
        self.file.sync_data().map_err(io)
    }
}

fn count_lines(path: &Path) -> std::io::Result<usize> {
    Ok(BufReader::new(File::open(path)?).lines().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Position;

    fn rejected(n: u8) -> Rejected {
        Rejected {
            position: Position {
                source: "import".into(),
                location: "a.json".into(),
                at: format!("line {n}"),
            },
            raw: vec![n, 0xff],
            reason: "not JSON".into(),
            category: None,
        }
    }

    #[test]
    fn entries_survive_reopen_and_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::open(dir.path()).unwrap();
        assert_eq!(q.add(vec![rejected(1), rejected(2)]).unwrap(), [1, 2]);
        q.resolve(1).unwrap();
        drop(q);
        let q = Quarantine::open(dir.path()).unwrap();
        assert_eq!(q.entries().len(), 2);
        assert!(q.get(1).unwrap().resolved);
        assert_eq!(q.get(2).unwrap().rejected.raw, vec![2, 0xff]);
        assert_eq!(q.open_count(), 1);
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_bad_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Quarantine::open(dir.path()).unwrap();
        q.add(vec![rejected(1)]).unwrap();
        drop(q);
        let path = dir.path().join("quarantine.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":2,\"ti").unwrap();
        assert_eq!(Quarantine::open(dir.path()).unwrap().entries().len(), 1);
        f.write_all(b"\n{}\n").unwrap();
        assert!(matches!(
            Quarantine::open(dir.path()),
            Err(QuarantineError::Corrupt { line: 2, .. })
        ));
    }
}
