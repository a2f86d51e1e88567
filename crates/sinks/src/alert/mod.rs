//! Alert destinations: where alerts (OCSF Detection Findings, as JSON) go. The sinks crate does not know the
//! detection crate: a destination receives the alert's OCSF JSON and reads the OCSF attributes it needs.
//!
//! - `webhook`: generic JSON (the OCSF alert as is), Microsoft Teams (an Adaptive Card in a `message`
//!   attachment, as Teams Workflows and incoming webhooks accept) and Slack (Block Kit) message formats.
//! - `email`: SMTP with STARTTLS (`lettre`, rustls with ring, the server's certificate verified).
//! - `syslog`: one RFC 5424 message per alert with the OCSF JSON as MSG, over the syslog sink's transport.
//!
//! Like sinks, `deliver` returns `Ok` only once the receiver accepted the alert (a 2xx answer, SMTP `250`
//! after DATA, bytes flushed to the syslog socket); the caller marks the alert delivered only then, and
//! retries on `Err` by [`crate::ErrorKind`].
mod config;
mod email;
mod format;
mod syslog;
mod webhook;

pub use config::{
    AlertDestinationConfig, AlertSyslogConfig, EmailConfig, MinSeverity, WebhookConfig,
};
pub use email::EmailDestination;
pub(crate) use email::tls_refused;
pub use format::{AlertSummary, email_body, email_subject, slack_message, teams_message};
pub use syslog::SyslogDestination;
pub use webhook::{WebhookDestination, WebhookFormat};

use crate::SinkError;

/// Delivers alerts to one receiver.
pub trait AlertDestination: Send {
    /// The destination's name (its delivery cursor in the alert store).
    fn id(&self) -> &str;
    /// Whether this destination wants the alert (its `min_severity`, and updates only with `updates = true`).
    fn wants(&self, alert: &serde_json::Value) -> bool;
    /// Sends one alert; `Ok` once the receiver accepted it. Never retries on its own.
    fn deliver(&mut self, alert: &serde_json::Value) -> Result<(), SinkError>;
}

impl AlertDestinationConfig {
    /// Builds the destination (reads CA files; connects lazily).
    pub fn build(self) -> Result<Box<dyn AlertDestination>, SinkError> {
        Ok(match self {
            AlertDestinationConfig::Webhook(c) => {
                Box::new(WebhookDestination::new(c, WebhookFormat::Generic)?)
            }
            AlertDestinationConfig::Teams(c) => {
                Box::new(WebhookDestination::new(c, WebhookFormat::Teams)?)
            }
            AlertDestinationConfig::Slack(c) => {
                Box::new(WebhookDestination::new(c, WebhookFormat::Slack)?)
            }
            AlertDestinationConfig::Email(c) => Box::new(EmailDestination::new(c)?),
            AlertDestinationConfig::Syslog(c) => Box::new(SyslogDestination::new(c)?),
        })
    }
}

/// The filter every destination applies: `severity_id >= min` and, unless `updates`, creations only.
pub(crate) fn wanted(alert: &serde_json::Value, min: MinSeverity, updates: bool) -> bool {
    let sev = alert["severity_id"].as_u64().unwrap_or(0);
    let is_update = alert["activity_id"].as_u64() == Some(2);
    sev >= u64::from(min.id()) && (updates || !is_update)
}

/// Runs `fut` on `rt`, from a plain thread or from inside another runtime (on a scoped helper thread then,
/// since a runtime cannot block inside another).
pub(crate) fn block_on<T: Send>(
    rt: &tokio::runtime::Runtime,
    fut: impl std::future::Future<Output = Result<T, SinkError>> + Send,
) -> Result<T, SinkError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(fut)).join().unwrap_or_else(|_| {
                Err(SinkError::Config {
                    message: "delivery thread panicked".into(),
                })
            })
        })
    } else {
        rt.block_on(fut)
    }
}

/// A current-thread runtime for one destination's I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, SinkError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SinkError::Config {
            message: format!("starting the delivery runtime: {e}"),
        })
}

#[cfg(test)]
mod tests;
