//! Labelled attack scenarios injected into the benign tenant (`TenantConfig::attacks`): one per built-in
//! analytic of the `detect` crate, each a short burst of records exactly as Entra and Azure would log the
//! attack (sign-ins in `signins`, directory audits and Activity Log records in `directory`). The records
//! are [`SimEvent`]s like any other, so they come out in every wire shape the generator supports, and
//! each scenario's [`AttackLabel`] (scenario, analytic id, entity, time window, record ids) is written to
//! [`crate::GroundTruth::attacks`] so tests can check recall.

mod directory;
mod signins;

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::config::TenantConfig;
use crate::tenant::{Tenant, User};
use crate::{EventKind, SimEvent};

/// An attack the simulator can inject; each names the built-in analytic that must detect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Eight accounts, one wrong password each, from one hostile address.
    PasswordSpray,
    /// Twelve wrong passwords on one account.
    BruteForce,
    /// Six denied push prompts, then the tired user approves.
    MfaFatigue,
    /// A successful sign-in at home, then another on a far continent 30 minutes later.
    ImpossibleTravel,
    /// Successful sign-ins of one account from three countries within 40 minutes.
    MultipleCountries,
    /// Six wrong passwords, then the right one, from one address.
    SuccessAfterFailures,
    /// One hostile address tries disabled (and locked) accounts.
    DisabledAccount,
    /// A successful sign-in Identity Protection rates high risk.
    HighRisk,
    /// A second secret added to an existing service principal.
    AppCredential,
    /// Admin consent to a new application, then a secret added to it (illicit consent grant).
    CredentialAfterConsent,
    /// A user consents to an application reading and sending mail.
    HighPrivilegeConsent,
    /// Global Administrator assigned directly, not through PIM.
    RoleOutsidePim,
    /// A compromised helpdesk account registers a phone for a Global Administrator.
    PrivilegedAuthMethods,
    /// A domain switched to federated with an attacker's issuer (Golden SAML).
    FederationChanged,
    /// The "Require MFA" Conditional Access policy switched off.
    CaPolicyDisabled,
    /// An unknown tenant added as a cross-tenant access partner.
    CrossTenantPartner,
    /// The diagnostic setting that ships a key vault's logs deleted.
    DiagnosticSettings,
}

impl Scenario {
    /// Every scenario, in injection order.
    pub const ALL: &'static [Scenario] = &[
        Scenario::PasswordSpray,
        Scenario::BruteForce,
        Scenario::MfaFatigue,
        Scenario::ImpossibleTravel,
        Scenario::MultipleCountries,
        Scenario::SuccessAfterFailures,
        Scenario::DisabledAccount,
        Scenario::HighRisk,
        Scenario::AppCredential,
        Scenario::CredentialAfterConsent,
        Scenario::HighPrivilegeConsent,
        Scenario::RoleOutsidePim,
        Scenario::PrivilegedAuthMethods,
        Scenario::FederationChanged,
        Scenario::CaPolicyDisabled,
        Scenario::CrossTenantPartner,
        Scenario::DiagnosticSettings,
    ];

    /// The scenario's name (`password_spray`).
    pub fn name(self) -> &'static str {
        self.parts().0
    }

    /// The id of the `detect` built-in analytic that must detect it.
    pub fn analytic(self) -> &'static str {
        self.parts().1
    }

    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Scenario::PasswordSpray => ("password_spray", "entrail-builtin-password-spray"),
            Scenario::BruteForce => ("brute_force", "entrail-builtin-brute-force"),
            Scenario::MfaFatigue => ("mfa_fatigue", "entrail-builtin-mfa-fatigue"),
            Scenario::ImpossibleTravel => {
                ("impossible_travel", "entrail-builtin-impossible-travel")
            }
            Scenario::MultipleCountries => {
                ("multiple_countries", "entrail-builtin-multiple-countries")
            }
            Scenario::SuccessAfterFailures => (
                "success_after_failures",
                "entrail-builtin-success-after-failures",
            ),
            Scenario::DisabledAccount => (
                "disabled_account",
                "entrail-builtin-disabled-account-signin",
            ),
            Scenario::HighRisk => ("high_risk", "entrail-builtin-high-risk"),
            Scenario::AppCredential => ("app_credential", "entrail-builtin-app-credential"),
            Scenario::CredentialAfterConsent => (
                "credential_after_consent",
                "entrail-builtin-credential-after-consent",
            ),
            Scenario::HighPrivilegeConsent => (
                "high_privilege_consent",
                "entrail-builtin-high-privilege-consent",
            ),
            Scenario::RoleOutsidePim => ("role_outside_pim", "entrail-builtin-role-outside-pim"),
            Scenario::PrivilegedAuthMethods => (
                "privileged_auth_methods",
                "entrail-builtin-privileged-auth-methods",
            ),
            Scenario::FederationChanged => {
                ("federation_changed", "entrail-builtin-federation-changed")
            }
            Scenario::CaPolicyDisabled => {
                ("ca_policy_disabled", "entrail-builtin-ca-policy-disabled")
            }
            Scenario::CrossTenantPartner => (
                "cross_tenant_partner",
                "entrail-builtin-cross-tenant-partner",
            ),
            Scenario::DiagnosticSettings => {
                ("diagnostic_settings", "entrail-builtin-diagnostic-settings")
            }
        }
    }
}

/// What ground truth says about one injected attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackLabel {
    /// The scenario's name (`password_spray`).
    pub scenario: String,
    /// The built-in analytic that must detect it (`entrail-builtin-password-spray`).
    pub analytic: String,
    /// The entity an alert must name, lower-cased: a UPN, IP address, application, domain, policy, tenant
    /// id or resource id.
    pub entity: String,
    /// Event time of the first injected record.
    pub start: DateTime<Utc>,
    /// Event time of the last injected record.
    pub end: DateTime<Utc>,
    /// Dedupe ids of the injected records (Activity Log records: their correlation id).
    pub records: Vec<String>,
}

/// Records of one scenario and its label.
pub(crate) struct Injected {
    pub(crate) events: Vec<SimEvent>,
    pub(crate) entity: String,
}

/// Shared inputs of the scenario builders.
pub(crate) struct Cx<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) at: DateTime<Utc>,
    pub(crate) seed: u64,
    /// Victims reserved for this scenario (enabled members, no role).
    pub(crate) victims: Vec<&'a User>,
}

impl Cx<'_> {
    /// Minutes after the scenario's start.
    pub(crate) fn t(&self, minutes: i64) -> DateTime<Utc> {
        self.at + TimeDelta::seconds(minutes * 60 + (self.seed % 50) as i64)
    }

    /// The scenario's `i`-th victim.
    pub(crate) fn victim(&self, i: usize) -> &User {
        self.victims[i % self.victims.len().max(1)]
    }
}

/// Builds an event as the generator would emit it (delivered a minute later).
pub(crate) fn event(
    category: Category,
    time: DateTime<Utc>,
    graph: serde_json::Value,
    seed: u64,
) -> SimEvent {
    event_with(category, time, graph, None, seed)
}

/// Like [`event`], with a diagnostic envelope (Azure categories).
pub(crate) fn event_with(
    category: Category,
    time: DateTime<Utc>,
    graph: serde_json::Value,
    envelope: Option<serde_json::Map<String, serde_json::Value>>,
    seed: u64,
) -> SimEvent {
    SimEvent {
        category: category.name(),
        time,
        received: time + TimeDelta::seconds(60 + (seed % 90) as i64),
        graph,
        envelope,
        kind: EventKind::Original,
        seed,
    }
}

/// When scenario `i` starts: the third day of the window (the last, if shorter) at 09:00 UTC, one scenario
/// every 40 minutes.
fn start_of(cfg: &TenantConfig, i: usize) -> DateTime<Utc> {
    let day = i64::from(cfg.days.clamp(1, 3) - 1);
    cfg.start + TimeDelta::days(day) + TimeDelta::hours(9) + TimeDelta::minutes(40 * i as i64)
}

/// Enabled members without a role, in a fixed pseudo-random order (never the first 20 accounts).
fn candidates(tenant: &Tenant, seed: u64) -> Vec<&User> {
    let mut users: Vec<(u64, &User)> = tenant
        .users
        .iter()
        .enumerate()
        .skip(20)
        .filter(|(_, u)| u.enabled && !u.guest && !u.federated && !u.is_admin())
        .map(|(i, u)| (crate::util::mix2(seed, i as u64), u))
        .collect();
    users.sort_by_key(|p| p.0);
    users.into_iter().map(|p| p.1).collect()
}

/// Every scenario's records (in event-time order) and labels.
pub fn inject(tenant: &Tenant, cfg: &TenantConfig) -> (Vec<SimEvent>, Vec<AttackLabel>) {
    let pool = candidates(tenant, cfg.seed);
    let per = 8usize;
    let mut events = Vec::new();
    let mut labels = Vec::new();
    for (i, s) in Scenario::ALL.iter().enumerate() {
        let victims: Vec<&User> = (0..per)
            .filter_map(|k| pool.get((i * per + k) % pool.len().max(1)).copied())
            .collect();
        if victims.is_empty() {
            continue;
        }
        let cx = Cx {
            tenant,
            at: start_of(cfg, i),
            seed: crate::util::mix2(cfg.seed ^ 0xA77AC, i as u64),
            victims,
        };
        let Injected {
            events: evs,
            entity,
        } = match s {
            Scenario::PasswordSpray
            | Scenario::BruteForce
            | Scenario::MfaFatigue
            | Scenario::ImpossibleTravel
            | Scenario::MultipleCountries
            | Scenario::SuccessAfterFailures
            | Scenario::DisabledAccount
            | Scenario::HighRisk => signins::build(*s, &cx),
            _ => directory::build(*s, &cx),
        };
        let start = evs.iter().map(|e| e.time).min().unwrap_or(cx.at);
        let end = evs.iter().map(|e| e.time).max().unwrap_or(cx.at);
        let records = evs
            .iter()
            .filter_map(|e| {
                e.id().map(str::to_owned).or_else(|| {
                    e.envelope
                        .as_ref()
                        .and_then(|m| m.get("correlationId"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                })
            })
            .collect();
        labels.push(AttackLabel {
            scenario: s.name().to_owned(),
            analytic: s.analytic().to_owned(),
            entity: entity.to_ascii_lowercase(),
            start,
            end,
            records,
        });
        events.extend(evs);
    }
    events.sort_by_key(|e| e.time);
    (events, labels)
}

/// The generator's queue of attack records, merged into the benign stream by event time.
#[derive(Debug, Default)]
pub(crate) struct Injector {
    queue: VecDeque<SimEvent>,
    lookahead: Option<SimEvent>,
}

impl Injector {
    /// A queue of these records (sorted by event time).
    pub(crate) fn new(events: Vec<SimEvent>) -> Injector {
        Injector {
            queue: events.into(),
            lookahead: None,
        }
    }

    /// Whether nothing is left to merge.
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.lookahead.is_none()
    }

    /// The next record: an attack record when it is due before the next benign one (`benign` is only
    /// called when no benign record is held back already).
    pub(crate) fn next(
        &mut self,
        benign: impl FnOnce() -> Option<SimEvent>,
    ) -> Option<(SimEvent, bool)> {
        if self.lookahead.is_none() {
            self.lookahead = benign();
        }
        let attack_first = match (self.queue.front(), &self.lookahead) {
            (Some(a), Some(b)) => a.time <= b.time,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if attack_first {
            self.queue.pop_front().map(|e| (e, true))
        } else {
            self.lookahead.take().map(|e| (e, false))
        }
    }
}

#[cfg(test)]
mod tests;
