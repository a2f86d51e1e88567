//! A direct JSON parser into the borrowed [`Node`] tree, for the decode hot path.
//!
//! serde_json's visitor route costs a reallocation per object as it grows (a sign-in's `properties` holds
//! ~60 keys) and a call chain per value. This parser keeps two scratch stacks (object entries, array items):
//! a container's children are pushed there and moved into one exactly-sized `Vec` when it closes, so each
//! object or array costs one allocation and no regrowth. Strings without escapes borrow from the input.
//!
//! It is a fast path, not a second JSON dialect: it returns `None` for anything it does not handle exactly
//! like serde_json (any syntax error, lone surrogates, deep nesting), and [`parse`] then runs serde_json on
//! the same text, so errors and edge cases come out exactly as before. Numbers other than plain 64-bit
//! integers are handed to serde_json's own number parser, so floats round the same way.

use super::tree::{Node, Num};
use serde::Deserialize;
use std::borrow::Cow;

/// Deeper nesting goes to serde_json (which stops at 128 levels).
const MAX_DEPTH: u32 = 100;

/// Parses JSON text: the fast path, else serde_json (same result, or serde_json's error).
pub(crate) fn parse(text: &str) -> Result<Node<'_>, serde_json::Error> {
    match fast(text) {
        Some(n) => Ok(n),
        None => serde_json::from_str(text),
    }
}

/// The fast path alone: `None` where serde_json must decide.
fn fast(text: &str) -> Option<Node<'_>> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
        entries: Vec::new(),
        items: Vec::new(),
        depth: 0,
    };
    p.document()
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    entries: Vec<(Cow<'a, str>, Node<'a>)>,
    items: Vec<Node<'a>>,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Option<Node<'a>> {
        let v = self.value()?;
        self.ws();
        (self.i == self.b.len()).then_some(v)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self) -> Option<Node<'a>> {
        self.ws();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                self.i += 1;
                self.string().map(Node::Str)
            }
            b't' => self.literal(b"true", Node::Bool(true)),
            b'f' => self.literal(b"false", Node::Bool(false)),
            b'n' => self.literal(b"null", Node::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], node: Node<'a>) -> Option<Node<'a>> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(node)
        } else {
            None
        }
    }

    fn object(&mut self) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let start = self.entries.len();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
        } else {
            loop {
                self.ws();
                if self.peek()? != b'"' {
                    return None;
                }
                self.i += 1;
                let key = self.string()?;
                self.ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.i += 1;
                let v = self.value()?;
                self.entries.push((key, v));
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Node::Obj(self.entries.drain(start..).collect()))
    }

    fn array(&mut self) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let start = self.items.len();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
        } else {
            loop {
                let v = self.value()?;
                self.items.push(v);
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Node::Arr(self.items.drain(start..).collect()))
    }

    /// A string's body; `self.i` is just past the opening quote.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'"' => {
                    let s = self.s.get(start..self.i)?;
                    self.i += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        // Escapes: build an owned copy.
        let mut out = String::with_capacity(self.i - start + 16);
        out.push_str(self.s.get(start..self.i)?);
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1)?;
                    self.i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = match hi {
                                0xD800..=0xDBFF => {
                                    if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                        return None;
                                    }
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return None;
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return None,
                                _ => hi,
                            };
                            out.push(char::from_u32(ch)?);
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => {
                    // Copy the run up to the next quote, backslash or control byte.
                    let run = self.i;
                    while let Some(&c) = self.b.get(self.i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.i += 1;
                    }
                    out.push_str(self.s.get(run..self.i)?);
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let mut v = 0u32;
        for &c in h {
            v = v * 16 + char::from(c).to_digit(16)?;
        }
        self.i += 4;
        Some(v)
    }

    fn number(&mut self) -> Option<Node<'a>> {
        let start = self.i;
        let neg = self.b[self.i] == b'-';
        if neg {
            self.i += 1;
        }
        let int_start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let digits = self.i - int_start;
        if digits == 0 || (digits > 1 && self.b[int_start] == b'0') {
            return None;
        }
        let mut plain = true;
        if self.peek() == Some(b'.') {
            plain = false;
            self.i += 1;
            let f = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == f {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            plain = false;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let e = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == e {
                return None;
            }
        }
        let text = self.s.get(start..self.i)?;
        if plain && digits <= 18 {
            // Fits both u64 and i64: exactly what serde_json's integer path gives (it reads `-0` as -0.0).
            let mut v: i64 = 0;
            for &c in &self.b[int_start..self.i] {
                v = v * 10 + i64::from(c - b'0');
            }
            return Some(Node::Num(match (neg, v) {
                (true, 0) => Num::F(-0.0),
                (true, v) => Num::I(-v),
                (false, v) => Num::U(v.unsigned_abs()),
            }));
        }
        // Floats, exponents and long integers: serde_json's own number parsing, for identical rounding.
        Node::deserialize(&mut serde_json::Deserializer::from_str(text)).ok()
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
