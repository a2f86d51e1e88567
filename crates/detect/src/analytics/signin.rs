//! Sign-in analytics on per-user and per-IP state: success after multiple failures, impossible travel,
//! attempts on disabled or locked accounts, risky sign-ins; and the per-user history of the IP networks
//! an account signs in from (read by the authentication-method analytic).

use super::info::Fired;
use super::{Analytics, UserState, text, travel};
use crate::eval::Match;
use crate::rule::CorrelationKind;
use model::{Category, Record};

/// Failures that count toward "success after multiple failures".
const FAILURE_CODES: &[&str] = &[
    "50126", "50053", "50055", "50056", "50064", "50074", "500121",
];
/// Sign-in to a disabled account (50057) or a locked one (50053).
const DISABLED_CODES: &[&str] = &["50057", "50053"];
/// Most IP networks remembered per user.
const MAX_NETS: usize = 16;
/// Most failures remembered per user or IP (at least the threshold).
const MAX_FAILURES: usize = 64;

/// The network of an address: /24 for IPv4, the first four groups (/64) for IPv6.
pub(super) fn network(ip: &str) -> Option<u64> {
    let ip = ip.trim();
    if ip.is_empty() || ip.eq_ignore_ascii_case("<null>") {
        return None;
    }
    let prefix = if ip.contains(':') {
        let parts: Vec<&str> = ip.split(':').take(4).collect();
        parts.join(":")
    } else {
        ip.rsplit_once('.').map_or(ip, |(net, _)| net).to_owned()
    };
    Some(xx(prefix.to_ascii_lowercase().as_bytes()))
}

/// FNV-1a, enough to tell a user's few networks apart.
fn xx(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &c| {
        (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl UserState {
    /// Notes a successful sign-in (or a user's own audited action) from `ip` at `t`.
    pub(super) fn saw_ip(&mut self, ip: &str, t: i64) {
        let Some(net) = network(ip) else {
            return;
        };
        if let Some(e) = self.nets.iter_mut().find(|e| e.0 == net) {
            e.1 = e.1.min(t);
            e.2 = e.2.max(t);
            return;
        }
        if self.nets.len() >= MAX_NETS
            && let Some(i) = (0..self.nets.len()).min_by_key(|&i| self.nets[i].2)
        {
            self.nets.swap_remove(i);
        }
        self.nets.push((net, t, t));
    }

    /// Whether `ip` is a network this user was first seen on less than `new_for` ago while older ones
    /// are known (`None`: no older history to judge by, or no address).
    pub(super) fn new_network(&self, ip: &str, t: i64, new_for: i64) -> Option<bool> {
        let net = network(ip)?;
        let horizon = t - new_for;
        if !self.nets.iter().any(|e| e.1 <= horizon) {
            return None;
        }
        Some(!self.nets.iter().any(|e| e.0 == net && e.1 <= horizon))
    }
}

fn named_network(r: &Record) -> bool {
    text(r, "NetworkLocationDetails")
        .is_some_and(|s| s.contains("namedNetwork") || s.contains("trustedNamedLocation"))
}

fn high(r: &Record, column: &str) -> bool {
    text(r, column).is_some_and(|s| s.eq_ignore_ascii_case("high"))
}

/// Whether the record's risk is closed: an admin dismissed it, the user remediated it (secure password
/// change, MFA) or it was confirmed safe. Identity Protection keeps the level of a closed risk, so a
/// high level alone says nothing about a live threat.
fn risk_closed(r: &Record) -> bool {
    text(r, "RiskState").is_some_and(|s| {
        ["dismissed", "remediated", "confirmedSafe"]
            .iter()
            .any(|c| s.eq_ignore_ascii_case(c))
    })
}

impl Analytics {
    /// Sign-in records (every user sign-in category).
    pub(super) fn observe_signin(&mut self, r: &Record, out: &mut Vec<Match>) {
        if r.category == Category::ManagedIdentitySignInLogs
            || r.category == Category::ServicePrincipalSignInLogs
        {
            return;
        }
        let (Some(user), Some(code)) = (text(r, "UserPrincipalName"), text(r, "ResultType")) else {
            return;
        };
        let t = r.event_time;
        let ip = text(r, "IPAddress").unwrap_or("");
        let user = user.to_ascii_lowercase();
        if DISABLED_CODES.contains(&code) && !ip.is_empty() && !named_network(r) {
            self.disabled_attempt(r, &user, ip, out);
        }
        let cfg = &self.cfg;
        let (failure_window, travel_window) = (
            super::AnalyticsConfig::micros(cfg.failure_window_minutes),
            super::AnalyticsConfig::micros(cfg.travel_window_minutes),
        );
        let (need_failures, risk_quiet) = (
            cfg.failures_before_success as usize,
            super::AnalyticsConfig::micros(cfg.risk_suppress_minutes),
        );
        let (max_speed, min_km) = (cfg.travel_max_speed_kmh, cfg.travel_min_distance_km);
        let st = self.user(&user, t);
        st.failures
            .retain(|(ft, _)| t - *ft <= failure_window && *ft <= t);
        if FAILURE_CODES.contains(&code) {
            let at = st.failures.partition_point(|(ft, _)| *ft <= t);
            st.failures.insert(at, (t, r.key.clone()));
            if st.failures.len() > MAX_FAILURES.max(need_failures) {
                st.failures.remove(0);
            }
            return;
        }
        if code != "0" {
            return;
        }
        st.saw_ip(ip, t);
        let mut fired = Vec::new();
        if (high(r, "RiskLevelDuringSignIn") || high(r, "RiskLevelAggregated"))
            && !risk_closed(r)
            && t.saturating_sub(st.risk_alerted) >= risk_quiet
        {
            st.risk_alerted = t;
            fired.push((
                super::HIGH_RISK_I,
                Fired::single(r, "UserPrincipalName", &user),
            ));
        }
        // A success ends the run of failures, whether it fires or not.
        let failures = std::mem::take(&mut st.failures);
        if failures.len() >= need_failures.max(1) {
            let first = failures.first().map_or(t, |f| f.0);
            let count = failures.len() as u64;
            let mut evidence: Vec<String> = failures.into_iter().map(|(_, k)| k).collect();
            evidence.push(r.key.clone());
            fired.push((
                super::AFTER_FAILURES_I,
                Fired {
                    kind: CorrelationKind::TemporalOrdered,
                    group: vec![("UserPrincipalName", user.clone())],
                    evidence,
                    count,
                    first,
                    record: r,
                },
            ));
        }
        if let Some((lat, lon)) = travel::coordinates(r) {
            if let Some((pt, plat, plon, pkey)) = &st.last_fix
                && (t - pt).abs() <= travel_window
                && travel::impossible((*plat, *plon, *pt), (lat, lon, t), max_speed, min_km)
            {
                let (first, evidence) = if *pt <= t {
                    (*pt, vec![pkey.clone(), r.key.clone()])
                } else {
                    (t, vec![r.key.clone(), pkey.clone()])
                };
                let speed = travel::speed_kmh(*plat, *plon, *pt, lat, lon, t);
                fired.push((
                    super::TRAVEL_I,
                    Fired {
                        kind: CorrelationKind::TemporalOrdered,
                        group: vec![("UserPrincipalName", user.clone())],
                        evidence,
                        count: speed as u64,
                        first,
                        record: r,
                    },
                ));
            }
            if st.last_fix.as_ref().is_none_or(|f| f.0 <= t) {
                st.last_fix = Some((t, lat, lon, r.key.clone()));
            }
        }
        for (i, f) in fired {
            out.push(f.into_match(&self.infos[i]));
        }
    }

    fn disabled_attempt(&mut self, r: &Record, user: &str, ip: &str, out: &mut Vec<Match>) {
        let t = r.event_time;
        let window = super::AnalyticsConfig::micros(self.cfg.disabled_window_minutes);
        let need = self.cfg.disabled_accounts.max(1) as usize;
        let ip = ip.to_ascii_lowercase();
        if !self.by_ip.contains_key(&ip) && self.by_ip.len() >= self.max_groups {
            self.sweep();
            if self.by_ip.len() >= self.max_groups
                && let Some(k) = self
                    .by_ip
                    .iter()
                    .min_by_key(|(_, v)| v.last().map_or(i64::MIN, |e| e.0))
                    .map(|(k, _)| k.clone())
            {
                self.by_ip.remove(&k);
            }
        }
        let tries = self.by_ip.entry(ip.clone()).or_default();
        tries.retain(|(at, _, _)| t - *at <= window && *at <= t);
        tries.push((t, user.to_owned(), r.key.clone()));
        if tries.len() > MAX_FAILURES.max(need) {
            tries.remove(0);
        }
        let mut users: Vec<&str> = tries.iter().map(|(_, u, _)| u.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        if users.len() < need {
            return;
        }
        let count = users.len() as u64;
        let tries = self.by_ip.remove(&ip).unwrap_or_default();
        let first = tries.first().map_or(t, |e| e.0);
        let f = Fired {
            kind: CorrelationKind::ValueCount,
            group: vec![("IPAddress", ip)],
            evidence: tries.into_iter().map(|(_, _, k)| k).collect(),
            count,
            first,
            record: r,
        };
        out.push(f.into_match(&self.infos[super::DISABLED_I]));
    }

    /// Risk records: a user at high risk (`AADRiskyUsers`) or a high-risk detection (`AADUserRiskEvents`)
    /// whose risk is still open (not dismissed, remediated or confirmed safe).
    pub(super) fn observe_risk(&mut self, r: &Record, out: &mut Vec<Match>) {
        if !high(r, "RiskLevel") || risk_closed(r) {
            return;
        }
        if r.category == Category::RiskyUsers
            && !text(r, "RiskState").is_some_and(|s| {
                s.eq_ignore_ascii_case("atRisk") || s.eq_ignore_ascii_case("confirmedCompromised")
            })
        {
            return;
        }
        let Some(user) = text(r, "UserPrincipalName") else {
            return;
        };
        let user = user.to_ascii_lowercase();
        let t = r.event_time;
        let quiet = super::AnalyticsConfig::micros(self.cfg.risk_suppress_minutes);
        let st = self.user(&user, t);
        if t.saturating_sub(st.risk_alerted) < quiet {
            return;
        }
        st.risk_alerted = t;
        let f = Fired::single(r, "UserPrincipalName", &user);
        out.push(f.into_match(&self.infos[super::HIGH_RISK_I]));
    }
}
