//! Sigma v1 aggregations (`condition: selection | count(field) by group > 10` with `timeframe`), which
//! `rsigma-parser` rejects as a condition syntax error. We cut the aggregation off the condition line before
//! parsing and turn it into an `event_count` / `value_count` correlation over the rule itself.

use super::{CmpOp, CorrelationKind};

/// A parsed v1 aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Aggregation {
    /// `event_count` (no field) or `value_count` (`count(field)`).
    pub(super) kind: CorrelationKind,
    /// The counted field.
    pub(super) field: Option<String>,
    /// The `by` field.
    pub(super) group_by: Vec<String>,
    /// The comparison.
    pub(super) op: CmpOp,
    /// The threshold.
    pub(super) value: u64,
}

/// Finds a v1 aggregation in a rule's YAML text. Returns the text with the condition line cut at the pipe,
/// and the parsed aggregation (or an error naming what is not supported).
pub(super) fn split(text: &str) -> Option<(String, Result<Aggregation, String>)> {
    let mut out = String::with_capacity(text.len());
    let mut found = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if found.is_none()
            && let Some(rest) = trimmed.strip_prefix("condition:")
            && let Some((cond, agg)) = rest.split_once('|')
        {
            let indent = &line[..line.len() - trimmed.len()];
            let cond = cond.trim().trim_matches(|c| c == '\'' || c == '"');
            let agg = agg.trim().trim_end_matches(['\'', '"']).trim();
            out.push_str(&format!(
                "{indent}condition: '{}'\n",
                cond.replace('\'', "''")
            ));
            found = Some(parse(agg));
            continue;
        }
        out.push_str(line);
    }
    found.map(|agg| (out, agg))
}

/// Parses `count(field) by group > n`.
fn parse(agg: &str) -> Result<Aggregation, String> {
    let err = || format!("unsupported feature: aggregation expression `{agg}`");
    let rest = agg.strip_prefix("count").ok_or_else(|| {
        format!("unsupported feature: aggregation function in `{agg}` (only count is supported)")
    })?;
    let rest = rest.trim_start().strip_prefix('(').ok_or_else(err)?;
    let (field, rest) = rest.split_once(')').ok_or_else(err)?;
    let field = field.trim();
    let mut rest = rest.trim();
    let mut group_by = Vec::new();
    if let Some(r) = rest.strip_prefix("by ") {
        let r = r.trim_start();
        let end = r
            .find(|c: char| c.is_whitespace() || "<>=!".contains(c))
            .ok_or_else(err)?;
        group_by.push(r[..end].to_owned());
        rest = r[end..].trim();
    }
    let (op, n) = [
        ("<=", CmpOp::Lte),
        (">=", CmpOp::Gte),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Neq),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
        ("=", CmpOp::Eq),
    ]
    .iter()
    .find_map(|(s, op)| rest.strip_prefix(s).map(|n| (*op, n)))
    .ok_or_else(err)?;
    let value = n.trim().parse::<u64>().map_err(|_| err())?;
    Ok(Aggregation {
        kind: if field.is_empty() {
            CorrelationKind::EventCount
        } else {
            CorrelationKind::ValueCount
        },
        field: (!field.is_empty()).then(|| field.to_owned()),
        group_by,
        op,
        value,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_count_by() {
        let text = "detection:\n    condition: selection and not f | count(TargetUserName) by IpAddress > 10\nlevel: high\n";
        let (rest, agg) = split(text).unwrap();
        assert!(rest.contains("condition: 'selection and not f'\n"));
        let agg = agg.unwrap();
        assert_eq!(agg.kind, CorrelationKind::ValueCount);
        assert_eq!(agg.field.as_deref(), Some("TargetUserName"));
        assert_eq!(agg.group_by, ["IpAddress"]);
        assert_eq!((agg.op, agg.value), (CmpOp::Gt, 10));
    }

    #[test]
    fn plain_count_and_bad_function() {
        let (_, agg) = split("condition: sel | count() >= 3\n").unwrap();
        let agg = agg.unwrap();
        assert_eq!(agg.kind, CorrelationKind::EventCount);
        assert!(agg.group_by.is_empty());
        assert_eq!((agg.op, agg.value), (CmpOp::Gte, 3));
        let (_, bad) = split("condition: sel | max(x) by y > 3\n").unwrap();
        assert!(bad.unwrap_err().contains("only count"));
        assert!(split("condition: sel\n").is_none());
    }
}
