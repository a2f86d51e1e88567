//! The storage of [`super::Columns`]: text spans, dictionary-encoded text columns, and fixed-size values
//! with a validity bitmap.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use xxhash_rust::xxh3::xxh3_64;

/// Marks a text row's end offset as null (its span is empty).
const NULL: u32 = 1 << 31;
/// A null row of a text column.
pub(super) const NULL_ID: u32 = u32::MAX;
/// The most text bytes one buffer holds (offsets are 31-bit).
pub(super) const MAX_TEXT_BYTES: usize = (NULL - 1) as usize;

/// Text values: row `i` is `bytes[ends[i] & !NULL .. ends[i + 1]]`, null when `ends[i + 1]` has [`NULL`].
#[derive(Debug, Clone)]
pub(super) struct Text {
    pub(super) bytes: String,
    pub(super) ends: Vec<u32>,
}

impl Text {
    pub(super) fn new(rows: usize) -> Text {
        let mut ends = Vec::with_capacity(rows + 1);
        ends.push(0);
        Text {
            bytes: String::new(),
            ends,
        }
    }

    pub(super) fn end(&self) -> u32 {
        self.ends.last().map_or(0, |e| e & !NULL)
    }

    /// Whether `extra` more bytes fit.
    pub(super) fn fits(&self, extra: usize) -> bool {
        self.bytes.len().saturating_add(extra) <= MAX_TEXT_BYTES
    }

    pub(super) fn push(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.bytes.push_str(s);
                self.ends.push(self.bytes.len() as u32);
            }
            None => self.ends.push(self.end() | NULL),
        }
    }

    #[inline]
    pub(super) fn get(&self, row: usize) -> Option<Option<&str>> {
        let start = *self.ends.get(row)? & !NULL;
        let end = *self.ends.get(row + 1)?;
        if end & NULL != 0 {
            return Some(None);
        }
        Some(self.bytes.get(start as usize..end as usize))
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows + 1);
        let end = self.end() as usize;
        self.bytes.truncate(end);
    }
}

/// A hasher for keys that are hashes already.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A text column, dictionary-encoded as Arrow's dictionary arrays and Parquet's dictionary pages are:
/// each distinct value once in `values` (in order of first appearance), each row the position of its value
/// there, or [`NULL_ID`]. Repeated values (`DeviceDetail`, `Status`, `UserAgent`, `AppDisplayName`, ...)
/// are then stored and read once per batch, and a row's value has a small number a consumer can cache by
/// ([`Columns::dict_id`]).
#[derive(Debug, Clone)]
pub(super) struct Dict {
    pub(super) values: Text,
    pub(super) ids: Vec<u32>,
    /// Hash of a value → its first entry (values of colliding hashes get entries of their own).
    by_hash: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
}

impl Dict {
    pub(super) fn new(rows: usize) -> Dict {
        Dict {
            values: Text::new(0),
            ids: Vec::with_capacity(rows),
            by_hash: HashMap::default(),
        }
    }

    pub(super) fn entries(&self) -> usize {
        self.values.ends.len().saturating_sub(1)
    }

    pub(super) fn push(&mut self, s: Option<&str>) {
        let Some(s) = s else {
            self.ids.push(NULL_ID);
            return;
        };
        let h = xxh3_64(s.as_bytes());
        if let Some(&id) = self.by_hash.get(&h)
            && self.values.get(id as usize) == Some(Some(s))
        {
            self.ids.push(id);
            return;
        }
        let id = self.entries() as u32;
        self.values.push(Some(s));
        self.by_hash.entry(h).or_insert(id);
        self.ids.push(id);
    }

    #[inline]
    pub(super) fn get(&self, row: usize) -> Option<Option<&str>> {
        match *self.ids.get(row)? {
            NULL_ID => Some(None),
            id => self.values.get(id as usize),
        }
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        self.ids.truncate(rows);
        if rows == 0 {
            self.values.truncate(0);
            self.by_hash.clear();
        }
    }
}

/// Fixed-size values with a validity bitmap.
#[derive(Debug, Clone)]
pub(super) struct Fixed<T> {
    values: Vec<T>,
    valid: Vec<u64>,
}

impl<T: Copy + Default> Fixed<T> {
    pub(super) fn new(rows: usize) -> Fixed<T> {
        Fixed {
            values: Vec::with_capacity(rows),
            valid: Vec::with_capacity(rows.div_ceil(64)),
        }
    }

    pub(super) fn push(&mut self, v: Option<T>) {
        let row = self.values.len();
        if row.is_multiple_of(64) {
            self.valid.push(0);
        }
        if v.is_some()
            && let Some(w) = self.valid.last_mut()
        {
            *w |= 1 << (row % 64);
        }
        self.values.push(v.unwrap_or_default());
    }

    #[inline]
    pub(super) fn get(&self, row: usize) -> Option<Option<T>> {
        let v = *self.values.get(row)?;
        let valid = self
            .valid
            .get(row / 64)
            .is_some_and(|w| w >> (row % 64) & 1 != 0);
        Some(valid.then_some(v))
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        self.values.truncate(rows);
        self.valid.truncate(rows.div_ceil(64));
        if let Some(w) = self.valid.last_mut()
            && !rows.is_multiple_of(64)
        {
            *w &= (1u64 << (rows % 64)) - 1;
        }
    }
}
