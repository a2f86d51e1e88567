//! Atoms: every field test of a category's rules split per target, so that each one depends on the value of
//! one column only. Identical atoms are shared by every rule that uses them (`Status: Success` is computed
//! once per record however many rules ask), and the evaluator caches a column's atom results per distinct
//! column value (`eval::memo`), so a JSON column such as `DeviceDetail` is read once per distinct value
//! instead of once per rule and record.

use super::matcher::{Test, TextTest};
use super::{ItemKind, Node};
use crate::mapping::Target;
use std::collections::HashMap;

/// What an atom checks on its target.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// The target has a value (`exists`, `null`).
    Has,
    /// Some value of the target passes the test.
    Test {
        /// The test.
        test: Test,
        /// Needles that must appear in the column's raw text when the target is a JSON path.
        prefilter: Option<TextTest>,
    },
}

/// One test of one target: a pure function of the target column's value.
#[derive(Debug, Clone)]
pub(crate) struct Atom {
    /// Where the value is read.
    pub(crate) target: Target,
    /// What is checked.
    pub(crate) check: Check,
}

/// The atoms of one column: ids `start..end`.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Column index.
    pub(crate) column: usize,
    /// First atom id.
    pub(crate) start: u32,
    /// One past the last atom id.
    pub(crate) end: u32,
}

/// Every atom of a category's plans, grouped by column (a group's ids are contiguous).
#[derive(Debug, Clone, Default)]
pub(crate) struct Atoms {
    /// By id.
    pub(crate) atoms: Vec<Atom>,
    /// Group index of each atom.
    pub(crate) group_of: Vec<u32>,
    /// Groups, one per column read.
    pub(crate) groups: Vec<Group>,
}

impl Atoms {
    /// Number of 64-bit words a bit set over the atoms needs.
    pub(crate) fn words(&self) -> usize {
        self.atoms.len().div_ceil(64)
    }

    /// Collects the atoms of `roots` and writes each item's atom ids (one per target) into the plan.
    /// Items compared across fields (`fieldref`) keep no atoms: they are evaluated directly.
    pub(crate) fn build(roots: &mut [&mut Node]) -> Atoms {
        let mut found: Vec<(String, Atom)> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        let mut regexes = 0usize;
        for r in roots.iter_mut() {
            visit(r, &mut |ip| {
                for (key, atom) in atoms_of(ip, &mut regexes) {
                    by_key.entry(key.clone()).or_insert_with(|| {
                        found.push((key, atom));
                        found.len() - 1
                    });
                }
            });
        }
        // Ids ordered by column (stable: first seen first within a column).
        let mut order: Vec<usize> = (0..found.len()).collect();
        order.sort_by_key(|&i| (found[i].1.target.column, i));
        let mut id_of = vec![0u32; found.len()];
        for (id, &i) in order.iter().enumerate() {
            id_of[i] = id as u32;
        }
        let mut out = Atoms::default();
        for &i in &order {
            let atom = found[i].1.clone();
            let column = atom.target.column;
            let id = out.atoms.len() as u32;
            match out.groups.last_mut() {
                Some(g) if g.column == column => g.end = id + 1,
                _ => out.groups.push(Group {
                    column,
                    start: id,
                    end: id + 1,
                }),
            }
            out.group_of.push(out.groups.len() as u32 - 1);
            out.atoms.push(atom);
        }
        let mut regexes = 0usize;
        for r in roots.iter_mut() {
            visit(r, &mut |ip| {
                let ids: Vec<u32> = atoms_of(ip, &mut regexes)
                    .iter()
                    .filter_map(|(k, _)| by_key.get(k).map(|&i| id_of[i]))
                    .collect();
                ip.atoms = ids;
            });
        }
        out
    }
}

fn visit(n: &mut Node, f: &mut dyn FnMut(&mut super::ItemPlan)) {
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => v.iter_mut().for_each(|c| visit(c, f)),
        Node::Not(x) => visit(x, f),
        Node::Const(_) => {}
        Node::Item(ip) => f(ip),
    }
}

/// The atoms of an item, one per target, with the key that identifies equal atoms. Regexes are never
/// shared (their debug form leaves out the flags), so each gets a unique key from `regexes`.
fn atoms_of(ip: &super::ItemPlan, regexes: &mut usize) -> Vec<(String, Atom)> {
    let check = match &ip.kind {
        ItemKind::Null | ItemKind::Exists(_) => Check::Has,
        ItemKind::Test(test) => Check::Test {
            test: test.clone(),
            prefilter: ip.prefilter.clone(),
        },
        ItemKind::FieldRef { .. } => return Vec::new(),
    };
    ip.targets
        .iter()
        .map(|t| {
            let unique = if let Check::Test {
                test: Test::Regex(_),
                ..
            } = &check
            {
                *regexes += 1;
                format!("#{regexes}")
            } else {
                String::new()
            };
            let prefilter = match &check {
                Check::Test { prefilter, .. } if !t.path.is_empty() => prefilter.clone(),
                _ => None,
            };
            let check = match &check {
                Check::Has => Check::Has,
                Check::Test { test, .. } => Check::Test {
                    test: test.clone(),
                    prefilter,
                },
            };
            let what = match &check {
                Check::Has => "has".to_owned(),
                Check::Test { test, prefilter } => format!(
                    "{}|{}",
                    test_key(test),
                    prefilter.as_ref().map(text_key).unwrap_or_default()
                ),
            };
            let key = format!("{}|{:?}|{}|{what}{unique}", t.column, t.path, t.outcome);
            (
                key,
                Atom {
                    target: t.clone(),
                    check,
                },
            )
        })
        .collect()
}

/// What makes two text tests equal (their automaton is derived from these).
fn text_key(t: &TextTest) -> String {
    format!("{:?}|{:?}|{}", t.op, t.needles, t.cased)
}

/// What makes two tests equal; regexes are keyed apart by the caller.
fn test_key(t: &Test) -> String {
    match t {
        Test::Text(tt) => format!("text|{}", text_key(tt)),
        Test::Regex(r) => format!("re|{}", r.as_str()),
        Test::Num(op, x) => format!("num|{op:?}|{x}"),
        Test::Bool(b) => format!("bool|{b}"),
        Test::Cidr(c) => format!("cidr|{c:?}"),
        Test::TimePart(p, x) => format!("time|{p:?}|{x}"),
    }
}
