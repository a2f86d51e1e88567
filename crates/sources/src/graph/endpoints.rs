//! Which Graph API serves each category: version, path, the time field windows filter on and the operators
//! it allows, the extra filter (sign-in type), the page size, the throttle class and the permissions a 403
//! names. All four sign-in types go through beta `signIns` with a `signInEventTypes` filter, one request per
//! type: v1.0 `signIns` returns interactive sign-ins only.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use model::Category;

/// API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `v1.0`.
    V1,
    /// `beta`.
    Beta,
}

impl Version {
    /// The path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

/// Which comparison operators the time field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOps {
    /// `ge` / `le` (inclusive).
    GeLe,
    /// `gt` / `lt` only (provisioning, risky users): the bounds are widened by a second each way so the
    /// window still covers `[start, end]`.
    GtLt,
}

/// Documented rate-limit classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThrottleClass {
    /// Identity and access reports: 5 requests / 10 s per app per tenant.
    Reports,
    /// Identity Protection and CA: 1 request/s per tenant; 429s carry no `Retry-After`.
    IdentityProtection,
}

/// One category's Graph API.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The category.
    pub category: Category,
    /// API version.
    pub version: Version,
    /// Path under the version (`auditLogs/signIns`).
    pub path: &'static str,
    /// The field windows filter on.
    pub time_field: &'static str,
    /// The operators it accepts.
    pub ops: TimeOps,
    /// An extra `$filter` clause, and-ed to the time range.
    pub extra_filter: Option<&'static str>,
    /// The largest `$top` (none: not sent).
    pub top: Option<u32>,
    /// Rate-limit class.
    pub class: ThrottleClass,
    /// Application permissions it needs.
    pub permissions: &'static [&'static str],
}

const AUDIT: &[&str] = &["AuditLog.Read.All"];
const SIGNIN: &[&str] = &["AuditLog.Read.All", "Directory.Read.All"];
const RISK_EVENT: &[&str] = &["IdentityRiskEvent.Read.All"];
const NET: &[&str] = &["NetworkAccess.Read.All"];

macro_rules! ep {
    ($cat:ident, $ver:ident, $path:literal, $field:literal, $ops:ident, $extra:expr, $top:expr, $class:ident, $perm:expr) => {
        Endpoint {
            category: Category::$cat,
            version: Version::$ver,
            path: $path,
            time_field: $field,
            ops: TimeOps::$ops,
            extra_filter: $extra,
            top: $top,
            class: ThrottleClass::$class,
            permissions: $perm,
        }
    };
}

/// Every category Graph serves. Risk detections window on `detectedDateTime`, not `activityDateTime`:
/// offline detections appear hours or days after the activity, so an activity-time window would miss them.
pub const ENDPOINTS: &[Endpoint] = &[
    ep!(
        AuditLogs,
        V1,
        "auditLogs/directoryAudits",
        "activityDateTime",
        GeLe,
        None,
        Some(999),
        Reports,
        AUDIT
    ),
    ep!(
        SignInLogs,
        Beta,
        "auditLogs/signIns",
        "createdDateTime",
        GeLe,
        Some("signInEventTypes/any(t: t eq 'interactiveUser')"),
        Some(1000),
        Reports,
        SIGNIN
    ),
    ep!(
        NonInteractiveUserSignInLogs,
        Beta,
        "auditLogs/signIns",
        "createdDateTime",
        GeLe,
        Some("signInEventTypes/any(t: t eq 'nonInteractiveUser')"),
        Some(1000),
        Reports,
        SIGNIN
    ),
    ep!(
        ServicePrincipalSignInLogs,
        Beta,
        "auditLogs/signIns",
        "createdDateTime",
        GeLe,
        Some("signInEventTypes/any(t: t eq 'servicePrincipal')"),
        Some(1000),
        Reports,
        SIGNIN
    ),
    ep!(
        ManagedIdentitySignInLogs,
        Beta,
        "auditLogs/signIns",
        "createdDateTime",
        GeLe,
        Some("signInEventTypes/any(t: t eq 'managedIdentity')"),
        Some(1000),
        Reports,
        SIGNIN
    ),
    ep!(
        ProvisioningLogs,
        V1,
        "auditLogs/provisioning",
        "activityDateTime",
        GtLt,
        None,
        Some(999),
        Reports,
        AUDIT
    ),
    ep!(
        RiskyUsers,
        V1,
        "identityProtection/riskyUsers",
        "riskLastUpdatedDateTime",
        GtLt,
        None,
        Some(500),
        IdentityProtection,
        &["IdentityRiskyUser.Read.All"]
    ),
    ep!(
        UserRiskEvents,
        V1,
        "identityProtection/riskDetections",
        "detectedDateTime",
        GeLe,
        None,
        Some(500),
        IdentityProtection,
        RISK_EVENT
    ),
    ep!(
        RiskyServicePrincipals,
        V1,
        "identityProtection/riskyServicePrincipals",
        "riskLastUpdatedDateTime",
        GtLt,
        None,
        Some(500),
        IdentityProtection,
        &["IdentityRiskyServicePrincipal.Read.All"]
    ),
    ep!(
        ServicePrincipalRiskEvents,
        V1,
        "identityProtection/servicePrincipalRiskDetections",
        "detectedDateTime",
        GeLe,
        None,
        Some(500),
        IdentityProtection,
        RISK_EVENT
    ),
    ep!(
        NetworkAccessTrafficLogs,
        Beta,
        "networkAccess/logs/traffic",
        "createdDateTime",
        GeLe,
        None,
        None,
        Reports,
        NET
    ),
    ep!(
        RemoteNetworkHealthLogs,
        Beta,
        "networkAccess/logs/remoteNetworks",
        "createdDateTime",
        GeLe,
        None,
        None,
        Reports,
        NET
    ),
    ep!(
        RiskyAgents,
        Beta,
        "identityProtection/riskyAgents",
        "riskLastModifiedDateTime",
        GtLt,
        None,
        None,
        IdentityProtection,
        &["IdentityRiskyAgent.Read.All"]
    ),
    ep!(
        AgentRiskEvents,
        Beta,
        "identityProtection/agentRiskDetections",
        "detectedDateTime",
        GeLe,
        None,
        Some(500),
        IdentityProtection,
        RISK_EVENT
    ),
];

/// The categories pulled when the configuration names none: every v1.0 one and the beta sign-in types.
/// The Global Secure Access and agent categories (beta, licence-bound) are opt-in.
pub const DEFAULT_CATEGORIES: &[Category] = &[
    Category::AuditLogs,
    Category::SignInLogs,
    Category::NonInteractiveUserSignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::ManagedIdentitySignInLogs,
    Category::ProvisioningLogs,
    Category::RiskyUsers,
    Category::UserRiskEvents,
    Category::RiskyServicePrincipals,
    Category::ServicePrincipalRiskEvents,
];

/// The endpoint of `category`, if Graph serves it.
pub fn endpoint(category: Category) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.category == category)
}

/// `2024-01-01T00:00:00Z` (whole seconds: windows are aligned to seconds).
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Endpoint {
    /// The `$filter` for the window `[start, end]`, unencoded.
    pub fn filter(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let f = self.time_field;
        let mut s = match self.ops {
            TimeOps::GeLe => format!("{f} ge {} and {f} le {}", stamp(start), stamp(end)),
            TimeOps::GtLt => {
                let second = TimeDelta::seconds(1);
                format!(
                    "{f} gt {} and {f} lt {}",
                    stamp(start - second),
                    stamp(end + second)
                )
            }
        };
        if let Some(extra) = self.extra_filter {
            s.push_str(" and ");
            s.push_str(extra);
        }
        s
    }

    /// The first page's URL for the window `[start, end]` (`base` is the Graph endpoint).
    pub fn url(&self, base: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let mut url = format!(
            "{}/{}/{}?$filter={}",
            base.trim_end_matches('/'),
            self.version.as_str(),
            self.path,
            encode(&self.filter(start, end))
        );
        if let Some(top) = self.top {
            url.push_str(&format!("&$top={top}"));
        }
        url
    }

    /// The permissions, joined for messages.
    pub fn permissions_text(&self) -> String {
        self.permissions.join(" and ")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (spaces as `%20`, never `+`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
