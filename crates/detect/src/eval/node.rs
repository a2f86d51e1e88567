//! Evaluating a compiled condition tree against one record.

use super::access::Ctx;
use crate::plan::matcher::{Scalar, TextOp};
use crate::plan::{ItemKind, ItemPlan, Node};

/// Whether the tree holds for the record. `buf` is scratch space for rendering non-text values.
pub(crate) fn eval(n: &Node, cx: &Ctx<'_>, buf: &mut String) -> bool {
    match n {
        Node::And(v) => v.iter().all(|c| eval(c, cx, buf)),
        Node::Or(v) => v.iter().any(|c| eval(c, cx, buf)),
        Node::AtLeast(k, v) => {
            let mut hits = 0;
            for c in v {
                if eval(c, cx, buf) {
                    hits += 1;
                    if hits >= *k {
                        return true;
                    }
                }
            }
            false
        }
        Node::Not(x) => !eval(x, cx, buf),
        Node::Const(b) => *b,
        Node::Item(ip) => item(ip, cx, buf),
    }
}

fn item(ip: &ItemPlan, cx: &Ctx<'_>, buf: &mut String) -> bool {
    match &ip.kind {
        ItemKind::Null => !ip.targets.iter().any(|t| cx.has_value(t)),
        ItemKind::Exists(want) => ip.targets.iter().any(|t| cx.has_value(t)) == *want,
        ItemKind::Test(test) => ip.targets.iter().any(|t| {
            if let Some(pre) = &ip.prefilter
                && !t.path.is_empty()
                && let Some(raw) = cx
                    .record
                    .values
                    .get(t.column)
                    .and_then(model::Value::as_str)
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
