//! The literal index of one category: for each indexed column, a hash map from a lower-cased value to the
//! rules that can only match when the column holds that value (e.g. `OperationName` ∈ {…}). A rule is
//! filed under the column most rules of the category require, so one lookup per indexed column (usually
//! one or two) yields the candidates; rules with no such requirement are always evaluated. The same lookup
//! also decides the category's case-insensitive equality atoms on that column ([`Index::fold`]), so those
//! are never evaluated one by one.

use super::atoms::{Atoms, Check};
use super::matcher::{Test, TextOp};
use super::{ItemKind, Node};
use foldhash::fast::RandomState;
use std::collections::HashMap;

/// What a rule requires: one of these columns holds one of the values (lower-cased).
type Requirement = (Vec<usize>, Vec<String>);

/// Every alternative requirement of a node: any one of them is necessary for a match.
pub(crate) fn requirements(n: &Node) -> Vec<Requirement> {
    match n {
        Node::Item(ip) => {
            if ip.targets.is_empty() || ip.targets.iter().any(|t| !t.path.is_empty() || t.outcome) {
                return Vec::new();
            }
            let mut cols: Vec<usize> = ip.targets.iter().map(|t| t.column).collect();
            cols.sort_unstable();
            cols.dedup();
            match &ip.kind {
                ItemKind::Test(Test::Text(tt)) if tt.op == TextOp::Eq && !tt.cased => {
                    vec![(cols, tt.needles.clone())]
                }
                _ => Vec::new(),
            }
        }
        Node::And(v) => v.iter().flat_map(requirements).collect(),
        Node::AtLeast(k, v) if *k == v.len() => v.iter().flat_map(requirements).collect(),
        Node::Or(v) => {
            let per: Vec<Vec<Requirement>> = v.iter().map(requirements).collect();
            let Some(first) = per.first() else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for (col, _) in first {
                if out.iter().any(|(c, _): &Requirement| c == col) {
                    continue;
                }
                let mut values = Vec::new();
                let all = per.iter().all(|reqs| {
                    reqs.iter()
                        .find(|(c, _)| c == col)
                        .map(|(_, vals)| values.extend(vals.iter().cloned()))
                        .is_some()
                });
                if all {
                    values.sort();
                    values.dedup();
                    out.push((col.clone(), values));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Values that most records of their column hold: indexing on them prunes nothing.
const COMMON_VALUES: &[&str] = &[
    "",
    "0",
    "[]",
    "{}",
    "success",
    "failure",
    "none",
    "true",
    "false",
    "notapplied",
    "singlefactorauthentication",
    "multifactorauthentication",
    "sign-in activity",
];

/// Up to this many ASCII keys, a column's entries are compared in place (length first, then the bytes
/// ignoring case) instead of hashed: cheaper than lower-casing a copy of the value and hashing it.
const SMALL: usize = 12;

/// One indexed column set (usually one column; a field with several targets is indexed on each).
#[derive(Debug, Clone)]
pub(crate) struct IndexColumn {
    pub(crate) columns: Vec<usize>,
    pub(crate) map: HashMap<Box<str>, Entry, RandomState>,
    /// The same entries when there are at most [`SMALL`] ASCII keys: compared in place, no lower-cased copy
    /// or hash.
    pub(crate) small: Option<Vec<(Box<str>, Entry)>>,
    /// The equality atoms folded into this column's lookup (`Index::fold`), as (word, mask) pairs of the
    /// atom bit set: once the column's value is looked up, every one of them is known.
    pub(crate) folded: Vec<(u32, u64)>,
}

/// What one indexed value yields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// The rules filed under the value.
    pub(crate) rules: Vec<u32>,
    /// The folded atoms that hold for the value, as (word, mask) pairs.
    pub(crate) atoms: Vec<(u32, u64)>,
}

impl IndexColumn {
    /// The entry of `text` (any case), using `lower` as scratch space.
    pub(crate) fn lookup<'a>(&'a self, text: &str, lower: &mut String) -> Option<&'a Entry> {
        if let Some(small) = &self.small {
            return small
                .iter()
                .find(|(k, _)| {
                    k.len() == text.len() && k.as_bytes().eq_ignore_ascii_case(text.as_bytes())
                })
                .map(|(_, v)| v);
        }
        lower.clear();
        if text.is_ascii() {
            lower.push_str(text);
            lower.make_ascii_lowercase();
        } else {
            lower.push_str(&text.to_lowercase());
        }
        self.map.get(lower.as_str())
    }
}

/// The index of one category over its compiled rules (by position).
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Rules evaluated for every record.
    pub(crate) always: Vec<u32>,
    /// Indexed columns.
    pub(crate) columns: Vec<IndexColumn>,
}

impl Index {
    /// Builds the index of rules whose roots are `roots`.
    pub(crate) fn build(roots: &[&Node]) -> Index {
        let reqs: Vec<Vec<Requirement>> = roots.iter().map(|r| requirements(r)).collect();
        let mut popularity: HashMap<Vec<usize>, usize> = HashMap::new();
        for r in &reqs {
            let mut cols: Vec<Vec<usize>> = r.iter().map(|(c, _)| c.clone()).collect();
            cols.sort_unstable();
            cols.dedup();
            for c in cols {
                *popularity.entry(c).or_default() += 1;
            }
        }
        let mut index = Index::default();
        for (i, r) in reqs.iter().enumerate() {
            let i = i as u32;
            // A requirement on a value most records hold (`0`, `success`) prunes little: avoid those;
            // then the most popular column; among its requirements, the one with the fewest values.
            let best = r.iter().max_by_key(|(c, vals)| {
                (
                    !vals.iter().any(|v| COMMON_VALUES.contains(&v.as_str())),
                    popularity.get(c).copied().unwrap_or(0),
                    usize::MAX - c.len(),
                    usize::MAX - vals.len(),
                    c.iter().map(|x| usize::MAX - x).collect::<Vec<_>>(),
                )
            });
            let Some((col, values)) = best else {
                index.always.push(i);
                continue;
            };
            let pos = match index.columns.iter().position(|ic| ic.columns == *col) {
                Some(p) => p,
                None => {
                    index.columns.push(IndexColumn {
                        columns: col.clone(),
                        map: HashMap::default(),
                        small: None,
                        folded: Vec::new(),
                    });
                    index.columns.len() - 1
                }
            };
            for v in values {
                let list = &mut index.columns[pos]
                    .map
                    .entry(v.as_str().into())
                    .or_default()
                    .rules;
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        index.smalls();
        index
    }

    fn smalls(&mut self) {
        for ic in &mut self.columns {
            ic.small = (ic.map.len() <= SMALL && ic.map.keys().all(|k| k.is_ascii())).then(|| {
                let mut small: Vec<(Box<str>, Entry)> =
                    ic.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                small.sort_by(|a, b| a.0.cmp(&b.0));
                small
            });
        }
    }

    /// Folds the case-insensitive equality atoms of each single indexed column into its lookup: every
    /// needle of those atoms becomes a key (with no rules if no rule is filed under it), and each key
    /// lists the atoms it satisfies. For an ASCII value the lookup then decides all of them at once: an
    /// atom holds exactly when the value's key lists it (the atom compares ASCII case-insensitively too).
    pub(crate) fn fold(&mut self, atoms: &Atoms) {
        for ic in &mut self.columns {
            let [column] = ic.columns[..] else { continue };
            for (id, a) in atoms.atoms.iter().enumerate() {
                let Check::Test {
                    test: Test::Text(tt),
                    ..
                } = &a.check
                else {
                    continue;
                };
                if a.target.column != column
                    || !a.target.path.is_empty()
                    || a.target.outcome
                    || tt.op != TextOp::Eq
                    || tt.cased
                {
                    continue;
                }
                let bit = (id as u32 / 64, 1u64 << (id % 64));
                add(&mut ic.folded, bit);
                for n in &tt.needles {
                    add(&mut ic.map.entry(n.as_str().into()).or_default().atoms, bit);
                }
            }
        }
        self.smalls();
    }
}

/// Adds a (word, mask) bit to a list of them, merging masks of the same word.
fn add(list: &mut Vec<(u32, u64)>, (w, m): (u32, u64)) {
    match list.iter_mut().find(|(x, _)| *x == w) {
        Some((_, mask)) => *mask |= m,
        None => list.push((w, m)),
    }
}
