//! Azure Resource Manager client for diagnostic settings: the tenant's Entra settings
//! (`microsoft.aadiam`), subscriptions, and `Microsoft.Insights` settings of subscriptions (Activity Log) and
//! resources: list, get categories, put, delete.
//!
//! Tokens come from the Graph source's flows ([`crate::graph::GraphAuth`]: secret, certificate, managed or
//! workload identity, Azure CLI) with ARM's scope; plain http only to loopback (the simulated tenant).
mod client;
mod config;
mod error;
mod types;

pub use client::{
    AADIAM_API_VERSION, ArmClient, INSIGHTS_API_VERSION, SUBSCRIPTIONS_API_VERSION, put_body,
};
pub use config::{ARM_SCOPE, ArmClientConfig, DEFAULT_ARM_ENDPOINT, check_endpoint};
pub use error::{ArmError, ErrorKind};
pub use types::{
    DestinationKind, DiagnosticSetting, LogSetting, RetentionPolicy, SettingProperties,
    Subscription,
};

#[cfg(test)]
mod tests;
