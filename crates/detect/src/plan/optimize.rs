//! Plan rewrites after compilation: constant folding and flattening, cheap-first ordering of AND / OR
//! children, and raw-text prefilters for items that read JSON paths.

use super::matcher::{Test, TextOp, TextTest};
use super::{ItemKind, Node};

/// A rough evaluation cost: plain columns are cheap, JSON paths, regexes and keywords are not.
fn cost(n: &Node) -> u32 {
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => v.iter().map(cost).sum(),
        Node::Not(x) => cost(x),
        Node::Const(_) => 0,
        Node::Item(ip) => {
            let reads: u32 = ip
                .targets
                .iter()
                .map(|t| {
                    if !t.path.is_empty() {
                        20
                    } else if t.outcome {
                        2
                    } else {
                        1
                    }
                })
                .sum();
            let test = match &ip.kind {
                ItemKind::Test(Test::Regex(_)) => 8,
                ItemKind::Test(Test::Text(t)) if t.op == TextOp::Contains => 3,
                ItemKind::FieldRef { .. } => 10,
                _ => 1,
            };
            reads * test
        }
    }
}

/// Puts the cheap children of every AND / OR first, so selective column tests run before JSON paths.
pub(crate) fn order(n: Node) -> Node {
    match n {
        Node::And(v) => {
            let mut v: Vec<Node> = v.into_iter().map(order).collect();
            v.sort_by_key(cost);
            Node::And(v)
        }
        Node::Or(v) => {
            let mut v: Vec<Node> = v.into_iter().map(order).collect();
            v.sort_by_key(cost);
            Node::Or(v)
        }
        Node::AtLeast(k, v) => Node::AtLeast(k, v.into_iter().map(order).collect()),
        Node::Not(x) => Node::Not(Box::new(order(*x))),
        other => other,
    }
}

/// Adds raw-text prefilters to items that read JSON paths with literal text needles. Sound because a
/// JSON leaf equal to (or containing) such a needle holds it verbatim in the column's text: the needles
/// taken are non-empty ASCII, without `"`, `\\` or `/` (which JSON may escape), and not bare numbers
/// (which JSON may write differently).
pub(crate) fn prefilters(n: Node) -> Node {
    match n {
        Node::And(v) => Node::And(v.into_iter().map(prefilters).collect()),
        Node::Or(v) => Node::Or(v.into_iter().map(prefilters).collect()),
        Node::AtLeast(k, v) => Node::AtLeast(k, v.into_iter().map(prefilters).collect()),
        Node::Not(x) => Node::Not(Box::new(prefilters(*x))),
        Node::Item(mut ip) => {
            if let ItemKind::Test(Test::Text(t)) = &ip.kind
                && ip.targets.iter().any(|t| !t.path.is_empty())
                && t.needles.iter().all(|n| {
                    !n.is_empty()
                        && n.is_ascii()
                        && !n.contains(['"', '\\', '/'])
                        && n.parse::<f64>().is_err()
                })
            {
                ip.prefilter = Some(TextTest::new(TextOp::Contains, t.needles.clone(), t.cased));
            }
            Node::Item(ip)
        }
        other => other,
    }
}

/// Flattens nested AND/OR and folds constants.
pub(crate) fn simplify(n: Node) -> Node {
    match n {
        Node::And(v) => {
            let mut out = Vec::new();
            for c in v.into_iter().map(simplify) {
                match c {
                    Node::Const(true) => {}
                    Node::Const(false) => return Node::Const(false),
                    Node::And(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Node::Const(true),
                1 => out.pop().unwrap_or(Node::Const(true)),
                _ => Node::And(out),
            }
        }
        Node::Or(v) => {
            let mut out = Vec::new();
            for c in v.into_iter().map(simplify) {
                match c {
                    Node::Const(false) => {}
                    Node::Const(true) => return Node::Const(true),
                    Node::Or(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Node::Const(false),
                1 => out.pop().unwrap_or(Node::Const(false)),
                _ => Node::Or(out),
            }
        }
        Node::Not(x) => match simplify(*x) {
            Node::Const(b) => Node::Const(!b),
            Node::Not(inner) => *inner,
            other => Node::Not(Box::new(other)),
        },
        Node::AtLeast(k, v) => {
            let v: Vec<Node> = v.into_iter().map(simplify).collect();
            if k == 0 {
                Node::Const(true)
            } else if k > v.len() {
                Node::Const(false)
            } else {
                Node::AtLeast(k, v)
            }
        }
        other => other,
    }
}
