//! The engine: compiles a [`RuleSet`] once into per-category plans, then evaluates records against the
//! candidate rules the index picks, feeding matches of correlated rules into the correlation state.

mod access;
mod batch;
mod config;
mod jsonpath;
mod memo;
mod node;
mod output;
#[cfg(test)]
mod tests;

pub use config::EngineConfig;
pub use output::{CorrelationMatch, Match};

use crate::correlate::{self, Event, Limits, State};
use crate::mapping::{self, Target};
use crate::plan::atoms::Atoms;
use crate::plan::compile::{self, CompileError, Cx};
use crate::plan::index::Index;
use crate::plan::{Node, matcher::Scalar};
use crate::rule::{
    CorrelationKind, DiagnosticKind, Level, RuleDiagnostic, RuleSet, Severity, SigmaRule,
};
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
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.infos.len())
            .field("plans", &self.plan_count())
            .finish()
    }
}

fn info_of(meta: &crate::rule::Meta) -> Info {
    Info {
        id: meta.id.as_str().into(),
        title: meta.title.as_str().into(),
        level: meta.level,
        tags: meta.tags.clone().into(),
    }
}

impl Engine {
    /// Compiles every rule of the set for every category its logsource covers.
    pub fn new(set: &RuleSet, config: EngineConfig) -> Engine {
        if config.builtin_analytics {
            let mut all = set.clone();
            all.extend(crate::analytics::builtin_rules_for(&config.analytics));
            let mut e = Engine::compile(&all, &config);
            e.analytics = Some(crate::analytics::Analytics::with_config(
                config.analytics.clone(),
                config.max_groups,
            ));
            return e;
        }
        Engine::compile(set, &config)
    }

    fn compile(set: &RuleSet, config: &EngineConfig) -> Engine {
        let mut e = Engine {
            infos: Vec::new(),
            plans: Category::ALL
                .iter()
                .map(|_| CategoryPlan::default())
                .collect(),
            correlations: Vec::new(),
            diagnostics: Vec::new(),
            candidates: Vec::new(),
            out: Vec::new(),
            buf: String::new(),
            lower: String::new(),
            seen: Vec::new(),
            epoch: 0,
            members: std::cell::RefCell::default(),
            memos: Vec::new(),
            known: Vec::new(),
            val: Vec::new(),
            analytics: None,
        };
        let limits = Limits {
            max_groups: config.max_groups.max(1),
            max_events: config.max_events_per_group.max(1),
        };
        for c in set.correlations() {
            e.correlations.push(CorrelationRuntime {
                info: e.infos.len(),
                kind: c.kind,
                group_names: c.group_by.clone(),
                state: State::new(
                    correlate::Def {
                        kind: c.kind,
                        rules: c.rules.len(),
                        span: c.timespan_micros,
                        threshold: c.threshold.clone(),
                    },
                    limits,
                ),
            });
            e.infos.push(info_of(&c.meta));
        }
        for rule in set.rules() {
            e.add_rule(set, rule, config);
        }
        for plan in &mut e.plans {
            let roots: Vec<&Node> = plan.rules.iter().map(|r| &r.root).collect();
            plan.index = Index::build(&roots);
            let mut hot = Vec::new();
            for r in &plan.rules {
                batch::columns_of(&r.root, &mut hot);
            }
            hot.sort_unstable();
            hot.dedup();
            plan.hot = hot;
            let mut roots: Vec<&mut Node> = plan.rules.iter_mut().map(|r| &mut r.root).collect();
            plan.atoms = Atoms::build(&mut roots);
        }
        e.memos = e.plans.iter().map(|p| memo::Memo::new(&p.atoms)).collect();
        let words = e.plans.iter().map(|p| p.atoms.words()).max().unwrap_or(0);
        e.known = vec![0; words];
        e.val = vec![0; words];
        e
    }

    fn add_rule(&mut self, set: &RuleSet, rule: &SigmaRule, config: &EngineConfig) {
        let ls = &rule.logsource;
        let Some(mapping) = mapping::for_logsource(ls.product.as_deref(), ls.service.as_deref())
        else {
            return;
        };
        let refers = |c: &crate::rule::Correlation| {
            c.rules
                .iter()
                .position(|r| *r == rule.meta.id || rule.meta.name.as_deref() == Some(r.as_str()))
        };
        let emit = !set
            .correlations()
            .iter()
            .any(|c| !c.generate && refers(c).is_some());
        let filters: Vec<&crate::rule::Filter> = set
            .filters()
            .iter()
            .filter(|f| {
                (f.rules.is_empty()
                    || f.rules.iter().any(|r| {
                        *r == rule.meta.id
                            || *r == rule.meta.title
                            || rule.meta.name.as_deref() == Some(r.as_str())
                    }))
                    && f.logsource.as_ref().is_none_or(|l| {
                        (l.product.is_none() || l.product == ls.product)
                            && (l.service.is_none() || l.service == ls.service)
                            && (l.category.is_none() || l.category == ls.category)
                    })
            })
            .collect();
        let info = self.infos.len();
        self.infos.push(info_of(&rule.meta));
        let mut placeholder_errors = Vec::new();
        for cat in &mapping.categories {
            let cx = Cx {
                mapping: &mapping,
                category: *cat,
                placeholders: &config.placeholders,
            };
            let mut root = match compile::detections(&rule.detection, &cx) {
                Ok(n) => n,
                Err(errs) => {
                    for e in errs {
                        if let CompileError::Placeholder(p) = e
                            && !placeholder_errors.contains(&p)
                        {
                            placeholder_errors.push(p);
                        }
                    }
                    continue;
                }
            };
            let mut ok = true;
            for f in &filters {
                match compile::detections(&f.detection, &cx) {
                    Ok(n) => root = crate::plan::optimize::simplify(Node::And(vec![root, n])),
                    Err(_) => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let mut hooks = Vec::new();
            for (ci, c) in set.correlations().iter().enumerate() {
                let Some(rule_pos) = refers(c) else { continue };
                let field_of = |name: &str| {
                    let alias = c
                        .aliases
                        .iter()
                        .find(|(a, _)| a == name)
                        .and_then(|(_, m)| {
                            m.iter()
                                .find(|(r, _)| {
                                    *r == rule.meta.id
                                        || rule.meta.name.as_deref() == Some(r.as_str())
                                })
                                .map(|(_, f)| f.clone())
                        });
                    mapping.resolve(alias.as_deref().unwrap_or(name), *cat)
                };
                let group_by: Option<Vec<Vec<Target>>> =
                    c.group_by.iter().map(|g| field_of(g)).collect();
                let field = c.field.as_deref().map(field_of);
                let (Some(group_by), Some(field)) =
                    (group_by, field.map_or(Some(None), |f| f.map(Some)))
                else {
                    continue;
                };
                hooks.push(Hook {
                    corr: ci,
                    rule_pos,
                    group_by,
                    field,
                });
            }
            self.plans[*cat as usize].rules.push(Compiled {
                info,
                emit,
                root,
                hooks,
            });
        }
        if !placeholder_errors.is_empty() {
            self.diagnostics.push(RuleDiagnostic {
                origin: rule.meta.origin.clone(),
                rule_id: Some(rule.meta.id.clone()),
                title: Some(rule.meta.title.clone()),
                severity: Severity::Warning,
                kind: DiagnosticKind::Placeholder,
                message: format!(
                    "inactive: no value for placeholder{} {}",
                    if placeholder_errors.len() > 1 {
                        "s"
                    } else {
                        ""
                    },
                    placeholder_errors
                        .iter()
                        .map(|p| format!("%{p}%"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }

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
            analytics,
            ..
        } = self;
        out.clear();
        if let Some(a) = analytics {
            a.observe(record, out);
        }
        let plan = &plans[record.category as usize];
        if plan.rules.is_empty() {
            return out.drain(..);
        }
        candidates.clear();
        candidates.extend_from_slice(&plan.index.always);
        *epoch = epoch.wrapping_add(1);
        if seen.len() < plan.rules.len() {
            seen.resize(plan.rules.len(), 0);
        }
        for ic in &plan.index.columns {
            for &column in &ic.columns {
                let Some(v) = record.values.get(column) else {
                    continue;
                };
                // The same text an item test sees (`Scalar::text`), so the index never drops a match.
                let scalar = match v {
                    model::Value::Null => continue,
                    model::Value::String(s) | model::Value::Dynamic(s) => Scalar::Str(s),
                    model::Value::Int(i) => Scalar::Int(*i),
                    model::Value::Bool(b) => Scalar::Bool(*b),
                    model::Value::Real(r) => Scalar::Real(*r),
                    model::Value::DateTime(t) => Scalar::Time(*t),
                };
                let text = scalar.text(buf);
                if let Some(list) = ic.lookup(text, lower) {
                    for &r in list {
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
            return out.drain(..);
        }
        members.get_mut().clear();
        let cx = access::Ctx {
            record,
            members: &*members,
        };
        let words = plan.atoms.words();
        known[..words].fill(0);
        let mut run = memo::Run {
            cx: &cx,
            atoms: &plan.atoms,
            memo: &mut memos[record.category as usize],
            known: &mut known[..words],
            val: &mut val[..words],
            buf,
        };
        for &i in candidates.iter() {
            let c = &plan.rules[i as usize];
            if !node::eval(&c.root, &mut run) {
                continue;
            }
            let info = &infos[c.info];
            if c.emit {
                out.push(Match {
                    rule_id: info.id.clone(),
                    title: info.title.clone(),
                    level: info.level,
                    tags: info.tags.clone(),
                    category: record.category,
                    key: record.key.clone(),
                    event_time: record.event_time,
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
                        time: record.event_time,
                        rule_pos: h.rule_pos,
                        value,
                        key: record.key.clone(),
                    },
                );
                if let Some(f) = fired {
                    let ci = &infos[rt.info];
                    out.push(Match {
                        rule_id: ci.id.clone(),
                        title: ci.title.clone(),
                        level: ci.level,
                        tags: ci.tags.clone(),
                        category: record.category,
                        key: record.key.clone(),
                        event_time: record.event_time,
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
        out.drain(..)
    }
}
