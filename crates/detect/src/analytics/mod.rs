//! Built-in Entra analytics, on when [`crate::EngineConfig::builtin_analytics`] is set; thresholds and
//! windows in [`AnalyticsConfig`] (`crate::EngineConfig::analytics`). The catalogue is
//! [`BUILTIN_ANALYTICS`]; `docs/detections.md` describes each.
//!
//! - Password spray, brute force on one account, MFA fatigue and sign-ins from multiple countries are
//!   Sigma correlation rules (`data/analytics/entra.yml`, thresholds filled in from the configuration),
//!   run by the ordinary correlation state.
//! - The others are [`Analytics`]: native code over per-user, per-IP and per-application state that is
//!   bounded (at most `max_groups` entries per map, least recent evicted) and expires (entries older than
//!   their window behind the newest event time are dropped). Sign-ins: `signin`; directory audits:
//!   `directory` (parsing in `audit`); Azure Activity: `activity`.

mod activity;
mod audit;
mod config;
mod directory;
mod info;
mod signin;
mod travel;

#[cfg(test)]
mod tests;

pub use config::{AnalyticsConfig, AnalyticsConfigError, HIGH_PRIVILEGE_PERMISSIONS};
pub use info::*;
pub use travel::speed_kmh;

use crate::RuleSet;
use crate::eval::Match;
use info::Info;
use model::{Category, Family, Record, Value};
use std::collections::{HashMap, HashSet};

const RULES: &str = include_str!("../../data/analytics/entra.yml");

/// The built-in analytics written as Sigma rules, with the default thresholds.
pub fn builtin_rules() -> RuleSet {
    builtin_rules_for(&AnalyticsConfig::default())
}

/// The built-in analytics written as Sigma rules, with the thresholds and windows of `cfg`.
pub fn builtin_rules_for(cfg: &AnalyticsConfig) -> RuleSet {
    let text = RULES
        .replace("{{spray_accounts}}", &cfg.spray_accounts.max(1).to_string())
        .replace(
            "{{spray_window}}",
            &format!("{}m", cfg.spray_window_minutes.max(1)),
        )
        .replace(
            "{{brute_force_failures}}",
            &cfg.brute_force_failures.max(1).to_string(),
        )
        .replace(
            "{{brute_force_window}}",
            &format!("{}m", cfg.brute_force_window_minutes.max(1)),
        )
        .replace("{{mfa_denials}}", &cfg.mfa_denials.max(1).to_string())
        .replace(
            "{{mfa_window}}",
            &format!("{}m", cfg.mfa_window_minutes.max(1)),
        )
        .replace("{{countries}}", &cfg.countries.max(1).to_string())
        .replace(
            "{{countries_window}}",
            &format!("{}m", cfg.countries_window_minutes.max(1)),
        );
    RuleSet::from_yaml(&text, "builtin:data/analytics/entra.yml").0
}

/// The native analytics, in the order of `Analytics::infos`.
const NATIVE: &[&str] = &[
    IMPOSSIBLE_TRAVEL,
    SUCCESS_AFTER_FAILURES,
    DISABLED_ACCOUNT,
    HIGH_RISK,
    APP_CREDENTIAL,
    CREDENTIAL_AFTER_CONSENT,
    HIGH_PRIVILEGE_CONSENT,
    ROLE_OUTSIDE_PIM,
    PRIVILEGED_AUTH_METHODS,
    FEDERATION_CHANGED,
    CA_POLICY_DISABLED,
    CROSS_TENANT_PARTNER,
    DIAGNOSTIC_SETTINGS,
];
const TRAVEL_I: usize = 0;
const AFTER_FAILURES_I: usize = 1;
const DISABLED_I: usize = 2;
const HIGH_RISK_I: usize = 3;
const APP_CREDENTIAL_I: usize = 4;
const AFTER_CONSENT_I: usize = 5;
const CONSENT_I: usize = 6;
const ROLE_I: usize = 7;
const AUTH_METHODS_I: usize = 8;
const FEDERATION_I: usize = 9;
const CA_I: usize = 10;
const CROSS_TENANT_I: usize = 11;
const DIAGNOSTIC_I: usize = 12;

/// Per-user state.
#[derive(Debug)]
struct UserState {
    /// Recent credential failures: (event time, record key), oldest first.
    failures: Vec<(i64, String)>,
    /// Last successful sign-in with coordinates: (time, lat, lon, key).
    last_fix: Option<(i64, f64, f64, String)>,
    /// Networks of successful sign-ins: (network, first seen, last seen).
    nets: Vec<(u64, i64, i64)>,
    /// When a high-risk alert last fired.
    risk_alerted: i64,
    last_seen: i64,
}

impl Default for UserState {
    fn default() -> Self {
        UserState {
            failures: Vec::new(),
            last_fix: None,
            nets: Vec::new(),
            risk_alerted: i64::MIN,
            last_seen: i64::MIN,
        }
    }
}

/// The stateful analytics that are not Sigma rules.
#[derive(Debug)]
pub struct Analytics {
    cfg: AnalyticsConfig,
    /// High-privilege permissions, lower-cased.
    permissions: HashSet<String>,
    /// Configured privileged accounts, lower-cased.
    privileged_cfg: HashSet<String>,
    /// Accounts seen getting a directory role: UPN or object id → when.
    privileged: HashMap<String, i64>,
    users: HashMap<String, UserState>,
    /// Attempts on disabled or locked accounts per IP: (time, user, key).
    by_ip: HashMap<String, Vec<(i64, String, String)>>,
    /// Admin or high-privilege consents per application (name or id): (time, key).
    consents: HashMap<String, (i64, String)>,
    max_groups: usize,
    watermark: i64,
    since_sweep: usize,
    infos: Vec<Info>,
}

fn text<'r>(r: &'r Record, column: &str) -> Option<&'r str> {
    r.get(column)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Analytics {
    /// Analytics with the default thresholds, keeping at most `max_groups` entries per kind of state.
    pub fn new(max_groups: usize) -> Analytics {
        Analytics::with_config(AnalyticsConfig::default(), max_groups)
    }

    /// Analytics with these thresholds, keeping at most `max_groups` entries per kind of state.
    pub fn with_config(cfg: AnalyticsConfig, max_groups: usize) -> Analytics {
        Analytics {
            permissions: cfg.permissions().into_iter().collect(),
            privileged_cfg: cfg
                .privileged_users
                .iter()
                .map(|u| u.trim().to_ascii_lowercase())
                .collect(),
            cfg,
            privileged: HashMap::new(),
            users: HashMap::new(),
            by_ip: HashMap::new(),
            consents: HashMap::new(),
            max_groups: max_groups.max(1),
            watermark: i64::MIN,
            since_sweep: 0,
            infos: NATIVE.iter().map(|&id| Info::of(id)).collect(),
        }
    }

    /// Users with live state.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Entries of live state over every map (users, IPs, applications, privileged accounts).
    pub fn state_entries(&self) -> usize {
        self.users.len() + self.by_ip.len() + self.consents.len() + self.privileged.len()
    }

    /// Feeds one record; pushes what fired.
    pub fn observe(&mut self, r: &Record, out: &mut Vec<Match>) {
        let family = r.category.family();
        let relevant = matches!(family, Family::SignIn | Family::Audit)
            || matches!(
                r.category,
                Category::RiskyUsers | Category::UserRiskEvents | Category::AzureActivity
            );
        if !relevant {
            return;
        }
        self.watermark = self.watermark.max(r.event_time);
        self.since_sweep += 1;
        if self.since_sweep >= 4096 {
            self.sweep();
        }
        match r.category {
            Category::AuditLogs => self.observe_audit(r, out),
            Category::RiskyUsers | Category::UserRiskEvents => self.observe_risk(r, out),
            Category::AzureActivity => self.observe_activity(r, out),
            _ if family == Family::SignIn => self.observe_signin(r, out),
            _ => {}
        }
    }

    /// The state of `user` (lower-cased), created if needed (evicting the least recent at the bound).
    fn user(&mut self, user: &str, t: i64) -> &mut UserState {
        if !self.users.contains_key(user) && self.users.len() >= self.max_groups {
            self.sweep();
            if self.users.len() >= self.max_groups
                && let Some(k) = self
                    .users
                    .iter()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(k, _)| k.clone())
            {
                self.users.remove(&k);
            }
        }
        let st = self.users.entry(user.to_owned()).or_default();
        st.last_seen = st.last_seen.max(t);
        st
    }

    fn sweep(&mut self) {
        self.since_sweep = 0;
        let w = self.watermark;
        let cfg = &self.cfg;
        let keep_user = [
            AnalyticsConfig::micros(cfg.travel_window_minutes),
            AnalyticsConfig::micros(cfg.failure_window_minutes),
            AnalyticsConfig::micros(cfg.risk_suppress_minutes),
            2 * AnalyticsConfig::micros(cfg.new_ip_minutes),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let ip_window = AnalyticsConfig::micros(cfg.disabled_window_minutes);
        let consent_window = AnalyticsConfig::micros(cfg.consent_credential_window_minutes);
        self.users
            .retain(|_, s| s.last_seen >= w.saturating_sub(keep_user));
        self.by_ip
            .retain(|_, v| v.last().is_some_and(|e| e.0 >= w.saturating_sub(ip_window)));
        self.consents
            .retain(|_, c| c.0 >= w.saturating_sub(consent_window));
    }
}
