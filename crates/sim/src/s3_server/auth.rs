//! AWS Signature Version 4 verification of the `Authorization` header, as the S3 API reference specifies it
//! ("Signature Calculations for the Authorization Header"): the server rebuilds the canonical request from
//! what it received (method, URI path as sent, query re-encoded and sorted, the signed headers' trimmed
//! values, the `x-amz-content-sha256` payload hash), the string to sign and the signing key
//! (`HMAC("AWS4" + secret, date) -> region -> "s3" -> "aws4_request"`), and compares signatures in constant
//! time.

use super::xml::{S3Error, hex, query_pairs, uri_encode};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use ring::hmac;
use sha2::{Digest, Sha256};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` of a payload that is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Largest difference between the request's time and the server's (S3: 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// The SigV4 signature (hex) of `string_to_sign` for a secret, a `YYYYMMDD` date, a region and a service.
pub fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    let k = hmac_sha256(&k, b"aws4_request");
    hex(&hmac_sha256(&k, string_to_sign.as_bytes()))
}

/// The canonical query string: every pair URI-encoded, sorted by name then value, `&`-joined.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request of a received request (`signed_headers`: `;`-separated lowercase names).
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    format!(
        "{method}\n{raw_path}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        canonical_query(raw_query)
    )
}

/// The parts of an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Access key id.
    pub access_key_id: String,
    /// Scope date `YYYYMMDD`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// Scope terminator (`aws4_request`).
    pub terminator: String,
    /// `;`-separated lowercase header names.
    pub signed_headers: String,
    /// Hex signature.
    pub signature: String,
}

fn malformed(message: impl Into<String>) -> S3Error {
    S3Error::new(
        StatusCode::BAD_REQUEST,
        "AuthorizationHeaderMalformed",
        message,
    )
}

/// Parses the `Authorization` header value.
pub fn parse_authorization(value: &str) -> Result<Authorization, S3Error> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                format!("unsupported Authorization type: only {ALGORITHM} is accepted"),
            )
        })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(malformed(format!("unexpected element {:?}", part.trim()))),
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(malformed(
            "Credential, SignedHeaders and Signature are required",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = scope.as_slice() else {
        return Err(malformed(format!(
            "the Credential {credential:?} is not <key>/<date>/<region>/<service>/aws4_request"
        )));
    };
    Ok(Authorization {
        access_key_id: (*key).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        terminator: (*terminator).to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}

/// What a request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// Its secret.
    pub secret_access_key: &'a str,
    /// The region.
    pub region: &'a str,
    /// The server's time.
    pub now: DateTime<Utc>,
}

/// Verifies a request's SigV4 `Authorization` header and payload hash; the S3 error it would get otherwise.
pub fn verify(
    expected: &Expected<'_>,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), S3Error> {
    let denied =
        |code: &'static str, message: &str| Err(S3Error::new(StatusCode::FORBIDDEN, code, message));
    let Some(value) = headers.get("authorization") else {
        return denied(
            "AccessDenied",
            "Access Denied: anonymous requests are not allowed",
        );
    };
    let auth = parse_authorization(&String::from_utf8_lossy(value.as_bytes()))?;
    if auth.access_key_id != expected.access_key_id {
        return denied(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        );
    }
    if auth.service != "s3" || auth.terminator != "aws4_request" {
        return Err(malformed(format!(
            "the service {:?} / terminator {:?} is wrong; expecting \"s3\" / \"aws4_request\"",
            auth.service, auth.terminator
        )));
    }
    if auth.region != expected.region {
        return Err(malformed(format!(
            "the region {:?} is wrong; expecting {:?}",
            auth.region, expected.region
        )));
    }
    let Some(amz_date) = headers
        .get("x-amz-date")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return denied(
            "AccessDenied",
            "AWS authentication requires a valid Date or x-amz-date header",
        );
    };
    let Ok(time) = NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ") else {
        return denied(
            "AccessDenied",
            "AWS authentication requires a valid Date or x-amz-date header",
        );
    };
    if !amz_date.starts_with(&auth.date) {
        return Err(malformed(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    if (expected.now - time.and_utc()).num_seconds().abs() > MAX_SKEW_SECS {
        return denied(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        );
    }
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    if !signed.contains(&"host") {
        return Err(malformed("the host header must be signed"));
    }
    if let Some(unsigned) = headers
        .keys()
        .map(|k| k.as_str())
        .find(|k| k.starts_with("x-amz-") && !signed.contains(k))
    {
        return denied(
            "AccessDenied",
            &format!("There were headers present in the request which were not signed: {unsigned}"),
        );
    }
    let Some(payload_hash) = headers
        .get("x-amz-content-sha256")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Missing required header for this request: x-amz-content-sha256",
        ));
    };
    if payload_hash != UNSIGNED_PAYLOAD {
        if payload_hash.starts_with("STREAMING-") {
            return Err(S3Error::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "aws-chunked (streaming) payloads are not supported by this server",
            ));
        }
        if payload_hash.len() != 64 || !payload_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest",
            ));
        }
        if !payload_hash.eq_ignore_ascii_case(&hex(&Sha256::digest(body))) {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
    }
    let canonical = canonical_request(
        method,
        raw_path,
        raw_query,
        headers,
        &auth.signed_headers,
        &payload_hash,
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}/{}/s3/aws4_request\n{}",
        auth.date,
        auth.region,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let want = signature(
        expected.secret_access_key,
        &auth.date,
        &auth.region,
        "s3",
        &string_to_sign,
    );
    let same = want.len() == auth.signature.len()
        && want
            .bytes()
            .zip(auth.signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return denied(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        );
    }
    Ok(())
}
