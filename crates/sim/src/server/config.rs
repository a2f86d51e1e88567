//! Configuration of the simulated tenant server: what to generate, registered applications, token lifetime,
//! throttling limits, faults and the simulated clock. [`ServerConfig::default`] gives small, fast test values.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Category, TenantConfig};

/// Every application permission (role) the served endpoints check.
pub const ALL_READ_PERMISSIONS: &[&str] = &[
    "AuditLog.Read.All",
    "Directory.Read.All",
    "IdentityRiskEvent.Read.All",
    "IdentityRiskyUser.Read.All",
    "IdentityRiskyServicePrincipal.Read.All",
    "IdentityRiskyAgent.Read.All",
    "NetworkAccess.Read.All",
];

/// Client id of the default application ([`ServerConfig::default`]).
pub const DEFAULT_CLIENT_ID: &str = "5b0f6ad1-3c2e-4f7a-9d8b-1e2f3a4b5c6d";
/// Client secret of the default application.
pub const DEFAULT_CLIENT_SECRET: &str = "sim-client-secret";
/// Client id of the default managed identity.
pub const DEFAULT_MI_CLIENT_ID: &str = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
/// Tenant id of the default configuration.
pub const DEFAULT_TENANT_ID: &str = "8f0c1d2e-3b4a-4c5d-9e6f-7a8b9c0d1e2f";

/// Everything the server simulates.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// What to generate (users, days, start, rates). Pre-generated at start: keep it test-sized.
    pub tenant: TenantConfig,
    /// GUID in the token URL (`/{tenant}/oauth2/v2.0/token`); other tenants get `AADSTS90002`.
    pub tenant_id: String,
    /// Registered applications (client-credentials flow).
    pub apps: Vec<AppConfig>,
    /// The identity the IMDS endpoint serves (`None`: IMDS answers "identity not found").
    pub managed_identity: Option<AppConfig>,
    /// Lifetime of issued access tokens, in real time (short in tests).
    pub token_lifetime: Duration,
    /// Throttling limits (real time).
    pub limits: Limits,
    /// Injected faults; all off by default.
    pub faults: Faults,
    /// The simulated clock.
    pub clock: ClockConfig,
    /// Categories to serve; `None` = every category Graph serves ([`super::GRAPH_CATEGORIES`]).
    pub categories: Option<Vec<Category>>,
    /// Azure Resource Manager: diagnostic settings state.
    pub arm: super::ArmConfig,
}

impl Default for ServerConfig {
    /// A 50-user, one-day tenant (seed 42, 2024-03-04), one app ([`DEFAULT_CLIENT_ID`] /
    /// [`DEFAULT_CLIENT_SECRET`], every read permission, no certificate), a managed identity, hour-long tokens,
    /// Graph's documented limits, no faults, clock at the end of the generated day running in real time.
    fn default() -> Self {
        ServerConfig {
            tenant: TenantConfig {
                users: 50,
                days: 1,
                ..TenantConfig::default()
            },
            tenant_id: DEFAULT_TENANT_ID.to_owned(),
            apps: vec![AppConfig {
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                secret: Some(DEFAULT_CLIENT_SECRET.to_owned()),
                certificate_pem: None,
                permissions: all_permissions(),
            }],
            managed_identity: Some(AppConfig {
                client_id: DEFAULT_MI_CLIENT_ID.to_owned(),
                secret: None,
                certificate_pem: None,
                permissions: all_permissions(),
            }),
            token_lifetime: Duration::from_secs(3599),
            limits: Limits::default(),
            faults: Faults::default(),
            clock: ClockConfig::default(),
            categories: None,
            arm: super::ArmConfig::default(),
        }
    }
}

/// [`ALL_READ_PERMISSIONS`] as owned strings.
pub fn all_permissions() -> Vec<String> {
    ALL_READ_PERMISSIONS
        .iter()
        .map(|p| (*p).to_owned())
        .collect()
}

/// A registered application (or the managed identity).
#[derive(Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Application (client) id.
    pub client_id: String,
    /// Accepted client secret, if the app has one.
    pub secret: Option<String>,
    /// PEM certificate whose key signs client assertions, if the app has one.
    pub certificate_pem: Option<String>,
    /// Granted application permissions, e.g. `AuditLog.Read.All`.
    pub permissions: Vec<String>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "**REDACTED**"))
            .field("certificate_pem", &self.certificate_pem.is_some())
            .field("permissions", &self.permissions)
            .finish()
    }
}

/// Throttling limits, counted in real time (wire-formats §3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Reports APIs (`auditLogs/*`, `networkAccess/logs/*`): requests per window per app per tenant.
    pub reports_per_window: u32,
    /// The reports window (10 s).
    pub reports_window: Duration,
    /// Identity protection (`identityProtection/*`): requests per window per tenant, all apps together.
    pub identity_protection_per_window: u32,
    /// The identity-protection window (1 s). Its 429s carry no `Retry-After`.
    pub identity_protection_window: Duration,
}

impl Default for Limits {
    /// 5 per 10 s per app for reports; 1 per second per tenant for identity protection.
    fn default() -> Self {
        Limits {
            reports_per_window: 5,
            reports_window: Duration::from_secs(10),
            identity_protection_per_window: 1,
            identity_protection_window: Duration::from_secs(1),
        }
    }
}

/// A real-time period in which every Graph request gets 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storm {
    /// Start, measured from the first Graph request the server receives.
    pub after: Duration,
    /// Length.
    pub duration: Duration,
}

/// Injected faults. All off by default; random choices come from `seed`, so a run with the same requests in the
/// same order sees the same faults.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Seed of every random fault decision.
    pub seed: u64,
    /// A 429 storm.
    pub storm: Option<Storm>,
    /// Fraction (0..=1) of Graph requests answered 500 or 503.
    pub server_error_rate: f64,
    /// Fraction of Graph requests whose connection is closed without a response.
    pub connection_reset_rate: f64,
    /// Fraction of Graph requests whose body is cut short (Content-Length larger than what is sent).
    pub truncated_body_rate: f64,
    /// Invalidate each issued token after it has fetched this many pages (401 on its next request).
    pub token_expiry_after_pages: Option<u32>,
    /// Every Nth issued `@odata.nextLink` fails once (503 or 500) on its first use.
    pub next_link_fail_every: Option<u32>,
    /// Fraction of records (by record seed) that become visible late: up to `late_max` after their event time.
    pub late_arrival_rate: f64,
    /// Largest late-arrival delay (sim time).
    pub late_max: Duration,
}

impl Default for Faults {
    /// Everything off; `late_max` 2 h.
    fn default() -> Self {
        Faults {
            seed: 1,
            storm: None,
            server_error_rate: 0.0,
            connection_reset_rate: 0.0,
            truncated_body_rate: 0.0,
            token_expiry_after_pages: None,
            next_link_fail_every: None,
            late_arrival_rate: 0.0,
            late_max: Duration::from_secs(2 * 3600),
        }
    }
}

/// The simulated clock at start.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockConfig {
    /// Sim time at server start; `None` = the end of the generated window (`tenant.end()`).
    pub start: Option<DateTime<Utc>>,
    /// Sim seconds per real second (1.0 = real time; 3600 = a simulated day in 24 s).
    pub speed: f64,
    /// Sim time where the clock stops, if any.
    pub end: Option<DateTime<Utc>>,
    /// Start frozen (only `set` / `advance` move it).
    pub frozen: bool,
}

impl Default for ClockConfig {
    /// Start at the end of the generated window, real-time speed, no end, running.
    fn default() -> Self {
        ClockConfig {
            start: None,
            speed: 1.0,
            end: None,
            frozen: false,
        }
    }
}
