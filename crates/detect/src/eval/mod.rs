//! The engine: compiles a [`RuleSet`] once into per-category plans, then evaluates records against the
//! candidate rules the index picks, feeding matches of correlated rules into the correlation state.

mod access;
mod batch;
mod build;
#[cfg(test)]
mod columnar_tests;
mod config;
mod jsonpath;
mod memo;
mod node;
mod output;
mod program;
mod project;
#[cfg(test)]
mod tests;
mod vector;
mod view;
#[cfg(test)]
mod view_tests;

pub use config::EngineConfig;
pub use output::{CorrelationMatch, Match, MatchKey};

use crate::correlate::{Event, State};
use crate::mapping::Target;
use crate::plan::atoms::Atoms;
use crate::plan::index::Index;
use crate::plan::program::Program;
use crate::plan::{Node, matcher::Scalar};
use crate::rule::{CorrelationKind, Level, RuleDiagnostic};
use model::codec::ValueRef;
use model::{Category, Record};
use std::sync::Arc;

/// A rule's identity, shared by its matches.
#[derive(Debug)]
struct Info {
    id: Arc<str>,
    title: Arc<str>,
    level: Level,
    tags: Arc<[String]>,
}

/// A base rule's link to a correlation.
#[derive(Debug, Clone)]
struct Hook {
    corr: usize,
    rule_pos: usize,
    group_by: Vec<Vec<Target>>,
    field: Option<Vec<Target>>,
}

#[derive(Debug, Clone)]
struct Compiled {
    info: usize,
    emit: bool,
    root: Node,
    /// `root` as bytecode (what [`Engine::evaluate`] runs).
    prog: Program,
    hooks: Vec<Hook>,
}

#[derive(Debug, Default)]
struct CategoryPlan {
    rules: Vec<Compiled>,
    index: Index,
    /// Columns the plan reads (index and rule targets, keywords aside), for [`Engine::evaluate_batch`].
    hot: Vec<usize>,
    /// The field tests of every rule, per target, grouped by column.
    atoms: Atoms,
    /// Per schema column: whether any rule, index or correlation hook reads it (what
    /// [`Engine::evaluate_encoded`] decodes).
    reads: Vec<bool>,
}

/// The header fields of the record being evaluated (an owned record's or an encoded entry's).
#[derive(Debug, Clone, Copy)]
struct Head<'r> {
    category: Category,
    key: &'r str,
    event_time: i64,
}

struct CorrelationRuntime {
    info: usize,
    kind: CorrelationKind,
    group_names: Vec<String>,
    state: State,
}

/// The compiled engine. Not `Sync`: run one per thread (state is per engine).
pub struct Engine {
    infos: Vec<Info>,
    plans: Vec<CategoryPlan>,
    correlations: Vec<CorrelationRuntime>,
    diagnostics: Vec<RuleDiagnostic>,
    candidates: Vec<u32>,
    out: Vec<Match>,
    buf: String,
    lower: String,
    /// Per compiled rule of the current category: the epoch it was last picked in (dedupes candidates).
    seen: Vec<u64>,
    epoch: u64,
    members: std::cell::RefCell<access::Members>,
    /// Per category: atom results per distinct column value.
    memos: Vec<memo::Memo>,
    /// The current record's atoms: which are known, and their values.
    known: Vec<u64>,
    val: Vec<u64>,
    analytics: Option<crate::analytics::Analytics>,
    /// Scratch of [`Engine::evaluate_encoded`]: per schema column, the slot of its value (all
    /// `access::NO_SLOT` between calls).
    slots: Vec<u16>,
    /// Scratch of [`Engine::evaluate_encoded`]: the allocation its borrowed values reuse (empty between
    /// calls).
    view: Vec<ValueRef<'static>>,
    /// Scratch of [`Engine::evaluate_columns`]' rule-at-a-time evaluation.
    vectors: vector::Vectors,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.infos.len())
            .field("plans", &self.plan_count())
            .finish()
    }
}

impl Engine {
    /// What compilation found (rules left inactive for want of placeholder values).
    pub fn diagnostics(&self) -> &[RuleDiagnostic] {
        &self.diagnostics
    }

    /// Number of compiled (rule, category) plans.
    pub fn plan_count(&self) -> usize {
        self.plans.iter().map(|p| p.rules.len()).sum()
    }

    /// Number of compiled plans for one category.
    pub fn plans_for(&self, category: Category) -> usize {
        self.plans[category as usize].rules.len()
    }

    /// Ids of the rules compiled for a category.
    pub fn rule_ids_for(&self, category: Category) -> Vec<&str> {
        self.plans[category as usize]
            .rules
            .iter()
            .map(|r| &*self.infos[r.info].id)
            .collect()
    }

    /// Live correlation groups, over every correlation rule.
    pub fn correlation_groups(&self) -> usize {
        self.correlations.iter().map(|c| c.state.groups()).sum()
    }

    /// Users with live state in the built-in analytics (0 when they are off).
    pub fn analytics_users(&self) -> usize {
        self.analytics
            .as_ref()
            .map_or(0, crate::analytics::Analytics::users)
    }

    /// Evaluates one record; yields every rule that matched and every correlation that fired. Feed
    /// records in event-time order where possible: correlation windows accept late events up to one
    /// timespan behind the newest.
    pub fn evaluate(&mut self, record: &Record) -> impl Iterator<Item = Match> + '_ {
        self.out.clear();
        if let Some(a) = &mut self.analytics {
            a.observe(record, &mut self.out);
        }
        self.run_rules(
            Head {
                category: record.category,
                key: &record.key,
                event_time: record.event_time,
            },
            access::Cols::Owned(&record.values),
        );
        self.out.drain(..)
    }

    /// Runs the rules of the record's category over its columns, pushing matches to `out`.
    fn run_rules(&mut self, head: Head<'_>, cols: access::Cols<'_>) {
        let Engine {
            infos,
            plans,
            correlations,
            candidates,
            out,
            buf,
            lower,
            seen,
            epoch,
            members,
            memos,
            known,
            val,
            ..
        } = self;
        let plan = &plans[head.category as usize];
        if plan.rules.is_empty() {
            return;
        }
        candidates.clear();
        candidates.extend_from_slice(&plan.index.always);
        *epoch = epoch.wrapping_add(1);
        if seen.len() < plan.rules.len() {
            seen.resize(plan.rules.len(), 0);
        }
        let words = plan.atoms.words();
        known[..words].fill(0);
        for ic in &plan.index.columns {
            for &column in &ic.columns {
                let Some(v) = cols.get(column) else {
                    continue;
                };
                // The same text an item test sees (`Scalar::text`), so the index never drops a match.
                let scalar = match v {
                    ValueRef::Null => continue,
                    ValueRef::String(s) | ValueRef::Dynamic(s) => Scalar::Str(s),
                    ValueRef::Int(i) => Scalar::Int(i),
                    ValueRef::Bool(b) => Scalar::Bool(b),
                    ValueRef::Real(r) => Scalar::Real(r),
                    ValueRef::DateTime(t) => Scalar::Time(t),
                };
                let text = scalar.text(buf);
                let entry = ic.lookup(text, lower);
                // The equality atoms folded into this lookup are decided by it (ASCII values only).
                if !ic.folded.is_empty() && text.is_ascii() {
                    for &(w, m) in &ic.folded {
                        known[w as usize] |= m;
                        val[w as usize] &= !m;
                    }
                    for &(w, m) in entry.map_or(&[][..], |e| &e.atoms) {
                        val[w as usize] |= m;
                    }
                }
                if let Some(e) = entry {
                    for &r in &e.rules {
                        let s = &mut seen[r as usize];
                        if *s != *epoch {
                            *s = *epoch;
                            candidates.push(r);
                        }
                    }
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        members.get_mut().clear();
        let cx = access::Ctx {
            cols,
            members: &*members,
        };
        let mut run = memo::Run {
            cx: &cx,
            atoms: &plan.atoms,
            memo: &mut memos[head.category as usize],
            known: &mut known[..words],
            val: &mut val[..words],
            buf,
        };
        for &i in candidates.iter() {
            let c = &plan.rules[i as usize];
            if program::run(&c.prog, &mut run) {
                emit(infos, correlations, out, c, head, &cx);
            }
        }
    }
}

/// Pushes the match of rule `c` on the record to `out` (when the rule emits) and feeds the rule's
/// correlations, pushing those that fire.
fn emit(
    infos: &[Info],
    correlations: &mut [CorrelationRuntime],
    out: &mut Vec<Match>,
    c: &Compiled,
    head: Head<'_>,
    cx: &access::Ctx<'_>,
) {
    let info = &infos[c.info];
    if c.emit {
        out.push(Match {
            rule_id: info.id.clone(),
            title: info.title.clone(),
            level: info.level,
            tags: info.tags.clone(),
            category: head.category,
            key: MatchKey::new(head.key),
            event_time: head.event_time,
            correlation: None,
        });
    }
    for h in &c.hooks {
        let first = |targets: &[Target]| {
            let mut v = None;
            for t in targets {
                if cx.any_value(t, &mut |s: Scalar<'_>| {
                    let mut b = String::new();
                    v = Some(s.text(&mut b).to_lowercase());
                    true
                }) {
                    break;
                }
            }
            v
        };
        let group: Vec<String> = h
            .group_by
            .iter()
            .map(|t| first(t).unwrap_or_default())
            .collect();
        let value = h.field.as_deref().and_then(first);
        if h.field.is_some() && value.is_none() {
            continue;
        }
        let rt = &mut correlations[h.corr];
        let fired = rt.state.add(
            group.clone(),
            Event {
                time: head.event_time,
                rule_pos: h.rule_pos,
                value,
                key: head.key.to_owned(),
            },
        );
        if let Some(f) = fired {
            let ci = &infos[rt.info];
            out.push(Match {
                rule_id: ci.id.clone(),
                title: ci.title.clone(),
                level: ci.level,
                tags: ci.tags.clone(),
                category: head.category,
                key: MatchKey::new(head.key),
                event_time: head.event_time,
                correlation: Some(CorrelationMatch {
                    kind: rt.kind,
                    group: rt.group_names.iter().cloned().zip(group).collect(),
                    evidence: f.evidence,
                    count: f.count,
                    first_time: f.first,
                    last_time: f.last,
                }),
            });
        }
    }
}
