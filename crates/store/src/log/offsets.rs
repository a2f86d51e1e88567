//! Durable consumer offsets: one small file per consumer in `<log dir>/consumers/`.
//!
//! `<name>.offset` holds the consumer's next offset (u64 LE) and its crc32c (u32 LE). A commit
//! writes `<name>.offset.tmp`, fsyncs it, renames it over the old file and fsyncs the directory
//! (the fsyncs follow [`LogConfig::fsync`](super::LogConfig::fsync)), so a crash leaves either
//! the old or the new value.
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::LogError;
use super::writer::{lock, sync_dir};

const SUFFIX: &str = ".offset";
const MAX_NAME: usize = 200;

/// Checks that `name` is 1 to 200 characters of `[A-Za-z0-9_.-]`.
pub fn validate_consumer_name(name: &str) -> Result<(), LogError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(LogError::InvalidConsumer {
            name: name.to_owned(),
        })
    }
}

/// The consumer offsets of one log, cached in memory.
pub(crate) struct ConsumerOffsets {
    dir: PathBuf,
    fsync: bool,
    /// Guards the files too: commits are serialized.
    map: Mutex<BTreeMap<String, u64>>,
}

impl ConsumerOffsets {
    /// Loads every `<name>.offset` in `<log_dir>/consumers`, creating the folder if needed.
    pub(crate) fn load(log_dir: &Path, fsync: bool) -> Result<Self, LogError> {
        let dir = log_dir.join("consumers");
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| LogError::io(&dir, e))?;
            if fsync {
                sync_dir(log_dir).map_err(|e| LogError::io(log_dir, e))?;
            }
        }
        let mut map = BTreeMap::new();
        for entry in fs::read_dir(&dir).map_err(|e| LogError::io(&dir, e))? {
            let entry = entry.map_err(|e| LogError::io(&dir, e))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if file_name.ends_with(".tmp") {
                fs::remove_file(&path).map_err(|e| LogError::io(&path, e))?;
                continue;
            }
            let Some(name) = file_name.strip_suffix(SUFFIX) else {
                continue;
            };
            if validate_consumer_name(name).is_err() {
                continue;
            }
            map.insert(name.to_owned(), read_offset_file(&path)?);
        }
        Ok(Self {
            dir,
            fsync,
            map: Mutex::new(map),
        })
    }

    /// Durably records `next_offset` for `consumer` (name already validated).
    pub(crate) fn commit(&self, consumer: &str, next_offset: u64) -> Result<(), LogError> {
        let mut map = lock(&self.map);
        let path = self.dir.join(format!("{consumer}{SUFFIX}"));
        let tmp = self.dir.join(format!("{consumer}{SUFFIX}.tmp"));
        let mut buf = [0u8; 12];
        buf[..8].copy_from_slice(&next_offset.to_le_bytes());
        let crc = crc32c::crc32c(&buf[..8]);
        buf[8..].copy_from_slice(&crc.to_le_bytes());
        let mut file = File::create(&tmp).map_err(|e| LogError::io(&tmp, e))?;
        file.write_all(&buf).map_err(|e| LogError::io(&tmp, e))?;
        if self.fsync {
            file.sync_all().map_err(|e| LogError::io(&tmp, e))?;
        }
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| LogError::io(&path, e))?;
        if self.fsync {
            sync_dir(&self.dir).map_err(|e| LogError::io(&self.dir, e))?;
        }
        map.insert(consumer.to_owned(), next_offset);
        Ok(())
    }

    /// The committed next offset of `consumer`.
    pub(crate) fn get(&self, consumer: &str) -> Option<u64> {
        lock(&self.map).get(consumer).copied()
    }

    /// Every consumer and its committed next offset, by name.
    pub(crate) fn all(&self) -> Vec<(String, u64)> {
        lock(&self.map)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

fn read_offset_file(path: &Path) -> Result<u64, LogError> {
    let corrupt = |reason: &str| LogError::CorruptMeta {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut file = File::open(path).map_err(|e| LogError::io(path, e))?;
    let mut buf = [0u8; 13];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LogError::io(path, e)),
        }
    }
    if len != 12 {
        return Err(corrupt("expected 12 bytes"));
    }
    let mut value = [0u8; 8];
    value.copy_from_slice(&buf[..8]);
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&buf[8..12]);
    if crc32c::crc32c(&value) != u32::from_le_bytes(crc) {
        return Err(corrupt("checksum mismatch"));
    }
    Ok(u64::from_le_bytes(value))
}
