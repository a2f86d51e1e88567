//! The verdicts, from what ARM says ([`Observed`]) and what entrail received ([`Received`]); pure, no I/O.
//!
//! Per Entra category (the 9 required and 6 recommended of seed 001 always; optional ones when exported or
//! received):
//! - `not_licensed`: absent from the tenant's diagnostic categories and never received;
//! - `missing`: no diagnostic setting exports it to an event hub or storage account (the destinations entrail
//!   reads) and no configured Graph source collects it: a Log Analytics or partner destination alone is named
//!   in the reason;
//! - `silent`: it has a way to entrail, but nothing arrived within its silence threshold;
//! - `pass`: otherwise.
//!
//! Subscriptions (Activity Log) and configured resources get one row each, judged the same way.

use super::Verdict;
use chrono::{DateTime, Utc};
use model::{Category, Requirement};
use serde::Serialize;
use sources::arm::{DestinationKind, DiagnosticSetting};
use std::collections::BTreeMap;
use std::time::Duration;

/// What ARM said (each call's failure kept as text).
#[derive(Debug, Clone)]
pub struct Observed {
    /// The tenant's Entra diagnostic settings.
    pub entra: Result<Vec<DiagnosticSetting>, String>,
    /// The tenant's exportable categories (`None`: unknown, every category is taken as licensed).
    pub licensed: Option<Vec<String>>,
    /// Subscriptions (Activity Log) and resources with their settings.
    pub scopes: Vec<ScopeObserved>,
    /// Problems listing the subscriptions.
    pub errors: Vec<String>,
    /// Categories a configured Graph source collects (a way to entrail besides an export).
    pub graph: Vec<Category>,
}

/// One subscription or resource.
#[derive(Debug, Clone)]
pub struct ScopeObserved {
    /// `/subscriptions/{id}` or a resource id.
    pub scope: String,
    /// Which.
    pub kind: ScopeKind,
    /// Its diagnostic settings.
    pub settings: Result<Vec<DiagnosticSetting>, String>,
}

/// What a scope is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// A subscription: its Activity Log.
    #[default]
    Subscription,
    /// A resource: its resource logs.
    Resource,
}

/// What entrail received of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedStats {
    /// Records appended.
    pub records: u64,
    /// Oldest event time.
    pub first_event: Option<DateTime<Utc>>,
    /// Newest event time.
    pub last_event: Option<DateTime<Utc>>,
    /// When the last record was received.
    pub last_received: Option<DateTime<Utc>>,
}

/// Received, per category.
pub type Received = BTreeMap<Category, ReceivedStats>;

/// One destination a category is exported to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// Kind.
    pub kind: DestinationKind,
    /// Resource id (an event hub's with its hub name).
    pub id: String,
    /// The diagnostic setting.
    pub setting: String,
    /// Retention days in that destination's policy, when one is enabled (0: forever).
    pub retention_days: Option<u32>,
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `tenant`, `/subscriptions/{id}` or a resource id.
    pub scope: String,
    /// Category (`SignInLogs`; `AzureActivity` for a subscription; `ResourceDiagnostics` for a resource).
    pub category: String,
    /// Required, recommended or optional (seed 001).
    pub requirement: Requirement,
    /// Where it is exported.
    pub destinations: Vec<Destination>,
    /// Records entrail holds.
    pub records: u64,
    /// When the last one was received (RFC 3339).
    pub last_received: Option<String>,
    /// Its newest event time (RFC 3339).
    pub last_event: Option<String>,
    /// Records per day over the received event-time span.
    pub rate_per_day: Option<f64>,
    /// The silence threshold applied, in seconds (`None`: arrival not checked).
    pub silence_after_secs: Option<u64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// What to do, unless it passes.
    pub fix: Option<String>,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// When it was computed.
    pub at: String,
    /// Rows: tenant categories first, then subscriptions and resources.
    pub rows: Vec<Row>,
    /// ARM calls that failed (each makes the check fail).
    pub errors: Vec<String>,
    /// Every required row passes and nothing failed.
    pub passed: bool,
}

/// The Entra categories of seed 001, required then recommended, plus the optional ones entrail knows.
pub const TENANT_CATEGORIES: &[Category] = &[
    Category::AuditLogs,
    Category::SignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::ManagedIdentitySignInLogs,
    Category::AdfsSignInLogs,
    Category::RiskyUsers,
    Category::UserRiskEvents,
    Category::RiskyServicePrincipals,
    Category::ServicePrincipalRiskEvents,
    Category::NonInteractiveUserSignInLogs,
    Category::ProvisioningLogs,
    Category::NetworkAccessTrafficLogs,
    Category::EnrichedOffice365AuditLogs,
    Category::MicrosoftGraphActivityLogs,
    Category::RemoteNetworkHealthLogs,
    Category::NetworkAccessAlerts,
    Category::NetworkAccessConnectionEvents,
    Category::RiskyAgents,
    Category::AgentRiskEvents,
];

/// The fix command suggested for a category without a readable destination.
pub const FIX_COMMAND: &str =
    "entrail coverage --fix --to <event hub authorization rule id | storage account id>";

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// Destinations of `name` across `settings` (`None`: any enabled log, for resources and subscriptions).
fn destinations(settings: &[DiagnosticSetting], name: Option<&str>) -> Vec<Destination> {
    let mut out = Vec::new();
    for s in settings {
        let entry = match name {
            Some(n) => s.properties.enabled_entry(n),
            None => s.properties.logs.iter().find(|l| l.enabled),
        };
        let Some(entry) = entry else { continue };
        let retention = entry.retention_policy.filter(|r| r.enabled).map(|r| r.days);
        for (kind, id) in s.properties.destinations() {
            out.push(Destination {
                kind,
                id,
                setting: s.name.clone(),
                retention_days: retention,
            });
        }
    }
    out.sort_by(|a, b| (a.kind, &a.setting).cmp(&(b.kind, &b.setting)));
    out
}

struct Judged {
    verdict: Verdict,
    reason: String,
    fix: Option<String>,
}

/// The verdict of one row given its destinations, licence and what was received.
fn judge(
    dests: &[Destination],
    collected: bool,
    licensed: bool,
    got: ReceivedStats,
    silence: Option<Duration>,
    now: DateTime<Utc>,
) -> Judged {
    let readable: Vec<&Destination> = dests
        .iter()
        .filter(|d| d.kind.readable_by_entrail())
        .collect();
    if !licensed && got.records == 0 {
        return Judged {
            verdict: Verdict::NotLicensed,
            reason: "not among the tenant's diagnostic categories (needs Entra ID P2 or Workload ID Premium)".into(),
            fix: Some("license the tenant for this category, then export it".into()),
        };
    }
    if readable.is_empty() && !collected {
        let others: Vec<&str> = dests.iter().map(|d| d.kind.label()).collect();
        let mut reason = if others.is_empty() {
            "no diagnostic setting exports it".to_owned()
        } else {
            format!(
                "exported only to {} (entrail reads event hubs and storage accounts)",
                others.join(", ")
            )
        };
        if got.records > 0 {
            reason.push_str(&format!(
                "; the {} records entrail holds came another way (import)",
                got.records
            ));
        }
        return Judged {
            verdict: Verdict::Missing,
            reason,
            fix: Some(FIX_COMMAND.to_owned()),
        };
    }
    let path = if let Some(d) = readable.first() {
        format!("exported to {} by setting {}", d.kind.label(), d.setting)
    } else {
        "not exported to an event hub or storage account, collected through a Graph source"
            .to_owned()
    };
    let Some(limit) = silence else {
        return Judged {
            verdict: Verdict::Pass,
            reason: format!("{path}; arrival not checked for this category"),
            fix: None,
        };
    };
    match got.last_received {
        Some(t) if (now - t).to_std().unwrap_or(Duration::ZERO) <= limit => Judged {
            verdict: Verdict::Pass,
            reason: format!(
                "{path}; last record received {} ago",
                human((now - t).to_std().unwrap_or(Duration::ZERO))
            ),
            fix: None,
        },
        last => Judged {
            verdict: Verdict::Silent,
            reason: match last {
                Some(t) => format!(
                    "{path}; nothing received for {} (threshold {})",
                    human((now - t).to_std().unwrap_or(Duration::ZERO)),
                    human(limit)
                ),
                None => format!("{path}; nothing received yet (threshold {})", human(limit)),
            },
            fix: Some(if readable.is_empty() {
                "check the Graph source (entrail status) or export the category: ".to_owned()
                    + FIX_COMMAND
            } else {
                "check that entrail's event hub or storage source reads this destination (entrail status), and the setting in the portal".to_owned()
            }),
        },
    }
}

fn rate(got: &ReceivedStats) -> Option<f64> {
    let (a, b) = (got.first_event?, got.last_event?);
    let span = (b - a).num_seconds().max(3600) as f64;
    Some(got.records as f64 * 86_400.0 / span)
}

fn row(
    scope: &str,
    category: Category,
    dests: Vec<Destination>,
    got: ReceivedStats,
    judged: Judged,
    silence: Option<Duration>,
) -> Row {
    Row {
        scope: scope.to_owned(),
        category: category.name().to_owned(),
        requirement: category.requirement(),
        destinations: dests,
        records: got.records,
        last_received: got.last_received.map(rfc3339),
        last_event: got.last_event.map(rfc3339),
        rate_per_day: rate(&got),
        silence_after_secs: silence.map(|d| d.as_secs()),
        verdict: judged.verdict,
        reason: judged.reason,
        fix: judged.fix,
    }
}

/// Computes the report. `silence(c)` is a category's threshold.
pub fn evaluate(
    observed: &Observed,
    received: &Received,
    silence: &dyn Fn(Category) -> Option<Duration>,
    now: DateTime<Utc>,
) -> Report {
    let mut errors = observed.errors.clone();
    let entra: &[DiagnosticSetting] = match &observed.entra {
        Ok(s) => s,
        Err(e) => {
            errors.push(format!("Entra diagnostic settings: {e}"));
            &[]
        }
    };
    let mut rows = Vec::new();
    for &c in TENANT_CATEGORIES {
        let dests = destinations(entra, Some(c.name()));
        let got = received.get(&c).copied().unwrap_or_default();
        let licensed = observed
            .licensed
            .as_ref()
            .is_none_or(|l| l.iter().any(|x| x.eq_ignore_ascii_case(c.name())));
        if c.requirement() == Requirement::Optional && dests.is_empty() && got.records == 0 {
            continue;
        }
        let mut judged = judge(
            &dests,
            observed.graph.contains(&c),
            licensed,
            got,
            silence(c),
            now,
        );
        if c == Category::AuditLogs {
            judged
                .reason
                .push_str(" (includes Global Secure Access audit logs)");
        }
        rows.push(row("tenant", c, dests, got, judged, silence(c)));
    }
    for s in &observed.scopes {
        let category = match s.kind {
            ScopeKind::Subscription => Category::AzureActivity,
            ScopeKind::Resource => Category::ResourceDiagnostics,
        };
        let settings: &[DiagnosticSetting] = match &s.settings {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("{}: {e}", s.scope));
                &[]
            }
        };
        let dests = destinations(settings, None);
        // Activity and resource records are not told apart per scope: arrival is judged per category.
        let got = received.get(&category).copied().unwrap_or_default();
        let judged = if dests.iter().any(|d| d.kind.readable_by_entrail()) {
            judge(&dests, false, true, got, silence(category), now)
        } else {
            Judged {
                fix: Some(format!(
                    "add a diagnostic setting on {} sending its logs to an event hub or storage account",
                    s.scope
                )),
                ..judge(
                    &dests,
                    false,
                    true,
                    ReceivedStats::default(),
                    silence(category),
                    now,
                )
            }
        };
        rows.push(row(
            &s.scope,
            category,
            dests,
            got,
            judged,
            silence(category),
        ));
    }
    let passed = errors.is_empty()
        && rows
            .iter()
            .filter(|r| r.requirement == Requirement::Required)
            .all(|r| r.verdict == Verdict::Pass);
    Report {
        at: rfc3339(now),
        rows,
        errors,
        passed,
    }
}
