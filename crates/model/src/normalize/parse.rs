//! A hand-written JSON-to-[`Node`] parser for the common case, beside the serde_json one in [`super::tree`].
//!
//! [`parse_fast`] builds exactly the tree `serde_json` builds (same values, same entry order, strings
//! borrowed from the input exactly when they hold no escape) without serde's visitor plumbing, or gives up
//! with `None` on anything outside the common case: malformed text, `\u` escapes of surrogates, numbers that
//! are neither plain integers nor short decimals of up to 19 digits (those are handed to serde_json one by one, so floats round
//! alike), nesting deeper than [`MAX_DEPTH`]. A `None` sends the caller to the serde_json parser, which then
//! gives the same value or the same error as before; the differential tests in `parse_tests` hold both to
//! the same trees.

use super::tree::{Node, Num};
use std::borrow::Cow;

/// Deeper nesting is left to serde_json (whose recursion limit is 128).
const MAX_DEPTH: usize = 100;

#[cfg(test)]
thread_local! {
    /// Tests turn the fast parser off to compare whole decodes against the serde_json path.
    pub(crate) static SERDE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Parses `text` like `Node::parse` does, or `None` where the serde_json parser must decide.
pub(crate) fn parse_fast(text: &str) -> Option<Node<'_>> {
    #[cfg(test)]
    if SERDE_ONLY.with(std::cell::Cell::get) {
        return None;
    }
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        i: 0,
        entries: Vec::new(),
        items: Vec::new(),
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

/// Parser state: the input, a position, and the scratch stacks objects and arrays gather on (moved out at
/// their exact size when they close, as the serde_json path does).
struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    entries: Vec<(Cow<'a, str>, Node<'a>)>,
    items: Vec<Node<'a>>,
}

/// Bit 7 of each byte of `w` that is a control byte, `"` or `\`. Bytes above the first such byte may be
/// flagged wrongly (borrows), the lowest flag is always exact: `trailing_zeros() / 8` is its position.
#[inline]
pub(crate) fn special_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    control | zero_in(w ^ (ONES * 0x22)) | zero_in(w ^ (ONES * 0x5c))
}

/// Index of the first control byte, `"` or `\` in `b` at or after `from`, eight bytes at a time.
#[inline]
pub(crate) fn next_special(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = special_mask(u64::from_le_bytes(w));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c < 0x20 || c == b'"' || c == b'\\' {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips JSON white space (what serde_json skips: space, tab, LF, CR).
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node<'a>> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string().map(Node::Str)
            }
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true", Node::Bool(true)),
            b'f' => self.literal(b"false", Node::Bool(false)),
            b'n' => self.literal(b"null", Node::Null),
            b'-' | b'0'..=b'9' => self.number().map(Node::Num),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], node: Node<'a>) -> Option<Node<'a>> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| {
            self.i = end;
            node
        })
    }

    fn object(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        let base = self.entries.len();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(Node::Obj(Vec::new()));
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.i += 1;
            let k = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            self.entries.push((k, v));
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Some(Node::Obj(self.entries.drain(base..).collect()));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        let base = self.items.len();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Node::Arr(Vec::new()));
        }
        loop {
            let v = self.value(depth)?;
            self.items.push(v);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(Node::Arr(self.items.drain(base..).collect()));
                }
                _ => return None,
            }
        }
    }

    #[inline]
    fn next_special(&self, from: usize) -> Option<usize> {
        next_special(self.b, from)
    }

    /// A string after its opening quote: borrowed when it has no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i;
        let at = self.next_special(start)?;
        match self.b[at] {
            b'"' => {
                self.i = at + 1;
                Some(Cow::Borrowed(self.s.get(start..at)?))
            }
            b'\\' => self.escaped(start, at).map(Cow::Owned),
            _ => None,
        }
    }

    /// The rest of a string with escapes, from `start` with the first `\` at `at`.
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<String> {
        let mut out = String::with_capacity(at - start + 16);
        let mut from = start;
        loop {
            out.push_str(self.s.get(from..at)?);
            match self.b[at] {
                b'"' => {
                    self.i = at + 1;
                    return Some(out);
                }
                b'\\' => {
                    let e = *self.b.get(at + 1)?;
                    at += 2;
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
                            let hex = self.b.get(at..at + 4)?;
                            let mut n = 0u32;
                            for h in hex {
                                n = n * 16 + char::from(*h).to_digit(16)?;
                            }
                            // Surrogates (pairs or lone) are serde_json's to decide.
                            out.push(char::from_u32(n)?);
                            at += 4;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
            from = at;
            at = self.next_special(from)?;
        }
    }

    /// `int.frac` without exponent, 19 digits at most, its integer part (`int_end`, `n`) read: computed as
    /// serde_json computes it without `float_roundtrip` (the digits as an integer, converted, then divided
    /// once by the power of ten), so the bits are the same. `None` for anything else.
    fn short_decimal(
        &self,
        neg: bool,
        digits_at: usize,
        int_end: usize,
        n: u64,
    ) -> Option<(f64, usize)> {
        /// serde_json's table, the first 20 entries (all exact in f64).
        const POW10: [f64; 20] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19,
        ];
        let count = int_end - digits_at;
        if count == 0
            || count > 1 && self.b[digits_at] == b'0'
            || self.b.get(int_end) != Some(&b'.')
        {
            return None;
        }
        let mut i = int_end + 1;
        let mut sig = n;
        while let Some(d @ b'0'..=b'9') = self.b.get(i).copied() {
            sig = sig.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            i += 1;
        }
        let frac = i - int_end - 1;
        if frac == 0 || count + frac > 19 || matches!(self.b.get(i), Some(b'e' | b'E')) {
            return None;
        }
        let f = sig as f64 / *POW10.get(frac)?;
        Some((if neg { -f } else { f }, i))
    }

    /// A number: plain integers here, anything else (fraction, exponent, `-0`, beyond 19 digits) through
    /// serde_json's number parser so it rounds exactly as before.
    fn number(&mut self) -> Option<Num> {
        let start = self.i;
        let neg = self.b[start] == b'-';
        let digits_at = start + usize::from(neg);
        let mut i = digits_at;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.b.get(i).copied() {
            n = n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            i += 1;
        }
        let count = i - digits_at;
        let plain = count > 0
            && count <= 19
            && !(count > 1 && self.b[digits_at] == b'0')
            && !matches!(self.b.get(i), Some(b'.' | b'e' | b'E'));
        if plain && !neg {
            self.i = i;
            return Some(Num::U(n));
        }
        if plain && n != 0 && n <= 1 << 63 {
            self.i = i;
            return Some(Num::I((n as i64).wrapping_neg()));
        }
        if let Some((f, end)) = self.short_decimal(neg, digits_at, i, n) {
            self.i = end;
            return Some(Num::F(f));
        }
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.b.get(i) {
            i += 1;
        }
        let num = super::tree::parse_number_serde(self.s.get(start..i)?)?;
        self.i = i;
        Some(num)
    }
}
