//! Lake sink configuration (`[[sinks]] type = "lake"`): deserialized with `deny_unknown_fields`, durations as
//! `"30s"` or seconds, checked by [`LakeConfig::validate`] with every problem reported at once and no I/O.

use crate::util::{ConfigError, duration, is_loopback_host, resolve_categories};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Lake sink settings: where the archive's Parquet files are replicated to, and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// Sink name; its progress file is `<data_dir>/lake/<id>.json`.
    pub id: String,
    /// The object store (`type = "azure" | "s3" | "local"`).
    pub target: LakeTarget,
    /// Key prefix inside the container, bucket or directory (`entrail` gives `entrail/SigninLogs/day=.../...`);
    /// empty: the files sit at the top.
    #[serde(default)]
    pub prefix: String,
    /// Only these categories (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Delete lake files when retention deletes them from the archive (default false: a lake usually keeps
    /// longer). Files merged away by compaction are always deleted, after their merged file is uploaded.
    #[serde(default)]
    pub mirror_deletions: bool,
    /// Files at least this many MiB go up as a multipart upload, read from disk in parts (default 64).
    #[serde(default = "default_multipart_mib")]
    pub multipart_threshold_mib: u64,
    /// Most files uploaded in one run (0: no limit); the rest wait for the next run.
    #[serde(default)]
    pub max_files_per_run: usize,
    /// Timeout of one request (default `60s`).
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Retries of a failed request inside one run, with exponential backoff and jitter (default 10).
    #[serde(default = "default_retry_max")]
    pub retry_max: usize,
    /// Longest time spent retrying one request (default `3m`); then the run fails as transient.
    #[serde(default = "default_retry_timeout", deserialize_with = "duration")]
    pub retry_timeout: Duration,
    /// First backoff between retries (default `100ms`, doubling up to 15 s).
    #[serde(default = "default_retry_backoff", deserialize_with = "duration")]
    pub retry_backoff: Duration,
}

/// Where the lake lives (`type = "azure"`, ...).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LakeTarget {
    /// Azure Blob Storage (or Azurite, with `endpoint = "http://127.0.0.1:10000/devstoreaccount1"`).
    Azure {
        /// Storage account name.
        account: String,
        /// Container (must exist).
        container: String,
        /// Blob endpoint; default `https://<account>.blob.core.windows.net`. `http://` only on loopback.
        endpoint: Option<String>,
        /// Shared key (never printed).
        access_key: Option<SecretString>,
        /// SAS token, with or without the leading `?` (never printed).
        sas_token: Option<SecretString>,
        /// Entra app (client credentials): tenant.
        tenant_id: Option<String>,
        /// Entra app: client id (also the user-assigned managed identity, with `managed_identity`).
        client_id: Option<String>,
        /// Entra app: client secret (never printed).
        client_secret: Option<SecretString>,
        /// Use the managed identity of the machine (`client_id` picks a user-assigned one).
        #[serde(default)]
        managed_identity: bool,
    },
    /// Amazon S3 or an S3-compatible store.
    S3 {
        /// Bucket (must exist).
        bucket: String,
        /// Region (`eu-west-1`).
        region: String,
        /// Endpoint for S3-compatible stores; `http://` only on loopback.
        endpoint: Option<String>,
        /// Access key id; without it the credentials come from the environment (`AWS_ACCESS_KEY_ID`,
        /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, web identity, ECS container credentials), else the
        /// EC2 instance metadata.
        access_key_id: Option<String>,
        /// Secret access key (never printed).
        secret_access_key: Option<SecretString>,
        /// Session token of temporary credentials (STS), sent as `x-amz-security-token` (never printed);
        /// needs `access_key_id`.
        session_token: Option<SecretString>,
        /// Virtual-hosted-style requests (`https://<bucket>.<endpoint host>/<key>`) instead of path-style
        /// (`<endpoint>/<bucket>/<key>`, the default, which every S3-compatible store accepts).
        #[serde(default)]
        virtual_hosted_style: bool,
    },
    /// A local (or mounted) directory.
    Local {
        /// The directory (created when missing).
        path: PathBuf,
    },
}

impl std::fmt::Debug for LakeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LakeTarget::Azure {
                account,
                container,
                endpoint,
                ..
            } => f
                .debug_struct("Azure")
                .field("account", account)
                .field("container", container)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
            LakeTarget::S3 {
                bucket,
                region,
                endpoint,
                ..
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
            LakeTarget::Local { path } => f.debug_struct("Local").field("path", path).finish(),
        }
    }
}

impl LakeTarget {
    /// A short description without credentials (`azure://account/container`), kept in the progress file: when
    /// the target changes, every file is uploaded again.
    pub fn describe(&self) -> String {
        match self {
            LakeTarget::Azure {
                account,
                container,
                endpoint,
                ..
            } => match endpoint {
                Some(e) => format!(
                    "azure://{account}/{container} at {}",
                    e.trim_end_matches('/')
                ),
                None => format!("azure://{account}/{container}"),
            },
            LakeTarget::S3 {
                bucket, endpoint, ..
            } => match endpoint {
                Some(e) => format!("s3://{bucket} at {}", e.trim_end_matches('/')),
                None => format!("s3://{bucket}"),
            },
            LakeTarget::Local { path } => format!("file://{}", path.display()),
        }
    }
}

const fn default_multipart_mib() -> u64 {
    64
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
const fn default_retry_max() -> usize {
    10
}
const fn default_retry_timeout() -> Duration {
    Duration::from_secs(180)
}
const fn default_retry_backoff() -> Duration {
    Duration::from_millis(100)
}

impl LakeConfig {
    /// A configuration with every default.
    pub fn new(id: impl Into<String>, target: LakeTarget) -> LakeConfig {
        LakeConfig {
            id: id.into(),
            target,
            prefix: String::new(),
            categories: Vec::new(),
            mirror_deletions: false,
            multipart_threshold_mib: default_multipart_mib(),
            max_files_per_run: 0,
            request_timeout: default_request_timeout(),
            retry_max: default_retry_max(),
            retry_timeout: default_retry_timeout(),
            retry_backoff: default_retry_backoff(),
        }
    }

    /// The prefix without leading or trailing `/`.
    pub fn clean_prefix(&self) -> &str {
        self.prefix.trim_matches('/')
    }

    /// Checks everything that can be checked without I/O; every problem at once.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.id.trim().is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            errors.push(ConfigError::new(
                "id",
                "must be letters, digits, '-', '_' or '.' (it names the progress file)",
            ));
        }
        let prefix = self.clean_prefix();
        if prefix
            .split('/')
            .any(|p| (p.is_empty() && !prefix.is_empty()) || p == "." || p == "..")
            || prefix.contains('\\')
        {
            errors.push(ConfigError::new(
                "prefix",
                format!(
                    "{:?} must be plain path segments separated by '/'",
                    self.prefix
                ),
            ));
        }
        resolve_categories(&self.categories, &mut errors);
        if !(5..=4096).contains(&self.multipart_threshold_mib) {
            errors.push(ConfigError::new(
                "multipart_threshold_mib",
                format!("must be 5..=4096, got {}", self.multipart_threshold_mib),
            ));
        }
        if self.request_timeout < Duration::from_secs(1) {
            errors.push(ConfigError::new("request_timeout", "must be at least 1s"));
        }
        if self.retry_backoff.is_zero() || self.retry_backoff > Duration::from_secs(60) {
            errors.push(ConfigError::new("retry_backoff", "must be 1ms..=60s"));
        }
        validate_target(&self.target, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_endpoint(endpoint: &Option<String>, errors: &mut Vec<ConfigError>) {
    let Some(e) = endpoint else { return };
    let Some((scheme, rest)) = e.split_once("://") else {
        errors.push(ConfigError::new(
            "target.endpoint",
            format!("{e:?} is not a URL"),
        ));
        return;
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h,
        _ => host_port,
    };
    match scheme {
        "https" if !host.is_empty() => {}
        "http" if is_loopback_host(host) => {}
        "http" => errors.push(ConfigError::new(
            "target.endpoint",
            "http:// (no TLS) is only allowed for 127.0.0.1, ::1 or localhost",
        )),
        _ => errors.push(ConfigError::new(
            "target.endpoint",
            format!("{e:?} must be an https:// URL"),
        )),
    }
}

fn validate_target(target: &LakeTarget, errors: &mut Vec<ConfigError>) {
    match target {
        LakeTarget::Azure {
            account,
            container,
            endpoint,
            access_key,
            sas_token,
            tenant_id,
            client_id,
            client_secret,
            managed_identity,
        } => {
            if account.is_empty() {
                errors.push(ConfigError::new("target.account", "must not be empty"));
            }
            let valid_container = (3..=63).contains(&container.len())
                && container
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !container.starts_with('-');
            if !valid_container {
                errors.push(ConfigError::new(
                    "target.container",
                    format!("{container:?} is not a container name (3-63 of a-z, 0-9, '-')"),
                ));
            }
            check_endpoint(endpoint, errors);
            let methods = [
                access_key.is_some(),
                sas_token.is_some(),
                client_secret.is_some(),
                *managed_identity,
            ]
            .iter()
            .filter(|m| **m)
            .count();
            if methods != 1 {
                errors.push(ConfigError::new(
                    "target",
                    "set exactly one of access_key, sas_token, client_secret (with tenant_id and client_id) or managed_identity = true",
                ));
            }
            if access_key
                .as_ref()
                .is_some_and(|k| k.expose_secret().is_empty())
            {
                errors.push(ConfigError::new("target.access_key", "must not be empty"));
            }
            if client_secret.is_some() && (tenant_id.is_none() || client_id.is_none()) {
                errors.push(ConfigError::new(
                    "target.client_secret",
                    "needs tenant_id and client_id",
                ));
            }
        }
        LakeTarget::S3 {
            bucket,
            region,
            endpoint,
            access_key_id,
            secret_access_key,
            session_token,
            virtual_hosted_style: _,
        } => {
            if !(3..=63).contains(&bucket.len()) || bucket.contains('/') {
                errors.push(ConfigError::new(
                    "target.bucket",
                    format!("{bucket:?} is not a bucket name"),
                ));
            }
            if region.is_empty() {
                errors.push(ConfigError::new("target.region", "must not be empty"));
            }
            check_endpoint(endpoint, errors);
            if access_key_id.is_some() != secret_access_key.is_some() {
                errors.push(ConfigError::new(
                    "target.secret_access_key",
                    "access_key_id and secret_access_key go together",
                ));
            }
            if session_token.is_some() && access_key_id.is_none() {
                errors.push(ConfigError::new(
                    "target.session_token",
                    "needs access_key_id and secret_access_key",
                ));
            }
            if access_key_id.as_ref().is_some_and(|k| k.trim().is_empty())
                || secret_access_key
                    .as_ref()
                    .is_some_and(|k| k.expose_secret().is_empty())
            {
                errors.push(ConfigError::new(
                    "target.access_key_id",
                    "access_key_id and secret_access_key must not be empty",
                ));
            }
        }
        LakeTarget::Local { path } => {
            if path.as_os_str().is_empty() {
                errors.push(ConfigError::new("target.path", "must not be empty"));
            }
        }
    }
}
