//! The syslog sink runtime: encode the accepted records of a batch, then write them in one go.

use super::config::SyslogConfig;
use super::encode::Encoder;
use super::transport::Transport;
use crate::{Sink, SinkError};
use model::{Category, Record};

/// Sends records as syslog messages.
#[derive(Debug)]
pub struct SyslogSink {
    config: SyslogConfig,
    categories: Vec<Category>,
    encoder: Encoder,
    transport: Transport,
}

impl SyslogSink {
    /// Validates the configuration and builds the sink (reads the TLS PEM files; connects lazily).
    pub fn new(config: SyslogConfig) -> Result<SyslogSink, SinkError> {
        let categories = config
            .resolve()
            .map_err(|e| crate::util::config_failed(&e))?;
        let hostname = config
            .hostname
            .clone()
            .unwrap_or_else(crate::util::local_hostname);
        Ok(SyslogSink {
            encoder: Encoder::new(&config, &hostname),
            transport: Transport::new(&config)?,
            categories,
            config,
        })
    }

    /// The message `send` would write for `record` (no framing).
    pub fn encode(&self, record: &Record) -> String {
        self.encoder.encode(record)
    }
}

impl Sink for SyslogSink {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn accepts(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), SinkError> {
        let messages: Vec<String> = batch
            .iter()
            .filter(|r| self.accepts(r.category))
            .map(|r| self.encoder.encode(r))
            .collect();
        if messages.is_empty() {
            return Ok(());
        }
        let result = self.transport.send(&messages);
        if let Err(e) = &result {
            tracing::warn!(component = %self.config.id, error = %e, kind = ?e.kind(),
                "syslog batch failed; it will be retried");
        }
        result
    }
}
