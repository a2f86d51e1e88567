//! The Prometheus text format as a scraper reads it: samples parsed from a `/metrics` body, looked up by
//! name and labels, and a plain blocking HTTP/1.1 GET over loopback for processes a test started.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Parsed samples: name, labels, value.
pub type Samples = Vec<(String, BTreeMap<String, String>, f64)>;

/// Parses every sample line of a text-format body (comments skipped); panics on a line that is not the
/// format.
pub fn parse(text: &str) -> Samples {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                let body = rest.strip_suffix('}').unwrap();
                let labels = body
                    .split("\",")
                    .map(|kv| {
                        let (k, v) = kv.split_once("=\"").unwrap();
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (n.to_owned(), labels)
            }
            None => (series.to_owned(), BTreeMap::new()),
        };
        out.push((name, labels, value));
    }
    out
}

fn matches(
    sample: &(String, BTreeMap<String, String>, f64),
    name: &str,
    labels: &[(&str, &str)],
) -> bool {
    sample.0 == name
        && labels
            .iter()
            .all(|(k, v)| sample.1.get(*k).map(String::as_str) == Some(*v))
}

/// The value of the first sample `name` whose labels include `labels` (None when absent).
pub fn get(s: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.iter().find(|x| matches(x, name, labels)).map(|x| x.2)
}

/// The sum of every `name` sample whose labels include `labels`.
pub fn sum(s: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.iter()
        .filter(|x| matches(x, name, labels))
        .map(|x| x.2)
        .sum()
}

/// An HTTP response: status code, header lines (names lowercased) and body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header name (lowercase) → value.
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

/// `GET path` on `addr` with `Connection: close`, read to the end (at most 64 MiB, 10 s timeouts). The body
/// must not be chunked (the entrail endpoint sends a `Content-Length`).
pub fn http_get(addr: SocketAddr, path: &str) -> Response {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let raw = model::limits::read_capped(conn, 64 << 20).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers
            .get("transfer-encoding")
            .is_some_and(|t| t.contains("chunked")),
        "chunked body: {text:?}"
    );
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}
