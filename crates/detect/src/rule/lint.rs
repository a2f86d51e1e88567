//! Linting one converted rule: its status, its logsource's mapping, and whether every field resolves and
//! every value compiles for at least one category of the logsource.

use super::set::diag;
use super::{DiagnosticKind, RuleDiagnostic, Severity, SigmaRule, Status};
use crate::mapping;
use crate::plan::compile::{self, CompileError};
use std::collections::HashMap;

/// Lints a converted rule against its logsource's mapping. Returns whether the rule loads.
pub(super) fn lint_rule(rule: &SigmaRule, diags: &mut Vec<RuleDiagnostic>) -> bool {
    let origin = rule.meta.origin.as_str();
    let d = |sev, kind, msg: String| diag(Some(&rule.meta), origin, sev, kind, msg);
    match rule.meta.status {
        Status::Deprecated => diags.push(d(
            Severity::Warning,
            DiagnosticKind::Deprecated,
            "status is deprecated".to_owned(),
        )),
        Status::Unsupported => diags.push(d(
            Severity::Warning,
            DiagnosticKind::StatusUnsupported,
            "status is unsupported (the authors know of no backend that runs it)".to_owned(),
        )),
        _ => {}
    }
    let ls = &rule.logsource;
    let Some(mapping) = mapping::for_logsource(ls.product.as_deref(), ls.service.as_deref()) else {
        diags.push(d(
            Severity::Error,
            DiagnosticKind::UnknownLogsource,
            format!(
                "no field mapping for logsource product={} service={} category={}",
                ls.product.as_deref().unwrap_or("-"),
                ls.service.as_deref().unwrap_or("-"),
                ls.category.as_deref().unwrap_or("-")
            ),
        ));
        return false;
    };
    let none = HashMap::new();
    let mut compiled = 0;
    let mut unknown: Vec<String> = Vec::new();
    let mut unknown_per_cat: Vec<Vec<String>> = Vec::new();
    let mut other: Vec<CompileError> = Vec::new();
    let mut placeholders: Vec<String> = Vec::new();
    for cat in &mapping.categories {
        let cx = compile::Cx {
            mapping: &mapping,
            category: *cat,
            placeholders: &none,
        };
        match compile::detections(&rule.detection, &cx) {
            Ok(_) => compiled += 1,
            Err(errs) => {
                unknown_per_cat.push(
                    errs.iter()
                        .filter_map(|e| match e {
                            CompileError::UnknownField(f) => Some(f.clone()),
                            _ => None,
                        })
                        .collect(),
                );
                let mut only_placeholders = true;
                for e in errs {
                    match e {
                        CompileError::UnknownField(f) => {
                            only_placeholders = false;
                            if !unknown.contains(&f) {
                                unknown.push(f);
                            }
                        }
                        CompileError::Placeholder(p) => {
                            if !placeholders.contains(&p) {
                                placeholders.push(p);
                            }
                        }
                        e => {
                            only_placeholders = false;
                            if !other.contains(&e) {
                                other.push(e);
                            }
                        }
                    }
                }
                if only_placeholders {
                    compiled += 1;
                }
            }
        }
    }
    if let Some(c) = &rule.aggregation {
        for f in c.group_by.iter().chain(c.field.iter()) {
            if !mapping
                .categories
                .iter()
                .any(|cat| mapping.resolve(f, *cat).is_some())
                && !unknown.contains(f)
            {
                unknown.push(f.clone());
                compiled = 0;
            }
        }
    }
    if !other.is_empty() {
        for e in other {
            diags.push(d(Severity::Error, DiagnosticKind::Invalid, e.to_string()));
        }
        return false;
    }
    if compiled == 0 {
        // Name the fields no category knows; if each category lacks a different one, name them all.
        let everywhere: Vec<String> = unknown
            .iter()
            .filter(|f| unknown_per_cat.iter().all(|u| u.contains(f)))
            .cloned()
            .collect();
        if !everywhere.is_empty() {
            unknown = everywhere;
        }
        let cats: Vec<&str> = mapping.categories.iter().map(|c| c.table()).collect();
        diags.push(d(
            Severity::Error,
            DiagnosticKind::UnknownField,
            format!(
                "unknown field{} {} for logsource {}/{} (tables {})",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                mapping.product,
                mapping.service,
                cats.join(", ")
            ),
        ));
        return false;
    }
    if !placeholders.is_empty() {
        let names: Vec<String> = placeholders.iter().map(|p| format!("%{p}%")).collect();
        diags.push(d(Severity::Warning, DiagnosticKind::Placeholder, format!(
            "needs placeholder values for {} (EngineConfig::placeholders); inactive without them",
            names.join(", "))));
    }
    true
}
