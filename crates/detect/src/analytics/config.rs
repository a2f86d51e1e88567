//! Thresholds and windows of the built-in analytics (`EngineConfig::analytics`, `[detection.analytics]` in
//! `entrail.toml`), with the defaults documented in `docs/detections.md`.

use serde::{Deserialize, Serialize};

/// One problem found by [`AnalyticsConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct AnalyticsConfigError {
    /// The key, relative to the analytics section (`spray_accounts`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Thresholds and windows of the built-in analytics. Windows are in minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Password spray: distinct accounts failing on credentials from one IP address.
    pub spray_accounts: u32,
    /// Password spray window.
    pub spray_window_minutes: u32,
    /// Brute force: credential failures of one account.
    pub brute_force_failures: u32,
    /// Brute force window.
    pub brute_force_window_minutes: u32,
    /// MFA fatigue: denied or unanswered MFA prompts of one account.
    pub mfa_denials: u32,
    /// MFA fatigue window.
    pub mfa_window_minutes: u32,
    /// Multiple countries: distinct countries of one account's successful sign-ins.
    pub countries: u32,
    /// Multiple countries window.
    pub countries_window_minutes: u32,
    /// Success after failures: failures before the success.
    pub failures_before_success: u32,
    /// Success after failures window.
    pub failure_window_minutes: u32,
    /// Impossible travel: two sign-ins further apart than this in time are not compared.
    pub travel_window_minutes: u32,
    /// Impossible travel: faster than this between two sign-ins, km/h.
    pub travel_max_speed_kmh: f64,
    /// Impossible travel: closer than this is never impossible (IP geolocation is coarse), km.
    pub travel_min_distance_km: f64,
    /// Disabled or locked accounts: distinct such accounts tried from one IP address outside the tenant's
    /// named networks.
    pub disabled_accounts: u32,
    /// Disabled or locked accounts window.
    pub disabled_window_minutes: u32,
    /// High risk: one alert per user within this window.
    pub risk_suppress_minutes: u32,
    /// Credential added after admin consent: the credential must follow the consent within this window.
    pub consent_credential_window_minutes: u32,
    /// Also alert on a user adding the first credential of an application (usually routine).
    pub alert_first_app_credential: bool,
    /// Permissions that make a consent high-privilege (case ignored). Empty: the built-in list.
    pub high_privilege_permissions: Vec<String>,
    /// Accounts treated as privileged (UPNs, case ignored), besides those seen getting a directory role.
    pub privileged_users: Vec<String>,
    /// Authentication-method changes: an IP address first seen for the account less than this long ago
    /// is new (while older addresses are known).
    pub new_ip_minutes: u32,
    /// Cross-tenant access: partner tenant ids that may be added without an alert.
    pub allowed_partner_tenants: Vec<String>,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            spray_accounts: 5,
            spray_window_minutes: 20,
            brute_force_failures: 10,
            brute_force_window_minutes: 20,
            mfa_denials: 5,
            mfa_window_minutes: 10,
            countries: 3,
            countries_window_minutes: 60,
            failures_before_success: 5,
            failure_window_minutes: 20,
            travel_window_minutes: 24 * 60,
            travel_max_speed_kmh: 900.0,
            travel_min_distance_km: 500.0,
            disabled_accounts: 3,
            disabled_window_minutes: 60,
            risk_suppress_minutes: 24 * 60,
            consent_credential_window_minutes: 24 * 60,
            alert_first_app_credential: false,
            high_privilege_permissions: Vec::new(),
            privileged_users: Vec::new(),
            new_ip_minutes: 24 * 60,
            allowed_partner_tenants: Vec::new(),
        }
    }
}

/// Permissions that make a consent high-privilege when the configuration names none.
pub const HIGH_PRIVILEGE_PERMISSIONS: &[&str] = &[
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "MailboxSettings.ReadWrite",
    "Mail.ReadWrite.All",
    "Files.ReadWrite.All",
    "Sites.ReadWrite.All",
    "Sites.FullControl.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "RoleManagement.ReadWrite.Directory",
    "AppRoleAssignment.ReadWrite.All",
    "Application.ReadWrite.All",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "UserAuthenticationMethod.ReadWrite.All",
    "full_access_as_app",
    "full_access_as_user",
    "EWS.AccessAsUser.All",
];

const MINUTE: i64 = 60_000_000;

impl AnalyticsConfig {
    /// Every problem at once (no I/O).
    pub fn validate(&self) -> Result<(), Vec<AnalyticsConfigError>> {
        let mut errors = Vec::new();
        let mut positive = |path: &str, v: u32| {
            if v == 0 {
                errors.push(AnalyticsConfigError {
                    path: path.to_owned(),
                    message: "must be at least 1".to_owned(),
                });
            }
        };
        positive("spray_accounts", self.spray_accounts);
        positive("spray_window_minutes", self.spray_window_minutes);
        positive("brute_force_failures", self.brute_force_failures);
        positive(
            "brute_force_window_minutes",
            self.brute_force_window_minutes,
        );
        positive("mfa_denials", self.mfa_denials);
        positive("mfa_window_minutes", self.mfa_window_minutes);
        positive("countries", self.countries);
        positive("countries_window_minutes", self.countries_window_minutes);
        positive("failures_before_success", self.failures_before_success);
        positive("failure_window_minutes", self.failure_window_minutes);
        positive("travel_window_minutes", self.travel_window_minutes);
        positive("disabled_accounts", self.disabled_accounts);
        positive("disabled_window_minutes", self.disabled_window_minutes);
        positive("risk_suppress_minutes", self.risk_suppress_minutes);
        positive(
            "consent_credential_window_minutes",
            self.consent_credential_window_minutes,
        );
        positive("new_ip_minutes", self.new_ip_minutes);
        let mut real = |path: &str, v: f64| {
            if !(v.is_finite() && v > 0.0) {
                errors.push(AnalyticsConfigError {
                    path: path.to_owned(),
                    message: format!("must be a positive number, got {v}"),
                });
            }
        };
        real("travel_max_speed_kmh", self.travel_max_speed_kmh);
        real("travel_min_distance_km", self.travel_min_distance_km);
        for (i, p) in self.high_privilege_permissions.iter().enumerate() {
            if p.trim().is_empty() {
                errors.push(AnalyticsConfigError {
                    path: format!("high_privilege_permissions[{i}]"),
                    message: "must not be empty".to_owned(),
                });
            }
        }
        for (i, u) in self.privileged_users.iter().enumerate() {
            if !u.contains('@') {
                errors.push(AnalyticsConfigError {
                    path: format!("privileged_users[{i}]"),
                    message: format!("must be a user principal name, got {u:?}"),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A window in microseconds.
    pub(super) fn micros(minutes: u32) -> i64 {
        i64::from(minutes.max(1)) * MINUTE
    }

    /// The high-privilege permissions, lower-cased.
    pub(super) fn permissions(&self) -> Vec<String> {
        if self.high_privilege_permissions.is_empty() {
            HIGH_PRIVILEGE_PERMISSIONS
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect()
        } else {
            self.high_privilege_permissions
                .iter()
                .map(|p| p.trim().to_ascii_lowercase())
                .collect()
        }
    }
}
