//! Syslog destination: one RFC 5424 message per alert, MSGID `ALERT`, the OCSF JSON as MSG, over the syslog
//! sink's transport (UDP, TCP or TLS; delivered means written and flushed to the socket).

use super::config::AlertSyslogConfig;
use super::{AlertDestination, wanted};
use crate::SinkError;
use crate::syslog::transport::Transport;

/// Sends alerts as syslog messages.
#[derive(Debug)]
pub struct SyslogDestination {
    config: AlertSyslogConfig,
    hostname: String,
    max: usize,
    transport: Transport,
}

impl SyslogDestination {
    /// Validates the configuration and prepares the transport (reads TLS files; connects lazily).
    pub fn new(config: AlertSyslogConfig) -> Result<SyslogDestination, SinkError> {
        let sc = config.syslog_config();
        sc.validate().map_err(|e| crate::util::config_failed(&e))?;
        let hostname = config
            .hostname
            .clone()
            .unwrap_or_else(crate::util::local_hostname);
        Ok(SyslogDestination {
            hostname: crate::syslog::encode::header_token(&hostname, 255),
            max: sc.max_message_bytes(),
            transport: Transport::new(&sc)?,
            config,
        })
    }

    /// The message for `alert` (no framing): `<PRI>1 TIME HOST APP - ALERT - {json}`, cut to the limit.
    pub fn encode(&self, alert: &serde_json::Value) -> String {
        // OCSF severity to syslog: critical 2, high 3 (error), medium 4 (warning), low 5 (notice), else 6.
        let sev = match alert["severity_id"].as_u64().unwrap_or(0) {
            5.. => 2,
            4 => 3,
            3 => 4,
            2 => 5,
            _ => 6,
        };
        let pri = u32::from(self.config.facility) * 8 + sev;
        let time = alert["time"]
            .as_i64()
            .map(|ms| model::format_micros(ms.saturating_mul(1000)))
            .unwrap_or_else(|| "-".to_owned());
        let msg = format!(
            "<{pri}>1 {time} {} {} - ALERT - {}",
            self.hostname,
            crate::syslog::encode::header_token(&self.config.app_name, 48),
            serde_json::to_string(alert).unwrap_or_default()
        );
        crate::util::cut_with_marker(&msg, self.max)
    }
}

impl AlertDestination for SyslogDestination {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn wants(&self, alert: &serde_json::Value) -> bool {
        wanted(alert, self.config.min_severity, self.config.updates)
    }

    fn deliver(&mut self, alert: &serde_json::Value) -> Result<(), SinkError> {
        let message = self.encode(alert);
        let result = self.transport.send(&[message]);
        if let Err(e) = &result {
            tracing::warn!(component = %self.config.id, error = %e, kind = ?e.kind(),
                "alert syslog delivery failed; it will be retried");
        }
        result
    }
}
