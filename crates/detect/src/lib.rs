//! Sigma detection over entrail's canonical records.
//!
//! - [`rule`]: our own rule model; `rsigma-parser` reads the YAML and is seen by one module only.
//!   [`RuleSet::load_dir`] / [`RuleSet::from_yaml`] load and lint rules.
//! - [`mapping`]: Sigma field names → canonical columns per logsource (`data/mappings/*.toml`).
//! - `plan`: rules compiled per category (fields resolved, literals lowered, a literal index).
//! - [`Engine`]: evaluates records, runs correlation state ([`correlate`](crate::correlate)).
//! - [`analytics`]: built-in Entra analytics (password spray, brute force, MFA fatigue, impossible travel,
//!   multiple countries, success after failures).
//! - [`alert`]: OCSF Detection Finding alerts built from matches, grouped per rule and entity.
//! - [`bench`]: the evaluation benchmark the CLI calls.
//! - [`scan`]: hunting over JSON-lines exports, decoded on worker threads and handed back in order.

pub mod alert;
pub mod analytics;
pub mod bench;
mod correlate;
mod eval;
pub mod mapping;
mod plan;
pub mod rule;
pub mod scan;

pub use eval::{CorrelationMatch, Engine, EngineConfig, Match, MatchKey};
pub use rule::{
    Correlation, CorrelationKind, DiagnosticKind, Filter, Level, RuleDiagnostic, RuleSet, Severity,
    SigmaRule, Status,
};
