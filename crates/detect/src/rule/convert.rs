//! The one module that sees `rsigma-parser`'s AST: converts its documents into our rule model
//! ([`super::SigmaRule`], [`super::Correlation`], [`super::Filter`]). Constructs our engine does not run
//! (array-matching blocks, `value_sum`-style correlations, extended temporal conditions) become errors that
//! name the construct.

use super::{
    CmpOp, Condition, Correlation, CorrelationKind, Detection, Detections, Filter, Item, Level,
    LogSource, Meta, Modifier, Pattern, PatternPart, Quantifier, RuleValue, SigmaRule, Status,
    TimePart,
};
use rsigma_parser as rs;

/// Metadata fields common to the parser's three document types.
struct RawMeta<'a> {
    id: Option<&'a String>,
    name: Option<&'a String>,
    title: &'a str,
    level: Option<rs::Level>,
    status: Option<rs::Status>,
    tags: &'a [String],
}

fn meta(m: RawMeta<'_>, origin: &str) -> Meta {
    Meta {
        id: m.id.cloned().unwrap_or_else(|| m.title.to_owned()),
        name: m.name.cloned(),
        title: m.title.to_owned(),
        level: match m.level {
            Some(rs::Level::Informational) => Level::Informational,
            Some(rs::Level::Low) => Level::Low,
            Some(rs::Level::High) => Level::High,
            Some(rs::Level::Critical) => Level::Critical,
            Some(rs::Level::Medium) | None => Level::Medium,
        },
        status: match m.status {
            Some(rs::Status::Stable) => Status::Stable,
            Some(rs::Status::Test) => Status::Test,
            Some(rs::Status::Experimental) => Status::Experimental,
            Some(rs::Status::Deprecated) => Status::Deprecated,
            Some(rs::Status::Unsupported) => Status::Unsupported,
            None => Status::Unknown,
        },
        tags: m.tags.to_vec(),
        origin: origin.to_owned(),
    }
}

fn logsource(l: &rs::LogSource) -> LogSource {
    let low = |s: &Option<String>| s.as_ref().map(|s| s.trim().to_ascii_lowercase());
    LogSource {
        product: low(&l.product),
        service: low(&l.service),
        category: low(&l.category),
    }
}

/// Converts a detection rule.
pub(super) fn rule(r: &rs::SigmaRule, origin: &str) -> Result<SigmaRule, String> {
    Ok(SigmaRule {
        meta: meta(
            RawMeta {
                id: r.id.as_ref(),
                name: r.name.as_ref(),
                title: &r.title,
                level: r.level,
                status: r.status,
                tags: &r.tags,
            },
            origin,
        ),
        logsource: logsource(&r.logsource),
        detection: detections(&r.detection)?,
        aggregation: None,
    })
}

/// Converts a filter document.
pub(super) fn filter(f: &rs::FilterRule, origin: &str) -> Result<Filter, String> {
    Ok(Filter {
        meta: meta(
            RawMeta {
                id: f.id.as_ref(),
                name: f.name.as_ref(),
                title: &f.title,
                level: f.level,
                status: f.status,
                tags: &f.tags,
            },
            origin,
        ),
        rules: match &f.rules {
            rs::FilterRuleTarget::Any => Vec::new(),
            rs::FilterRuleTarget::Specific(v) => v.clone(),
        },
        logsource: f.logsource.as_ref().map(logsource),
        detection: detections(&f.detection)?,
    })
}

/// Converts a correlation rule.
pub(super) fn correlation(c: &rs::CorrelationRule, origin: &str) -> Result<Correlation, String> {
    let kind = match c.correlation_type {
        rs::CorrelationType::EventCount => CorrelationKind::EventCount,
        rs::CorrelationType::ValueCount => CorrelationKind::ValueCount,
        rs::CorrelationType::Temporal => CorrelationKind::Temporal,
        rs::CorrelationType::TemporalOrdered => CorrelationKind::TemporalOrdered,
        other => {
            return Err(format!(
                "unsupported feature: correlation type {}",
                other.as_str()
            ));
        }
    };
    if c.window != rs::WindowMode::Sliding {
        return Err(format!(
            "unsupported feature: correlation window {}",
            c.window.as_str()
        ));
    }
    let (threshold, field) = match &c.condition {
        rs::CorrelationCondition::Threshold {
            predicates, field, ..
        } => (
            predicates
                .iter()
                .map(|(op, v)| (cmp(*op), *v))
                .collect::<Vec<_>>(),
            field.as_ref().and_then(|f| f.first().cloned()),
        ),
        rs::CorrelationCondition::Extended(_) => {
            return Err("unsupported feature: extended (boolean) correlation condition".to_owned());
        }
    };
    // Temporal kinds fire when every referenced rule matched in the window (in order, for
    // temporal_ordered); the parser's default threshold for them (`gte: 1`) carries no meaning.
    let threshold = match kind {
        CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => Vec::new(),
        _ => threshold,
    };
    if kind == CorrelationKind::ValueCount && field.is_none() {
        return Err("value_count correlation without condition.field".to_owned());
    }
    let micros = i64::try_from(c.timespan.seconds)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000))
        .ok_or_else(|| format!("timespan {} too large", c.timespan.original))?;
    Ok(Correlation {
        meta: meta(
            RawMeta {
                id: c.id.as_ref(),
                name: c.name.as_ref(),
                title: &c.title,
                level: c.level,
                status: c.status,
                tags: &c.tags,
            },
            origin,
        ),
        kind,
        rules: c.rules.clone(),
        group_by: c.group_by.clone(),
        timespan_micros: micros,
        threshold,
        field,
        aliases: c
            .aliases
            .iter()
            .map(|a| {
                let mut m: Vec<(String, String)> = a
                    .mapping
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                m.sort();
                (a.alias.clone(), m)
            })
            .collect(),
        generate: c.generate,
    })
}

const fn cmp(op: rs::ConditionOperator) -> CmpOp {
    match op {
        rs::ConditionOperator::Lt => CmpOp::Lt,
        rs::ConditionOperator::Lte => CmpOp::Lte,
        rs::ConditionOperator::Gt => CmpOp::Gt,
        rs::ConditionOperator::Gte => CmpOp::Gte,
        rs::ConditionOperator::Eq => CmpOp::Eq,
        rs::ConditionOperator::Neq => CmpOp::Neq,
    }
}

fn detections(d: &rs::Detections) -> Result<Detections, String> {
    let mut named = d
        .named
        .iter()
        .map(|(k, v)| Ok((k.clone(), detection(v)?)))
        .collect::<Result<Vec<_>, String>>()?;
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let conds: Vec<Condition> = d.conditions.iter().map(condition).collect();
    let condition = match conds.len() {
        0 => None,
        1 => conds.into_iter().next(),
        _ => Some(Condition::Or(conds)),
    };
    Ok(Detections { named, condition })
}

fn detection(d: &rs::Detection) -> Result<Detection, String> {
    Ok(match d {
        rs::Detection::AllOf(items) => {
            Detection::AllOf(items.iter().map(item).collect::<Result<_, _>>()?)
        }
        rs::Detection::AnyOf(list) => {
            Detection::AnyOf(list.iter().map(detection).collect::<Result<_, _>>()?)
        }
        rs::Detection::Keywords(values) => Detection::Keywords(Item {
            field: None,
            modifiers: Vec::new(),
            values: values.iter().map(value).collect(),
        }),
        rs::Detection::ArrayMatch { field, .. } => {
            return Err(format!(
                "unsupported feature: array-matching block on {field}"
            ));
        }
        rs::Detection::And(_) | rs::Detection::Conditional { .. } => {
            return Err("unsupported feature: array-matching detection".to_owned());
        }
    })
}

fn item(i: &rs::DetectionItem) -> Result<Item, String> {
    let modifiers = i
        .field
        .modifiers
        .iter()
        .map(|m| modifier(*m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Item {
        field: i.field.name.clone(),
        modifiers,
        values: i.values.iter().map(value).collect(),
    })
}

fn modifier(m: rs::Modifier) -> Result<Modifier, String> {
    use rs::Modifier as M;
    Ok(match m {
        M::Contains => Modifier::Contains,
        M::StartsWith => Modifier::StartsWith,
        M::EndsWith => Modifier::EndsWith,
        M::All => Modifier::All,
        M::Base64 => Modifier::Base64,
        M::Base64Offset => Modifier::Base64Offset,
        M::Wide => Modifier::Utf16Le,
        M::Utf16be => Modifier::Utf16Be,
        M::Utf16 => Modifier::Utf16,
        M::WindAsh => Modifier::Windash,
        M::Re => Modifier::Re,
        M::Cidr => Modifier::Cidr,
        M::Cased => Modifier::Cased,
        M::Exists => Modifier::Exists,
        M::Expand => Modifier::Expand,
        M::FieldRef => Modifier::FieldRef,
        M::Gt => Modifier::Gt,
        M::Gte => Modifier::Gte,
        M::Lt => Modifier::Lt,
        M::Lte => Modifier::Lte,
        M::Neq => Modifier::Neq,
        M::IgnoreCase => Modifier::ReI,
        M::Multiline => Modifier::ReM,
        M::DotAll => Modifier::ReS,
        M::Minute => Modifier::TimePart(TimePart::Minute),
        M::Hour => Modifier::TimePart(TimePart::Hour),
        M::Day => Modifier::TimePart(TimePart::Day),
        M::Week => Modifier::TimePart(TimePart::Week),
        M::Month => Modifier::TimePart(TimePart::Month),
        M::Year => Modifier::TimePart(TimePart::Year),
    })
}

fn value(v: &rs::SigmaValue) -> RuleValue {
    match v {
        rs::SigmaValue::String(s) => RuleValue::Str(Pattern {
            parts: s
                .parts
                .iter()
                .map(|p| match p {
                    rs::StringPart::Plain(t) => PatternPart::Text(t.clone()),
                    rs::StringPart::Special(rs::SpecialChar::WildcardMulti) => PatternPart::Any,
                    rs::StringPart::Special(rs::SpecialChar::WildcardSingle) => PatternPart::One,
                })
                .collect(),
            original: s.original.clone(),
        }),
        rs::SigmaValue::Integer(i) => RuleValue::Int(*i),
        rs::SigmaValue::Float(f) => RuleValue::Float(*f),
        rs::SigmaValue::Bool(b) => RuleValue::Bool(*b),
        rs::SigmaValue::Null => RuleValue::Null,
    }
}

/// Converts a parsed condition expression.
pub(super) fn condition(c: &rs::ConditionExpr) -> Condition {
    match c {
        rs::ConditionExpr::And(v) => Condition::And(v.iter().map(condition).collect()),
        rs::ConditionExpr::Or(v) => Condition::Or(v.iter().map(condition).collect()),
        rs::ConditionExpr::Not(x) => Condition::Not(Box::new(condition(x))),
        rs::ConditionExpr::Identifier(s) => Condition::Ref(s.clone()),
        rs::ConditionExpr::Selector {
            quantifier,
            pattern,
        } => Condition::Of {
            quantifier: match quantifier {
                rs::Quantifier::Any => Quantifier::Any,
                rs::Quantifier::All => Quantifier::All,
                rs::Quantifier::Count(n) => Quantifier::Count(*n),
            },
            pattern: match pattern {
                rs::SelectorPattern::Them => None,
                rs::SelectorPattern::Pattern(p) => Some(p.clone()),
            },
        },
    }
}

/// A converted document, or its metadata and what is wrong with it.
pub(super) type Converted<T> = Result<T, (Meta, String)>;

/// Every document of a YAML text, converted; a document that fails carries its error.
#[derive(Debug, Default)]
pub(super) struct Documents {
    /// Detection rules with their v1 `timeframe`, if any.
    pub(super) rules: Vec<(Converted<SigmaRule>, Option<String>)>,
    /// Correlation rules.
    pub(super) correlations: Vec<Converted<Correlation>>,
    /// Filters.
    pub(super) filters: Vec<Converted<Filter>>,
    /// Documents the parser could not read at all.
    pub(super) errors: Vec<String>,
}

/// Parses and converts every document of `text`.
pub(super) fn documents(text: &str, origin: &str) -> Documents {
    let mut out = Documents::default();
    let c = match rs::parse_sigma_yaml(text) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    out.errors = c.errors.clone();
    for r in &c.rules {
        let m = || {
            meta(
                RawMeta {
                    id: r.id.as_ref(),
                    name: r.name.as_ref(),
                    title: &r.title,
                    level: r.level,
                    status: r.status,
                    tags: &r.tags,
                },
                origin,
            )
        };
        out.rules.push((
            rule(r, origin).map_err(|e| (m(), e)),
            r.detection.timeframe.clone(),
        ));
    }
    for x in &c.correlations {
        let m = || {
            meta(
                RawMeta {
                    id: x.id.as_ref(),
                    name: x.name.as_ref(),
                    title: &x.title,
                    level: x.level,
                    status: x.status,
                    tags: &x.tags,
                },
                origin,
            )
        };
        out.correlations
            .push(correlation(x, origin).map_err(|e| (m(), e)));
    }
    for f in &c.filters {
        let m = || {
            meta(
                RawMeta {
                    id: f.id.as_ref(),
                    name: f.name.as_ref(),
                    title: &f.title,
                    level: f.level,
                    status: f.status,
                    tags: &f.tags,
                },
                origin,
            )
        };
        out.filters.push(filter(f, origin).map_err(|e| (m(), e)));
    }
    out
}

/// Parses a `timeframe` / `timespan` (`5m`, `1h`) into microseconds.
pub(super) fn timespan_micros(s: &str) -> Option<i64> {
    let t = rs::Timespan::parse(s.trim()).ok()?;
    i64::try_from(t.seconds).ok()?.checked_mul(1_000_000)
}
