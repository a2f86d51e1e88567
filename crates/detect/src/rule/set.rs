//! Loading rules: [`RuleSet::load_dir`] and [`RuleSet::from_yaml`] parse every document, convert it, and
//! lint it (fields unknown for the logsource, unsupported features, unresolved references). A bad rule is
//! left out with an error diagnostic naming its file and rule; it never stops the others from loading.

use super::convert;
use super::legacy;
use super::lint::lint_rule;
use super::{Correlation, Filter, Meta, SigmaRule, Status};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The rule loads; something deserves attention.
    Warning,
    /// The rule (or file) was not loaded.
    Error,
}

/// What a diagnostic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// The file could not be read.
    Io,
    /// The YAML or a Sigma construct did not parse.
    Parse,
    /// No field mapping exists for the rule's logsource.
    UnknownLogsource,
    /// A field means nothing for any category of the logsource.
    UnknownField,
    /// A construct the engine does not run.
    Unsupported,
    /// The rule is malformed (bad regex, missing detection, …).
    Invalid,
    /// `expand` placeholders that need values in `EngineConfig::placeholders`.
    Placeholder,
    /// `status: deprecated`.
    Deprecated,
    /// `status: unsupported`.
    StatusUnsupported,
    /// A correlation or filter names a rule that is not loaded.
    UnresolvedReference,
    /// Two rules share an id.
    DuplicateId,
}

/// One finding about one rule or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDiagnostic {
    /// The file (or caller-given origin).
    pub origin: String,
    /// The rule's id, when known.
    pub rule_id: Option<String>,
    /// The rule's title, when known.
    pub title: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// Kind.
    pub kind: DiagnosticKind,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for RuleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}: ", self.origin)?;
        match (&self.rule_id, &self.title) {
            (Some(id), Some(t)) => write!(f, "rule {id} ({t}): ")?,
            (Some(id), None) => write!(f, "rule {id}: ")?,
            (None, Some(t)) => write!(f, "rule ({t}): ")?,
            (None, None) => {}
        }
        write!(f, "{sev}: {}", self.message)
    }
}

pub(super) fn diag(
    meta: Option<&Meta>,
    origin: &str,
    severity: Severity,
    kind: DiagnosticKind,
    message: String,
) -> RuleDiagnostic {
    RuleDiagnostic {
        origin: origin.to_owned(),
        rule_id: meta.map(|m| m.id.clone()),
        title: meta.map(|m| m.title.clone()),
        severity,
        kind,
        message,
    }
}

/// A set of loaded rules: detection rules, correlation rules and filters.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<SigmaRule>,
    correlations: Vec<Correlation>,
    filters: Vec<Filter>,
}

/// Largest rule file read.
const MAX_FILE: u64 = 4 << 20;

impl RuleSet {
    /// An empty set.
    pub fn new() -> RuleSet {
        RuleSet::default()
    }

    /// Detection rules.
    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    /// Correlation rules (including v1 aggregations, which are also on their rule).
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// Filters.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Number of detection and correlation rules.
    pub fn len(&self) -> usize {
        self.rules.len() + self.correlations.len()
    }

    /// Whether the set holds no rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.filters.is_empty()
    }

    /// A detection rule by id or name.
    pub fn rule(&self, id_or_name: &str) -> Option<&SigmaRule> {
        self.rules
            .iter()
            .find(|r| r.meta.id == id_or_name || r.meta.name.as_deref() == Some(id_or_name))
    }

    /// Loads every `*.yml` / `*.yaml` file under `path` (recursively, in name order).
    pub fn load_dir(path: impl AsRef<Path>) -> (RuleSet, Vec<RuleDiagnostic>) {
        let mut files = Vec::new();
        let mut diags = Vec::new();
        collect(path.as_ref(), &mut files, &mut diags);
        files.sort();
        let mut set = RuleSet::new();
        for f in files {
            let origin = f.display().to_string();
            let text = std::fs::File::open(&f)
                .map_err(|e| e.to_string())
                .and_then(|file| {
                    model::limits::read_capped(file, MAX_FILE).map_err(|e| e.to_string())
                })
                .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()));
            match text {
                Ok(t) => set.add_text(&t, &origin, &mut diags),
                Err(e) => diags.push(diag(None, &origin, Severity::Error, DiagnosticKind::Io, e)),
            }
        }
        set.check_references(&mut diags);
        (set, diags)
    }

    /// Parses one YAML text (one or more documents); `origin` names it in diagnostics.
    pub fn from_yaml(text: &str, origin: &str) -> (RuleSet, Vec<RuleDiagnostic>) {
        let mut set = RuleSet::new();
        let mut diags = Vec::new();
        set.add_text(text, origin, &mut diags);
        set.check_references(&mut diags);
        (set, diags)
    }

    /// Adds another set's rules (diagnose duplicates and references with [`RuleSet::check`]).
    pub fn extend(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.filters.extend(other.filters);
    }

    /// Re-checks references and duplicate ids across the whole set.
    pub fn check(&self) -> Vec<RuleDiagnostic> {
        let mut d = Vec::new();
        self.check_references(&mut d);
        d
    }

    fn add_text(&mut self, text: &str, origin: &str, diags: &mut Vec<RuleDiagnostic>) {
        let (text, aggregation) = match legacy::split(text) {
            Some((rest, agg)) => (rest, Some(agg)),
            None => (text.to_owned(), None),
        };
        let docs = convert::documents(&text, origin);
        for e in docs.errors {
            let guess = guess_meta(&text, origin);
            diags.push(diag(
                guess.as_ref(),
                origin,
                Severity::Error,
                DiagnosticKind::Parse,
                e,
            ));
        }
        for (r, timeframe) in docs.rules {
            match r {
                Err((m, e)) => diags.push(diag(Some(&m), origin, Severity::Error, kind_of(&e), e)),
                Ok(mut rule) => {
                    if let Some(agg) = &aggregation {
                        match agg {
                            Err(e) => {
                                diags.push(diag(
                                    Some(&rule.meta),
                                    origin,
                                    Severity::Error,
                                    DiagnosticKind::Unsupported,
                                    e.clone(),
                                ));
                                continue;
                            }
                            Ok(a) => {
                                match timeframe.as_deref().and_then(convert::timespan_micros) {
                                    None => {
                                        diags.push(diag(Some(&rule.meta), origin, Severity::Error, DiagnosticKind::Unsupported,
                                        "unsupported feature: v1 aggregation without a `timeframe` (its state would be unbounded)".to_owned()));
                                        let _ = lint_rule(&rule, diags);
                                        continue;
                                    }
                                    Some(span) => {
                                        let mut meta = rule.meta.clone();
                                        meta.id = format!("{}:aggregation", rule.meta.id);
                                        let c = Correlation {
                                            meta,
                                            kind: a.kind,
                                            rules: vec![rule.meta.id.clone()],
                                            group_by: a.group_by.clone(),
                                            timespan_micros: span,
                                            threshold: vec![(a.op, a.value)],
                                            field: a.field.clone(),
                                            aliases: Vec::new(),
                                            generate: false,
                                        };
                                        diags.push(diag(Some(&rule.meta), origin, Severity::Warning, DiagnosticKind::Unsupported,
                                        "v1 aggregation (deprecated Sigma syntax) runs as a correlation rule".to_owned()));
                                        rule.aggregation = Some(c);
                                    }
                                }
                            }
                        }
                    }
                    if lint_rule(&rule, diags) {
                        if let Some(c) = &rule.aggregation {
                            self.correlations.push(c.clone());
                        }
                        self.rules.push(rule);
                    }
                }
            }
        }
        for c in docs.correlations {
            match c {
                Ok(c) => self.correlations.push(c),
                Err((m, e)) => diags.push(diag(Some(&m), origin, Severity::Error, kind_of(&e), e)),
            }
        }
        for f in docs.filters {
            match f {
                Ok(f) => self.filters.push(f),
                Err((m, e)) => diags.push(diag(Some(&m), origin, Severity::Error, kind_of(&e), e)),
            }
        }
    }

    fn check_references(&self, diags: &mut Vec<RuleDiagnostic>) {
        let known = |r: &str| {
            self.rule(r).is_some()
                || self
                    .correlations
                    .iter()
                    .any(|c| c.meta.id == r || c.meta.name.as_deref() == Some(r))
        };
        for c in &self.correlations {
            for r in &c.rules {
                if self
                    .correlations
                    .iter()
                    .any(|x| x.meta.id == *r || x.meta.name.as_deref() == Some(r.as_str()))
                {
                    diags.push(diag(
                        Some(&c.meta),
                        &c.meta.origin,
                        Severity::Warning,
                        DiagnosticKind::Unsupported,
                        format!(
                            "unsupported feature: correlation over correlation {r} (only detection rules feed correlations)"
                        ),
                    ));
                } else if !known(r) {
                    diags.push(diag(
                        Some(&c.meta),
                        &c.meta.origin,
                        Severity::Warning,
                        DiagnosticKind::UnresolvedReference,
                        format!("correlation refers to rule {r}, which is not loaded"),
                    ));
                }
            }
        }
        for f in &self.filters {
            for r in &f.rules {
                if !known(r) && !self.rules.iter().any(|x| x.meta.title == *r) {
                    diags.push(diag(
                        Some(&f.meta),
                        &f.meta.origin,
                        Severity::Warning,
                        DiagnosticKind::UnresolvedReference,
                        format!("filter applies to rule {r}, which is not loaded"),
                    ));
                }
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for r in &self.rules {
            if let Some(first) = seen.insert(&r.meta.id, &r.meta.origin) {
                diags.push(diag(
                    Some(&r.meta),
                    &r.meta.origin,
                    Severity::Warning,
                    DiagnosticKind::DuplicateId,
                    format!("id also used by a rule in {first}"),
                ));
            }
        }
    }
}

fn kind_of(message: &str) -> DiagnosticKind {
    if message.starts_with("unsupported feature") {
        DiagnosticKind::Unsupported
    } else {
        DiagnosticKind::Parse
    }
}

/// Title and id read off the text, for a document the parser rejected.
fn guess_meta(text: &str, origin: &str) -> Option<Meta> {
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().trim_matches(['\'', '"']).to_owned())
    };
    let title = field("title:");
    let id = field("id:");
    (title.is_some() || id.is_some()).then(|| Meta {
        id: id.clone().or_else(|| title.clone()).unwrap_or_default(),
        name: None,
        title: title.unwrap_or_default(),
        level: super::Level::Medium,
        status: Status::Unknown,
        tags: Vec::new(),
        origin: origin.to_owned(),
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Vec<RuleDiagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            if dir.is_file() {
                out.push(dir.to_path_buf());
            } else {
                diags.push(diag(
                    None,
                    &dir.display().to_string(),
                    Severity::Error,
                    DiagnosticKind::Io,
                    e.to_string(),
                ));
            }
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out, diags);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}
