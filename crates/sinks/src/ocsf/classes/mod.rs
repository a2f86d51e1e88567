//! The OCSF mapping per category, as data: which class a record becomes, the ordered rules that pick its
//! activity, status and severity, and which canonical column (or `Column.path` inside a dynamic column,
//! numeric segments index arrays) fills which OCSF attribute. `docs/ocsf.md` documents the same table;
//! keep both in step. The classes live in `identity` (sign-ins, audits), `activity` (API and network
//! activity) and `findings` (detections, risk states, syslog and the base event).

use model::{Category, Family};

/// How a looked-up value becomes an attribute value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Text (objects and arrays as compact JSON).
    Str,
    /// Integer (numbers, or text that parses as one).
    Int,
    /// Milliseconds since the epoch (from a `datetime` column).
    Time,
    /// `true` when the text equals this (ASCII case ignored), else `false`.
    Is(&'static str),
    /// An integer id by exact text (case ignored); no attribute when nothing matches.
    Enum(&'static [(&'static str, i64)]),
    /// Text renamed by exact match (case ignored); unmatched text is kept.
    Rename(&'static [(&'static str, &'static str)]),
    /// A constant text.
    Const(&'static str),
    /// A constant integer.
    ConstInt(i64),
}

/// One attribute: its dotted OCSF path, its kind and the columns tried in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) path: &'static str,
    pub(crate) kind: Kind,
    pub(crate) columns: &'static [&'static str],
}

/// How a rule compares the (lower-cased) value with its table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Match {
    Exact,
    Prefix,
    Contains,
}

/// One rule: the first column with a value is compared with the table (needles lower case); the first
/// hit gives `(id, name)`; with a value but no hit, `otherwise` (or the next rule when `None`).
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) columns: &'static [&'static str],
    pub(crate) matching: Match,
    pub(crate) table: &'static [(&'static str, i64, &'static str)],
    pub(crate) otherwise: Option<(i64, &'static str)>,
}

/// One OCSF class as the records of a category family fill it.
#[derive(Debug)]
pub(crate) struct Class {
    pub(crate) uid: i64,
    pub(crate) name: &'static str,
    pub(crate) category_name: &'static str,
    /// The record takes this class only if one of these rules gives a non-zero id (empty: always).
    pub(crate) select: &'static [Rule],
    pub(crate) activity: &'static [Rule],
    pub(crate) activity_default: (i64, &'static str),
    /// Empty: the class has no status for this family.
    pub(crate) status: &'static [Rule],
    pub(crate) severity: &'static [Rule],
    pub(crate) fields: &'static [Field],
}

macro_rules! f {
    ($path:literal, $kind:expr, [$($c:literal),*]) => {
        Field { path: $path, kind: $kind, columns: &[$($c),*] }
    };
    ($path:literal, [$($c:literal),*]) => {
        Field { path: $path, kind: Kind::Str, columns: &[$($c),*] }
    };
}

macro_rules! rule {
    ($m:ident [$($c:literal),*] { $($k:literal => $id:literal $name:literal),* $(,)? } else $o:expr) => {
        Rule { columns: &[$($c),*], matching: Match::$m, table: &[$(($k, $id, $name)),*], otherwise: $o }
    };
}

// After the macros: `f!` and `rule!` are in scope in these modules.
mod activity;
mod findings;
mod identity;

use activity::{API_AZURE, API_GRAPH, NETWORK_ACCESS, NETWORK_FLOW};
pub(crate) use findings::BASE;
use findings::{DETECTION_FINDING, RISK_STATE, SYSLOG};
use identity::{ACCOUNT_CHANGE, AUTHENTICATION, ENTITY_MANAGEMENT};

/// The candidate classes of a category, tried in order (the first whose selector matches wins), and
/// whether the canonical record also goes into `unmapped`.
pub(crate) fn classes(category: Category) -> (&'static [Class], bool) {
    match category.family() {
        Family::SignIn => (std::slice::from_ref(&AUTHENTICATION), false),
        Family::Audit => (&AUDIT_CLASSES, false),
        Family::GraphActivity => (std::slice::from_ref(&API_GRAPH), false),
        Family::Activity => (std::slice::from_ref(&API_AZURE), false),
        Family::Flow => (std::slice::from_ref(&NETWORK_FLOW), false),
        Family::Risk => match category {
            Category::RiskyUsers | Category::RiskyServicePrincipals | Category::RiskyAgents => {
                (std::slice::from_ref(&RISK_STATE), false)
            }
            _ => (std::slice::from_ref(&DETECTION_FINDING), false),
        },
        Family::NetworkAccess => match category {
            Category::NetworkAccessTrafficLogs | Category::NetworkAccessConnectionEvents => {
                (std::slice::from_ref(&NETWORK_ACCESS), false)
            }
            Category::NetworkAccessAlerts => (std::slice::from_ref(&DETECTION_FINDING), false),
            _ => (std::slice::from_ref(&BASE), true),
        },
        Family::Syslog => (std::slice::from_ref(&SYSLOG), true),
        Family::Provisioning | Family::Office | Family::Resource => {
            (std::slice::from_ref(&BASE), true)
        }
    }
}

const AUDIT_CLASSES: [Class; 2] = [ACCOUNT_CHANGE, ENTITY_MANAGEMENT];

/// `metadata.product`: (vendor, product) of the records of a category.
pub(crate) const fn product(category: Category) -> (&'static str, &'static str) {
    match category.family() {
        Family::Audit | Family::SignIn | Family::Provisioning | Family::Risk => {
            ("Microsoft", "Microsoft Entra ID")
        }
        Family::NetworkAccess => ("Microsoft", "Microsoft Entra Global Secure Access"),
        Family::GraphActivity => ("Microsoft", "Microsoft Graph"),
        Family::Office => ("Microsoft", "Microsoft 365"),
        Family::Activity => ("Microsoft", "Azure Activity Log"),
        Family::Flow => ("Microsoft", "Azure Network Watcher"),
        Family::Resource => ("Microsoft", "Azure Monitor"),
        Family::Syslog => ("Unknown", "Syslog"),
    }
}
