//! Cutting complete records out of a byte range of a growing blob (pure, no I/O).
//!
//! - **Lines** (diagnostic-settings `PT1H.json` append blobs): one JSON record per `\n`-terminated line. An
//!   unterminated last line is left for the next read, unless the blob's hour is closed (`last`).
//! - **Document** (flow-log block blobs rewritten in place): `{"records":[rec,rec,...]}`. The offset stays
//!   just after the last complete record, before the `]}` that the next rewrite replaces; a following
//!   document (`{"records":[` again) is read too.

use serde::{Deserialize, Serialize};

/// Where reading a blob stands: the byte offset of the next unread record, and the framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Offset {
    /// JSON lines, next line at this offset.
    Lines(u64),
    /// A `{"records":[...]}` document.
    Document {
        /// Next record (or the head, at 0) at this offset.
        doc: u64,
    },
}

impl Offset {
    /// The byte offset.
    pub fn pos(self) -> u64 {
        match self {
            Offset::Lines(n) | Offset::Document { doc: n } => n,
        }
    }

    fn at(self, pos: u64) -> Offset {
        match self {
            Offset::Lines(_) => Offset::Lines(pos),
            Offset::Document { .. } => Offset::Document { doc: pos },
        }
    }
}

/// One cut item: its blob offset and bytes, or bytes that cannot be a record (with the reason).
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A record's JSON text.
    Record(u64, &'a [u8]),
    /// Bytes that are not a record where one was expected.
    Garbage(u64, &'a [u8], &'static str),
}

/// The framing of a blob that starts with `head` (the first bytes at offset 0).
pub fn detect(head: &[u8]) -> Offset {
    match document_head(head) {
        Some(_) => Offset::Document { doc: 0 },
        None => Offset::Lines(0),
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The length of a `{"records":[` head (any case, any whitespace), if `b` starts with one.
fn document_head(b: &[u8]) -> Option<usize> {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let key = b.get(i..i + 9)?;
    if !key.eq_ignore_ascii_case(b"\"records\"") {
        return None;
    }
    i = skip_ws(b, i + 9);
    if b.get(i) != Some(&b':') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    Some(i + 1)
}

/// The end (exclusive) of the JSON value starting at `b[0]` (`{` or `[`), or `None` when incomplete.
fn value_end(b: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Cuts every complete item out of `chunk` (the blob's bytes from `from.pos()`); returns them and where the
/// next read starts. With `last` (no more bytes will come) an unterminated final line is an item too.
pub fn cut(chunk: &[u8], from: Offset, last: bool) -> (Vec<Item<'_>>, Offset) {
    match from {
        Offset::Lines(base) => {
            let (items, used) = cut_lines(chunk, base, last);
            (items, from.at(base + used as u64))
        }
        Offset::Document { doc: base } => {
            let (items, used) = cut_document(chunk, base);
            (items, from.at(base + used as u64))
        }
    }
}

fn cut_lines(chunk: &[u8], base: u64, last: bool) -> (Vec<Item<'_>>, usize) {
    let mut items = Vec::new();
    let mut start = 0;
    while start < chunk.len() {
        let end = match memchr_nl(&chunk[start..]) {
            Some(n) => start + n,
            None if last => chunk.len(),
            None => break,
        };
        let line = chunk[start..end].trim_ascii();
        if !line.is_empty() {
            items.push(Item::Record(base + start as u64, line));
        }
        start = (end + 1).min(chunk.len());
    }
    (items, start)
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'\n')
}

fn cut_document(chunk: &[u8], base: u64) -> (Vec<Item<'_>>, usize) {
    let mut items = Vec::new();
    let mut used = 0;
    let mut in_array = base != 0;
    loop {
        let mut i = used;
        if !in_array {
            match document_head(&chunk[i..]) {
                Some(n) => {
                    i += n;
                    in_array = true;
                    used = i;
                }
                None => {
                    let j = skip_ws(chunk, i);
                    if j < chunk.len() && chunk.len() - j >= 12 {
                        // Not a records document: hand the rest over as garbage, up to the next document.
                        let next = find_head(&chunk[j + 1..]).map_or(chunk.len(), |n| j + 1 + n);
                        items.push(Item::Garbage(
                            base + j as u64,
                            &chunk[j..next],
                            "expected a {\"records\":[...]} document",
                        ));
                        used = next;
                        continue;
                    }
                    return (items, used);
                }
            }
        }
        while i < chunk.len() && (chunk[i].is_ascii_whitespace() || chunk[i] == b',') {
            i += 1;
        }
        match chunk.get(i) {
            None => return (items, used),
            Some(b'{') => match value_end(&chunk[i..]) {
                Some(n) => {
                    items.push(Item::Record(base + i as u64, &chunk[i..i + n]));
                    used = i + n;
                }
                None => return (items, used),
            },
            Some(b']') => {
                // The end of this document; its `]}` stays unread (a rewrite replaces it) unless another
                // document follows.
                let j = skip_ws(chunk, i + 1);
                if chunk.get(j) != Some(&b'}') {
                    return (items, used);
                }
                let k = skip_ws(chunk, j + 1);
                if k < chunk.len() && document_head(&chunk[k..]).is_some() {
                    used = k;
                    in_array = false;
                    continue;
                }
                return (items, used);
            }
            Some(_) => {
                let next = chunk[i..]
                    .iter()
                    .position(|c| *c == b'{' || *c == b']')
                    .map_or(chunk.len(), |n| i + n);
                items.push(Item::Garbage(
                    base + i as u64,
                    &chunk[i..next],
                    "expected a record object in the records array",
                ));
                used = next;
            }
        }
    }
}

fn find_head(b: &[u8]) -> Option<usize> {
    (0..b.len()).find(|&i| b[i] == b'{' && document_head(&b[i..]).is_some())
}
