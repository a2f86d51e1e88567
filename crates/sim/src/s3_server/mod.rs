//! A loopback S3-compatible server (path-style, in memory) implementing the REST subset `object_store`'s
//! `AmazonS3` client uses, as the AWS S3 API reference documents it, so the S3 lake target is tested without
//! MinIO or AWS:
//!
//! - `PUT /{bucket}/{key}` (PutObject): `Content-MD5` and `x-amz-checksum-sha256` checked when sent
//!   (`BadDigest`), `If-None-Match: *` (412 `PreconditionFailed` when the key exists) and `If-Match`, the
//!   MD5 `ETag` returned;
//! - `GET` / `HEAD /{bucket}/{key}` (GetObject, HeadObject): `Range: bytes=a-b | a- | -n` (206 with
//!   `Content-Range`, 416 `InvalidRange`), `If-Match` / `If-None-Match`, 404 `NoSuchKey` (XML error body on
//!   GET, none on HEAD);
//! - `DELETE /{bucket}/{key}` (DeleteObject, 204 even when absent) and `POST /{bucket}?delete`
//!   (DeleteObjects, `Content-MD5` or a checksum header required);
//! - `GET /{bucket}?list-type=2` (ListObjectsV2): `prefix`, `delimiter` (`CommonPrefixes`), `max-keys` (default
//!   and cap 1000, counting keys and prefixes), `continuation-token` / `NextContinuationToken`, `start-after`,
//!   `KeyCount`, `IsTruncated`;
//! - multipart upload: CreateMultipartUpload (`POST ?uploads`), UploadPart (`PUT ?partNumber=&uploadId=`),
//!   CompleteMultipartUpload (`POST ?uploadId=` with the XML part list: `InvalidPart`, `InvalidPartOrder`,
//!   `EntityTooSmall` for a non-last part under 5 MiB, `If-None-Match: *`), AbortMultipartUpload
//!   (`DELETE ?uploadId=`), 404 `NoSuchUpload`; the multipart `ETag` is `md5(md5(part1)..md5(partN))-N`.
//!
//! Every request must carry an AWS Signature Version 4 `Authorization` header for the configured access key,
//! region and the `s3` service (and the session token, when one is configured), which is verified
//! (canonical request, signing key, HMAC-SHA256; see [`auth`]): a wrong secret gets 403 `SignatureDoesNotMatch`, an unknown key 403 `InvalidAccessKeyId`, a
//! signed payload hash that does not match the body 400 `XAmzContentSHA256Mismatch`. [`S3Server::inject`]
//! makes the next requests fail (503 `SlowDown`, 500 `InternalError`) for retry and outage tests. Other
//! operations (ListBuckets, CopyObject, ListObjects v1, ...) answer 501 `NotImplemented`.

pub mod auth;
mod handlers;
mod list;
mod md5;
mod multipart;
mod xml;

use axum::Router;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use md5::md5;
pub use xml::S3Error;

/// S3's smallest part other than the last one of a multipart upload (5 MiB).
pub const MIN_PART_BYTES: usize = 5 << 20;
/// S3's default and largest ListObjectsV2 page.
pub const MAX_KEYS: usize = 1000;
/// The largest request body the server accepts (it keeps objects in memory).
pub const MAX_BODY_BYTES: usize = 1 << 30;

/// Credentials, region and buckets of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3ServerConfig {
    /// The only access key id accepted.
    pub access_key_id: String,
    /// Its secret access key.
    pub secret_access_key: String,
    /// When set, every request must carry this `x-amz-security-token` (temporary credentials); otherwise
    /// 400 `InvalidToken`.
    pub session_token: Option<String>,
    /// The region requests must be signed for.
    pub region: String,
    /// Buckets that exist (others answer 404 `NoSuchBucket`).
    pub buckets: Vec<String>,
}

impl Default for S3ServerConfig {
    /// The example credentials of the AWS documentation, `us-east-1`, one bucket `lake`.
    fn default() -> Self {
        S3ServerConfig {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
            region: "us-east-1".to_owned(),
            buckets: vec!["lake".to_owned()],
        }
    }
}

/// The error a fault answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 503 `SlowDown` ("Please reduce your request rate").
    SlowDown,
    /// 500 `InternalError`.
    InternalError,
}

/// Injected failures: of the requests it applies to, the first `skip` pass, the next `count` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What the failing requests get.
    pub kind: FaultKind,
    /// Requests that still pass first.
    pub skip: u64,
    /// Requests that then fail (`u64::MAX`: until [`S3Server::clear_faults`]).
    pub count: u64,
    /// Only writes (PUT, POST, DELETE) count and fail; reads pass.
    pub writes_only: bool,
}

impl Fault {
    /// The next `count` requests get 503 `SlowDown`.
    pub fn slow_down(count: u64) -> Fault {
        Fault {
            kind: FaultKind::SlowDown,
            skip: 0,
            count,
            writes_only: false,
        }
    }

    /// Every request gets 503 `SlowDown` until the faults are cleared.
    pub fn outage() -> Fault {
        Fault::slow_down(u64::MAX)
    }
}

/// What the server counted.
#[derive(Debug, Default)]
pub struct S3ServerStats {
    /// Requests received (all, failed ones included).
    pub requests: AtomicU64,
    /// PutObject requests that stored an object.
    pub puts: AtomicU64,
    /// GetObject / HeadObject requests answered with the object.
    pub gets: AtomicU64,
    /// ListObjectsV2 pages served.
    pub lists: AtomicU64,
    /// Objects deleted (DeleteObject, DeleteObjects).
    pub deletes: AtomicU64,
    /// Parts stored by UploadPart.
    pub parts: AtomicU64,
    /// Multipart uploads completed.
    pub completed_uploads: AtomicU64,
    /// Multipart uploads aborted.
    pub aborted_uploads: AtomicU64,
    /// Requests refused by the signature check.
    pub auth_failures: AtomicU64,
    /// Requests failed by an injected fault.
    pub faults: AtomicU64,
}

impl S3ServerStats {
    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// One stored object.
#[derive(Debug, Clone)]
struct Object {
    data: Bytes,
    /// With the quotes, as S3 sends it.
    etag: String,
    modified: DateTime<Utc>,
    content_type: Option<String>,
}

/// One part of a multipart upload.
#[derive(Debug, Clone)]
struct Part {
    data: Bytes,
    md5: [u8; 16],
}

/// A multipart upload in progress.
#[derive(Debug)]
struct Upload {
    bucket: String,
    key: String,
    parts: BTreeMap<u32, Part>,
    content_type: Option<String>,
}

/// Buckets, objects and uploads.
#[derive(Debug, Default)]
struct Store {
    buckets: BTreeMap<String, BTreeMap<String, Object>>,
    uploads: HashMap<String, Upload>,
    next_upload: u64,
}

/// The fault plan and how far it got.
#[derive(Debug, Default)]
struct FaultState {
    plan: Option<Fault>,
    seen: u64,
}

struct App {
    config: S3ServerConfig,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    stats: S3ServerStats,
}

impl App {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this request fails by an injected fault (and counts it).
    fn fault_for(&self, write: bool) -> Option<FaultKind> {
        let mut f = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let plan = f.plan?;
        if plan.writes_only && !write {
            return None;
        }
        let n = f.seen;
        f.seen = f.seen.saturating_add(1);
        (n >= plan.skip && n - plan.skip < plan.count).then_some(plan.kind)
    }
}

/// The running server; stops when dropped.
pub struct S3Server {
    port: u16,
    app: Arc<App>,
    stop: watch::Sender<bool>,
}

impl S3Server {
    /// Serves `config`'s (empty) buckets on a free loopback port (call inside a Tokio runtime).
    pub async fn start(config: S3ServerConfig) -> std::io::Result<S3Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let store = Store {
            buckets: config
                .buckets
                .iter()
                .map(|b| (b.clone(), BTreeMap::new()))
                .collect(),
            ..Store::default()
        };
        let app = Arc::new(App {
            config,
            store: Mutex::new(store),
            faults: Mutex::default(),
            stats: S3ServerStats::default(),
        });
        let router = Router::new()
            .fallback(handlers::handle)
            .with_state(app.clone());
        let stop = crate::serve::serve_until_stopped(listener, router);
        Ok(S3Server { port, app, stop })
    }

    /// The endpoint, `http://127.0.0.1:<port>` (path-style: `<endpoint>/<bucket>/<key>`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The configuration (credentials included).
    pub fn config(&self) -> &S3ServerConfig {
        &self.app.config
    }

    /// What was served so far.
    pub fn stats(&self) -> &S3ServerStats {
        &self.app.stats
    }

    /// Replaces the fault plan (counting starts again).
    pub fn inject(&self, fault: Fault) {
        let mut f = self.app.faults.lock().unwrap_or_else(|p| p.into_inner());
        *f = FaultState {
            plan: Some(fault),
            seen: 0,
        };
    }

    /// Removes the fault plan: every request is served again.
    pub fn clear_faults(&self) {
        let mut f = self.app.faults.lock().unwrap_or_else(|p| p.into_inner());
        *f = FaultState::default();
    }

    /// Stores an object directly (no request), e.g. to fill a bucket for a listing test.
    pub fn insert(&self, bucket: &str, key: &str, data: impl Into<Bytes>) {
        let data = data.into();
        let object = handlers::new_object(data, None);
        self.app
            .store()
            .buckets
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), object);
    }

    /// The content of an object, read directly.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Bytes> {
        let store = self.app.store();
        Some(store.buckets.get(bucket)?.get(key)?.data.clone())
    }

    /// Every key of a bucket with its size, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<(String, u64)> {
        self.app
            .store()
            .buckets
            .get(bucket)
            .map(|b| {
                b.iter()
                    .map(|(k, o)| (k.clone(), o.data.len() as u64))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn pending_uploads(&self) -> usize {
        self.app.store().uploads.len()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_client;
