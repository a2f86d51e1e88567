//! A loopback Blob service holding any number of synthetic NSG flow-log blobs without storing them, for
//! listing benchmarks at sizes Azurite cannot reach in reasonable time (it writes ~30 blobs/s here). It
//! answers the two Blob REST calls a reader makes, as Azure does:
//!
//! - List Blobs (`GET /<account>/<container>?restype=container&comp=list`) with `prefix`, `delimiter`
//!   (`BlobPrefix` entries), `maxresults` (default and cap 5000) and `marker` / `NextMarker` paging, as the
//!   XML `EnumerationResults` document;
//! - Get Blob (`GET /<account>/<container>/<blob>`) with a `Range: bytes=a-b` header (206 with
//!   `Content-Range`) or without (200), with `ETag`, `Last-Modified` and `x-ms-blob-type`.
//!
//! Requests are not authenticated (any SharedKey or SAS is accepted). The blobs are Microsoft's NSG flow-log
//! v2 layout (`resourceId=/SUBSCRIPTIONS/.../NETWORKSECURITYGROUPS/NSGnnn/y=2024/m=03/d=04/h=HH/m=00/
//! macAddress=<MAC>/PT1H.json`, one `{"records":[...]}` document with one flow tuple each): `nsgs` x `hours`
//! x `nics` blobs, numbered in name order, each name and body computed from its number, so the server's own
//! memory does not grow with the number of blobs and a listing benchmark measures the reader alone.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Container name of NSG flow logs v2.
pub const NSG_CONTAINER: &str = "insights-logs-networksecuritygroupflowevent";
/// The account name in the endpoint path.
pub const ACCOUNT: &str = "devstoreaccount1";
/// Azure's default and largest page of List Blobs.
pub const MAX_RESULTS: usize = 5000;
const LAST_MODIFIED: &str = "Mon, 04 Mar 2024 12:00:00 GMT";

/// The synthetic blob set: `nsgs` x `hours` x `nics` flow-log blobs in one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLogBlobs {
    /// Network security groups (resources), at most 1000.
    pub nsgs: u32,
    /// Hours (folders `h=00` ...) per NSG, at most 24.
    pub hours: u32,
    /// NICs (`macAddress=` folders) per NSG and hour, at most 65536.
    pub nics: u32,
}

impl FlowLogBlobs {
    /// About `total` blobs over 100 NSGs x 10 hours (rounded up to a multiple of 1000).
    pub fn about(total: u64) -> FlowLogBlobs {
        let nics = u32::try_from(total.div_ceil(1000).clamp(1, 65_536)).unwrap_or(65_536);
        FlowLogBlobs {
            nsgs: 100,
            hours: 10,
            nics,
        }
    }

    /// How many blobs there are.
    pub fn len(&self) -> u64 {
        u64::from(self.nsgs) * u64::from(self.hours) * u64::from(self.nics)
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn parts(&self, i: u64) -> (u64, u64, u64) {
        let nics = u64::from(self.nics);
        let hours = u64::from(self.hours);
        (i / (hours * nics), (i / nics) % hours, i % nics)
    }

    fn resource(nsg: u64) -> String {
        format!(
            "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG{nsg:03}"
        )
    }

    /// The name of blob `i` (names sort in number order).
    pub fn name(&self, i: u64) -> String {
        let (nsg, hour, nic) = self.parts(i);
        format!(
            "resourceId={}/y=2024/m=03/d=04/h={hour:02}/m=00/macAddress=00224871{nic:04X}/PT1H.json",
            Self::resource(nsg)
        )
    }

    /// The content of blob `i`: one NSG flow-log v2 document with one flow tuple.
    pub fn body(&self, i: u64) -> String {
        let (nsg, hour, nic) = self.parts(i);
        let mac = format!("00224871{nic:04X}");
        let id = Self::resource(nsg);
        let epoch = 1_709_510_400 + hour * 3600 + (i % 3600);
        format!(
            r#"{{"records":[{{"time":"2024-03-04T{hour:02}:30:00.0000000Z","systemId":"5f2b7a1c-0000-0000-0000-000000000000","macAddress":"{mac}","category":"NetworkSecurityGroupFlowEvent","resourceId":"{id}","operationName":"NetworkSecurityGroupFlowEvents","properties":{{"Version":2,"flows":[{{"rule":"DefaultRule_AllowInternetOutBound","flows":[{{"mac":"{mac}","flowTuples":["{epoch},10.0.{nsg}.{},13.107.21.200,{},443,T,O,A,C,7,1158,12,8143"]}}]}}]}}}}]}}"#,
            nic % 250,
            1024 + (i % 60_000)
        )
    }

    /// The first blob number whose name is not below `key`.
    fn lower_bound(&self, key: &str) -> u64 {
        let (mut lo, mut hi) = (0u64, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.name(mid).as_str() < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The index of blob `name`, if it is one.
    fn find(&self, name: &str) -> Option<u64> {
        let i = self.lower_bound(name);
        (i < self.len() && self.name(i) == name).then_some(i)
    }

    /// One List Blobs page: `(entries, next marker)`; an entry is `Ok(blob number)` or `Err(prefix)`.
    pub fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        marker: Option<&str>,
        max: usize,
    ) -> (Vec<Result<u64, String>>, Option<String>) {
        let mut i = self.lower_bound(marker.filter(|m| *m > prefix).unwrap_or(prefix));
        let mut out = Vec::new();
        while i < self.len() {
            let name = self.name(i);
            if !name.starts_with(prefix) {
                break;
            }
            if out.len() >= max {
                return (out, Some(name));
            }
            let rest = &name[prefix.len()..];
            match delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| rest.find(d).map(|k| k + d.len()))
            {
                Some(end) => {
                    let p = format!("{prefix}{}", &rest[..end]);
                    // Past every name under this prefix: the prefix with its last byte raised by one.
                    let mut past = p.clone().into_bytes();
                    if let Some(last) = past.last_mut() {
                        *last += 1;
                    }
                    i = self.lower_bound(&String::from_utf8_lossy(&past));
                    out.push(Err(p));
                }
                None => {
                    out.push(Ok(i));
                    i += 1;
                }
            }
        }
        (out, None)
    }
}

/// What the server counted.
#[derive(Debug, Default)]
pub struct BlobServerStats {
    /// List Blobs requests.
    pub lists: AtomicU64,
    /// Get Blob requests.
    pub gets: AtomicU64,
    /// The most entries (blobs and prefixes) returned in one List Blobs page.
    pub largest_page: AtomicU64,
}

struct App {
    blobs: FlowLogBlobs,
    stats: Arc<BlobServerStats>,
}

/// The running server; stops when dropped.
pub struct BlobServer {
    port: u16,
    stats: Arc<BlobServerStats>,
    stop: watch::Sender<bool>,
}

impl BlobServer {
    /// Serves `blobs` in [`NSG_CONTAINER`] on a free loopback port (call inside a Tokio runtime).
    pub async fn start(blobs: FlowLogBlobs) -> std::io::Result<BlobServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let stats = Arc::new(BlobServerStats::default());
        let app = Arc::new(App {
            blobs,
            stats: stats.clone(),
        });
        let router = Router::new()
            .route("/{account}/{container}", get(list))
            .route("/{account}/{container}/{*blob}", get(get_blob))
            .with_state(app);
        let stop = crate::serve::serve_until_stopped(listener, router);
        Ok(BlobServer { port, stats, stop })
    }

    /// The blob endpoint, `http://127.0.0.1:<port>/devstoreaccount1`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// A well-formed (Azurite's public) account key; the server accepts any signature.
    pub fn key(&self) -> &'static str {
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    }

    /// What was served so far.
    pub fn stats(&self) -> &BlobServerStats {
        &self.stats
    }
}

impl Drop for BlobServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn list(
    State(app): State<Arc<App>>,
    Path((_account, container)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let q: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("comp") != Some("list") || get("restype") != Some("container") {
        return error(StatusCode::BAD_REQUEST, "UnsupportedQueryParameter");
    }
    if container != NSG_CONTAINER {
        return error(StatusCode::NOT_FOUND, "ContainerNotFound");
    }
    app.stats.lists.fetch_add(1, Ordering::Relaxed);
    let prefix = get("prefix").unwrap_or("");
    let delimiter = get("delimiter");
    let marker = get("marker").filter(|m| !m.is_empty());
    let max = get("maxresults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(MAX_RESULTS)
        .clamp(1, MAX_RESULTS);
    let (entries, next) = app.blobs.list(prefix, delimiter, marker, max);
    app.stats
        .largest_page
        .fetch_max(entries.len() as u64, Ordering::Relaxed);
    let mut x = String::with_capacity(256 + entries.len() * 512);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://127.0.0.1/{ACCOUNT}/\" ContainerName=\"{container}\"><Prefix>{}</Prefix>",
        xml_escape(prefix)
    );
    if let Some(m) = marker {
        let _ = write!(x, "<Marker>{}</Marker>", xml_escape(m));
    }
    let _ = write!(x, "<MaxResults>{max}</MaxResults>");
    if let Some(d) = delimiter {
        let _ = write!(x, "<Delimiter>{}</Delimiter>", xml_escape(d));
    }
    x.push_str("<Blobs>");
    for e in entries {
        match e {
            Ok(i) => {
                let _ = write!(
                    x,
                    "<Blob><Name>{}</Name><Properties><Creation-Time>{LAST_MODIFIED}</Creation-Time><Last-Modified>{LAST_MODIFIED}</Last-Modified><Etag>0x8DC3C{i:011X}</Etag><Content-Length>{}</Content-Length><Content-Type>application/json</Content-Type><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob>",
                    xml_escape(&app.blobs.name(i)),
                    app.blobs.body(i).len()
                );
            }
            Err(p) => {
                let _ = write!(
                    x,
                    "<BlobPrefix><Name>{}</Name></BlobPrefix>",
                    xml_escape(&p)
                );
            }
        }
    }
    x.push_str("</Blobs>");
    match next {
        Some(n) => {
            let _ = write!(x, "<NextMarker>{}</NextMarker>", xml_escape(&n));
        }
        None => x.push_str("<NextMarker />"),
    }
    x.push_str("</EnumerationResults>");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/xml"),
            (
                header::HeaderName::from_static("x-ms-version"),
                "2021-08-06",
            ),
        ],
        x,
    )
        .into_response()
}

/// `bytes=a-b` or `bytes=a-` against a size: the inclusive range, or `None` when unsatisfiable.
fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let end: u64 = match b.trim() {
        "" => size.checked_sub(1)?,
        e => e.parse::<u64>().ok()?.min(size.checked_sub(1)?),
    };
    (start <= end).then_some((start, end))
}

async fn get_blob(
    State(app): State<Arc<App>>,
    Path((_account, container, blob)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if container != NSG_CONTAINER {
        return error(StatusCode::NOT_FOUND, "ContainerNotFound");
    }
    let Some(i) = app.blobs.find(&blob) else {
        return error(StatusCode::NOT_FOUND, "BlobNotFound");
    };
    app.stats.gets.fetch_add(1, Ordering::Relaxed);
    let body = app.blobs.body(i).into_bytes();
    let size = body.len() as u64;
    let etag = format!("\"0x8DC3C{i:011X}\"");
    let range = headers
        .get(header::RANGE)
        .or_else(|| headers.get("x-ms-range"))
        .and_then(|v| v.to_str().ok());
    let mut resp = match range {
        Some(r) => match parse_range(r, size) {
            Some((start, end)) => {
                let part = body[start as usize..=end as usize].to_vec();
                let mut resp = (StatusCode::PARTIAL_CONTENT, Body::from(part)).into_response();
                if let Ok(v) = format!("bytes {start}-{end}/{size}").parse() {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                resp
            }
            None => return error(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange"),
        },
        None => (StatusCode::OK, Body::from(body)).into_response(),
    };
    let h = resp.headers_mut();
    if let Ok(v) = etag.parse() {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::LAST_MODIFIED,
        header::HeaderValue::from_static(LAST_MODIFIED),
    );
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::HeaderName::from_static("x-ms-blob-type"),
        header::HeaderValue::from_static("BlockBlob"),
    );
    resp
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_number_order_and_pages_follow_markers() {
        let b = FlowLogBlobs {
            nsgs: 3,
            hours: 2,
            nics: 20,
        };
        let names: Vec<String> = (0..b.len()).map(|i| b.name(i)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        // Flat listing of one hour folder, in pages of 7.
        let hour = "resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG001/y=2024/m=03/d=04/h=01/";
        let (mut got, mut marker) = (Vec::new(), None::<String>);
        loop {
            let (page, next) = b.list(hour, None, marker.as_deref(), 7);
            assert!(page.len() <= 7);
            got.extend(page.into_iter().map(Result::unwrap));
            match next {
                Some(n) => marker = Some(n),
                None => break,
            }
        }
        assert_eq!(got, (60..80).collect::<Vec<u64>>());
        // With the delimiter: the NSG folders, then the hour folders of one day.
        let (top, next) = b.list("resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/", Some("/"), None, 5000);
        assert_eq!(next, None);
        assert_eq!(top.len(), 3);
        assert!(top[2].as_ref().unwrap_err().ends_with("NSG002/"));
        let day = &hour[..hour.len() - "h=01/".len()];
        let (hours, _) = b.list(day, Some("/"), None, 5000);
        let hours: Vec<String> = hours.into_iter().map(|e| e.unwrap_err()).collect();
        assert_eq!(hours, [format!("{day}h=00/"), format!("{day}h=01/")]);
        assert_eq!(b.find(&b.name(77)), Some(77));
        assert_eq!(b.find("resourceId=/nope"), None);
        assert_eq!(parse_range("bytes=2-5", 10), Some((2, 5)));
        assert_eq!(parse_range("bytes=8-", 10), Some((8, 9)));
        assert_eq!(parse_range("bytes=12-20", 10), None);
    }
}
