//! Following a mapping path through JSON text without building a tree: a small scanner that skips what
//! the path does not need and hands back borrowed leaves. Keys match ignoring ASCII case; arrays are
//! searched element by element; a string that holds JSON (`"[\"x\"]"`, as Graph encodes audit values) is
//! also read as what it holds. Malformed JSON yields no value.

use crate::mapping::Step;
use crate::plan::matcher::Scalar;
use std::borrow::Cow;

type Visit<'f> = &'f mut dyn FnMut(Scalar<'_>) -> bool;

/// Set on a member's key end when the key has escapes.
pub(crate) const ESCAPED: u32 = 1 << 31;

/// The top-level members of a JSON object `text`, as byte spans `(key start, key end, value start, value
/// end)` appended to `out` (key end carries [`ESCAPED`]); `false` (and nothing appended) when `text` is
/// not a well-formed object. Texts of 2 GiB or more are not objects here.
pub(crate) fn members(text: &str, out: &mut Vec<[u32; 4]>) -> bool {
    if text.len() >= ESCAPED as usize {
        return false;
    }
    let mut s = Scanner {
        b: text.as_bytes(),
        t: text,
        i: 0,
    };
    let before = out.len();
    let ok = (|| {
        s.eat(b'{')?;
        if s.peek()? == b'}' {
            return Some(());
        }
        loop {
            s.ws();
            let ks = s.i;
            let (_, esc) = s.string()?;
            // The key's end, with the top bit set when the key has escapes.
            let ke = (s.i as u32 - 1) | if esc { ESCAPED } else { 0 };
            s.eat(b':')?;
            s.ws();
            let vs = s.i;
            s.skip()?;
            let ve = s.i;
            out.push([ks as u32 + 1, ke, vs as u32, ve as u32]);
            match s.peek()? {
                b',' => s.i += 1,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    })()
    .is_some();
    if !ok {
        out.truncate(before);
    }
    ok
}

/// Walks `path` from a member's value: `step` is the step that selected the member (its filter applies).
pub(crate) fn walk_member(value_text: &str, step: &Step, rest: &[Step], f: Visit<'_>) -> bool {
    match &step.filter {
        None => walk(value_text, rest, f),
        Some(_) => filtered(value_text, step, rest, f),
    }
}

/// Whether a raw key equals a lower-cased key, ignoring ASCII case.
pub(crate) fn key_is(raw: &str, escaped: bool, key: &str) -> bool {
    if escaped {
        unescape(raw, true).eq_ignore_ascii_case(key)
    } else {
        raw.len() == key.len() && raw.eq_ignore_ascii_case(key)
    }
}

/// Calls `f` on every value at `path` in the JSON `text`; returns `true` as soon as `f` does.
pub(crate) fn walk(text: &str, path: &[Step], f: Visit<'_>) -> bool {
    let mut s = Scanner {
        b: text.as_bytes(),
        t: text,
        i: 0,
    };
    value(&mut s, path, f).unwrap_or(false)
}

struct Scanner<'a> {
    b: &'a [u8],
    t: &'a str,
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string's raw contents (between the quotes) and whether it has escapes.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        // Keys and most values are short: a plain loop beats a SIMD search's setup.
        let mut i = self.i;
        loop {
            match *self.b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    return Some((self.t.get(start..i)?, escaped));
                }
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
    }

    /// Skips one value; returns its text.
    fn skip(&mut self) -> Option<&'a str> {
        self.ws();
        let start = self.i;
        match *self.b.get(self.i)? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.b.get(self.i)? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'
                    )
                {
                    self.i += 1;
                }
            }
        }
        self.t.get(start..self.i)
    }
}

fn unescape(raw: &str, escaped: bool) -> Cow<'_, str> {
    if !escaped {
        return Cow::Borrowed(raw);
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).map_or(Cow::Borrowed(raw), Cow::Owned)
}

/// Walks the value at the scanner's position (consuming it).
fn value(s: &mut Scanner<'_>, path: &[Step], f: Visit<'_>) -> Option<bool> {
    let Some((step, rest)) = path.split_first() else {
        return leaf(s, f);
    };
    if step.key.is_empty() {
        // A filter on the current value (an array of objects, or one object).
        let text = s.skip()?;
        return Some(filtered(text, step, rest, f));
    }
    match s.peek()? {
        b'{' => {
            s.i += 1;
            let mut hit = false;
            if s.peek()? == b'}' {
                s.i += 1;
                return Some(false);
            }
            loop {
                let (k, esc) = s.string()?;
                s.eat(b':')?;
                if !hit && key_is(k, esc, &step.key) {
                    hit = match &step.filter {
                        None => value(s, rest, f)?,
                        Some(_) => {
                            let text = s.skip()?;
                            filtered(text, step, rest, f)
                        }
                    };
                } else {
                    s.skip()?;
                }
                match s.peek()? {
                    b',' => s.i += 1,
                    b'}' => {
                        s.i += 1;
                        return Some(hit);
                    }
                    _ => return None,
                }
            }
        }
        b'[' => {
            s.i += 1;
            let mut hit = false;
            if s.peek()? == b']' {
                s.i += 1;
                return Some(false);
            }
            loop {
                if hit {
                    s.skip()?;
                } else {
                    hit = value(s, path, f)?;
                }
                match s.peek()? {
                    b',' => s.i += 1,
                    b']' => {
                        s.i += 1;
                        return Some(hit);
                    }
                    _ => return None,
                }
            }
        }
        b'"' => {
            let (raw, esc) = s.string()?;
            let inner = unescape(raw, esc);
            let t = inner.trim_start();
            Some((t.starts_with('{') || t.starts_with('[')) && walk(&inner, path, f))
        }
        _ => {
            s.skip()?;
            Some(false)
        }
    }
}

/// The elements of `text` (an array, or one object) whose `step.filter` key has its value, walked on.
fn filtered(text: &str, step: &Step, rest: &[Step], f: Visit<'_>) -> bool {
    let Some((k, want)) = &step.filter else {
        return walk(text, rest, f);
    };
    let key = [Step {
        key: k.clone(),
        filter: None,
    }];
    let keep = |elem: &str| {
        walk(elem, &key, &mut |v| match v {
            Scalar::Str(x) => x.trim().eq_ignore_ascii_case(want),
            _ => false,
        })
    };
    let mut s = Scanner {
        b: text.as_bytes(),
        t: text,
        i: 0,
    };
    match s.peek() {
        Some(b'[') => {
            s.i += 1;
            if s.peek() == Some(b']') {
                return false;
            }
            loop {
                let Some(elem) = s.skip() else { return false };
                if keep(elem) && walk(elem, rest, f) {
                    return true;
                }
                match s.peek() {
                    Some(b',') => s.i += 1,
                    _ => return false,
                }
            }
        }
        Some(b'{') => keep(text) && walk(text, rest, f),
        Some(b'"') => {
            let Some((raw, esc)) = s.string() else {
                return false;
            };
            let inner = unescape(raw, esc);
            filtered(&inner, step, rest, f)
        }
        _ => false,
    }
}

/// Visits the value at the scanner's position as a leaf.
fn leaf(s: &mut Scanner<'_>, f: Visit<'_>) -> Option<bool> {
    match s.peek()? {
        b'"' => {
            let (raw, esc) = s.string()?;
            let text = unescape(raw, esc);
            if f(Scalar::Str(&text)) {
                return Some(true);
            }
            let t = text.trim_start();
            if t.starts_with('"') || t.starts_with('[') {
                // A JSON-encoded value (`"[\"Member\"]"`, `"\"False\""`): also what it holds.
                if let Ok(inner) = serde_json::from_str::<serde_json::Value>(&text) {
                    return Some(json_leaf(&inner, f));
                }
            }
            Some(false)
        }
        b'[' => {
            let start = s.i;
            s.i += 1;
            let mut hit = false;
            if s.peek()? == b']' {
                s.i += 1;
            } else {
                loop {
                    if hit {
                        s.skip()?;
                    } else {
                        hit = leaf(s, f)?;
                    }
                    match s.peek()? {
                        b',' => s.i += 1,
                        b']' => {
                            s.i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            let whole = s.t.get(start..s.i)?;
            Some(hit || f(Scalar::Str(whole)))
        }
        b'{' => {
            let text = s.skip()?;
            Some(f(Scalar::Str(text)))
        }
        _ => {
            let t = s.skip()?;
            Some(match t {
                "null" => false,
                "true" => f(Scalar::Bool(true)),
                "false" => f(Scalar::Bool(false)),
                n => match n.parse::<i64>() {
                    Ok(i) => f(Scalar::Int(i)),
                    Err(_) => n.parse::<f64>().is_ok_and(|x| f(Scalar::Real(x))),
                },
            })
        }
    }
}

fn json_leaf(v: &serde_json::Value, f: Visit<'_>) -> bool {
    use serde_json::Value as J;
    match v {
        J::Null => false,
        J::Bool(b) => f(Scalar::Bool(*b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => f(Scalar::Int(i)),
            None => n.as_f64().is_some_and(|x| f(Scalar::Real(x))),
        },
        J::String(s) => f(Scalar::Str(s)),
        J::Array(items) => items.iter().any(|x| json_leaf(x, f)),
        J::Object(_) => f(Scalar::Str(&v.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(p: &str) -> Vec<Step> {
        p.split('/')
            .map(|seg| match seg.split_once('[') {
                Some((k, r)) => {
                    let (fk, fv) = r.trim_end_matches(']').split_once('=').unwrap_or_default();
                    Step {
                        key: k.to_ascii_lowercase(),
                        filter: Some((fk.to_ascii_lowercase(), fv.to_owned())),
                    }
                }
                None => Step {
                    key: seg.to_ascii_lowercase(),
                    filter: None,
                },
            })
            .collect()
    }

    fn all(text: &str, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = String::new();
        walk(text, &steps(path), &mut |v| {
            out.push(v.text(&mut buf).to_owned());
            false
        });
        out
    }

    #[test]
    fn objects_arrays_case_and_escapes() {
        let t =
            r#"{"A":{"bB":"x\"y","n":5,"f":1.5,"t":true,"z":null},"arr":[{"k":"1"},{"k":"2"},3]}"#;
        assert_eq!(all(t, "a/bb"), ["x\"y"]);
        assert_eq!(all(t, "a/n"), ["5"]);
        assert_eq!(all(t, "a/f"), ["1.5"]);
        assert_eq!(all(t, "a/t"), ["true"]);
        assert!(all(t, "a/z").is_empty());
        assert!(all(t, "a/missing").is_empty());
        assert_eq!(all(t, "arr/k"), ["1", "2"]);
        assert_eq!(
            all(t, "a"),
            [r#"{"bB":"x\"y","n":5,"f":1.5,"t":true,"z":null}"#]
        );
        assert_eq!(all(r#"{"l":[]}"#, "l"), ["[]"]);
        assert_eq!(all(r#"{"l":["a","b"]}"#, "l"), ["a", "b", r#"["a","b"]"#]);
        assert!(all(r#"{"a":{"b":"#, "a/b").is_empty());
    }

    #[test]
    fn filters_and_encoded_json() {
        let t = r#"[{"displayName":"X.Y","newValue":"\"False\""},{"displayName":"Other","newValue":"\"True\""}]"#;
        let p = vec![
            Step {
                key: String::new(),
                filter: Some(("displayname".into(), "x.y".into())),
            },
            Step {
                key: "newvalue".into(),
                filter: None,
            },
        ];
        let mut got = Vec::new();
        walk(t, &p, &mut |v| {
            if let Scalar::Str(s) = v {
                got.push(s.to_owned());
            }
            false
        });
        assert_eq!(got, ["\"False\"", "False"]);
        assert_eq!(all(r#"{"o":"{\"k\":\"v\"}"}"#, "o/k"), ["v"]);
        assert_eq!(
            all(r#"{"t":[{"m":[{"d":"a"},{"d":"b"}]}]}"#, "t/m[d=b]/d"),
            ["b"]
        );
    }
}
