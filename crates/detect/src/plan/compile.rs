//! Rule → plan for one category: inlines the named detections into the condition, resolves every field
//! through the logsource's mapping, and builds the value tests of each item from its modifiers.

use super::matcher::{NumOp, Test, TextOp, TextTest};
use super::optimize;
use super::values::{Piece, numeric, string_value, timepart};
use super::{ItemKind, ItemPlan, Node};
use crate::mapping::{Mapping, Target};
use crate::rule::{
    Condition, Detection, Detections, Item, Modifier, Pattern, Quantifier, RuleValue,
};
use model::{Category, ColumnType, schema};
use std::collections::HashMap;

/// Why a rule does not compile for a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompileError {
    /// A field means nothing for this category.
    UnknownField(String),
    /// An `expand` placeholder has no configured value.
    Placeholder(String),
    /// The rule is wrong (bad regex, CIDR, reference to a missing detection, …).
    Invalid(String),
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::UnknownField(x) => write!(f, "unknown field {x}"),
            CompileError::Placeholder(x) => write!(f, "placeholder %{x}% has no value"),
            CompileError::Invalid(x) => write!(f, "invalid rule: {x}"),
        }
    }
}

/// What compilation needs besides the rule.
pub(crate) struct Cx<'a> {
    pub(crate) mapping: &'a Mapping,
    pub(crate) category: Category,
    pub(crate) placeholders: &'a HashMap<String, Vec<String>>,
}

/// Compiles a detection section (its condition over its named detections).
pub(crate) fn detections(d: &Detections, cx: &Cx<'_>) -> Result<Node, Vec<CompileError>> {
    let mut errors = Vec::new();
    let compiled: Vec<(String, Option<Node>)> = d
        .named
        .iter()
        .map(|(name, det)| {
            let n = match detection(det, cx) {
                Ok(n) => Some(n),
                Err(mut e) => {
                    errors.append(&mut e);
                    None
                }
            };
            (name.clone(), n)
        })
        .collect();
    let Some(cond) = &d.condition else {
        errors.push(CompileError::Invalid("no condition".to_owned()));
        return Err(errors);
    };
    let node = condition(cond, &compiled, &mut errors);
    if errors.is_empty() {
        Ok(optimize::prefilters(optimize::order(optimize::simplify(
            node,
        ))))
    } else {
        errors.dedup();
        Err(errors)
    }
}

fn condition(
    c: &Condition,
    named: &[(String, Option<Node>)],
    errors: &mut Vec<CompileError>,
) -> Node {
    match c {
        Condition::And(v) => Node::And(v.iter().map(|x| condition(x, named, errors)).collect()),
        Condition::Or(v) => Node::Or(v.iter().map(|x| condition(x, named, errors)).collect()),
        Condition::Not(x) => Node::Not(Box::new(condition(x, named, errors))),
        Condition::Ref(name) => match named.iter().find(|(n, _)| n == name) {
            Some((_, Some(node))) => node.clone(),
            Some((_, None)) => Node::Const(false),
            None => {
                errors.push(CompileError::Invalid(format!(
                    "condition names {name}, which is not a detection"
                )));
                Node::Const(false)
            }
        },
        Condition::Of {
            quantifier,
            pattern,
        } => {
            let picked: Vec<Node> = named
                .iter()
                .filter(|(n, _)| pattern.as_deref().is_none_or(|p| glob(p, n)))
                .map(|(_, node)| node.clone().unwrap_or(Node::Const(false)))
                .collect();
            if picked.is_empty() {
                errors.push(CompileError::Invalid(format!(
                    "`of {}` matches no detection",
                    pattern.as_deref().unwrap_or("them")
                )));
            }
            match quantifier {
                Quantifier::Any => Node::Or(picked),
                Quantifier::All => Node::And(picked),
                Quantifier::Count(n) => Node::AtLeast(*n as usize, picked),
            }
        }
    }
}

/// Sigma selector wildcards: `*` only (and `?` for one character).
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn detection(d: &Detection, cx: &Cx<'_>) -> Result<Node, Vec<CompileError>> {
    match d {
        Detection::AllOf(items) => {
            let mut errors = Vec::new();
            let mut nodes = Vec::new();
            for i in items {
                match item(i, cx) {
                    Ok(n) => nodes.push(n),
                    Err(e) => errors.push(e),
                }
            }
            if errors.is_empty() {
                Ok(Node::And(nodes))
            } else {
                Err(errors)
            }
        }
        Detection::AnyOf(list) => {
            let mut errors = Vec::new();
            let mut nodes = Vec::new();
            for d in list {
                match detection(d, cx) {
                    Ok(n) => nodes.push(n),
                    Err(mut e) => errors.append(&mut e),
                }
            }
            if errors.is_empty() {
                Ok(Node::Or(nodes))
            } else {
                Err(errors)
            }
        }
        Detection::Keywords(i) => item(i, cx).map_err(|e| vec![e]),
    }
}

/// Every text column of the category: what keywords search.
fn text_columns(category: Category) -> Vec<Target> {
    schema(category)
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.ty, ColumnType::String | ColumnType::Dynamic))
        .map(|(i, c)| Target {
            column: i,
            column_name: c.name.clone(),
            ty: c.ty,
            path: Vec::new(),
            outcome: false,
        })
        .collect()
}

pub(super) fn resolve(field: &str, cx: &Cx<'_>) -> Result<Vec<Target>, CompileError> {
    cx.mapping
        .resolve(field, cx.category)
        .ok_or_else(|| CompileError::UnknownField(field.to_owned()))
}

/// Compiles one `field|modifiers: values` item.
fn item(i: &Item, cx: &Cx<'_>) -> Result<Node, CompileError> {
    let keyword = i.field.is_none();
    let targets = match &i.field {
        Some(f) => resolve(f, cx)?,
        None => text_columns(cx.category),
    };
    let leaf = |kind: ItemKind| {
        Node::Item(Box::new(ItemPlan {
            targets: targets.clone(),
            kind,
            prefilter: None,
            atoms: Vec::new(),
        }))
    };
    if i.has(Modifier::Exists) {
        return match i.values.as_slice() {
            [RuleValue::Bool(b)] => Ok(leaf(ItemKind::Exists(*b))),
            [RuleValue::Str(p)]
                if p.as_literal()
                    .is_some_and(|s| s.eq_ignore_ascii_case("true")) =>
            {
                Ok(leaf(ItemKind::Exists(true)))
            }
            [RuleValue::Str(p)]
                if p.as_literal()
                    .is_some_and(|s| s.eq_ignore_ascii_case("false")) =>
            {
                Ok(leaf(ItemKind::Exists(false)))
            }
            _ => Err(CompileError::Invalid(
                "exists takes one boolean value".to_owned(),
            )),
        };
    }
    let op = if i.has(Modifier::Contains) || (keyword && !i.has(Modifier::Re)) {
        TextOp::Contains
    } else if i.has(Modifier::StartsWith) {
        TextOp::StartsWith
    } else if i.has(Modifier::EndsWith) {
        TextOp::EndsWith
    } else {
        TextOp::Eq
    };
    let encoded = i.has(Modifier::Base64) || i.has(Modifier::Base64Offset);
    let cased = i.has(Modifier::Cased) || encoded;
    let mut nodes = Vec::new();
    let mut literals: Vec<String> = Vec::new();
    let mut null = false;
    for v in &i.values {
        match v {
            RuleValue::Null => null = true,
            RuleValue::Bool(b) if op == TextOp::Eq => {
                nodes.push(leaf(ItemKind::Test(Test::Bool(*b))))
            }
            RuleValue::Float(f) if op == TextOp::Eq || numeric(i).is_some() => {
                let nop = numeric(i).unwrap_or(NumOp::Eq);
                nodes.push(leaf(ItemKind::Test(Test::Num(nop, *f))));
            }
            RuleValue::Int(n) if numeric(i).is_some() => {
                let nop = numeric(i).unwrap_or(NumOp::Eq);
                nodes.push(leaf(ItemKind::Test(Test::Num(nop, *n as f64))));
            }
            RuleValue::Int(n) if timepart(i).is_some() => {
                let part = timepart(i).unwrap_or(crate::rule::TimePart::Year);
                nodes.push(leaf(ItemKind::Test(Test::TimePart(part, *n))));
            }
            other => {
                let text = match other {
                    RuleValue::Str(p) => p.clone(),
                    RuleValue::Int(n) => Pattern::literal(&n.to_string()),
                    RuleValue::Float(f) => Pattern::literal(&f.to_string()),
                    RuleValue::Bool(b) => Pattern::literal(&b.to_string()),
                    RuleValue::Null => continue,
                };
                for node_or_lit in string_value(&text, i, op, cased, cx, &targets)? {
                    match node_or_lit {
                        Piece::Literal(s) => literals.push(s),
                        Piece::Node(n) => nodes.push(n),
                    }
                }
            }
        }
    }
    let all = i.has(Modifier::All);
    if !literals.is_empty() {
        if all {
            for l in literals {
                nodes.push(leaf(ItemKind::Test(Test::Text(TextTest::new(
                    op,
                    vec![l],
                    cased,
                )))));
            }
        } else {
            nodes.push(leaf(ItemKind::Test(Test::Text(TextTest::new(
                op, literals, cased,
            )))));
        }
    }
    if null {
        nodes.push(leaf(ItemKind::Null));
    }
    let node = if all {
        Node::And(nodes)
    } else {
        Node::Or(nodes)
    };
    Ok(if i.has(Modifier::Neq) {
        Node::And(vec![
            leaf(ItemKind::Exists(true)),
            Node::Not(Box::new(node)),
        ])
    } else {
        node
    })
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn selector_globs() {
        assert!(glob("selection_*", "selection_empty1"));
        assert!(glob("*", "x"));
        assert!(!glob("selection_*", "filter"));
        assert!(glob("sel?", "sel1"));
    }
}
