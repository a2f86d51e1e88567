//! All Blob I/O: an `object_store` Azure client per container (listing by prefix, range reads), and the one
//! call object_store lacks, List Containers, signed with the same credential (SharedKey, SAS or an Entra
//! bearer token).

use super::config::{BlobAuth, BlobSourceConfig, ConnectionString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use object_store::ObjectStore;
use object_store::azure::{
    AzureConfigKey, AzureCredential, AzureCredentialProvider, MicrosoftAzureBuilder,
};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A Blob request failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Building a client failed (bad endpoint or credential).
    #[error("blob client for {container}: {message}")]
    Build {
        /// The container.
        container: String,
        /// Why.
        message: String,
    },
    /// An object_store call failed.
    #[error("{action}")]
    Store {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: object_store::Error,
    },
    /// Listing containers failed.
    #[error("listing containers at {endpoint}: {message}")]
    ListContainers {
        /// The blob endpoint.
        endpoint: String,
        /// Why.
        message: String,
        /// The HTTP status, if one came back.
        status: Option<u16>,
    },
}

/// How retry code should treat a [`BlobError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Slow down and try again.
    Throttled,
    /// Try again later.
    Transient,
    /// The credential was refused.
    Auth,
    /// Will fail again until the configuration changes.
    Fatal,
}

impl BlobError {
    /// The retry class of this error.
    pub fn kind(&self) -> ErrorKind {
        let status = match self {
            BlobError::Build { .. } => return ErrorKind::Fatal,
            BlobError::ListContainers { status, .. } => *status,
            BlobError::Store { source, .. } => match source {
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => return ErrorKind::Auth,
                object_store::Error::NotFound { .. } => return ErrorKind::Transient,
                _ => None,
            },
        };
        match status {
            Some(429 | 503) => ErrorKind::Throttled,
            Some(401 | 403) => ErrorKind::Auth,
            _ => ErrorKind::Transient,
        }
    }
}

/// Endpoint, account and credential resolved from the config.
#[derive(Clone)]
pub(crate) struct Account {
    pub(crate) endpoint: String,
    pub(crate) account: String,
    key: Option<SecretString>,
    sas: Option<SecretString>,
}

impl Account {
    pub(crate) fn resolve(c: &BlobSourceConfig) -> Account {
        let conn = match &c.auth {
            BlobAuth::ConnectionString { connection_string } => {
                ConnectionString::parse(connection_string.expose_secret()).unwrap_or_default()
            }
            _ => ConnectionString::default(),
        };
        let account = c
            .account
            .clone()
            .or(conn.account)
            .or_else(|| {
                // https://<account>.blob..., or http://127.0.0.1:10000/<account>
                let e = c.endpoint.as_deref()?;
                let rest = e.split_once("://")?.1;
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                let from_path = path.split('/').find(|p| !p.is_empty());
                from_path
                    .or_else(|| host.split('.').next())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let endpoint = c
            .endpoint
            .clone()
            .or(conn.endpoint)
            .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"))
            .trim_end_matches('/')
            .to_owned();
        let (key, sas) = match &c.auth {
            BlobAuth::AccountKey { key } => (Some(key.clone()), None),
            BlobAuth::Sas { token } => (None, Some(token.clone())),
            _ => (conn.key, conn.sas),
        };
        Account {
            endpoint,
            account,
            key,
            sas,
        }
    }
}

fn sas_pairs(token: &str) -> Vec<(String, String)> {
    form_pairs(token.trim_start_matches('?'))
}

fn form_pairs(q: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// Object-store clients (one per container, sharing one credential) and the List Containers call.
pub(crate) struct Client {
    account: Account,
    auth: BlobAuth,
    http: reqwest::Client,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    credentials: Mutex<Option<AzureCredentialProvider>>,
}

impl Client {
    pub(crate) fn new(config: &BlobSourceConfig) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            account: Account::resolve(config),
            auth: config.auth.clone(),
            http: reqwest::Client::new(),
            stores: Mutex::new(HashMap::new()),
            credentials: Mutex::new(None),
        }
    }

    /// The blob endpoint.
    pub(crate) fn endpoint(&self) -> &str {
        &self.account.endpoint
    }

    fn builder(&self, container: &str) -> MicrosoftAzureBuilder {
        let a = &self.account;
        let mut b = MicrosoftAzureBuilder::new()
            .with_account(&a.account)
            .with_container_name(container)
            .with_endpoint(a.endpoint.clone())
            .with_allow_http(a.endpoint.starts_with("http://"));
        if let Some(k) = &a.key {
            return b.with_access_key(k.expose_secret());
        }
        if let Some(s) = &a.sas {
            return b.with_sas_authorization(sas_pairs(s.expose_secret()));
        }
        match &self.auth {
            BlobAuth::ClientSecret {
                tenant_id,
                client_id,
                secret,
                authority_host,
            } => {
                b = b.with_client_secret_authorization(
                    client_id,
                    secret.expose_secret(),
                    tenant_id,
                );
                if let Some(h) = authority_host {
                    b = b.with_authority_host(h);
                }
                b
            }
            BlobAuth::ManagedIdentity {
                client_id,
                msi_endpoint,
            } => {
                b = b.with_config(AzureConfigKey::CredentialType, "managed_identity");
                if let Some(id) = client_id {
                    b = b.with_client_id(id);
                }
                if let Some(e) = msi_endpoint {
                    b = b.with_msi_endpoint(e);
                }
                b
            }
            BlobAuth::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => b
                .with_config(AzureConfigKey::CredentialType, "workload_identity")
                .with_tenant_id(tenant_id)
                .with_client_id(client_id)
                .with_federated_token_file(token_file.display().to_string()),
            _ => b,
        }
    }

    /// Serves a container from another store (tests: an in-memory store).
    #[cfg(test)]
    pub(crate) fn set_store(&self, container: &str, store: Arc<dyn ObjectStore>) {
        self.stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(container.to_owned(), store);
    }

    /// The credential provider every container client shares (built with the first client).
    fn credentials(&self) -> Result<AzureCredentialProvider, BlobError> {
        if let Some(c) = self
            .credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(c.clone());
        }
        let store = self
            .builder("insights-logs")
            .build()
            .map_err(|e| BlobError::Build {
                container: "insights-logs".to_owned(),
                message: e.to_string(),
            })?;
        let mut creds = self.credentials.lock().unwrap_or_else(|p| p.into_inner());
        Ok(creds
            .get_or_insert_with(|| store.credentials().clone())
            .clone())
    }

    /// The client of one container (built once).
    pub(crate) fn store(&self, container: &str) -> Result<Arc<dyn ObjectStore>, BlobError> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stores.get(container) {
            return Ok(s.clone());
        }
        let mut creds = self.credentials.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = self.builder(container);
        if let Some(c) = creds.as_ref() {
            b = b.with_credentials(c.clone());
        }
        let store = b.build().map_err(|e| BlobError::Build {
            container: container.to_owned(),
            message: e.to_string(),
        })?;
        creds.get_or_insert_with(|| store.credentials().clone());
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        stores.insert(container.to_owned(), store.clone());
        Ok(store)
    }

    /// Every container whose name starts with `prefix`, page by page.
    pub(crate) async fn list_containers(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let fail = |message: String, status: Option<u16>| BlobError::ListContainers {
            endpoint: self.account.endpoint.clone(),
            message,
            status,
        };
        // One credential provider for every call (Entra tokens are fetched and cached there).
        let credentials = self.credentials()?;
        let mut names = Vec::new();
        let mut marker = String::new();
        loop {
            let mut query = vec![
                ("comp".to_owned(), "list".to_owned()),
                ("prefix".to_owned(), prefix.to_owned()),
            ];
            if !marker.is_empty() {
                query.push(("marker".to_owned(), marker.clone()));
            }
            let mut url = reqwest::Url::parse(&format!("{}/", self.account.endpoint))
                .map_err(|e| fail(e.to_string(), None))?;
            let date = chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            let mut req_headers = vec![
                ("x-ms-date".to_owned(), date),
                ("x-ms-version".to_owned(), "2021-08-06".to_owned()),
            ];
            let cred = credentials
                .get_credential()
                .await
                .map_err(|e| fail(format!("credential: {e}"), None))?;
            let mut pairs = query.clone();
            match cred.as_ref() {
                AzureCredential::AccessKey(_) => {
                    let key = self.account.key.as_ref().ok_or_else(|| {
                        fail("an access key credential without a key".into(), None)
                    })?;
                    let sig =
                        shared_key(&self.account.account, key, url.path(), &query, &req_headers)
                            .map_err(|e| fail(e, None))?;
                    req_headers.push(("authorization".into(), sig));
                }
                AzureCredential::SASToken(sas) => pairs.extend(sas.iter().cloned()),
                AzureCredential::BearerToken(t) => {
                    req_headers.push(("authorization".into(), format!("Bearer {t}")))
                }
            }
            url.query_pairs_mut().extend_pairs(pairs.iter());
            let mut req = self.http.get(url);
            for (k, v) in &req_headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let resp = req.send().await.map_err(|e| fail(e.to_string(), None))?;
            let status = resp.status();
            let body = resp
                .text()
                .await
                .map_err(|e| fail(e.to_string(), Some(status.as_u16())))?;
            if !status.is_success() {
                let head: String = body.chars().take(300).collect();
                return Err(fail(
                    format!("status {status}: {head}"),
                    Some(status.as_u16()),
                ));
            }
            names.extend(xml_values(&body, "Name"));
            marker = xml_values(&body, "NextMarker")
                .into_iter()
                .next()
                .unwrap_or_default();
            if marker.is_empty() {
                return Ok(names);
            }
        }
    }
}

/// The texts of every `<tag>...</tag>` (no nesting; XML escapes of container names are not needed).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(v, _)| v.to_owned()))
        .collect()
}

/// A SharedKey `Authorization` header value for a GET without body.
fn shared_key(
    account: &str,
    key: &SecretString,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
) -> Result<String, String> {
    let raw = B64
        .decode(key.expose_secret().trim())
        .map_err(|_| "the account key is not base64".to_owned())?;
    let mut ms: Vec<_> = headers.to_vec();
    ms.sort();
    let mut to_sign = "GET\n\n\n\n\n\n\n\n\n\n\n\n".to_owned();
    for (k, v) in &ms {
        to_sign.push_str(&format!("{k}:{v}\n"));
    }
    to_sign.push_str(&format!("/{account}{path}"));
    let mut q: Vec<_> = query.to_vec();
    q.sort();
    for (k, v) in &q {
        to_sign.push_str(&format!("\n{k}:{v}"));
    }
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw);
    let sig = B64.encode(ring::hmac::sign(&k, to_sign.as_bytes()).as_ref());
    Ok(format!("SharedKey {account}:{sig}"))
}
