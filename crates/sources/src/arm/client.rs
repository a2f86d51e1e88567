//! All ARM I/O: GET (following `nextLink` on the same host), PUT and DELETE with a cached bearer token for
//! ARM's scope (a 401 drops it and retries once with a new one), bounded body reads, errors classified.

use super::types::{DiagnosticSetting, SettingProperties, Subscription};
use super::{ArmClientConfig, ArmError};
use crate::graph::{
    GraphError, SystemClock, TokenCache, http_client, read_body, retry_after, token_provider,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// api-version of `microsoft.aadiam/diagnosticSettings`.
pub const AADIAM_API_VERSION: &str = "2017-04-01";
/// api-version of `Microsoft.Insights/diagnosticSettings`.
pub const INSIGHTS_API_VERSION: &str = "2021-05-01-preview";
/// api-version of the subscriptions list.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// The largest ARM answer read.
const MAX_BODY: u64 = 16 << 20;
/// Pages followed at most for one list.
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default, rename = "nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorDetail>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct CategoryEntry {
    name: String,
}

/// An ARM client for diagnostic settings.
pub struct ArmClient {
    http: reqwest::Client,
    tokens: TokenCache,
    base: reqwest::Url,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

fn transport(what: &str, e: GraphError) -> ArmError {
    ArmError::Transport {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

impl ArmClient {
    /// A client for `config` (checks it; reads certificate files of a certificate credential).
    pub fn new(config: &ArmClientConfig) -> Result<ArmClient, ArmError> {
        if let Err(errors) = config.validate() {
            return Err(ArmError::Config(
                errors
                    .iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        let http = http_client(config.request_timeout).map_err(ArmError::Token)?;
        let provider = token_provider(&config.token_config(), http.clone(), Arc::new(SystemClock))
            .map_err(ArmError::Token)?;
        let mut base = reqwest::Url::parse(&config.endpoint)
            .map_err(|e| ArmError::Config(format!("endpoint: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(ArmClient {
            http,
            tokens: TokenCache::new(provider),
            base,
        })
    }

    fn url(&self, path: &str, api_version: &str) -> Result<reqwest::Url, ArmError> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ArmError::Config(format!("path {path:?}: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }

    fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Sends one request; `Ok((status, body))` for 2xx, classified errors otherwise.
    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        url: reqwest::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, Vec<u8>), ArmError> {
        let mut refreshed = false;
        loop {
            let (token, generation) = self.tokens.get().await.map_err(ArmError::Token)?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret())
                .header("accept", "application/json");
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.to_string());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| transport(what, GraphError::from_reqwest(what, &e)))?;
            let status = resp.status().as_u16();
            if status == 401 && !refreshed {
                refreshed = true;
                self.tokens.invalidate(generation).await;
                continue;
            }
            let after = retry_after(resp.headers());
            let bytes = read_body(resp, MAX_BODY, what)
                .await
                .map_err(|e| transport(what, e))?;
            if (200..300).contains(&status) {
                return Ok((status, bytes));
            }
            let parsed: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            let (code, message) = match parsed.error {
                Some(d) => (d.code, d.message),
                None => (parsed.code, parsed.message),
            };
            return Err(ArmError::Status {
                what: what.to_owned(),
                status,
                code,
                message: message.unwrap_or_default().chars().take(500).collect(),
                retry_after: after,
            });
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        url: reqwest::Url,
    ) -> Result<T, ArmError> {
        let (_, body) = self.send(what, reqwest::Method::GET, url, None).await?;
        serde_json::from_slice(&body).map_err(|e| ArmError::Decode {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    async fn list<T: DeserializeOwned>(
        &self,
        what: &str,
        first: reqwest::Url,
    ) -> Result<Vec<T>, ArmError> {
        let mut out = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let page: List<T> = self.get_json(what, url).await?;
            out.extend(page.value);
            let Some(next) = page.next_link else {
                return Ok(out);
            };
            url = reqwest::Url::parse(&next).map_err(|e| ArmError::Decode {
                what: what.to_owned(),
                message: format!("nextLink: {e}"),
            })?;
            if !self.same_origin(&url) {
                return Err(ArmError::Decode {
                    what: what.to_owned(),
                    message: "nextLink leaves the configured ARM endpoint".to_owned(),
                });
            }
        }
        Err(ArmError::Decode {
            what: what.to_owned(),
            message: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// The tenant's Entra diagnostic settings.
    pub async fn entra_settings(&self) -> Result<Vec<DiagnosticSetting>, ArmError> {
        let url = self.url(
            "providers/microsoft.aadiam/diagnosticSettings",
            AADIAM_API_VERSION,
        )?;
        self.list("list Entra diagnostic settings", url).await
    }

    /// The categories the tenant can export (missing ones are not licensed).
    pub async fn entra_categories(&self) -> Result<Vec<String>, ArmError> {
        let url = self.url(
            "providers/microsoft.aadiam/diagnosticSettingsCategories",
            AADIAM_API_VERSION,
        )?;
        let entries: Vec<CategoryEntry> =
            self.list("list Entra diagnostic categories", url).await?;
        Ok(entries.into_iter().map(|e| e.name).collect())
    }

    /// Creates or replaces the Entra diagnostic setting `name`.
    pub async fn put_entra_setting(
        &self,
        name: &str,
        properties: &SettingProperties,
    ) -> Result<DiagnosticSetting, ArmError> {
        let url = self.url(
            &format!(
                "providers/microsoft.aadiam/diagnosticSettings/{}",
                encode(name)
            ),
            AADIAM_API_VERSION,
        )?;
        self.put("put Entra diagnostic setting", url, properties)
            .await
    }

    /// Deletes the Entra diagnostic setting `name` (no error when it does not exist).
    pub async fn delete_entra_setting(&self, name: &str) -> Result<(), ArmError> {
        let url = self.url(
            &format!(
                "providers/microsoft.aadiam/diagnosticSettings/{}",
                encode(name)
            ),
            AADIAM_API_VERSION,
        )?;
        self.send(
            "delete Entra diagnostic setting",
            reqwest::Method::DELETE,
            url,
            None,
        )
        .await
        .map(|_| ())
    }

    /// The subscriptions the caller can see.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, ArmError> {
        let url = self.url("subscriptions", SUBSCRIPTIONS_API_VERSION)?;
        self.list("list subscriptions", url).await
    }

    /// The `Microsoft.Insights` diagnostic settings of a scope: `/subscriptions/{id}` (the Activity Log) or a
    /// resource id.
    pub async fn scope_settings(&self, scope: &str) -> Result<Vec<DiagnosticSetting>, ArmError> {
        let url = self.url(
            &format!(
                "{}/providers/Microsoft.Insights/diagnosticSettings",
                scope.trim_matches('/')
            ),
            INSIGHTS_API_VERSION,
        )?;
        self.list(&format!("list diagnostic settings of {scope}"), url)
            .await
    }

    /// Creates or replaces the `Microsoft.Insights` diagnostic setting `name` of a scope.
    pub async fn put_scope_setting(
        &self,
        scope: &str,
        name: &str,
        properties: &SettingProperties,
    ) -> Result<DiagnosticSetting, ArmError> {
        let url = self.url(
            &format!(
                "{}/providers/Microsoft.Insights/diagnosticSettings/{}",
                scope.trim_matches('/'),
                encode(name)
            ),
            INSIGHTS_API_VERSION,
        )?;
        self.put(
            &format!("put diagnostic setting of {scope}"),
            url,
            properties,
        )
        .await
    }

    async fn put(
        &self,
        what: &str,
        url: reqwest::Url,
        properties: &SettingProperties,
    ) -> Result<DiagnosticSetting, ArmError> {
        let body = put_body(properties);
        let (_, bytes) = self
            .send(what, reqwest::Method::PUT, url, Some(&body))
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| ArmError::Decode {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }
}

/// The PUT body for a setting: `{"properties": {...}}`, exactly what [`ArmClient`] sends.
pub fn put_body(properties: &SettingProperties) -> serde_json::Value {
    serde_json::json!({ "properties": properties })
}

/// Percent-encodes a path segment.
fn encode(s: &str) -> String {
    crate::graph::endpoints::encode(s)
}
