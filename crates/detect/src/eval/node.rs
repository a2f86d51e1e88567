//! Evaluating a compiled condition tree against one record: through the record's atoms ([`eval`], what
//! the engine runs), or item by item without atoms or memo ([`eval_direct`], the reference the tests
//! compare with).

use super::access::Ctx;
use super::memo::Run;
use crate::plan::matcher::{Scalar, TextOp};
use crate::plan::{ItemKind, ItemPlan, Node};

/// Whether the tree holds for the record, reading item results from the record's atoms.
pub(crate) fn eval(n: &Node, run: &mut Run<'_, '_>) -> bool {
    match n {
        Node::And(v) => v.iter().all(|c| eval(c, run)),
        Node::Or(v) => v.iter().any(|c| eval(c, run)),
        Node::AtLeast(k, v) => {
            let mut hits = 0;
            for c in v {
                if eval(c, run) {
                    hits += 1;
                    if hits >= *k {
                        return true;
                    }
                }
            }
            false
        }
        Node::Not(x) => !eval(x, run),
        Node::Const(b) => *b,
        Node::Item(ip) => {
            if ip.atoms.is_empty() {
                return item(ip, run.cx, run.buf);
            }
            let any = ip.atoms.iter().any(|&a| run.atom(a));
            match &ip.kind {
                ItemKind::Null => !any,
                ItemKind::Exists(want) => any == *want,
                _ => any,
            }
        }
    }
}

/// Whether the tree holds for the record, each item evaluated directly. `buf` is scratch space for
/// rendering non-text values.
#[cfg(test)]
pub(crate) fn eval_direct(n: &Node, cx: &Ctx<'_>, buf: &mut String) -> bool {
    match n {
        Node::And(v) => v.iter().all(|c| eval_direct(c, cx, buf)),
        Node::Or(v) => v.iter().any(|c| eval_direct(c, cx, buf)),
        Node::AtLeast(k, v) => {
            let mut hits = 0;
            for c in v {
                if eval_direct(c, cx, buf) {
                    hits += 1;
                    if hits >= *k {
                        return true;
                    }
                }
            }
            false
        }
        Node::Not(x) => !eval_direct(x, cx, buf),
        Node::Const(b) => *b,
        Node::Item(ip) => item(ip, cx, buf),
    }
}

pub(super) fn item(ip: &ItemPlan, cx: &Ctx<'_>, buf: &mut String) -> bool {
    match &ip.kind {
        ItemKind::Null => !ip.targets.iter().any(|t| cx.has_value(t)),
        ItemKind::Exists(want) => ip.targets.iter().any(|t| cx.has_value(t)) == *want,
        ItemKind::Test(test) => ip.targets.iter().any(|t| {
            if let Some(pre) = &ip.prefilter
                && !t.path.is_empty()
                && let Some(raw) = cx.cols.text(t.column)
                && !pre.matches(raw)
            {
                return false;
            }
            cx.any_value(t, &mut |s| test.matches(s, buf))
        }),
        ItemKind::FieldRef { other, op, cased } => {
            let mut wanted: Vec<String> = Vec::new();
            for t in other {
                cx.any_value(t, &mut |s: Scalar<'_>| {
                    let mut b = String::new();
                    let text = s.text(&mut b);
                    wanted.push(if *cased {
                        text.to_owned()
                    } else {
                        text.to_lowercase()
                    });
                    false
                });
            }
            if wanted.is_empty() {
                return false;
            }
            ip.targets.iter().any(|t| {
                cx.any_value(t, &mut |s| {
                    let text = s.text(buf);
                    let low;
                    let hay = if *cased {
                        text
                    } else {
                        low = text.to_lowercase();
                        &low
                    };
                    wanted.iter().any(|w| match op {
                        TextOp::Eq => hay == w,
                        TextOp::Contains => hay.contains(w.as_str()),
                        TextOp::StartsWith => hay.starts_with(w.as_str()),
                        TextOp::EndsWith => hay.ends_with(w.as_str()),
                    })
                })
            })
        }
    }
}
