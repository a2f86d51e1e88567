//! Built-in Entra sign-in analytics, on when [`crate::EngineConfig::builtin_analytics`] is set.
//!
//! - Password spray, brute force on one account, MFA fatigue and sign-ins from multiple countries are
//!   Sigma correlation rules (`data/analytics/entra.yml`), run by the ordinary correlation state.
//! - Impossible travel and success after multiple failures need geography or a two-step count: they are
//!   [`Analytics`], per-user state that is bounded (at most `max_groups` users, least recent evicted) and
//!   expires (entries older than the window behind the newest event time are dropped).

mod travel;

use crate::RuleSet;
use crate::eval::{CorrelationMatch, Match};
use crate::rule::{CorrelationKind, Level};
use model::{Category, Family, Record, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub use travel::speed_kmh;

const RULES: &str = include_str!("../../data/analytics/entra.yml");

/// The built-in analytics written as Sigma rules.
pub fn builtin_rules() -> RuleSet {
    RuleSet::from_yaml(RULES, "builtin:data/analytics/entra.yml").0
}

/// Failures that count toward "success after multiple failures".
const FAILURE_CODES: &[&str] = &[
    "50126", "50053", "50055", "50056", "50064", "50074", "500121",
];
/// Failures needed before a success fires.
const FAILURES_BEFORE_SUCCESS: usize = 5;
/// Window of "success after multiple failures", microseconds.
const FAILURE_WINDOW: i64 = 20 * 60_000_000;
/// Window in which two sign-ins are compared for impossible travel, microseconds.
const TRAVEL_WINDOW: i64 = 24 * 3600 * 1_000_000;

#[derive(Debug, Default)]
struct UserState {
    /// Recent failures: (event time, record key), oldest first.
    failures: Vec<(i64, String)>,
    /// Last successful sign-in with coordinates: (time, lat, lon, key).
    last_fix: Option<(i64, f64, f64, String)>,
    last_seen: i64,
}

/// The stateful analytics that are not Sigma rules.
#[derive(Debug)]
pub struct Analytics {
    users: HashMap<String, UserState>,
    max_groups: usize,
    watermark: i64,
    since_sweep: usize,
    travel: Info,
    after_failures: Info,
}

#[derive(Debug)]
struct Info {
    id: Arc<str>,
    title: Arc<str>,
    level: Level,
    tags: Arc<[String]>,
}

impl Info {
    fn new(id: &str, title: &str, level: Level, tags: &[&str]) -> Info {
        Info {
            id: id.into(),
            title: title.into(),
            level,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

fn text<'r>(r: &'r Record, column: &str) -> Option<&'r str> {
    r.get(column)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Analytics {
    /// Analytics keeping state for at most `max_groups` users.
    pub fn new(max_groups: usize) -> Analytics {
        Analytics {
            users: HashMap::new(),
            max_groups: max_groups.max(1),
            watermark: i64::MIN,
            since_sweep: 0,
            travel: Info::new(
                "entrail-builtin-impossible-travel",
                "Impossible travel",
                Level::High,
                &["attack.initial_access", "attack.t1078.004"],
            ),
            after_failures: Info::new(
                "entrail-builtin-success-after-failures",
                "Successful sign-in after multiple failures",
                Level::High,
                &["attack.credential_access", "attack.t1110"],
            ),
        }
    }

    /// Users with live state.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Feeds one record; pushes what fired.
    pub fn observe(&mut self, r: &Record, out: &mut Vec<Match>) {
        if r.category.family() != Family::SignIn
            || r.category == Category::ManagedIdentitySignInLogs
        {
            return;
        }
        let (Some(user), Some(code)) = (text(r, "UserPrincipalName"), text(r, "ResultType")) else {
            return;
        };
        let t = r.event_time;
        self.watermark = self.watermark.max(t);
        self.since_sweep += 1;
        if self.since_sweep >= 4096 || self.users.len() >= self.max_groups {
            self.sweep();
        }
        let user = user.to_ascii_lowercase();
        if !self.users.contains_key(&user) && self.users.len() >= self.max_groups {
            self.evict();
        }
        let st = self.users.entry(user.clone()).or_default();
        st.last_seen = st.last_seen.max(t);
        st.failures
            .retain(|(ft, _)| t - *ft <= FAILURE_WINDOW && *ft <= t);
        if FAILURE_CODES.contains(&code) {
            let at = st.failures.partition_point(|(ft, _)| *ft <= t);
            st.failures.insert(at, (t, r.key.clone()));
            if st.failures.len() > 1000 {
                st.failures.remove(0);
            }
            return;
        }
        if code != "0" {
            return;
        }
        // A success ends the run of failures, whether it fires or not.
        let failures = std::mem::take(&mut st.failures);
        if failures.len() >= FAILURES_BEFORE_SUCCESS {
            let first = failures.first().map_or(t, |f| f.0);
            let count = failures.len() as u64;
            let mut evidence: Vec<String> = failures.into_iter().map(|(_, k)| k).collect();
            evidence.push(r.key.clone());
            out.push(fire(&self.after_failures, r, &user, evidence, count, first));
        }
        let Some((lat, lon)) = travel::coordinates(r) else {
            return;
        };
        let st = self.users.entry(user.clone()).or_default();
        if let Some((pt, plat, plon, pkey)) = &st.last_fix
            && (t - pt).abs() <= TRAVEL_WINDOW
            && travel::impossible(*plat, *plon, *pt, lat, lon, t)
        {
            let (first, evidence) = if *pt <= t {
                (*pt, vec![pkey.clone(), r.key.clone()])
            } else {
                (t, vec![r.key.clone(), pkey.clone()])
            };
            let speed = speed_kmh(*plat, *plon, *pt, lat, lon, t);
            out.push(fire(&self.travel, r, &user, evidence, speed as u64, first));
        }
        if st.last_fix.as_ref().is_none_or(|f| f.0 <= t) {
            st.last_fix = Some((t, lat, lon, r.key.clone()));
        }
    }

    fn sweep(&mut self) {
        self.since_sweep = 0;
        let horizon = self.watermark.saturating_sub(TRAVEL_WINDOW);
        self.users.retain(|_, s| s.last_seen >= horizon);
    }

    fn evict(&mut self) {
        if let Some(k) = self
            .users
            .iter()
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(k, _)| k.clone())
        {
            self.users.remove(&k);
        }
    }
}

fn fire(
    info: &Info,
    r: &Record,
    user: &str,
    evidence: Vec<String>,
    count: u64,
    first: i64,
) -> Match {
    Match {
        rule_id: info.id.clone(),
        title: info.title.clone(),
        level: info.level,
        tags: info.tags.clone(),
        category: r.category,
        key: r.key.clone(),
        event_time: r.event_time,
        correlation: Some(CorrelationMatch {
            kind: CorrelationKind::TemporalOrdered,
            group: vec![("UserPrincipalName".to_owned(), user.to_owned())],
            evidence,
            count,
            first_time: first.min(r.event_time),
            last_time: r.event_time,
        }),
    }
}
