//! Turns a parsed `$filter` into what an endpoint executes: the window on its sorted time property (a binary
//! search), the sign-in event types, and the remaining predicates, checked per record. Anything the endpoint
//! does not document is refused with a message like Graph's (the caller answers 400).

use chrono::DateTime;
use serde_json::Value;

use super::data::nanos;
use super::endpoints::{Endpoint, sign_in_type_bit};
use super::graph::Version;
use super::odata::{Expr, Lit, Op, parse};

/// An executable filter.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// Inclusive time window (ns).
    pub(crate) lower: i64,
    pub(crate) upper: i64,
    /// Sign-in event type mask (0 = not a sign-in endpoint).
    pub(crate) types: u8,
    /// Per-record predicates, property paths in their canonical case.
    preds: Vec<Expr>,
    case_sensitive: bool,
    pub(crate) newest_first: bool,
}

impl Compiled {
    /// Whether a rendered record passes the per-record predicates.
    pub(crate) fn matches(&self, bytes: &[u8]) -> bool {
        if self.preds.is_empty() {
            return true;
        }
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            return false;
        };
        self.preds.iter().all(|p| eval(p, &v, self.case_sensitive))
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Gt => "gt",
        Op::Ge => "ge",
        Op::Lt => "lt",
        Op::Le => "le",
    }
}

fn canonical<'a>(ep: &Endpoint, list: &[&'a str], path: &str) -> Option<&'a str> {
    list.iter().copied().find(|f| {
        if ep.case_sensitive {
            *f == path
        } else {
            f.eq_ignore_ascii_case(path)
        }
    })
}

fn same(ep: &Endpoint, a: &str, b: &str) -> bool {
    if ep.case_sensitive {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

fn unknown(path: &str) -> String {
    format!(
        "Invalid filter clause: Could not find a property named '{path}' or it does not support filtering."
    )
}

/// Validates a per-record predicate and rewrites property paths to their canonical case.
fn check_pred(ep: &Endpoint, e: Expr) -> Result<Expr, String> {
    Ok(match e {
        Expr::And(v) => Expr::And(
            v.into_iter()
                .map(|x| check_pred(ep, x))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(v) => Expr::Or(
            v.into_iter()
                .map(|x| check_pred(ep, x))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(x) => Expr::Not(Box::new(check_pred(ep, *x)?)),
        Expr::Cmp { path, op, lit } => {
            if same(ep, &path, ep.time_field) && op == Op::Ne && matches!(lit, Lit::Time(_)) {
                return Ok(Expr::Cmp {
                    path: ep.time_field.to_owned(),
                    op,
                    lit,
                });
            }
            if same(ep, &path, ep.time_field) {
                return Err(format!(
                    "Invalid filter clause: '{}' can only be compared at the top level, joined with 'and'.",
                    ep.time_field
                ));
            }
            if let Some(f) = canonical(ep, ep.other_times, &path) {
                if !matches!(lit, Lit::Time(_)) {
                    return Err(format!(
                        "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind '{}'.",
                        op_name(op)
                    ));
                }
                return Ok(Expr::Cmp {
                    path: f.to_owned(),
                    op,
                    lit,
                });
            }
            let f = canonical(ep, ep.eq_fields, &path).ok_or_else(|| unknown(&path))?;
            if !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "Invalid filter clause: operator '{}' is not supported on '{f}'.",
                    op_name(op)
                ));
            }
            Expr::Cmp {
                path: f.to_owned(),
                op,
                lit,
            }
        }
        Expr::Func { name, path, lit } => {
            let allowed = if ep.case_sensitive {
                name == "contains"
            } else {
                name.eq_ignore_ascii_case("startswith")
            };
            if !allowed {
                return Err(format!(
                    "Invalid filter clause: function '{name}' is not supported."
                ));
            }
            let f = canonical(ep, ep.func_fields, &path).ok_or_else(|| unknown(&path))?;
            if !matches!(lit, Lit::Str(_)) {
                return Err(format!(
                    "Invalid filter clause: {name} expects a string literal."
                ));
            }
            Expr::Func {
                name: name.to_ascii_lowercase(),
                path: f.to_owned(),
                lit,
            }
        }
        Expr::Any { path, .. } => return Err(unknown(&format!("{path}/any"))),
    })
}

fn type_mask(var: &str, body: &Expr) -> Result<u8, String> {
    match body {
        Expr::Or(v) => v.iter().try_fold(0u8, |m, e| Ok(m | type_mask(var, e)?)),
        Expr::Cmp { path, op: Op::Eq, lit: Lit::Str(s) } if path == var => sign_in_type_bit(s)
            .ok_or_else(|| format!("The string '{s}' is not a valid enumeration type constant.")),
        _ => Err("Invalid filter clause: only 't eq <signInEventType>' (joined by 'or') is supported inside any().".to_owned()),
    }
}

/// Compiles `$filter` and `$orderby` for an endpoint.
pub(crate) fn compile(
    ep: &Endpoint,
    version: Version,
    filter: Option<&str>,
    orderby: Option<&str>,
) -> Result<Compiled, String> {
    let sign_ins = ep.path == "auditLogs/signIns";
    let mut c = Compiled {
        lower: i64::MIN,
        upper: i64::MAX,
        types: if sign_ins { 1 } else { 0 },
        preds: Vec::new(),
        case_sensitive: ep.case_sensitive,
        newest_first: ep.newest_first,
    };
    if let Some(order) = orderby.map(str::trim).filter(|o| !o.is_empty()) {
        let mut parts = order.split_whitespace();
        let field = parts.next().unwrap_or("");
        if !same(ep, field, ep.time_field) {
            return Err(format!(
                "Invalid $orderby: ordering by '{field}' is not supported."
            ));
        }
        c.newest_first = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("Invalid $orderby direction '{other}'.")),
        };
    }
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(c);
    };
    let expr =
        parse(filter, !ep.case_sensitive).map_err(|e| format!("Invalid filter clause: {e}"))?;
    let items = match expr {
        Expr::And(v) => v,
        other => vec![other],
    };
    for item in items {
        match item {
            Expr::Cmp {
                ref path,
                op,
                ref lit,
            } if same(ep, path, ep.time_field) && op != Op::Ne => {
                let Lit::Time(t) = lit else {
                    return Err(format!(
                        "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and '{}' for operator kind '{}'.",
                        if matches!(lit, Lit::Str(_)) {
                            "Edm.String"
                        } else {
                            "Edm.Double"
                        },
                        op_name(op)
                    ));
                };
                if !ep.time_ops.contains(&op) {
                    return Err(format!(
                        "Invalid filter clause: operator '{}' is not supported on '{}'.",
                        op_name(op),
                        ep.time_field
                    ));
                }
                let t = nanos(*t);
                match op {
                    Op::Eq => {
                        c.lower = c.lower.max(t);
                        c.upper = c.upper.min(t);
                    }
                    Op::Gt => c.lower = c.lower.max(t.saturating_add(1)),
                    Op::Ge => c.lower = c.lower.max(t),
                    Op::Lt => c.upper = c.upper.min(t.saturating_sub(1)),
                    Op::Le => c.upper = c.upper.min(t),
                    Op::Ne => {}
                }
            }
            Expr::Any {
                ref path,
                ref var,
                ref body,
            } if path.eq_ignore_ascii_case("signInEventTypes") => {
                if !sign_ins || version != Version::Beta {
                    return Err("Could not find a property named 'signInEventTypes' on type 'microsoft.graph.signIn'.".to_owned());
                }
                c.types = type_mask(var, body)?;
            }
            other => c.preds.push(check_pred(ep, other)?),
        }
    }
    Ok(c)
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('/').try_fold(v, |cur, k| cur.get(k))
}

fn ordered<T: PartialOrd>(op: Op, a: T, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Lt => a < b,
        Op::Le => a <= b,
    }
}

fn eval(e: &Expr, v: &Value, cs: bool) -> bool {
    let text = |s: &str| if cs { s.to_owned() } else { s.to_lowercase() };
    match e {
        Expr::And(x) => x.iter().all(|e| eval(e, v, cs)),
        Expr::Or(x) => x.iter().any(|e| eval(e, v, cs)),
        Expr::Not(x) => !eval(x, v, cs),
        Expr::Any { .. } => false,
        Expr::Func {
            name,
            path,
            lit: Lit::Str(s),
        } => {
            let Some(Value::String(f)) = lookup(v, path) else {
                return false;
            };
            if name == "contains" {
                text(f).contains(&text(s))
            } else {
                text(f).starts_with(&text(s))
            }
        }
        Expr::Func { .. } => false,
        Expr::Cmp { path, op, lit } => {
            let field = lookup(v, path).unwrap_or(&Value::Null);
            match (lit, field) {
                (Lit::Null, f) => ordered(*op, f.is_null(), true),
                (Lit::Str(s) | Lit::Guid(s), Value::String(f)) => ordered(*op, text(f), text(s)),
                (Lit::Str(s), f @ (Value::Number(_) | Value::Bool(_))) => {
                    ordered(*op, f.to_string(), s.clone())
                }
                (Lit::Num(n), Value::Number(f)) => f.as_f64().is_some_and(|f| ordered(*op, f, *n)),
                (Lit::Num(n), Value::String(f)) => {
                    f.parse::<f64>().is_ok_and(|f| ordered(*op, f, *n))
                }
                (Lit::Bool(b), Value::Bool(f)) => ordered(*op, *f, *b),
                (Lit::Time(t), Value::String(f)) => DateTime::parse_from_rfc3339(f)
                    .is_ok_and(|f| ordered(*op, nanos(f.to_utc()), nanos(*t))),
                _ => *op == Op::Ne,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::endpoints::{ENDPOINTS, find};
    use super::*;

    fn ep(path: &str) -> &'static Endpoint {
        &ENDPOINTS[find(path).unwrap()]
    }

    #[test]
    fn windows_types_and_preds() {
        let f = "createdDateTime ge 2024-03-04T10:00:00Z and createdDateTime lt 2024-03-04T11:00:00Z and signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'managedIdentity') and startswith(userPrincipalName,'ADA')";
        let c = compile(ep("auditLogs/signIns"), Version::Beta, Some(f), None).unwrap();
        assert_eq!(c.types, 2 | 8);
        assert_eq!(c.upper - c.lower, 3_600_000_000_000 - 1);
        assert!(c.matches(br#"{"userPrincipalName":"ada@x"}"#));
        assert!(!c.matches(br#"{"userPrincipalName":"bob@x"}"#));
        assert!(
            compile(ep("auditLogs/signIns"), Version::V1, Some(f), None).is_err(),
            "no signInEventTypes on v1.0"
        );
        let c = compile(ep("auditLogs/signIns"), Version::V1, None, None).unwrap();
        assert_eq!(c.types, 1, "interactive only by default");
    }

    #[test]
    fn endpoint_rules() {
        let prov = ep("auditLogs/provisioning");
        assert!(
            compile(
                prov,
                Version::V1,
                Some("activityDateTime gt 2024-03-04T00:00:00Z"),
                None
            )
            .is_ok()
        );
        assert!(
            compile(
                prov,
                Version::V1,
                Some("activityDateTime ge 2024-03-04T00:00:00Z"),
                None
            )
            .is_err()
        );
        assert!(
            compile(
                prov,
                Version::V1,
                Some("ActivityDateTime gt 2024-03-04T00:00:00Z"),
                None
            )
            .is_err()
        );
        let audits = ep("auditLogs/directoryAudits");
        assert!(
            compile(
                audits,
                Version::V1,
                Some("activityDateTime ge '2024-03-04T00:00:00Z'"),
                None
            )
            .is_err()
        );
        assert!(compile(audits, Version::V1, Some("nosuchField eq 'x'"), None).is_err());
        assert!(
            compile(audits, Version::V1, None, Some("activityDateTime asc"))
                .is_ok_and(|c| !c.newest_first)
        );
        assert!(compile(audits, Version::V1, None, Some("category desc")).is_err());
        let risk = ep("identityProtection/riskDetections");
        let c = compile(
            risk,
            Version::V1,
            Some("detectedDateTime ge 2024-03-04T12:00:00Z and riskLevel eq 'high'"),
            None,
        )
        .unwrap();
        assert!(
            c.matches(br#"{"detectedDateTime":"2024-03-04T13:00:00.000Z","riskLevel":"High"}"#)
        );
        assert!(
            !c.matches(br#"{"detectedDateTime":"2024-03-04T11:00:00.000Z","riskLevel":"high"}"#)
        );
    }
}
