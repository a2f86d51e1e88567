//! The Graph list endpoints: authentication, permissions, throttling, faults, `$filter` / `$top` / `$orderby` /
//! `$skiptoken`, and pages whose `@odata.nextLink` pins the snapshot of the first page, so records that become
//! visible while a client pages never shift its pages.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use http_body::Frame;

use super::endpoints::{ENDPOINTS, Endpoint, find};
use super::faults::{FaultState, Injected};
use super::filter::{Compiled, compile};
use super::respond::{bytes_response, encode_query, graph_error};
use super::throttle::Decision;
use super::tokens::AuthFail;
use super::{App, ConnCtl};
use crate::util::mix2;

/// Which Graph version a request addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    Beta,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

fn encode_skiptoken(key: u64, snapshot: i64, cursor: usize) -> String {
    let a = snapshot as u64 ^ mix2(key, 1);
    let b = cursor as u64 ^ mix2(key, a);
    let c = mix2(a ^ b, key) & 0xffff_ffff;
    format!("{a:016x}{b:016x}{c:08x}")
}

fn decode_skiptoken(key: u64, s: &str) -> Option<(i64, usize)> {
    if s.len() != 40 || !s.is_ascii() {
        return None;
    }
    let a = u64::from_str_radix(&s[..16], 16).ok()?;
    let b = u64::from_str_radix(&s[16..32], 16).ok()?;
    let c = u64::from_str_radix(&s[32..], 16).ok()?;
    (mix2(a ^ b, key) & 0xffff_ffff == c)
        .then(|| ((a ^ mix2(key, 1)) as i64, (b ^ mix2(key, a)) as usize))
}

/// Removes `"signInEventTypes":[…]` (a beta-only property) from a rendered sign-in for v1.0.
fn strip_event_types(bytes: &[u8]) -> Vec<u8> {
    const KEY: &[u8] = b"\"signInEventTypes\":[";
    let Some(start) = bytes.windows(KEY.len()).position(|w| w == KEY) else {
        return bytes.to_vec();
    };
    let Some(close) = bytes[start..]
        .iter()
        .position(|b| *b == b']')
        .map(|p| start + p)
    else {
        return bytes.to_vec();
    };
    let (from, to) = if bytes.get(close + 1) == Some(&b',') {
        (start, close + 2)
    } else if start > 0 && bytes[start - 1] == b',' {
        (start - 1, close + 1)
    } else {
        (start, close + 1)
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..from]);
    out.extend_from_slice(&bytes[to..]);
    out
}

/// A body that sends part of the data and then fails (the connection closes short of Content-Length).
struct Truncated {
    data: Option<Bytes>,
    linger: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if let Some(d) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        let linger = this
            .linger
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(FaultState::TRUNCATE_LINGER)));
        ready!(linger.as_mut().poll(cx));
        Poll::Ready(Some(Err(std::io::Error::other(
            "body truncated by fault injection",
        ))))
    }
}

fn truncated(full: Vec<u8>) -> Response {
    let len = full.len();
    let mut r = Response::new(Body::new(Truncated {
        data: Some(Bytes::from(full).slice(..len / 2)),
        linger: None,
    }));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

struct Page {
    positions: Vec<usize>,
    next: Option<usize>,
}

fn run_page(
    app: &App,
    ep_ix: usize,
    f: &Compiled,
    snapshot: i64,
    cursor: Option<usize>,
    top: usize,
) -> Page {
    let index = &app.data.indexes[ep_ix];
    let range = index.range(f.lower, f.upper);
    let matches = |pos: usize| {
        let e = &index.entries[pos];
        e.visible_at(snapshot)
            && (f.types == 0 || e.types & f.types != 0)
            && f.matches(index.bytes(e))
    };
    let mut positions = Vec::with_capacity(top.min(range.len()));
    let mut next = None;
    let mut visit = |pos: usize| -> bool {
        if !matches(pos) {
            return true;
        }
        if positions.len() == top {
            next = Some(pos);
            return false;
        }
        positions.push(pos);
        true
    };
    if f.newest_first {
        let hi = cursor.map_or(range.end, |c| (c + 1).min(range.end));
        for pos in (range.start..hi).rev() {
            if !visit(pos) {
                break;
            }
        }
    } else {
        let lo = cursor.map_or(range.start, |c| c.max(range.start));
        for pos in lo..range.end {
            if !visit(pos) {
                break;
            }
        }
    }
    Page { positions, next }
}

/// Serves `GET /{version}/{path}?{query}`.
pub(crate) async fn serve(
    app: &Arc<App>,
    version: Version,
    path: &str,
    headers: &HeaderMap,
    query: &str,
    conn: Option<ConnCtl>,
) -> Response {
    let real_now = Instant::now();
    let sim_now = app.clock.now();
    let rid = app.next_request_id();
    let error =
        |status: StatusCode, code: &str, msg: &str| graph_error(status, code, msg, sim_now, &rid);
    let path = path.trim_matches('/');
    let Some(ep_ix) = find(path).filter(|i| version == Version::Beta || !ENDPOINTS[*i].beta_only)
    else {
        let last = path.rsplit('/').next().unwrap_or(path);
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{last}'."),
        );
    };
    let ep: &Endpoint = &ENDPOINTS[ep_ix];
    let caller = match app.tokens.authenticate(headers, real_now) {
        Ok(c) => c,
        Err(fail) => {
            if fail == AuthFail::Revoked {
                app.stat(|s| s.faults.tokens_expired_mid_paging += 1);
            }
            return error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                fail.message(),
            );
        }
    };
    if !ep
        .permissions
        .iter()
        .all(|p| caller.permissions.iter().any(|g| g == p))
    {
        return error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    if app
        .throttle
        .is_violation(&caller.client_id, ep.class, real_now)
    {
        app.stat(|s| s.retry_after_violations += 1);
    }
    let throttled = |retry_after: Option<u64>| {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests. Please retry after the time given in the Retry-After header.",
        );
        if let Some(secs) = retry_after {
            app.throttle
                .gave_retry_after(&caller.client_id, ep.class, real_now, secs);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    };
    if let Some(secs) = app.faults.storm(real_now) {
        app.stat(|s| s.faults.storm_429s += 1);
        return throttled(Some(secs));
    }
    if let Decision::Throttled(retry_after) =
        app.throttle.check(&caller.client_id, ep.class, real_now)
    {
        app.stat(|s| match ep.class {
            super::endpoints::Class::Reports => s.throttled_reports += 1,
            super::endpoints::Class::IdentityProtection => s.throttled_identity_protection += 1,
        });
        return throttled(retry_after);
    }
    let mut truncate = false;
    match app.faults.draw() {
        Some(Injected::ServerError(status)) => {
            app.stat(|s| s.faults.server_errors += 1);
            let (status, code) = if status == 503 {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            } else {
                (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")
            };
            return error(
                status,
                code,
                "The service is temporarily unavailable. Please retry.",
            );
        }
        Some(Injected::Reset) => {
            app.stat(|s| s.faults.connection_resets += 1);
            if let Some(conn) = conn {
                conn.kill();
                std::future::pending::<()>().await;
            }
            return truncated(Vec::new());
        }
        Some(Injected::Truncate) => truncate = true,
        None => {}
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let mut snapshot = super::data::nanos(sim_now);
    let mut cursor = None;
    if let Some(tok) = param("$skiptoken") {
        if let Some(status) = app.faults.next_link_fails(tok) {
            app.stat(|s| s.faults.next_link_failures += 1);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return error(
                status,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please retry.",
            );
        }
        let Some((s, c)) = decode_skiptoken(app.skip_key, tok) else {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid $skiptoken value.",
            );
        };
        snapshot = s;
        cursor = Some(c);
    }
    let top = match param("$top") {
        None => ep.default_top,
        Some(t) => match t.trim().parse::<i64>() {
            Ok(n) if n > ep.max_top as i64 => {
                // Graph (OData) answers 400 rather than clamping.
                let msg = format!(
                    "The limit of '{}' for Top query has been exceeded. The value from the incoming request is '{n}'.",
                    ep.max_top
                );
                return error(StatusCode::BAD_REQUEST, "BadRequest", &msg);
            }
            Ok(n) if n >= 1 => n as usize,
            _ => {
                let msg = format!("Invalid value '{t}' for $top query option found.");
                return error(StatusCode::BAD_REQUEST, "BadRequest", &msg);
            }
        },
    };
    let compiled = match compile(ep, version, param("$filter"), param("$orderby")) {
        Ok(c) => c,
        Err(msg) => return error(StatusCode::BAD_REQUEST, "BadRequest", &msg),
    };
    let page = run_page(app, ep_ix, &compiled, snapshot, cursor, top);
    let mut body = Vec::with_capacity(4096);
    body.extend_from_slice(b"{\"@odata.context\":");
    let context = format!(
        "{}/{}/$metadata#{}",
        app.base_url,
        version.as_str(),
        ep.path
    );
    body.extend_from_slice(serde_json::Value::from(context).to_string().as_bytes());
    let mut next_token = None;
    if let Some(next) = page.next {
        let tok = encode_skiptoken(app.skip_key, snapshot, next);
        let mut link = format!("{}/{}/{}?", app.base_url, version.as_str(), ep.path);
        for (k, v) in params
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
        {
            link.push_str(&format!(
                "{}={}&",
                encode_query(k).replace("%24", "$"),
                encode_query(v)
            ));
        }
        link.push_str(&format!("$skiptoken={tok}"));
        body.extend_from_slice(b",\"@odata.nextLink\":");
        body.extend_from_slice(serde_json::Value::from(link).to_string().as_bytes());
        next_token = Some(tok);
    }
    body.extend_from_slice(b",\"value\":[");
    let index = &app.data.indexes[ep_ix];
    let strip = version == Version::V1 && ep.path == "auditLogs/signIns";
    for (i, pos) in page.positions.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        let bytes = index.bytes(&index.entries[*pos]);
        if strip {
            body.extend_from_slice(&strip_event_types(bytes));
        } else {
            body.extend_from_slice(bytes);
        }
    }
    body.extend_from_slice(b"]}");
    if truncate {
        app.stat(|s| s.faults.truncated_bodies += 1);
        return truncated(body);
    }
    if let Some(tok) = &next_token {
        app.faults.issued_next_link(tok);
    }
    app.tokens
        .page_served(&caller.token, app.cfg.faults.token_expiry_after_pages);
    let n = page.positions.len() as u64;
    app.stat(|s| {
        s.pages_served += 1;
        s.records_served += n;
    });
    let mut r = bytes_response(StatusCode::OK, body);
    if let Ok(v) = HeaderValue::from_str(&rid) {
        r.headers_mut().insert("request-id", v);
    }
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn skiptoken_roundtrip_and_tamper() {
        let t = encode_skiptoken(9, 1_700_000_000_000_000_000, 1234);
        assert_eq!(
            decode_skiptoken(9, &t),
            Some((1_700_000_000_000_000_000, 1234))
        );
        assert_eq!(decode_skiptoken(8, &t), None);
        let mut bad = t.clone().into_bytes();
        bad[20] = if bad[20] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            decode_skiptoken(9, std::str::from_utf8(&bad).unwrap()),
            None
        );
    }

    #[test]
    fn strips_event_types() {
        let a = br#"{"a":1,"signInEventTypes":["interactiveUser"],"z":2}"#;
        assert_eq!(strip_event_types(a), br#"{"a":1,"z":2}"#);
        let b = br#"{"a":1,"signInEventTypes":["interactiveUser"]}"#;
        assert_eq!(strip_event_types(b), br#"{"a":1}"#);
    }
}
