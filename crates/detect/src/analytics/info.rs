//! The catalogue of built-in analytics (id, title, severity, MITRE ATT&CK tags) and how a native analytic
//! reports: a [`Match`] whose correlation part names the entity, the evidence and the window.

use crate::eval::{CorrelationMatch, Match};
use crate::rule::{CorrelationKind, Level};
use model::Record;
use std::sync::Arc;

/// One built-in analytic, as listed in `docs/detections.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinAnalytic {
    /// Rule id of its matches (`entrail-builtin-…`).
    pub id: &'static str,
    /// Title of its matches.
    pub title: &'static str,
    /// Severity.
    pub level: Level,
    /// Tags: MITRE ATT&CK tactic and technique.
    pub tags: &'static [&'static str],
    /// Whether it is a Sigma correlation rule (`data/analytics/entra.yml`) rather than native code.
    pub sigma: bool,
}

const fn a(
    id: &'static str,
    title: &'static str,
    level: Level,
    tags: &'static [&'static str],
    sigma: bool,
) -> BuiltinAnalytic {
    BuiltinAnalytic {
        id,
        title,
        level,
        tags,
        sigma,
    }
}

/// Password spray.
pub const PASSWORD_SPRAY: &str = "entrail-builtin-password-spray";
/// Brute force on one account.
pub const BRUTE_FORCE: &str = "entrail-builtin-brute-force";
/// MFA fatigue.
pub const MFA_FATIGUE: &str = "entrail-builtin-mfa-fatigue";
/// Sign-ins from multiple countries.
pub const MULTIPLE_COUNTRIES: &str = "entrail-builtin-multiple-countries";
/// Impossible travel.
pub const IMPOSSIBLE_TRAVEL: &str = "entrail-builtin-impossible-travel";
/// Success after multiple failures.
pub const SUCCESS_AFTER_FAILURES: &str = "entrail-builtin-success-after-failures";
/// Sign-in attempts to disabled or locked accounts.
pub const DISABLED_ACCOUNT: &str = "entrail-builtin-disabled-account-signin";
/// Risky sign-in or user at high risk.
pub const HIGH_RISK: &str = "entrail-builtin-high-risk";
/// New credential on an application or service principal.
pub const APP_CREDENTIAL: &str = "entrail-builtin-app-credential";
/// Credential added after admin consent.
pub const CREDENTIAL_AFTER_CONSENT: &str = "entrail-builtin-credential-after-consent";
/// Consent to an application with high-privilege permissions.
pub const HIGH_PRIVILEGE_CONSENT: &str = "entrail-builtin-high-privilege-consent";
/// Directory role assigned outside PIM.
pub const ROLE_OUTSIDE_PIM: &str = "entrail-builtin-role-outside-pim";
/// Authentication methods changed on a privileged account.
pub const PRIVILEGED_AUTH_METHODS: &str = "entrail-builtin-privileged-auth-methods";
/// Domain federation changed (Golden SAML).
pub const FEDERATION_CHANGED: &str = "entrail-builtin-federation-changed";
/// Conditional Access policy disabled or deleted.
pub const CA_POLICY_DISABLED: &str = "entrail-builtin-ca-policy-disabled";
/// Cross-tenant access partner added.
pub const CROSS_TENANT_PARTNER: &str = "entrail-builtin-cross-tenant-partner";
/// Diagnostic settings deleted or changed.
pub const DIAGNOSTIC_SETTINGS: &str = "entrail-builtin-diagnostic-settings";

/// Every built-in analytic.
#[rustfmt::skip]
pub const BUILTIN_ANALYTICS: &[BuiltinAnalytic] = &[
    a(PASSWORD_SPRAY, "Password spray from one IP address", Level::High, &["attack.credential_access", "attack.t1110.003"], true),
    a(BRUTE_FORCE, "Brute force on one account", Level::Medium, &["attack.credential_access", "attack.t1110.001"], true),
    a(MFA_FATIGUE, "MFA fatigue", Level::High, &["attack.credential_access", "attack.t1621"], true),
    a(MULTIPLE_COUNTRIES, "Sign-ins from multiple countries", Level::Medium, &["attack.initial_access", "attack.t1078.004"], true),
    a(IMPOSSIBLE_TRAVEL, "Impossible travel", Level::High, &["attack.initial_access", "attack.t1078.004"], false),
    a(SUCCESS_AFTER_FAILURES, "Successful sign-in after multiple failures", Level::High, &["attack.credential_access", "attack.t1110"], false),
    a(DISABLED_ACCOUNT, "Sign-in attempts to disabled or locked accounts", Level::Medium, &["attack.initial_access", "attack.t1078"], false),
    a(HIGH_RISK, "Risky sign-in or user at high risk", Level::High, &["attack.initial_access", "attack.t1078.004"], false),
    a(APP_CREDENTIAL, "New credential on an application or service principal", Level::Medium, &["attack.persistence", "attack.t1098.001"], false),
    a(CREDENTIAL_AFTER_CONSENT, "Credential added after admin consent", Level::High, &["attack.persistence", "attack.t1098.001", "attack.credential_access", "attack.t1528"], false),
    a(HIGH_PRIVILEGE_CONSENT, "Consent to an application with high-privilege permissions", Level::High, &["attack.credential_access", "attack.t1528", "attack.persistence", "attack.t1098.003"], false),
    a(ROLE_OUTSIDE_PIM, "Directory role assigned outside PIM", Level::High, &["attack.persistence", "attack.privilege_escalation", "attack.t1098.003"], false),
    a(PRIVILEGED_AUTH_METHODS, "Authentication methods changed on a privileged account", Level::High, &["attack.persistence", "attack.t1098.005", "attack.t1556.006"], false),
    a(FEDERATION_CHANGED, "Domain federation changed (Golden SAML)", Level::High, &["attack.persistence", "attack.defense_evasion", "attack.t1484.002", "attack.credential_access", "attack.t1606.002"], false),
    a(CA_POLICY_DISABLED, "Conditional Access policy disabled or deleted", Level::High, &["attack.defense_evasion", "attack.t1562.001", "attack.t1556"], false),
    a(CROSS_TENANT_PARTNER, "Cross-tenant access partner added", Level::Medium, &["attack.persistence", "attack.defense_evasion", "attack.t1484.002"], false),
    a(DIAGNOSTIC_SETTINGS, "Diagnostic settings deleted or changed", Level::High, &["attack.defense_evasion", "attack.t1562.008"], false),
];

/// A native analytic's identity, shared by its matches.
#[derive(Debug)]
pub(super) struct Info {
    id: Arc<str>,
    title: Arc<str>,
    level: Level,
    tags: Arc<[String]>,
}

impl Info {
    /// The catalogue entry of `id`.
    pub(super) fn of(id: &str) -> Info {
        let found = BUILTIN_ANALYTICS.iter().find(|b| b.id == id);
        let (title, level, tags) =
            found.map_or(("", Level::Medium, &[][..]), |b| (b.title, b.level, b.tags));
        Info {
            id: id.into(),
            title: title.into(),
            level,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

/// What fired: the entity it groups on, the evidence and the window.
pub(super) struct Fired<'a> {
    pub(super) kind: CorrelationKind,
    pub(super) group: Vec<(&'static str, String)>,
    pub(super) evidence: Vec<String>,
    pub(super) count: u64,
    pub(super) first: i64,
    pub(super) record: &'a Record,
}

impl Fired<'_> {
    /// One record, one entity.
    pub(super) fn single<'r>(r: &'r Record, field: &'static str, value: &str) -> Fired<'r> {
        Fired {
            kind: CorrelationKind::EventCount,
            group: vec![(field, value.to_ascii_lowercase())],
            evidence: vec![r.key.clone()],
            count: 1,
            first: r.event_time,
            record: r,
        }
    }

    /// The match.
    pub(super) fn into_match(self, info: &Info) -> Match {
        let r = self.record;
        Match {
            rule_id: info.id.clone(),
            title: info.title.clone(),
            level: info.level,
            tags: info.tags.clone(),
            category: r.category,
            key: r.key.as_str().into(),
            event_time: r.event_time,
            correlation: Some(CorrelationMatch {
                kind: self.kind,
                group: self
                    .group
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                evidence: self.evidence,
                count: self.count,
                first_time: self.first.min(r.event_time),
                last_time: r.event_time,
            }),
        }
    }
}
