//! The top-level configuration: parse (serde, unknown keys rejected) -> validate (every problem at once, each
//! named by its path, no I/O) -> [`Config`], from which the pipeline is built.

mod raw;
mod resolved;
#[cfg(test)]
mod tests;
mod validate;

pub use raw::*;
pub use resolved::*;

/// One configuration problem, named by its path (`sources[0].paths`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Where in the config (`archive.retention.SignInLogs.days`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Parses a config file's text. Syntax errors and unknown keys are reported with their line.
pub fn parse(text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text)
        .map_err(|e| ConfigError::new("config", e.to_string().trim_end().to_owned()))
}

/// The commented config `entrail init` writes: every key, with its default.
pub const EXAMPLE_CONFIG: &str = include_str!("example.toml");
