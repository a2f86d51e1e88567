//! The canonical columns an engine reads, so a hunt can decode only those
//! ([`model::normalize::Projection`]).

use super::Engine;
use crate::mapping::Target;
use crate::plan::{ItemKind, Node};

impl Engine {
    /// The columns this engine can read from a record: every target of every rule (keywords count as
    /// every text column), correlation group-by and value fields, and the columns alert entities are
    /// taken from. `None` when the built-in analytics are on: they read records in full.
    ///
    /// Records decoded with this projection give the same matches and alerts as fully decoded ones.
    pub fn projection(&self) -> Option<model::normalize::Projection> {
        if self.analytics.is_some() {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        for plan in &self.plans {
            for rule in &plan.rules {
                walk(&rule.root, &mut names);
                for hook in &rule.hooks {
                    for g in &hook.group_by {
                        add(g, &mut names);
                    }
                    if let Some(f) = &hook.field {
                        add(f, &mut names);
                    }
                }
            }
        }
        names.extend(
            crate::alert::ENTITY_FIELDS
                .iter()
                .flat_map(|fields| fields.iter())
                .map(|f| f.split('.').next().unwrap_or(f)),
        );
        names.sort_unstable();
        names.dedup();
        Some(model::normalize::Projection::columns(names))
    }
}

/// Adds the column of every target.
fn add<'a>(targets: &'a [Target], names: &mut Vec<&'a str>) {
    names.extend(targets.iter().map(|t| t.column_name.as_str()));
}

/// Adds the columns of every item under `n` (both sides of a `fieldref`).
fn walk<'a>(n: &'a Node, names: &mut Vec<&'a str>) {
    match n {
        Node::And(v) | Node::Or(v) | Node::AtLeast(_, v) => v.iter().for_each(|c| walk(c, names)),
        Node::Not(x) => walk(x, names),
        Node::Const(_) => {}
        Node::Item(ip) => {
            add(&ip.targets, names);
            if let ItemKind::FieldRef { other, .. } = &ip.kind {
                add(other, names);
            }
        }
    }
}
