//! Building the engine: every rule compiled per category (condition, filters, correlation hooks), then
//! per category the literal index, the atoms, the memo and each rule's bytecode.

use super::{
    CategoryPlan, Compiled, CorrelationRuntime, Engine, EngineConfig, Hook, Info, batch, memo,
    vector, view,
};
use crate::correlate::{self, Limits, State};
use crate::mapping::{self, Target};
use crate::plan::Node;
use crate::plan::atoms::Atoms;
use crate::plan::compile::{self, CompileError, Cx};
use crate::plan::index::Index;
use crate::plan::program::Program;
use crate::rule::{DiagnosticKind, RuleDiagnostic, RuleSet, Severity, SigmaRule};
use model::Category;

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
            slots: Vec::new(),
            view: Vec::new(),
            vectors: vector::Vectors::default(),
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
            plan.reads = view::reads(plan);
            let mut roots: Vec<&mut Node> = plan.rules.iter_mut().map(|r| &mut r.root).collect();
            plan.atoms = Atoms::build(&mut roots);
            plan.index.fold(&plan.atoms);
            for r in &mut plan.rules {
                r.prog = Program::compile(&r.root);
            }
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
                prog: Program::default(),
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
}
