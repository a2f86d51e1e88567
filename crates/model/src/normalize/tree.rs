//! A borrowed JSON tree: strings borrow from the input where they have no escapes, objects are vectors of
//! entries in input order. Parsing a record into it costs one allocation per object or array instead of one
//! per string and map node, which is most of the decode time with `serde_json::Value`.
//!
//! Lookups go exact-match first, then ignoring ASCII case ([`get_ci`]); duplicate keys resolve to the first.
//! [`write_canonical`] renders a node as canonical compact JSON (keys sorted, no whitespace).

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// An object: entries in input order.
pub(crate) type Obj<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

/// A borrowed object.
pub(crate) type Entries<'a> = [(Cow<'a, str>, Node<'a>)];

/// A JSON number as parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// Non-negative integer.
    U(u64),
    /// Negative integer.
    I(i64),
    /// Float.
    F(f64),
}

impl Num {
    /// Appends the number as JSON text (what its `Display` writes), integers without the formatter.
    pub(crate) fn write(&self, out: &mut String) {
        let (neg, mut n) = match *self {
            Num::U(n) => (false, n),
            Num::I(n) => (n < 0, n.unsigned_abs()),
            Num::F(_) => {
                let _ = write!(out, "{self}");
                return;
            }
        };
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if neg {
            out.push('-');
        }
        for d in &digits[at..] {
            out.push(char::from(*d));
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Num::U(n) => write!(f, "{n}"),
            Num::I(n) => write!(f, "{n}"),
            Num::F(x) => match serde_json::Number::from_f64(x) {
                Some(n) => write!(f, "{n}"),
                None => f.write_str("null"),
            },
        }
    }
}

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    /// `null`.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// A number.
    Num(Num),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    Arr(Vec<Node<'a>>),
    /// An object.
    Obj(Obj<'a>),
}

impl<'a> Node<'a> {
    /// Parses JSON text: the hand-written parser ([`super::parse::parse_fast`]) where it decides, else
    /// serde_json (which then gives the same tree, or the error).
    pub(crate) fn parse(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        match super::parse::parse_fast(text) {
            Some(node) => Ok(node),
            None => Node::parse_serde(text),
        }
    }

    /// Parses JSON text with serde_json only.
    pub(crate) fn parse_serde(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        // What `serde_json::from_str` does, with one set of scratch stacks for the whole value.
        let mut de = serde_json::Deserializer::from_str(text);
        let node = NodeSeed(&mut Stacks::default()).deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    /// The same value owning all its text.
    pub(crate) fn into_owned(self) -> Node<'static> {
        match self {
            Node::Null => Node::Null,
            Node::Bool(b) => Node::Bool(b),
            Node::Num(n) => Node::Num(n),
            Node::Str(s) => Node::Str(Cow::Owned(s.into_owned())),
            Node::Arr(a) => Node::Arr(a.into_iter().map(Node::into_owned).collect()),
            Node::Obj(o) => Node::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub(crate) fn as_obj(&self) -> Option<&Obj<'a>> {
        match self {
            Node::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Num(_) => "a number",
            Node::Str(_) => "a string",
            Node::Arr(_) => "an array",
            Node::Obj(_) => "an object",
        }
    }
}

impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_canonical(self, &mut s);
        f.write_str(&s)
    }
}

/// One JSON number parsed by serde_json (what a number inside a document parses to), if `text` is exactly one.
pub(crate) fn parse_number_serde(text: &str) -> Option<Num> {
    match Node::parse_serde(text) {
        Ok(Node::Num(n)) => Some(n),
        _ => None,
    }
}

/// Looks `key` up in `obj`: the first exact match, else the first match ignoring ASCII case.
pub(crate) fn get_ci<'n, 'a>(obj: &'n Entries<'a>, key: &str) -> Option<&'n Node<'a>> {
    obj.iter()
        .find(|(k, _)| k == key)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// Follows a `/`-separated path from `obj`, each step via [`get_ci`].
pub(crate) fn get_path<'n, 'a>(obj: &'n Entries<'a>, path: &str) -> Option<&'n Node<'a>> {
    let mut parts = path.split('/');
    let mut cur = get_ci(obj, parts.next()?)?;
    for part in parts {
        cur = get_ci(cur.as_obj()?, part)?;
    }
    Some(cur)
}

/// Objects up to this size are sorted without allocating.
const SMALL: usize = 64;

/// Appends canonical compact JSON of `v` to `out`: object keys sorted by bytes, no whitespace.
pub(crate) fn write_canonical(v: &Node<'_>, out: &mut String) {
    match v {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(n) => n.write(out),
        Node::Str(s) => write_json_string(s, out),
        Node::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Node::Obj(entries) => {
            out.push('{');
            if entries.is_sorted_by(|a, b| a.0 <= b.0) {
                write_entries(entries.iter(), out);
            } else if entries.len() <= SMALL {
                // Sort indices on the stack: most objects are small.
                let mut idx = [0u8; SMALL];
                let n = entries.len();
                for (i, slot) in idx.iter_mut().enumerate().take(n) {
                    *slot = i as u8;
                }
                idx[..n].sort_unstable_by(|a, b| {
                    entries[usize::from(*a)].0.cmp(&entries[usize::from(*b)].0)
                });
                write_entries(idx[..n].iter().map(|i| &entries[usize::from(*i)]), out);
            } else {
                let mut sorted: Vec<&(Cow<'_, str>, Node<'_>)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                write_entries(sorted.into_iter(), out);
            }
            out.push('}');
        }
    }
}

fn write_entries<'x, 'a: 'x>(
    entries: impl Iterator<Item = &'x (Cow<'a, str>, Node<'a>)>,
    out: &mut String,
) {
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(k, out);
        out.push(':');
        write_canonical(v, out);
    }
}

/// Whether a byte must be escaped in a JSON string.
#[cfg(test)]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string literal (escaping as serde_json does).
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // The bytes found are ASCII, so every cut is at a character boundary.
    while let Some(i) = super::parse::next_special(bytes, start) {
        out.push_str(&s[start..i]);
        match bytes[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A string that borrows from the input when it can.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NodeSeed(&mut Stacks::default()).deserialize(d)
    }
}

/// Scratch stacks for one parse: an object's entries (an array's items) are gathered on the shared stack and
/// moved out at their exact count when it closes, so no vector grows by doubling and nested values reuse the
/// same room.
#[derive(Default)]
struct Stacks<'de> {
    entries: Vec<(Cow<'de, str>, Node<'de>)>,
    items: Vec<Node<'de>>,
}

/// Parses one value with the parse's [`Stacks`].
struct NodeSeed<'s, 'de>(&'s mut Stacks<'de>);

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, 'de> {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, 'de> {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Num(if v < 0 {
            Num::I(v)
        } else {
            Num::U(v.unsigned_abs())
        }))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Num(Num::U(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Node::Num(Num::F(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let st = self.0;
        let base = st.items.len();
        while let Some(v) = seq.next_element_seed(NodeSeed(&mut *st))? {
            st.items.push(v);
        }
        Ok(Node::Arr(st.items.drain(base..).collect()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let st = self.0;
        let base = st.entries.len();
        while let Some(Text(k)) = map.next_key::<Text<'de>>()? {
            let v = map.next_value_seed(NodeSeed(&mut *st))?;
            st.entries.push((k, v));
        }
        Ok(Node::Obj(st.entries.drain(base..).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_borrowing_and_writes_canonically() {
        let text = r#"{"b": [1, -2, 2.5, true, null], "a": {"y": "x\"y", "x": "plain"}, "c": 1e3}"#;
        let n = Node::parse(text).unwrap();
        let obj = n.as_obj().unwrap();
        assert!(matches!(get_ci(obj, "A"), Some(Node::Obj(_))));
        assert!(matches!(
            get_path(obj, "a/x"),
            Some(Node::Str(Cow::Borrowed("plain")))
        ));
        assert!(matches!(
            get_path(obj, "a/y"),
            Some(Node::Str(Cow::Owned(_)))
        ));
        assert_eq!(
            n.to_string(),
            r#"{"a":{"x":"plain","y":"x\"y"},"b":[1,-2,2.5,true,null],"c":1000.0}"#
        );
    }

    #[test]
    fn numbers_write_like_display() {
        for n in [
            Num::U(0),
            Num::U(7),
            Num::U(10),
            Num::U(u64::MAX),
            Num::I(-1),
            Num::I(-10),
            Num::I(0),
            Num::I(200),
            Num::I(i64::MIN),
            Num::F(2.5),
            Num::F(-0.0),
            Num::F(1e300),
        ] {
            let mut out = String::from("x");
            n.write(&mut out);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn the_word_scan_finds_exactly_the_first_byte_to_escape() {
        use super::super::parse::{next_special, special_mask};
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', 0x80, 0xff, b'~', b' ', 0x1f, b'"'] {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    let first = w.iter().position(|c| needs_escape(*c));
                    let m = special_mask(u64::from_le_bytes(w));
                    let found = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
                    assert_eq!(found, first, "byte {b:#x} at {pos} among {fill:#x}");
                    let long: Vec<u8> = [b"0123456789".as_slice(), &w, b"xy"].concat();
                    for from in 0..long.len() {
                        let want = (from..long.len()).find(|i| needs_escape(long[*i]));
                        assert_eq!(next_special(&long, from), want, "{long:?} from {from}");
                    }
                }
            }
        }
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "plain",
            "quote\" back\\ slash",
            "tab\tnl\ncr\r",
            "\u{7f}\u{1f}\u{8}\u{c}é😀",
            "</script>",
            "a longer string with no escapes at all, over several words",
            "0123456\"89abcdef\\x\u{1}yz\u{1f}\u{7f}tail of it 😀 more",
        ] {
            let mut out = String::new();
            write_json_string(s, &mut out);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }
}
