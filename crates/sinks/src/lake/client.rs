//! All lake I/O: an `object_store` client for the target (Azure Blob, S3, local directory) with its retry
//! policy, and the upload of one archive file (single put, or multipart from disk for large files), verified
//! by hashing what was read against the manifest's xxh3-128 and by a `head` of the result.

use super::config::{LakeConfig, LakeTarget};
use crate::{ErrorKind, SinkError};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use secrecy::ExposeSecret;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3;

/// Part size of multipart uploads (Azure blocks, S3 parts; S3 needs at least 5 MiB).
const PART_BYTES: usize = 16 << 20;
/// Parts in flight at once during a multipart upload (bounds memory to about 4 parts).
const PARTS_IN_FLIGHT: usize = 4;

/// The retry class of an object store failure.
pub(crate) fn error_kind(e: &object_store::Error) -> ErrorKind {
    use object_store::Error as E;
    match e {
        E::Unauthenticated { .. } | E::PermissionDenied { .. } => ErrorKind::Auth,
        // A missing container or bucket: an operator must create it.
        E::NotFound { .. }
        | E::InvalidPath { .. }
        | E::NotSupported { .. }
        | E::NotImplemented { .. }
        | E::UnknownConfigurationKey { .. } => ErrorKind::Fatal,
        // S3 answers an expired or invalid session token with 400, which object_store reports as generic.
        other if is_token_refusal(&other.to_string()) => ErrorKind::Auth,
        _ => ErrorKind::Transient,
    }
}

/// Whether an error's text carries S3's 400 error codes for refused temporary credentials.
fn is_token_refusal(message: &str) -> bool {
    ["<Code>ExpiredToken</Code>", "<Code>InvalidToken</Code>"]
        .iter()
        .any(|c| message.contains(c))
}

/// The object store of a lake target, and where its files go.
pub(crate) struct LakeClient {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    target: String,
    multipart_threshold: u64,
}

impl LakeClient {
    /// Builds the client (no request is made).
    pub(crate) fn new(config: &LakeConfig) -> Result<LakeClient, SinkError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let target = config.target.describe();
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: config.retry_backoff,
                max_backoff: std::time::Duration::from_secs(15),
                base: 2.0,
            },
            max_retries: config.retry_max,
            retry_timeout: config.retry_timeout,
        };
        let options = ClientOptions::new()
            .with_timeout(config.request_timeout)
            .with_connect_timeout(std::time::Duration::from_secs(5).min(config.request_timeout));
        let built = |e: object_store::Error| SinkError::Config {
            message: format!("lake {target}: {e}"),
        };
        let store: Arc<dyn ObjectStore> = match &config.target {
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
                let mut b = MicrosoftAzureBuilder::new()
                    .with_account(account)
                    .with_container_name(container)
                    .with_retry(retry)
                    .with_client_options(options);
                if let Some(e) = endpoint {
                    b = b
                        .with_endpoint(e.trim_end_matches('/').to_owned())
                        .with_allow_http(e.starts_with("http://"));
                }
                if let Some(k) = access_key {
                    b = b.with_access_key(k.expose_secret());
                } else if let Some(s) = sas_token {
                    b = b.with_sas_authorization(sas_pairs(s.expose_secret()));
                } else if let (Some(secret), Some(tenant), Some(client)) =
                    (client_secret, tenant_id, client_id)
                {
                    b = b.with_client_secret_authorization(client, secret.expose_secret(), tenant);
                } else if *managed_identity && let Some(id) = client_id {
                    b = b.with_client_id(id);
                }
                Arc::new(b.build().map_err(built)?)
            }
            LakeTarget::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                session_token,
                virtual_hosted_style,
            } => {
                // Without a configured key, credentials come from the environment (keys, session token, web
                // identity, ECS container), else the instance metadata; explicit settings below win.
                let base = if access_key_id.is_some() {
                    AmazonS3Builder::new()
                } else {
                    AmazonS3Builder::from_env()
                };
                let mut b = base
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_retry(retry)
                    .with_client_options(options)
                    .with_virtual_hosted_style_request(*virtual_hosted_style);
                if let Some(e) = endpoint {
                    b = b
                        .with_endpoint(e.trim_end_matches('/'))
                        .with_allow_http(e.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (access_key_id, secret_access_key) {
                    b = b
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose_secret());
                    if let Some(token) = session_token {
                        b = b.with_token(token.expose_secret());
                    }
                }
                Arc::new(b.build().map_err(built)?)
            }
            LakeTarget::Local { path } => {
                std::fs::create_dir_all(path).map_err(|source| SinkError::Io {
                    target: path.display().to_string(),
                    source,
                })?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(path)
                        .map_err(built)?
                        .with_fsync(true),
                )
            }
        };
        Ok(LakeClient {
            store,
            prefix: config.clean_prefix().to_owned(),
            target,
            multipart_threshold: config.multipart_threshold_mib << 20,
        })
    }

    /// The target, for messages (no credentials).
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The object key of an archive-relative path.
    pub(crate) fn key(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn store_err(&self, action: &str, source: object_store::Error) -> SinkError {
        SinkError::ObjectStore {
            target: format!("{} ({action})", self.target),
            source: Box::new(source),
        }
    }

    /// Uploads the local file `local` as `rel`, checking that its content hashes to `xxh3_128` and has
    /// `bytes` bytes, then that the stored object has that size. Either put is atomic at the target (single
    /// put; multipart complete), so a reader never sees part of the file.
    pub(crate) async fn upload(
        &self,
        local: &Path,
        rel: &str,
        bytes: u64,
        xxh3_128: &str,
    ) -> Result<(), SinkError> {
        let key = self.key(rel);
        let io = |source| SinkError::Io {
            target: local.display().to_string(),
            source,
        };
        let mut file = std::fs::File::open(local).map_err(io)?;
        let mut hasher = Xxh3::new();
        let mut read = 0u64;
        if bytes < self.multipart_threshold {
            let buf = match model::limits::read_capped(&mut file, bytes) {
                Ok(buf) => buf,
                Err(model::limits::CappedReadError::Io(e)) => return Err(io(e)),
                Err(e @ model::limits::CappedReadError::TooLarge { .. }) => {
                    return Err(SinkError::Integrity {
                        path: local.display().to_string(),
                        message: format!(
                            "larger than the {bytes} bytes the archive manifest lists: {e}"
                        ),
                    });
                }
            };
            hasher.update(&buf);
            read = buf.len() as u64;
            check_content(local, bytes, xxh3_128, read, hasher.digest128())?;
            self.store
                .put(&key, PutPayload::from(buf))
                .await
                .map_err(|e| self.store_err("put", e))?;
        } else {
            let upload = self
                .store
                .put_multipart(&key)
                .await
                .map_err(|e| self.store_err("start multipart", e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; PART_BYTES];
            loop {
                let n = file.read(&mut buf).map_err(io)?;
                if n == 0 {
                    break;
                }
                let part = buf.get(..n).unwrap_or(&buf);
                hasher.update(part);
                read += n as u64;
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| self.store_err("upload part", e))?;
                writer.write(part);
            }
            // A file that changed since it was listed must not be published: abort instead of completing.
            if let Err(e) = check_content(local, bytes, xxh3_128, read, hasher.digest128()) {
                let _ = writer.abort().await;
                return Err(e);
            }
            writer
                .finish()
                .await
                .map_err(|e| self.store_err("complete multipart", e))?;
        }
        let meta = self
            .store
            .head(&key)
            .await
            .map_err(|e| self.store_err("head after put", e))?;
        if meta.size != bytes {
            return Err(SinkError::Protocol {
                target: self.target.clone(),
                message: format!(
                    "{key} has {} bytes after upload, expected {bytes}",
                    meta.size
                ),
            });
        }
        Ok(())
    }

    /// Deletes the object of `rel`; an object already gone counts as deleted.
    pub(crate) async fn delete(&self, rel: &str) -> Result<(), SinkError> {
        match self.store.delete(&self.key(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.store_err("delete", e)),
        }
    }

    /// The content of the object of `rel` (verification and tests).
    pub(crate) async fn fetch(&self, rel: &str) -> Result<Vec<u8>, SinkError> {
        let got = self
            .store
            .get(&self.key(rel))
            .await
            .map_err(|e| self.store_err("get", e))?;
        let bytes = got.bytes().await.map_err(|e| self.store_err("get", e))?;
        Ok(bytes.to_vec())
    }

    /// Every object under the prefix: archive-relative path and size, sorted by path.
    pub(crate) async fn list(&self) -> Result<Vec<(String, u64)>, SinkError> {
        let root = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut out = Vec::new();
        let mut pending = vec![root];
        while let Some(dir) = pending.pop() {
            let listed = self
                .store
                .list_with_delimiter(dir.as_ref())
                .await
                .map_err(|e| self.store_err("list", e))?;
            pending.extend(listed.common_prefixes.into_iter().map(Some));
            for m in listed.objects {
                let key = m.location.to_string();
                out.push((key.get(strip..).unwrap_or(&key).to_owned(), m.size));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Fails (fatal) when what was read is not the file the manifest lists.
fn check_content(
    local: &Path,
    bytes: u64,
    xxh3_128: &str,
    read: u64,
    digest: u128,
) -> Result<(), SinkError> {
    let actual = format!("{digest:032x}");
    if read != bytes || !actual.eq_ignore_ascii_case(xxh3_128) {
        return Err(SinkError::Integrity {
            path: local.display().to_string(),
            message: format!(
                "read {read} bytes with xxh3-128 {actual}; the archive manifest lists {bytes} bytes with {xxh3_128}"
            ),
        });
    }
    Ok(())
}

fn sas_pairs(token: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{}", token.trim_start_matches('?')))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}
