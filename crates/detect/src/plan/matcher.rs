//! Value tests of a compiled detection item: text (equals / contains / starts / ends, with literal needles
//! lower-cased once at compile time), wildcard and `re` patterns, numbers, CIDR ranges, timestamp parts.
//! Every test takes one [`Scalar`] of the record.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use std::net::IpAddr;

/// One value read from a record: a column value or a JSON leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    /// Text (a JSON object or array, when matched whole, is its compact JSON text).
    Str(&'a str),
    /// Integer.
    Int(i64),
    /// Float.
    Real(f64),
    /// Boolean.
    Bool(bool),
    /// Timestamp, microseconds since the epoch.
    Time(i64),
}

impl Scalar<'_> {
    /// The text form: borrowed for text, rendered into `buf` otherwise.
    pub(crate) fn text<'b>(&'b self, buf: &'b mut String) -> &'b str {
        use std::fmt::Write;
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => {
                buf.clear();
                let _ = write!(buf, "{i}");
                buf
            }
            Scalar::Real(f) => {
                buf.clear();
                let _ = write!(buf, "{f}");
                buf
            }
            Scalar::Bool(b) => {
                if *b {
                    "true"
                } else {
                    "false"
                }
            }
            Scalar::Time(t) => {
                *buf = model::format_micros(*t);
                buf
            }
        }
    }

    /// The numeric value, if the scalar is a number or text holding one.
    pub(crate) fn number(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Real(f) => Some(*f),
            Scalar::Time(t) => Some(*t as f64),
            Scalar::Bool(_) => None,
            Scalar::Str(s) => s.trim().parse::<f64>().ok(),
        }
    }
}

/// How a text needle is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOp {
    /// Whole value.
    Eq,
    /// Substring.
    Contains,
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
}

/// Literal text needles (OR-ed), compared ignoring case unless `cased`.
#[derive(Debug, Clone)]
pub(crate) struct TextTest {
    pub(crate) op: TextOp,
    /// Lower-cased unless `cased`.
    pub(crate) needles: Vec<String>,
    pub(crate) cased: bool,
    ascii: bool,
    finder: Option<AhoCorasick>,
    /// Per needle, the position of its rarest byte (what a contains search scans for).
    rare: Vec<usize>,
}

impl TextTest {
    pub(crate) fn new(op: TextOp, needles: Vec<String>, cased: bool) -> TextTest {
        let needles: Vec<String> = if cased {
            needles
        } else {
            needles.into_iter().map(|n| n.to_lowercase()).collect()
        };
        let ascii = needles.iter().all(|n| n.is_ascii());
        // Many needles: one automaton pass. Few: a first-byte SIMD scan per needle is faster.
        let finder = (op == TextOp::Contains && (ascii || cased) && needles.len() > 4)
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(!cased)
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&needles)
                    .ok()
            })
            .flatten();
        let rare = needles.iter().map(|n| rarest(n.as_bytes())).collect();
        TextTest {
            op,
            needles,
            cased,
            ascii,
            finder,
            rare,
        }
    }

    pub(crate) fn matches(&self, hay: &str) -> bool {
        if let Some(f) = &self.finder {
            return f.is_match(hay);
        }
        if !self.cased && !self.ascii {
            let low = hay.to_lowercase();
            return self.needles.iter().any(|n| op_cased(self.op, &low, n));
        }
        if self.cased {
            return self.needles.iter().any(|n| op_cased(self.op, hay, n));
        }
        let h = hay.as_bytes();
        self.needles.iter().zip(&self.rare).any(|(n, &k)| {
            let n = n.as_bytes();
            match self.op {
                TextOp::Eq => h.len() == n.len() && h.eq_ignore_ascii_case(n),
                TextOp::StartsWith => h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n),
                TextOp::EndsWith => {
                    h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n)
                }
                TextOp::Contains => contains_ascii_ci(h, n, k),
            }
        })
    }
}

/// ASCII case-insensitive substring search for a lower-case ASCII needle: SIMD scan for the first byte
/// in either case, then compare the rest.
fn contains_ascii_ci(h: &[u8], n: &[u8], k: usize) -> bool {
    if n.is_empty() {
        return true;
    }
    if h.len() < n.len() {
        return false;
    }
    // Scan for the needle's rarest byte `k` (either case), then compare the whole needle around it.
    let last_start = h.len() - n.len();
    let (lo, up) = (n[k].to_ascii_lowercase(), n[k].to_ascii_uppercase());
    let mut from = k;
    while from <= last_start + k {
        let Some(p) = memchr::memchr2(lo, up, &h[from..=last_start + k]) else {
            return false;
        };
        let at = from + p - k;
        if h[at..at + n.len()].eq_ignore_ascii_case(n) {
            return true;
        }
        from = from + p + 1;
    }
    false
}

/// Position of the byte of `n` least likely in text (letters by English frequency; others are rare).
fn rarest(n: &[u8]) -> usize {
    const COMMON: &[u8] = b" etaoinsrhldcumfpgwybvkxjqz";
    // Higher is more common; bytes not listed (digits, punctuation) count as rare.
    let score = |b: u8| {
        COMMON
            .iter()
            .position(|c| *c == b.to_ascii_lowercase())
            .map_or(0, |p| COMMON.len() - p)
    };
    (0..n.len()).min_by_key(|&i| (score(n[i]), i)).unwrap_or(0)
}

fn op_cased(op: TextOp, hay: &str, n: &str) -> bool {
    match op {
        TextOp::Eq => hay == n,
        TextOp::Contains => hay.contains(n),
        TextOp::StartsWith => hay.starts_with(n),
        TextOp::EndsWith => hay.ends_with(n),
    }
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: u128,
    mask: u128,
    v6: bool,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = match s.trim().split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
            None => (s.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (bits, v6, width) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), false, 32),
            IpAddr::V6(v6) => (u128::from(v6), true, 128),
        };
        let len = len.unwrap_or(width);
        if len > width {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            (u128::MAX << (width - len)) & if v6 { u128::MAX } else { u128::from(u32::MAX) }
        };
        Some(Cidr {
            net: bits & mask,
            mask,
            v6,
        })
    }

    pub(crate) fn contains(&self, s: &str) -> bool {
        let Ok(ip) = s.trim().parse::<IpAddr>() else {
            return false;
        };
        match (ip, self.v6) {
            (IpAddr::V4(v4), false) => u128::from(u32::from(v4)) & self.mask == self.net,
            (IpAddr::V6(v6), true) => u128::from(v6) & self.mask == self.net,
            (IpAddr::V6(v6), false) => v6
                .to_ipv4_mapped()
                .is_some_and(|v4| u128::from(u32::from(v4)) & self.mask == self.net),
            _ => false,
        }
    }
}

/// One value test.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// Literal text.
    Text(TextTest),
    /// A wildcard pattern or `re`.
    Regex(Regex),
    /// A number (`gt`, `lt`, float equality).
    Num(NumOp, f64),
    /// A boolean (`true` also matches the text `true`).
    Bool(bool),
    /// CIDR networks (OR).
    Cidr(Vec<Cidr>),
    /// A part of a timestamp equals a number.
    TimePart(crate::rule::TimePart, i64),
}

impl Test {
    pub(crate) fn matches(&self, v: Scalar<'_>, buf: &mut String) -> bool {
        match self {
            Test::Text(t) => t.matches(v.text(buf)),
            Test::Regex(r) => r.is_match(v.text(buf)),
            Test::Num(op, want) => v.number().is_some_and(|x| match op {
                NumOp::Eq => x == *want,
                NumOp::Gt => x > *want,
                NumOp::Gte => x >= *want,
                NumOp::Lt => x < *want,
                NumOp::Lte => x <= *want,
            }),
            Test::Bool(b) => match v {
                Scalar::Bool(x) => x == *b,
                Scalar::Str(s) => s
                    .trim()
                    .eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                _ => false,
            },
            Test::Cidr(nets) => {
                let s = v.text(buf);
                nets.iter().any(|n| n.contains(s))
            }
            Test::TimePart(part, want) => {
                let micros = match v {
                    Scalar::Time(t) => Some(t),
                    Scalar::Str(s) => model::normalize::parse_timestamp(s),
                    _ => None,
                };
                micros.is_some_and(|t| time_part(*part, t) == *want)
            }
        }
    }
}

/// The value of a timestamp part (UTC).
pub(crate) fn time_part(part: crate::rule::TimePart, micros: i64) -> i64 {
    use crate::rule::TimePart as P;
    let secs = micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    match part {
        P::Minute => (sod / 60) % 60,
        P::Hour => sod / 3600,
        P::Day => d,
        P::Month => m,
        P::Year => y,
        P::Week => {
            // ISO 8601 week: the week of the Thursday of this date's week.
            let wd = (days + 3).rem_euclid(7); // 0 = Monday
            let thursday = days - wd + 3;
            let (ty, _, _) = civil(thursday);
            let jan1 = days_from_civil(ty, 1, 1);
            (thursday - jan1) / 7 + 1
        }
    }
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rule::TimePart;

    #[test]
    fn text_ops_ignore_case_unless_cased() {
        let mut b = String::new();
        let t = Test::Text(TextTest::new(
            TextOp::Contains,
            vec!["MFA Denied".into()],
            false,
        ));
        assert!(t.matches(Scalar::Str("x mfa denied; user declined"), &mut b));
        let t = Test::Text(TextTest::new(TextOp::Eq, vec!["50053".into()], false));
        assert!(t.matches(Scalar::Int(50053), &mut b));
        assert!(!t.matches(Scalar::Str("500530"), &mut b));
        let t = Test::Text(TextTest::new(TextOp::StartsWith, vec!["Ab".into()], true));
        assert!(t.matches(Scalar::Str("Abc"), &mut b));
        assert!(!t.matches(Scalar::Str("abc"), &mut b));
        let t = Test::Text(TextTest::new(TextOp::EndsWith, vec!["ÉTÉ".into()], false));
        assert!(t.matches(Scalar::Str("un été"), &mut b));
    }

    #[test]
    fn contains_scans_for_the_rarest_byte() {
        assert_eq!(rarest(b"azurehound"), 1);
        let c = |h: &[u8], n: &[u8]| contains_ascii_ci(h, n, rarest(n));
        assert!(c(b"python AzureHound/2.0", b"azurehound"));
        assert!(c(b"azurehound", b"azurehound"));
        assert!(!c(b"azurehoun", b"azurehound"));
        assert!(c(b"zzz", b"z"));
        assert!(c(b"xBAV2ROPCx", b"bav2ropc"));
        assert!(!c(b"bav2rop", b"bav2ropc"));
        assert!(c(b"a", b""));
    }

    #[test]
    fn cidr_v4_v6() {
        let n = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3"));
        assert!(!n.contains("10.2.0.1"));
        assert!(n.contains("::ffff:10.1.0.9"));
        let n = Cidr::parse("2001:db8::/32").unwrap();
        assert!(n.contains("2001:db8:1::5"));
        assert!(!n.contains("2001:db9::1"));
        assert!(!n.contains("10.1.0.1"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn time_parts() {
        // 2024-03-07T13:45:00Z, a Thursday in ISO week 10.
        let t = 1_709_819_100_000_000;
        assert_eq!(time_part(TimePart::Year, t), 2024);
        assert_eq!(time_part(TimePart::Month, t), 3);
        assert_eq!(time_part(TimePart::Day, t), 7);
        assert_eq!(time_part(TimePart::Hour, t), 13);
        assert_eq!(time_part(TimePart::Minute, t), 45);
        assert_eq!(time_part(TimePart::Week, t), 10);
        // 2021-01-03 is in ISO week 53 of 2020.
        assert_eq!(time_part(TimePart::Week, 1_609_632_000_000_000), 53);
    }
}
