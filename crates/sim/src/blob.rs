//! Diagnostic-settings output written to a Storage account (Azurite) in Microsoft's layout
//! (wire-formats.md §5.4):
//!
//! | Categories | Container | Blob |
//! |---|---|---|
//! | Entra (`SignInLogs`, ...) | `insights-logs-<category lowercase>` | `resourceId=/TENANTS/<TID>/PROVIDERS/MICROSOFT.AADIAM/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json` |
//! | Activity log | `insights-activity-logs` | `resourceId=/SUBSCRIPTIONS/<SUB>/y=.../m=00/PT1H.json` |
//! | Resource logs (`AuditEvent`) | `insights-logs-auditevent` | `resourceId=<RESOURCE ID>/y=.../m=00/PT1H.json` |
//! | NSG flow logs v2 | `insights-logs-networksecuritygroupflowevent` | `resourceId=<NSG>/y=.../m=00/macAddress=<MAC>/PT1H.json` |
//! | VNet flow logs | `insights-logs-flowlogflowevent` | `flowLogResourceID=/<SUB>_NETWORKWATCHERRG/NETWORKWATCHER_<REGION>_<NAME>/y=.../m=00/macAddress=<MAC>/PT1H.json` |
//!
//! Ordinary blobs are **append blobs**, one record per line, growing by Append Block calls as records arrive
//! (their hour is the record's `received` time). Flow-log blobs are block blobs holding one `{"records":[...]}`
//! document, as Network Watcher writes them. [`BlobClient`] is a minimal SharedKey-signed Blob REST client
//! (object_store cannot create append blobs).

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::Value;

use crate::SimEvent;
use crate::category::Category;
use crate::shape::{Shape, render_owned};
use crate::tenant::Tenant;

/// The REST version sent with every request.
const VERSION: &str = "2021-08-06";
/// An append blob's buffered lines are appended once they reach this size (Append Block allows 4 MiB).
const APPEND_AT: usize = 256 << 10;

/// A Blob REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The request could not be sent.
    #[error("{method} {url}: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// The cause.
        message: String,
    },
    /// The service answered with an error status.
    #[error("{method} {url}: status {status}: {body}")]
    Status {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
}

/// A minimal Blob REST client signing every request with SharedKey.
#[derive(Clone)]
pub struct BlobClient {
    http: reqwest::Client,
    endpoint: String,
    account: String,
    key: ring::hmac::Key,
}

impl std::fmt::Debug for BlobClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobClient")
            .field("endpoint", &self.endpoint)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl BlobClient {
    /// A client for `endpoint` (`http://127.0.0.1:<port>/<account>`), signing with the base64 `key`.
    pub fn new(endpoint: &str, account: &str, key: &str) -> BlobClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let raw = B64.decode(key).unwrap_or_default();
        BlobClient {
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            account: account.to_owned(),
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<reqwest::Response, BlobError> {
        let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let mut ms: Vec<(String, String)> = vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
        ];
        ms.extend(
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())),
        );
        ms.sort();
        let url_path = format!("{}/{}", self.endpoint, path.trim_start_matches('/'));
        let url_parsed = reqwest::Url::parse(&url_path).map_err(|e| BlobError::Transport {
            method: method.to_string(),
            url: url_path.clone(),
            message: e.to_string(),
        })?;
        let mut resource = format!("/{}{}", self.account, url_parsed.path());
        let mut q: Vec<(String, &str)> = query
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), *v))
            .collect();
        q.sort();
        for (k, v) in &q {
            resource.push_str(&format!("\n{k}:{v}"));
        }
        let length = if body.is_empty() {
            String::new()
        } else {
            body.len().to_string()
        };
        let mut to_sign = format!("{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n");
        for (k, v) in &ms {
            to_sign.push_str(&format!("{k}:{v}\n"));
        }
        to_sign.push_str(&resource);
        let sig = B64.encode(ring::hmac::sign(&self.key, to_sign.as_bytes()).as_ref());
        let mut url = url_parsed;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Authorization", format!("SharedKey {}:{sig}", self.account))
            .header("Content-Length", body.len().to_string());
        for (k, v) in &ms {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| BlobError::Transport {
                method: method.to_string(),
                url: url_path.clone(),
                message: e.to_string(),
            })?;
        Ok(resp)
    }

    async fn expect(
        &self,
        resp: reqwest::Response,
        method: &str,
        path: &str,
        ok_also: Option<u16>,
    ) -> Result<(), BlobError> {
        let status = resp.status().as_u16();
        if resp.status().is_success() || Some(status) == ok_also {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(BlobError::Status {
            method: method.to_owned(),
            url: format!("{}/{path}", self.endpoint),
            status,
            body: body.chars().take(500).collect(),
        })
    }

    /// Creates a container (an existing one is fine).
    pub async fn create_container(&self, container: &str) -> Result<(), BlobError> {
        let r = self
            .send(
                reqwest::Method::PUT,
                container,
                &[("restype", "container")],
                &[],
                Vec::new(),
            )
            .await?;
        self.expect(r, "PUT", container, Some(409)).await
    }

    /// Creates an empty append blob (replacing any blob of that name).
    pub async fn create_append_blob(&self, container: &str, blob: &str) -> Result<(), BlobError> {
        let path = format!("{container}/{blob}");
        let r = self
            .send(
                reqwest::Method::PUT,
                &path,
                &[],
                &[("x-ms-blob-type", "AppendBlob")],
                Vec::new(),
            )
            .await?;
        self.expect(r, "PUT", &path, None).await
    }

    /// Appends one block (at most 4 MiB) to an append blob.
    pub async fn append_block(
        &self,
        container: &str,
        blob: &str,
        data: Vec<u8>,
    ) -> Result<(), BlobError> {
        let path = format!("{container}/{blob}");
        let r = self
            .send(
                reqwest::Method::PUT,
                &path,
                &[("comp", "appendblock")],
                &[],
                data,
            )
            .await?;
        self.expect(r, "PUT", &path, None).await
    }

    /// Writes a whole block blob (replacing any blob of that name).
    pub async fn put_block_blob(
        &self,
        container: &str,
        blob: &str,
        data: Vec<u8>,
    ) -> Result<(), BlobError> {
        let path = format!("{container}/{blob}");
        let r = self
            .send(
                reqwest::Method::PUT,
                &path,
                &[],
                &[("x-ms-blob-type", "BlockBlob")],
                data,
            )
            .await?;
        self.expect(r, "PUT", &path, None).await
    }
}

/// What [`write_events`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobReport {
    /// Blobs created.
    pub blobs: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Append Block calls.
    pub appends: u64,
    /// Records written per container.
    pub records: BTreeMap<String, u64>,
}

/// The container of a category's diagnostic-settings output.
pub fn container_of(category: Category) -> String {
    use Category as C;
    match category {
        C::Administrative
        | C::Security
        | C::Policy
        | C::ServiceHealth
        | C::ResourceHealth
        | C::Alert
        | C::Recommendation
        | C::Autoscale => "insights-activity-logs".to_owned(),
        other => format!("insights-logs-{}", other.name().to_ascii_lowercase()),
    }
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
}

/// `y=YYYY/m=MM/d=DD/h=HH/m=00`.
pub fn hour_folder(t: DateTime<Utc>) -> String {
    format!(
        "y={:04}/m={:02}/d={:02}/h={:02}/m=00",
        t.year(),
        t.month(),
        t.day(),
        t.hour()
    )
}

/// The blob name of a rendered diagnostic record received at `received`.
pub fn blob_name(
    category: Category,
    record: &Value,
    received: DateTime<Utc>,
    tenant: &Tenant,
) -> String {
    use Category as C;
    let hour = hour_folder(received);
    let res = |k: &str| get_ci(record, k).unwrap_or_default().to_ascii_uppercase();
    let mac = || {
        get_ci(record, "macAddress")
            .unwrap_or("000000000000")
            .to_ascii_uppercase()
    };
    match category {
        C::NsgFlowEvent => format!(
            "resourceId={}/{hour}/macAddress={}/PT1H.json",
            res("resourceId"),
            mac()
        ),
        C::VnetFlowEvent => {
            // /SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/<nw>/FLOWLOGS/<name>
            let id = res("flowLogResourceID");
            let parts: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).collect();
            let at = |i: usize| parts.get(i).copied().unwrap_or("UNKNOWN");
            format!(
                "flowLogResourceID=/{}_{}/{}_{}/{hour}/macAddress={}/PT1H.json",
                at(1),
                at(3),
                at(7),
                at(9),
                mac()
            )
        }
        c if container_of(c) == "insights-activity-logs" => {
            let id = res("resourceId");
            let sub: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).take(2).collect();
            format!("resourceId=/{}/{hour}/PT1H.json", sub.join("/"))
        }
        C::KeyVaultAuditEvent => format!("resourceId={}/{hour}/PT1H.json", res("resourceId")),
        _ => format!(
            "resourceId=/TENANTS/{}/PROVIDERS/MICROSOFT.AADIAM/{hour}/PT1H.json",
            tenant.tenant_id.to_ascii_uppercase()
        ),
    }
}

/// One blob being written.
struct Open {
    hour: DateTime<Utc>,
    /// Flow-log document (block blob) rather than lines (append blob).
    doc: bool,
    created: bool,
    buf: Vec<u8>,
}

/// Writes every event's diagnostic record to its blob (see the module docs) and returns what was written.
/// Blobs of an hour are finished once events two hours later arrive, so memory stays bounded.
pub async fn write_events(
    client: &BlobClient,
    events: impl IntoIterator<Item = SimEvent>,
    quirks: bool,
    tenant: &Tenant,
) -> Result<BlobReport, BlobError> {
    let mut report = BlobReport::default();
    let mut open: HashMap<(String, String), Open> = HashMap::new();
    let mut containers: Vec<String> = Vec::new();
    let mut latest: Option<DateTime<Utc>> = None;
    for ev in events {
        let Some(cat) = ev.category_enum() else {
            continue;
        };
        let received = ev.received;
        let Some(rec) = render_owned(ev, Shape::Diagnostic, quirks, tenant) else {
            continue;
        };
        let container = container_of(cat);
        if !containers.contains(&container) {
            client.create_container(&container).await?;
            containers.push(container.clone());
        }
        let name = blob_name(cat, &rec, received, tenant);
        *report.records.entry(container.clone()).or_default() += 1;
        let hour = received
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(received);
        let doc = matches!(cat, Category::NsgFlowEvent | Category::VnetFlowEvent);
        let key = (container, name);
        let o = open.entry(key.clone()).or_insert_with(|| Open {
            hour,
            doc,
            created: false,
            buf: Vec::new(),
        });
        if doc {
            o.buf.extend_from_slice(if o.buf.is_empty() {
                b"{\"records\":["
            } else {
                b","
            });
            serde_json::to_writer(&mut o.buf, &rec).unwrap_or_default();
        } else {
            serde_json::to_writer(&mut o.buf, &rec).unwrap_or_default();
            o.buf.push(b'\n');
            if o.buf.len() >= APPEND_AT {
                flush(client, &key, o, &mut report).await?;
            }
        }
        if latest.is_none_or(|l| hour > l) {
            latest = Some(hour);
            let cutoff = hour - chrono::TimeDelta::hours(2);
            let done: Vec<(String, String)> = open
                .iter()
                .filter(|(_, o)| o.hour < cutoff)
                .map(|(k, _)| k.clone())
                .collect();
            for k in done {
                if let Some(mut o) = open.remove(&k) {
                    finish(client, &k, &mut o, &mut report).await?;
                }
            }
        }
    }
    let mut rest: Vec<_> = open.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, mut o) in rest {
        finish(client, &k, &mut o, &mut report).await?;
    }
    Ok(report)
}

async fn flush(
    client: &BlobClient,
    (container, name): &(String, String),
    o: &mut Open,
    report: &mut BlobReport,
) -> Result<(), BlobError> {
    if !o.created {
        client.create_append_blob(container, name).await?;
        o.created = true;
        report.blobs += 1;
    }
    if !o.buf.is_empty() {
        report.bytes += o.buf.len() as u64;
        report.appends += 1;
        client
            .append_block(container, name, std::mem::take(&mut o.buf))
            .await?;
    }
    Ok(())
}

async fn finish(
    client: &BlobClient,
    key: &(String, String),
    o: &mut Open,
    report: &mut BlobReport,
) -> Result<(), BlobError> {
    if o.doc {
        let mut body = std::mem::take(&mut o.buf);
        body.extend_from_slice(b"]}");
        report.blobs += 1;
        report.bytes += body.len() as u64;
        client.put_block_blob(&key.0, &key.1, body).await
    } else {
        flush(client, key, o, report).await
    }
}
