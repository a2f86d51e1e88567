//! A small OData `$filter` parser: comparisons (`eq ne gt ge lt le`) of a property path with a literal, `and`,
//! `or`, `not`, parentheses, `startswith(path,'x')` / `contains(path,'x')`, and the lambda
//! `path/any(v: v eq 'x' or v eq 'y')`. [`parse`] builds an [`Expr`]; the endpoint decides what it supports.

use chrono::{DateTime, Utc};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Time(DateTime<Utc>),
    Num(f64),
    Bool(bool),
    Null,
    /// An unquoted GUID.
    Guid(String),
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        path: String,
        op: Op,
        lit: Lit,
    },
    Func {
        name: String,
        path: String,
        lit: Lit,
    },
    Any {
        path: String,
        var: String,
        body: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
    Colon,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if !matches!(out.last(), Some(Tok::Word(w)) if w.chars().next().is_some_and(|c| c.is_ascii_digit())) =>
            {
                out.push(Tok::Colon);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            v.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < chars.len() {
                    let c = chars[i];
                    let time_colon = c == ':'
                        && chars[start].is_ascii_digit()
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit);
                    if c.is_alphanumeric() || "_/.-+$@".contains(c) || time_colon {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i == start {
                    return Err(format!("unexpected character '{c}'"));
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    ci: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn kw(&self, t: Option<&Tok>, kw: &str) -> bool {
        match t {
            Some(Tok::Word(w)) if self.ci => w.eq_ignore_ascii_case(kw),
            Some(Tok::Word(w)) => w == kw,
            _ => false,
        }
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(got) if got == t => Ok(()),
            got => Err(format!("expected {t:?}, found {got:?}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.kw(self.peek(), "or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.unary()?];
        while self.kw(self.peek(), "and") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.kw(self.peek(), "not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(e);
        }
        let Some(Tok::Word(word)) = self.next() else {
            return Err("expected a property or function".into());
        };
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            if let Some(path) = word
                .strip_suffix("/any")
                .or_else(|| word.strip_suffix("/ANY"))
            {
                let Some(Tok::Word(var)) = self.next() else {
                    return Err("expected a lambda variable".into());
                };
                self.expect(Tok::Colon)?;
                let body = self.or()?;
                self.expect(Tok::Close)?;
                return Ok(Expr::Any {
                    path: path.to_owned(),
                    var,
                    body: Box::new(body),
                });
            }
            let Some(Tok::Word(path)) = self.next() else {
                return Err(format!("expected a property in {word}()"));
            };
            self.expect(Tok::Comma)?;
            let lit = self.literal()?;
            self.expect(Tok::Close)?;
            return Ok(Expr::Func {
                name: word,
                path,
                lit,
            });
        }
        let op = match self.next() {
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                _ if !self.ci && w.chars().any(|c| c.is_ascii_uppercase()) => {
                    return Err(format!("unknown operator '{w}'"));
                }
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                _ => return Err(format!("unknown operator '{w}'")),
            },
            other => {
                return Err(format!(
                    "expected an operator after '{word}', found {other:?}"
                ));
            }
        };
        let lit = self.literal()?;
        Ok(Expr::Cmp {
            path: word,
            op,
            lit,
        })
    }

    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Word(w)) => parse_word_literal(&w),
            other => Err(format!("expected a literal, found {other:?}")),
        }
    }
}

fn parse_word_literal(w: &str) -> Result<Lit, String> {
    match w.to_ascii_lowercase().as_str() {
        "true" => return Ok(Lit::Bool(true)),
        "false" => return Ok(Lit::Bool(false)),
        "null" => return Ok(Lit::Null),
        _ => {}
    }
    if w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4 {
        return Ok(Lit::Guid(w.to_ascii_lowercase()));
    }
    if w.contains('T') && w.contains('-') {
        return DateTime::parse_from_rfc3339(w)
            .map(|t| Lit::Time(t.to_utc()))
            .map_err(|e| format!("invalid DateTimeOffset literal '{w}': {e}"));
    }
    w.parse::<f64>()
        .map(Lit::Num)
        .map_err(|_| format!("'{w}' is not a valid literal"))
}

/// Parses a `$filter`. `case_insensitive` lets keywords and operators be written in any case (most Graph
/// endpoints); provisioning is case-sensitive.
pub(crate) fn parse(filter: &str, case_insensitive: bool) -> Result<Expr, String> {
    let toks = lex(filter)?;
    if toks.is_empty() {
        return Err("empty filter".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        ci: case_insensitive,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!("unexpected {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn time_range_and_lambda() {
        let e = parse(
            "createdDateTime ge 2026-10-05T10:00:00Z and createdDateTime lt 2026-10-05T11:00:00.1234567Z and signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal')",
            true,
        )
        .unwrap();
        let Expr::And(items) = e else { panic!("{e:?}") };
        assert_eq!(items.len(), 3);
        assert!(matches!(
            &items[0],
            Expr::Cmp {
                op: Op::Ge,
                lit: Lit::Time(_),
                ..
            }
        ));
        assert!(matches!(
            &items[1],
            Expr::Cmp {
                op: Op::Lt,
                lit: Lit::Time(_),
                ..
            }
        ));
        let Expr::Any { path, var, body } = &items[2] else {
            panic!()
        };
        assert_eq!((path.as_str(), var.as_str()), ("signInEventTypes", "t"));
        assert!(matches!(&**body, Expr::Or(v) if v.len() == 2));
    }

    #[test]
    fn functions_guids_and_quotes() {
        let e = parse(
            "startswith(userPrincipalName,'o''brien') and userId eq 26be570a-ae82-4189-b4e2-a37c6808512d",
            true,
        )
        .unwrap();
        let Expr::And(items) = e else { panic!() };
        assert!(matches!(&items[0], Expr::Func { lit: Lit::Str(s), .. } if s == "o'brien"));
        assert!(matches!(
            &items[1],
            Expr::Cmp {
                lit: Lit::Guid(_),
                ..
            }
        ));
    }

    #[test]
    fn errors_and_case() {
        assert!(parse("createdDateTime ge", true).is_err());
        assert!(parse("createdDateTime foo 1", true).is_err());
        assert!(parse("createdDateTime ge 2024-13-45T00:00:00Z", true).is_err());
        assert!(parse("(a eq 1", true).is_err());
        assert!(parse("activityDateTime GT 2024-03-04T00:00:00Z", false).is_err());
        assert!(parse("activityDateTime GT 2024-03-04T00:00:00Z", true).is_ok());
        assert!(parse("", true).is_err());
    }
}
