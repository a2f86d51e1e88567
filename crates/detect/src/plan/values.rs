//! The value tests of one item under its modifiers: numbers, timestamp parts, and each string value
//! (placeholders expanded, then as a field reference, a regex, a CIDR range, a number, a literal, a
//! wildcard pattern, or its encoded variants: windash, UTF-16, base64 and base64 offsets).

use super::compile::{CompileError, Cx, resolve};
use super::encode::{self, Utf16};
use super::matcher::{Cidr, NumOp, Test, TextOp};
use super::{ItemKind, ItemPlan, Node};
use crate::mapping::Target;
use crate::rule::{Item, Modifier, Pattern, PatternPart};
use regex::RegexBuilder;

pub(super) fn numeric(i: &Item) -> Option<NumOp> {
    i.modifiers.iter().find_map(|m| match m {
        Modifier::Gt => Some(NumOp::Gt),
        Modifier::Gte => Some(NumOp::Gte),
        Modifier::Lt => Some(NumOp::Lt),
        Modifier::Lte => Some(NumOp::Lte),
        _ => None,
    })
}

pub(super) fn timepart(i: &Item) -> Option<crate::rule::TimePart> {
    i.modifiers.iter().find_map(|m| match m {
        Modifier::TimePart(p) => Some(*p),
        _ => None,
    })
}

pub(super) enum Piece {
    Literal(String),
    Node(Node),
}

/// The tests of one string value under the item's modifiers.
pub(super) fn string_value(
    p: &Pattern,
    i: &Item,
    op: TextOp,
    cased: bool,
    cx: &Cx<'_>,
    targets: &[Target],
) -> Result<Vec<Piece>, CompileError> {
    let leaf = |kind: ItemKind| {
        Piece::Node(Node::Item(Box::new(ItemPlan {
            targets: targets.to_vec(),
            kind,
            prefilter: None,
            atoms: Vec::new(),
        })))
    };
    // `expand` first: each placeholder value is a value of its own.
    let texts: Vec<Pattern> = if i.has(Modifier::Expand) {
        encode::expand(&p.original, cx.placeholders)
            .map_err(CompileError::Placeholder)?
            .iter()
            .map(|s| sigma_string(s))
            .collect()
    } else {
        vec![p.clone()]
    };
    let mut out = Vec::new();
    for p in texts {
        if i.has(Modifier::FieldRef) {
            let other = resolve(&p.original, cx)?;
            out.push(leaf(ItemKind::FieldRef { other, op, cased }));
            continue;
        }
        if i.has(Modifier::Re) {
            let re = RegexBuilder::new(&p.original)
                .case_insensitive(i.has(Modifier::ReI))
                .multi_line(i.has(Modifier::ReM))
                .dot_matches_new_line(i.has(Modifier::ReS))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| CompileError::Invalid(format!("regex {}: {e}", p.original)))?;
            out.push(leaf(ItemKind::Test(Test::Regex(re))));
            continue;
        }
        if i.has(Modifier::Cidr) {
            let net = Cidr::parse(&p.original)
                .ok_or_else(|| CompileError::Invalid(format!("bad CIDR {}", p.original)))?;
            out.push(leaf(ItemKind::Test(Test::Cidr(vec![net]))));
            continue;
        }
        if let Some(nop) = numeric(i) {
            let n: f64 =
                p.original.trim().parse().map_err(|_| {
                    CompileError::Invalid(format!("{} is not a number", p.original))
                })?;
            out.push(leaf(ItemKind::Test(Test::Num(nop, n))));
            continue;
        }
        if timepart(i).is_some() {
            return Err(CompileError::Invalid(
                "timestamp part modifiers take integer values".to_owned(),
            ));
        }
        let transformed = i.has(Modifier::Windash)
            || i.has(Modifier::Base64)
            || i.has(Modifier::Base64Offset)
            || i.has(Modifier::Utf16Le)
            || i.has(Modifier::Utf16Be)
            || i.has(Modifier::Utf16);
        if !transformed {
            match p.as_literal() {
                Some(lit) => out.push(Piece::Literal(lit)),
                None => out.push(leaf(ItemKind::Test(Test::Regex(wildcard_regex(
                    &p, op, cased,
                )?)))),
            }
            continue;
        }
        let mut variants = vec![p.display()];
        if i.has(Modifier::Windash) {
            variants = variants.iter().flat_map(|v| encode::windash(v)).collect();
        }
        let bytes: Vec<Vec<u8>> = variants
            .iter()
            .map(|v| {
                if i.has(Modifier::Utf16Le) {
                    encode::utf16(v, Utf16::Le)
                } else if i.has(Modifier::Utf16Be) {
                    encode::utf16(v, Utf16::Be)
                } else if i.has(Modifier::Utf16) {
                    encode::utf16(v, Utf16::Bom)
                } else {
                    v.as_bytes().to_vec()
                }
            })
            .collect();
        for b in bytes {
            if i.has(Modifier::Base64Offset) {
                out.extend(encode::base64_offsets(&b).into_iter().map(Piece::Literal));
            } else if i.has(Modifier::Base64) {
                out.push(Piece::Literal(encode::base64(&b)));
            } else {
                out.push(Piece::Literal(String::from_utf8_lossy(&b).into_owned()));
            }
        }
    }
    Ok(out)
}

/// Re-reads an expanded value as a Sigma string (wildcards and escapes).
fn sigma_string(s: &str) -> Pattern {
    let mut parts = Vec::new();
    let mut acc = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                if let Some(n) = chars.next() {
                    acc.push(n);
                }
            }
            '*' | '?' => {
                if !acc.is_empty() {
                    parts.push(PatternPart::Text(std::mem::take(&mut acc)));
                }
                parts.push(if c == '*' {
                    PatternPart::Any
                } else {
                    PatternPart::One
                });
            }
            _ => acc.push(c),
        }
    }
    if !acc.is_empty() {
        parts.push(PatternPart::Text(acc));
    }
    Pattern {
        parts,
        original: s.to_owned(),
    }
}

/// A wildcard pattern as an anchored regex (`*` → `.*`, `?` → `.`), widened by contains/startswith/endswith.
fn wildcard_regex(p: &Pattern, op: TextOp, cased: bool) -> Result<regex::Regex, CompileError> {
    let mut re = String::new();
    if matches!(op, TextOp::Eq | TextOp::StartsWith) {
        re.push('^');
    }
    for part in &p.parts {
        match part {
            PatternPart::Text(t) => re.push_str(&regex::escape(t)),
            PatternPart::Any => re.push_str(".*"),
            PatternPart::One => re.push('.'),
        }
    }
    if matches!(op, TextOp::Eq | TextOp::EndsWith) {
        re.push('$');
    }
    RegexBuilder::new(&re)
        .case_insensitive(!cased)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| CompileError::Invalid(format!("pattern {}: {e}", p.original)))
}
