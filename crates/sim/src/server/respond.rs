//! Response builders: Graph error bodies (wire-formats §3.8), identity-platform error bodies (§4), JSON,
//! RFC 7231 dates in sim time, request ids.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::json;

/// RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A GUID-looking id from a counter and a salt (request ids, trace ids).
pub(crate) fn guid(n: u64, salt: u64) -> String {
    let a = crate::util::mix2(n, salt);
    let b = crate::util::mix2(a, n ^ 0x5EED);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    bytes_response(status, body.to_string().into_bytes())
}

/// A JSON response from bytes.
pub(crate) fn bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// A Graph error: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
pub(crate) fn graph_error(
    status: StatusCode,
    code: &str,
    message: &str,
    now: DateTime<Utc>,
    request_id: &str,
) -> Response {
    let body = json!({"error": {
        "code": code,
        "message": message,
        "innerError": {
            "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": request_id,
        }
    }});
    let mut r = json_response(status, &body);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("request-id", v);
    }
    r
}

/// An identity-platform (AADSTS) error body.
pub(crate) fn aad_error(
    status: StatusCode,
    error: &str,
    code: u32,
    message: &str,
    now: DateTime<Utc>,
    trace: &str,
) -> Response {
    let ts = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message} Trace ID: {trace} Correlation ID: {trace} Timestamp: {ts}"
        ),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": trace,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    json_response(status, &body)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay, space is `%20`).
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_encoding() {
        let t = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z").map(|t| t.to_utc());
        assert_eq!(
            t.map(http_date).ok().as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        assert_eq!(
            encode_query("a ge 2024-01-01T00:00:00Z"),
            "a%20ge%202024-01-01T00%3A00%3A00Z"
        );
        assert_eq!(guid(1, 2).len(), 36);
        assert_ne!(guid(1, 2), guid(2, 2));
    }
}
