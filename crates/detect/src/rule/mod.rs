//! Our own Sigma rule model, independent of the parser crate: detection rules, filters and correlation
//! rules as parsed, before any field is resolved. `convert` is the only module that sees the parser's AST;
//! `legacy` handles the Sigma v1 aggregation syntax the parser rejects; `set` loads and lints rule files.

mod convert;
mod legacy;
mod lint;
mod set;

pub use set::{DiagnosticKind, RuleDiagnostic, RuleSet, Severity};

/// A rule's severity level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium` (also the default when a rule has none).
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// The Sigma name of the level.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A rule's maturity status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `stable`.
    Stable,
    /// `test`.
    Test,
    /// `experimental`.
    Experimental,
    /// `deprecated`: loaded, with a warning.
    Deprecated,
    /// `unsupported`: the authors say no backend can run it; loaded if it compiles, with a warning.
    Unsupported,
    /// No status given.
    Unknown,
}

/// A rule's `logsource`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    /// `product` (`azure`).
    pub product: Option<String>,
    /// `service` (`signinlogs`, `auditlogs`, …).
    pub service: Option<String>,
    /// `category`.
    pub category: Option<String>,
}

/// One value of a detection item.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    /// A string; `*` and `?` wildcards are kept as [`Pattern`] parts.
    Str(Pattern),
    /// An integer (`ResultType: 50053`).
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `null`: the field is absent or null.
    Null,
}

/// A string value with Sigma wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The parts, in order.
    pub parts: Vec<PatternPart>,
    /// The value as written (escapes included).
    pub original: String,
}

/// A piece of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternPart {
    /// Literal text.
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

impl Pattern {
    /// A pattern of literal text only.
    pub fn literal(s: &str) -> Pattern {
        Pattern {
            parts: if s.is_empty() {
                Vec::new()
            } else {
                vec![PatternPart::Text(s.to_owned())]
            },
            original: s.to_owned(),
        }
    }

    /// The literal text, when the pattern has no wildcard.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                PatternPart::Text(t) => out.push_str(t),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The text with wildcards written back as `*` / `?` (unescaped), for messages and generators.
    pub fn display(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                PatternPart::Text(t) => t.as_str(),
                PatternPart::Any => "*",
                PatternPart::One => "?",
            })
            .collect()
    }
}

/// A value modifier (`field|contains|all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// `contains`.
    Contains,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
    /// `all`: every value must match (AND instead of OR).
    All,
    /// `base64`.
    Base64,
    /// `base64offset`.
    Base64Offset,
    /// `utf16le` / `wide`.
    Utf16Le,
    /// `utf16be`.
    Utf16Be,
    /// `utf16` (little endian with a byte-order mark).
    Utf16,
    /// `windash`.
    Windash,
    /// `re`.
    Re,
    /// `i` (regex flag).
    ReI,
    /// `m` (regex flag).
    ReM,
    /// `s` (regex flag).
    ReS,
    /// `cidr`.
    Cidr,
    /// `cased`.
    Cased,
    /// `exists`.
    Exists,
    /// `expand`.
    Expand,
    /// `fieldref`.
    FieldRef,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `neq`.
    Neq,
    /// `minute`, `hour`, `day`, `week`, `month`, `year`: a part of a timestamp.
    TimePart(TimePart),
}

/// The timestamp-part modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePart {
    /// Minute of the hour.
    Minute,
    /// Hour of the day (UTC).
    Hour,
    /// Day of the month.
    Day,
    /// ISO week of the year.
    Week,
    /// Month (1–12).
    Month,
    /// Year.
    Year,
}

/// One `field|modifiers: values` entry of a selection (or a keyword list when `field` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The field name as written in the rule; `None` for keywords.
    pub field: Option<String>,
    /// Modifiers, in order.
    pub modifiers: Vec<Modifier>,
    /// Values (OR, or AND with `all`).
    pub values: Vec<RuleValue>,
}

impl Item {
    /// Whether the item carries a modifier.
    pub fn has(&self, m: Modifier) -> bool {
        self.modifiers.contains(&m)
    }
}

/// A named detection (`selection`, `filter_main`, `keywords`).
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    /// A map: every item must match.
    AllOf(Vec<Item>),
    /// A list of maps (or of values): any must match.
    AnyOf(Vec<Detection>),
    /// Keywords: full-text values over the record's string fields.
    Keywords(Item),
}

/// A condition expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// All must hold.
    And(Vec<Condition>),
    /// Any must hold.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// A named detection.
    Ref(String),
    /// `N of pattern` / `all of pattern` / `1 of them`.
    Of {
        /// How many must hold.
        quantifier: Quantifier,
        /// Wildcard pattern over detection names; `None` means `them`.
        pattern: Option<String>,
    },
}

/// The quantifier of an `of` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `1 of` / `any of`.
    Any,
    /// `all of`.
    All,
    /// `N of`.
    Count(u64),
}

/// The detection part of a rule or filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detections {
    /// Named detections, sorted by name.
    pub named: Vec<(String, Detection)>,
    /// The condition (several `condition` entries are OR-ed).
    pub condition: Option<Condition>,
}

impl Detections {
    /// A named detection.
    pub fn get(&self, name: &str) -> Option<&Detection> {
        self.named.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }
}

/// Metadata shared by every kind of rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// The rule id (`id:`), or the title when the rule has none.
    pub id: String,
    /// The `name:` (correlations refer to rules by id or name).
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Level (`medium` when absent).
    pub level: Level,
    /// Status.
    pub status: Status,
    /// Tags as written (`attack.t1110`, `attack.credential_access`).
    pub tags: Vec<String>,
    /// File (or caller-given origin) the rule came from.
    pub origin: String,
}

impl Meta {
    /// The MITRE ATT&CK tags (`attack.*`).
    pub fn attack_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("attack."))
    }
}

/// A detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    /// Metadata.
    pub meta: Meta,
    /// Log source.
    pub logsource: LogSource,
    /// Detection.
    pub detection: Detections,
    /// A Sigma v1 aggregation (`| count(field) by group > n`) turned into a correlation over this rule.
    pub aggregation: Option<Correlation>,
}

/// The kind of a correlation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationKind {
    /// Number of matching events per group in the timespan.
    EventCount,
    /// Number of distinct values of a field per group in the timespan.
    ValueCount,
    /// Every referenced rule matched in the timespan, in any order.
    Temporal,
    /// Every referenced rule matched in the timespan, in the listed order.
    TemporalOrdered,
}

/// A threshold comparison of a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `eq`.
    Eq,
    /// `neq`.
    Neq,
}

impl CmpOp {
    /// Whether `a op b` holds.
    pub const fn holds(self, a: u64, b: u64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Neq => a != b,
        }
    }
}

/// A correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Metadata.
    pub meta: Meta,
    /// Kind.
    pub kind: CorrelationKind,
    /// Referenced rules, by id or name, in order.
    pub rules: Vec<String>,
    /// Group-by fields (as named in the referenced rules, or aliases).
    pub group_by: Vec<String>,
    /// Window length in microseconds.
    pub timespan_micros: i64,
    /// Threshold predicates (all must hold). Temporal kinds without a threshold use `count >= rules.len()`.
    pub threshold: Vec<(CmpOp, u64)>,
    /// The counted field of `value_count`.
    pub field: Option<String>,
    /// Field aliases: alias → (rule id or name → field in that rule's events).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// Whether the referenced rules still emit their own matches.
    pub generate: bool,
}

/// A Sigma filter (meta-filter document): an extra condition ANDed into the rules it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Metadata.
    pub meta: Meta,
    /// Rule ids or names it applies to; empty means every rule.
    pub rules: Vec<String>,
    /// Log source it applies to, if given.
    pub logsource: Option<LogSource>,
    /// The filter's detections and condition.
    pub detection: Detections,
}
