//! Request dispatch of the S3 server (faults, signature check, path-style bucket and key) and the object
//! operations; listing is in `list.rs`, multipart upload in `multipart.rs`.

use super::auth::{self, Expected};
use super::md5::md5;
use super::xml::{NS, S3Error, elements, escape, hex, percent_decode, query_pairs, unescape};
use super::{App, FaultKind, MAX_BODY_BYTES, Object};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(super) type Reply = Result<Response, S3Error>;

pub(super) fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> S3Error {
    S3Error::new(status, code, message)
}

pub(super) fn not_implemented(what: &str) -> S3Error {
    err(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        format!("{what} is not implemented by this server"),
    )
}

pub(super) fn no_such_key() -> S3Error {
    err(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
    )
}

pub(super) fn no_such_upload() -> S3Error {
    err(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified multipart upload does not exist.",
    )
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A new object with its MD5 `ETag`.
pub(super) fn new_object(data: Bytes, content_type: Option<String>) -> Object {
    Object {
        etag: format!("\"{}\"", hex(&md5(&data))),
        data,
        modified: Utc::now(),
        content_type,
    }
}

pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn same_etag(a: &str, b: &str) -> bool {
    a.trim().trim_matches('"') == b.trim().trim_matches('"')
}

/// Every request: faults, body, signature, bucket, then the operation.
pub(super) async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    app.stats.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let write = !matches!(method, Method::GET | Method::HEAD);
    if let Some(kind) = app.fault_for(write) {
        app.stats.faults.fetch_add(1, Ordering::Relaxed);
        let e = match kind {
            FaultKind::SlowDown => err(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            ),
            FaultKind::InternalError => err(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
        };
        return e.response(&raw_path);
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return err(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "the request body could not be read (or is over the server's limit)",
            )
            .response(&raw_path);
        }
    };
    let expected = Expected {
        access_key_id: &app.config.access_key_id,
        secret_access_key: &app.config.secret_access_key,
        region: &app.config.region,
        now: Utc::now(),
    };
    if let Err(e) = auth::verify(
        &expected,
        method.as_str(),
        &raw_path,
        &raw_query,
        &parts.headers,
        &body,
    ) {
        app.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        return e.response(&raw_path);
    }
    if let Some(token) = &app.config.session_token
        && header_str(&parts.headers, "x-amz-security-token") != Some(token.as_str())
    {
        app.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        return err(
            StatusCode::BAD_REQUEST,
            "InvalidToken",
            "The provided token is malformed or otherwise invalid.",
        )
        .response(&raw_path);
    }
    let decoded = percent_decode(&raw_path);
    let path = decoded.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let query = query_pairs(&raw_query);
    let result = if bucket.is_empty() {
        Err(not_implemented("ListBuckets"))
    } else if !app.store().buckets.contains_key(bucket) {
        Err(err(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ))
    } else {
        let req = Req {
            app: &app,
            method: &method,
            bucket,
            key,
            query: &query,
            headers: &parts.headers,
            body,
        };
        req.dispatch()
    };
    result.unwrap_or_else(|e| e.response(&raw_path))
}

pub(super) struct Req<'a> {
    pub(super) app: &'a App,
    pub(super) method: &'a Method,
    pub(super) bucket: &'a str,
    pub(super) key: &'a str,
    pub(super) query: &'a [(String, String)],
    pub(super) headers: &'a HeaderMap,
    pub(super) body: Bytes,
}

impl Req<'_> {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn dispatch(&self) -> Reply {
        let m = self.method;
        if self.key.is_empty() {
            return match () {
                _ if m == Method::GET && self.param("list-type") == Some("2") => self.list(),
                _ if m == Method::POST && self.param("delete").is_some() => self.delete_objects(),
                _ if m == Method::HEAD => Ok(StatusCode::OK.into_response()),
                _ => Err(not_implemented("this bucket operation")),
            };
        }
        if self.headers.contains_key("x-amz-copy-source") {
            return Err(not_implemented("CopyObject / UploadPartCopy"));
        }
        match () {
            _ if m == Method::POST && self.param("uploads").is_some() => self.create_upload(),
            _ if m == Method::PUT && self.param("uploadId").is_some() => self.upload_part(),
            _ if m == Method::POST && self.param("uploadId").is_some() => self.complete_upload(),
            _ if m == Method::DELETE && self.param("uploadId").is_some() => self.abort_upload(),
            _ if m == Method::PUT => self.put_object(),
            _ if m == Method::GET || m == Method::HEAD => self.get_object(),
            _ if m == Method::DELETE => self.delete_object(),
            _ => Err(not_implemented("this object operation")),
        }
    }

    /// `Content-MD5` and `x-amz-checksum-sha256`, when sent, must match the body.
    pub(super) fn check_digests(&self) -> Result<(), S3Error> {
        if let Some(v) = header_str(self.headers, "content-md5") {
            let Some(sent) = BASE64.decode(v.trim()).ok().filter(|d| d.len() == 16) else {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                ));
            };
            if sent != md5(&self.body) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        if let Some(v) = header_str(self.headers, "x-amz-checksum-sha256")
            && BASE64.decode(v.trim()).ok().as_deref()
                != Some(Sha256::digest(&self.body).as_slice())
        {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The SHA256 you specified did not match the calculated checksum.",
            ));
        }
        Ok(())
    }

    /// `If-None-Match: *` and `If-Match` of a write against the current object.
    pub(super) fn check_write_conditions(&self, current: Option<&Object>) -> Result<(), S3Error> {
        let failed = || {
            err(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        };
        if let Some(v) = header_str(self.headers, "if-none-match") {
            if v.trim() != "*" {
                return Err(not_implemented("If-None-Match other than '*' on writes"));
            }
            if current.is_some() {
                return Err(failed());
            }
        }
        if let Some(v) = header_str(self.headers, "if-match") {
            match current {
                None => return Err(no_such_key()),
                Some(o) if !same_etag(&o.etag, v) => return Err(failed()),
                Some(_) => {}
            }
        }
        Ok(())
    }

    pub(super) fn content_type(&self) -> Option<String> {
        header_str(self.headers, "content-type").map(str::to_owned)
    }

    fn put_object(&self) -> Reply {
        self.check_digests()?;
        let object = new_object(self.body.clone(), self.content_type());
        let etag = object.etag.clone();
        {
            let mut store = self.app.store();
            let objects = store.buckets.entry(self.bucket.to_owned()).or_default();
            self.check_write_conditions(objects.get(self.key))?;
            objects.insert(self.key.to_owned(), object);
        }
        self.app.stats.puts.fetch_add(1, Ordering::Relaxed);
        Ok((StatusCode::OK, [(header::ETAG, etag)]).into_response())
    }

    fn get_object(&self) -> Reply {
        let object = self
            .app
            .store()
            .buckets
            .get(self.bucket)
            .and_then(|b| b.get(self.key))
            .cloned()
            .ok_or_else(no_such_key)?;
        if let Some(v) = header_str(self.headers, "if-match")
            && v.trim() != "*"
            && !same_etag(&object.etag, v)
        {
            return Err(err(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
        if let Some(v) = header_str(self.headers, "if-none-match")
            && (v.trim() == "*" || same_etag(&object.etag, v))
        {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, object.etag)]).into_response());
        }
        let size = object.data.len() as u64;
        let range = header_str(self.headers, "range");
        let (status, body, content_range) = match range {
            Some(r) => {
                let (start, end) = parse_range(r, size).ok_or_else(|| {
                    err(
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "InvalidRange",
                        "The requested range is not satisfiable",
                    )
                })?;
                let part = object
                    .data
                    .slice(usize::try_from(start).unwrap_or(0)..=usize::try_from(end).unwrap_or(0));
                (
                    StatusCode::PARTIAL_CONTENT,
                    part,
                    Some(format!("bytes {start}-{end}/{size}")),
                )
            }
            None => (StatusCode::OK, object.data.clone(), None),
        };
        self.app.stats.gets.fetch_add(1, Ordering::Relaxed);
        let length = body.len();
        let body = if *self.method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        let mut set = |name: header::HeaderName, value: String| {
            if let Ok(v) = value.parse() {
                h.insert(name, v);
            }
        };
        set(header::CONTENT_LENGTH, length.to_string());
        set(header::ETAG, object.etag.clone());
        set(header::LAST_MODIFIED, http_date(object.modified));
        set(header::ACCEPT_RANGES, "bytes".to_owned());
        set(
            header::CONTENT_TYPE,
            object
                .content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".to_owned()),
        );
        if let Some(cr) = content_range {
            set(header::CONTENT_RANGE, cr);
        }
        Ok(resp)
    }

    fn delete_object(&self) -> Reply {
        let removed = self
            .app
            .store()
            .buckets
            .get_mut(self.bucket)
            .and_then(|b| b.remove(self.key));
        if removed.is_some() {
            self.app.stats.deletes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn delete_objects(&self) -> Reply {
        if !self.headers.contains_key("content-md5")
            && !self
                .headers
                .keys()
                .any(|k| k.as_str().starts_with("x-amz-checksum-"))
        {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "Missing required header for this request: Content-MD5",
            ));
        }
        self.check_digests()?;
        let doc = String::from_utf8_lossy(&self.body);
        let keys: Vec<String> = elements(&doc, "Key").into_iter().map(unescape).collect();
        if keys.is_empty() || keys.len() > 1000 {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
            ));
        }
        let quiet = elements(&doc, "Quiet").first().map(|q| q.trim()) == Some("true");
        let mut x =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"{NS}\">");
        {
            let mut store = self.app.store();
            let objects = store.buckets.entry(self.bucket.to_owned()).or_default();
            for k in &keys {
                if objects.remove(k).is_some() {
                    self.app.stats.deletes.fetch_add(1, Ordering::Relaxed);
                }
                if !quiet {
                    let _ = write!(x, "<Deleted><Key>{}</Key></Deleted>", escape(k));
                }
            }
        }
        x.push_str("</DeleteResult>");
        Ok(xml_ok(x))
    }
}

pub(super) fn xml_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a size: the inclusive range, `None` when unsatisfiable.
pub(super) fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let last = size.checked_sub(1)?;
    if a.trim().is_empty() {
        let n: u64 = b.trim().parse().ok().filter(|n| *n > 0)?;
        return Some((size.saturating_sub(n), last));
    }
    let start: u64 = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => last,
        e => e.parse::<u64>().ok()?.min(last),
    };
    (start <= end).then_some((start, end))
}
