//! A streaming JSON scanner for [`super::Format::JsonArray`] and [`super::Format::JsonDocument`]: finds the
//! boundaries of records without parsing them and without holding more than one record in memory.
//!
//! It understands strings and escapes and counts brackets; it does not validate (each record is parsed
//! later, so a bad record fails alone). At the top level it accepts:
//! - an array: every element is an item (`element 5`);
//! - an object whose first keys (other than `@odata.*`) are `records` or `value` holding an array: every
//!   element of that array is an item (`line 40 record 7`), and the other keys are skipped
//!   (`@odata.context` is kept as a detection hint);
//! - any other object: one item (`line 3`);
//! - several of these one after another.
//!
//! Commas between elements are optional. An element cut off by the end of the input is reported and ends
//! the stream; stray bytes at the top level are reported up to the end of their line.

use super::framing::{Body, Failed, Item, utf8};
use crate::limits::MAX_RECORD_BYTES;
use std::io::{BufRead, ErrorKind};

/// Bytes of one item, capped at [`MAX_RECORD_BYTES`]; `total` counts every byte seen.
struct Store {
    buf: Vec<u8>,
    total: u64,
    keep: bool,
}

impl Store {
    fn new() -> Store {
        Store {
            buf: Vec::new(),
            total: 0,
            keep: true,
        }
    }
    fn discard() -> Store {
        Store {
            buf: Vec::new(),
            total: 0,
            keep: false,
        }
    }
    fn extend(&mut self, s: &[u8]) {
        self.total += s.len() as u64;
        if self.keep {
            let room = usize::try_from(MAX_RECORD_BYTES)
                .unwrap_or(usize::MAX)
                .saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&s[..s.len().min(room)]);
        }
    }
    fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }
    fn over(&self) -> bool {
        self.total > MAX_RECORD_BYTES
    }
}

/// Why a value could not be scanned.
enum Stop {
    /// The input ended inside it.
    Eof,
    /// A byte that cannot start or continue it.
    Unexpected(u8),
    /// The reader failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Stop {
        Stop::Io(e)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Top,
    Array { wrapper: bool },
    Tail,
}

/// The scanner over one input.
pub(crate) struct Scanner<R> {
    r: R,
    line: u64,
    state: State,
    index: u64,
    context: Option<String>,
    done: bool,
}

impl<R: BufRead> Scanner<R> {
    pub(crate) fn new(r: R) -> Scanner<R> {
        Scanner {
            r,
            line: 1,
            state: State::Top,
            index: 0,
            context: None,
            done: false,
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            match self.r.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Io(e)),
            }
        }
    }

    fn bump(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
        }
        self.r.consume(1);
    }

    /// Skips whitespace (and a byte-order mark).
    fn skip_ws(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            match self.peek()? {
                Some(c @ (b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF)) => self.bump(c),
                other => return Ok(other),
            }
        }
    }

    /// Consumes the rest of a string whose opening quote was already consumed and stored.
    fn string_rest(&mut self, st: &mut Store) -> Result<(), Stop> {
        loop {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Io(e)),
            };
            if chunk.is_empty() {
                return Err(Stop::Eof);
            }
            match memchr::memchr2(b'"', b'\\', chunk) {
                Some(i) => {
                    let quote = chunk[i] == b'"';
                    st.extend(&chunk[..=i]);
                    self.line += memchr::memchr_iter(b'\n', &chunk[..i]).count() as u64;
                    self.r.consume(i + 1);
                    if quote {
                        return Ok(());
                    }
                    let c = self.peek()?.ok_or(Stop::Eof)?;
                    self.bump(c);
                    st.push(c);
                }
                None => {
                    let n = chunk.len();
                    st.extend(chunk);
                    self.line += memchr::memchr_iter(b'\n', chunk).count() as u64;
                    self.r.consume(n);
                }
            }
        }
    }

    /// Consumes one JSON value (the next byte is its first), storing its bytes.
    fn value(&mut self, st: &mut Store) -> Result<(), Stop> {
        let first = self.peek()?.ok_or(Stop::Eof)?;
        match first {
            b'{' | b'[' => {
                let mut depth: u64 = 0;
                loop {
                    let chunk = match self.r.fill_buf() {
                        Ok(c) => c,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => return Err(Stop::Io(e)),
                    };
                    let Some(&c) = chunk.first() else {
                        return Err(Stop::Eof);
                    };
                    match c {
                        b'"' => {
                            self.bump(c);
                            st.push(c);
                            self.string_rest(st)?;
                        }
                        b'{' | b'[' => {
                            self.bump(c);
                            st.push(c);
                            depth += 1;
                        }
                        b'}' | b']' => {
                            self.bump(c);
                            st.push(c);
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {
                            let n = chunk
                                .iter()
                                .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))
                                .unwrap_or(chunk.len());
                            st.extend(&chunk[..n]);
                            self.line += memchr::memchr_iter(b'\n', &chunk[..n]).count() as u64;
                            self.r.consume(n);
                        }
                    }
                }
            }
            b'"' => {
                self.bump(first);
                st.push(first);
                self.string_rest(st)
            }
            b',' | b']' | b'}' | b':' => Err(Stop::Unexpected(first)),
            _ => {
                while let Some(c) = self.peek()? {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.bump(c);
                    st.push(c);
                }
                Ok(())
            }
        }
    }

    fn fail(&mut self, at: String, raw: Vec<u8>, stop: Stop) -> Option<Result<Item, Failed>> {
        let reason = match stop {
            Stop::Eof => {
                self.done = true;
                "unexpected end of input inside this item".to_owned()
            }
            Stop::Io(e) => {
                self.done = true;
                format!("read failed: {e}")
            }
            Stop::Unexpected(c) => format!("unexpected {:?} at line {}", char::from(c), self.line),
        };
        Some(Err(Failed { at, raw, reason }))
    }

    fn item(&self, at: String, st: Store) -> Option<Result<Item, Failed>> {
        if st.over() {
            let reason = format!(
                "item longer than {MAX_RECORD_BYTES} bytes ({} bytes)",
                st.total
            );
            return Some(Err(Failed {
                at,
                raw: st.buf,
                reason,
            }));
        }
        let context = self.context.clone();
        Some(utf8(at, st.buf).map(|(at, s)| Item {
            at,
            body: Body::Json(s),
            context,
        }))
    }

    /// A top-level object: a wrapper (switches to its array and returns `None`) or one item.
    fn top_object(&mut self) -> Option<Result<Item, Failed>> {
        let start = self.line;
        let at = format!("line {start}");
        let mut st = Store::new();
        self.bump(b'{');
        st.push(b'{');
        let mut only_odata = true;
        let mut first = true;
        loop {
            let c = match self.skip_ws() {
                Ok(Some(c)) => c,
                Ok(None) => return self.fail(at, st.buf, Stop::Eof),
                Err(e) => return self.fail(at, st.buf, e),
            };
            if c == b'}' {
                self.bump(c);
                st.push(c);
                return self.item(at, st);
            }
            if !first {
                if c != b',' {
                    self.state = State::Top;
                    return self.fail(at, st.buf, Stop::Unexpected(c));
                }
                self.bump(c);
                st.push(c);
                if let Err(e) = self.skip_ws() {
                    return self.fail(at, st.buf, e);
                }
            }
            first = false;
            let mut key = Store::new();
            let step = (|| {
                match self.peek()? {
                    Some(b'"') => self.bump(b'"'),
                    Some(c) => return Err(Stop::Unexpected(c)),
                    None => return Err(Stop::Eof),
                }
                key.push(b'"');
                self.string_rest(&mut key)?;
                match self.skip_ws()? {
                    Some(b':') => self.bump(b':'),
                    Some(c) => return Err(Stop::Unexpected(c)),
                    None => return Err(Stop::Eof),
                }
                self.skip_ws()
            })();
            st.extend(&key.buf);
            st.push(b':');
            let next = match step {
                Ok(n) => n,
                Err(e) => return self.fail(at, st.buf, e),
            };
            let name = key
                .buf
                .get(1..key.buf.len().saturating_sub(1))
                .unwrap_or_default();
            let wrapper_key =
                name.eq_ignore_ascii_case(b"records") || name.eq_ignore_ascii_case(b"value");
            if wrapper_key && only_odata && next == Some(b'[') {
                self.bump(b'[');
                self.state = State::Array { wrapper: true };
                self.index = 0;
                return None;
            }
            only_odata &= name.starts_with(b"@odata.");
            let mut val = Store::new();
            if let Err(e) = self.value(&mut val) {
                st.extend(&val.buf);
                return self.fail(at, st.buf, e);
            }
            if name.eq_ignore_ascii_case(b"@odata.context") {
                self.context = serde_json::from_slice::<String>(&val.buf).ok();
            }
            st.extend(&val.buf);
        }
    }

    /// The keys after a wrapper's array, up to the closing brace.
    fn tail(&mut self) -> Result<(), Stop> {
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(());
                }
                Some(b',') => self.bump(b','),
                Some(b'"') => {
                    self.bump(b'"');
                    let mut key = Store::new();
                    self.string_rest(&mut key)?;
                    match self.skip_ws()? {
                        Some(b':') => self.bump(b':'),
                        Some(c) => return Err(Stop::Unexpected(c)),
                        None => return Err(Stop::Eof),
                    }
                    self.skip_ws()?;
                    self.value(&mut Store::discard())?;
                }
                Some(c) => return Err(Stop::Unexpected(c)),
                None => return Err(Stop::Eof),
            }
        }
    }
}

impl<R: BufRead> Iterator for Scanner<R> {
    type Item = Result<Item, Failed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let c = match self.skip_ws() {
                Ok(c) => c,
                Err(e) => return self.fail(format!("line {}", self.line), Vec::new(), e),
            };
            let at_line = format!("line {}", self.line);
            match self.state {
                State::Top => match c {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(b'[') => {
                        self.bump(b'[');
                        self.state = State::Array { wrapper: false };
                        self.index = 0;
                        self.context = None;
                    }
                    Some(b'{') => {
                        self.context = None;
                        if let Some(out) = self.top_object() {
                            return Some(out);
                        }
                    }
                    Some(c) => {
                        let mut raw = Vec::new();
                        while let Ok(Some(b)) = self.peek() {
                            self.bump(b);
                            if b == b'\n' {
                                break;
                            }
                            if raw.len() < 4096 {
                                raw.push(b);
                            }
                        }
                        let reason =
                            format!("unexpected {:?} outside any JSON value", char::from(c));
                        return Some(Err(Failed {
                            at: at_line,
                            raw,
                            reason,
                        }));
                    }
                },
                State::Array { wrapper } => match c {
                    None => return self.fail(at_line, Vec::new(), Stop::Eof),
                    Some(b']') => {
                        self.bump(b']');
                        self.state = if wrapper { State::Tail } else { State::Top };
                    }
                    Some(b',') => self.bump(b','),
                    Some(_) => {
                        self.index += 1;
                        let at = if wrapper {
                            format!("line {} record {}", self.line, self.index)
                        } else {
                            format!("element {}", self.index)
                        };
                        let mut st = Store::new();
                        return match self.value(&mut st) {
                            Ok(()) => self.item(at, st),
                            Err(Stop::Unexpected(b)) => {
                                self.bump(b);
                                self.fail(at, vec![b], Stop::Unexpected(b))
                            }
                            Err(e) => self.fail(at, st.buf, e),
                        };
                    }
                },
                State::Tail => {
                    if let Err(e) = self.tail() {
                        self.state = State::Top;
                        return self.fail(at_line, Vec::new(), e);
                    }
                    self.state = State::Top;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
