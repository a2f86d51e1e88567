//! The Graph source object: validated configuration, the HTTP client with its token cache, the shared
//! scheduler, the clock and the accounting. Tail, poll and backfill are in `tail.rs` and `backfill.rs`.

use super::auth::{TokenCache, TokenProvider, provider};
use super::client::{GraphClient, http_client};
use super::scheduler::Scheduler;
use super::status::Accounting;
use super::{
    Clock, ClockKind, GraphError, GraphSourceConfig, GraphStatus, ServerDateClock, SystemClock,
};
use model::Category;
use std::sync::Arc;

/// Collects Entra logs from Microsoft Graph.
pub struct GraphSource {
    pub(crate) config: GraphSourceConfig,
    pub(crate) categories: Vec<Category>,
    pub(crate) client: GraphClient,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) accounting: Accounting,
}

impl std::fmt::Debug for GraphSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphSource")
            .field("config", &self.config)
            .field("categories", &self.categories)
            .finish_non_exhaustive()
    }
}

impl GraphSource {
    /// Validates `config`, loads its credential (reads certificate files) and joins the process-wide
    /// scheduler of its (authority, tenant, app). Sends no request.
    pub fn new(
        config: GraphSourceConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<GraphSource, GraphError> {
        config.validate().map_err(GraphError::Config)?;
        let http = http_client(config.request_timeout)?;
        let tokens = provider(&config, http.clone(), clock.clone())?;
        GraphSource::build(config, clock, http, tokens)
    }

    /// Like [`GraphSource::new`], with the clock the configuration names.
    pub fn from_config(config: GraphSourceConfig) -> Result<GraphSource, GraphError> {
        let clock: Arc<dyn Clock> = match config.clock {
            ClockKind::System => Arc::new(SystemClock),
            ClockKind::ServerDate => Arc::new(ServerDateClock::new()),
        };
        GraphSource::new(config, clock)
    }

    /// Like [`GraphSource::new`], with a token provider of the caller's (the configured `auth` is ignored).
    pub fn with_token_provider(
        config: GraphSourceConfig,
        clock: Arc<dyn Clock>,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<GraphSource, GraphError> {
        config.validate().map_err(GraphError::Config)?;
        let http = http_client(config.request_timeout)?;
        GraphSource::build(config, clock, http, tokens)
    }

    fn build(
        config: GraphSourceConfig,
        clock: Arc<dyn Clock>,
        http: reqwest::Client,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<GraphSource, GraphError> {
        let categories = config.validate().map_err(GraphError::Config)?;
        let client = GraphClient::new(
            http,
            TokenCache::new(tokens),
            clock.clone(),
            &config.graph_endpoint,
        )?;
        let key = format!(
            "{}|{}|{}",
            config
                .authority_host
                .trim_end_matches('/')
                .to_ascii_lowercase(),
            config.tenant_id.to_ascii_lowercase(),
            config.auth.client_key()
        );
        let scheduler = Scheduler::shared(
            &key,
            &config.limits,
            config.backfill_share,
            config.max_backoff,
        );
        Ok(GraphSource {
            accounting: Accounting::new(&categories),
            config,
            categories,
            client,
            scheduler,
            clock,
        })
    }

    /// Gets a token (the token endpoint's `Date` sets a server-date clock) and returns the source's "now".
    /// Call it before deriving times from "now" when nothing has been requested yet.
    pub async fn sync_clock(&self) -> Result<chrono::DateTime<chrono::Utc>, GraphError> {
        self.client.ensure_token().await?;
        Ok(self.clock.now())
    }

    /// The configured categories, in order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The configuration.
    pub fn config(&self) -> &GraphSourceConfig {
        &self.config
    }

    /// The shared scheduler (grant counts for diagnostics).
    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.scheduler
    }

    /// The cursor key of `category`'s tail.
    pub fn tail_key(&self, category: Category) -> String {
        format!("graph/{}/{}/tail", self.config.id, category.name())
    }

    /// The cursor key of `category`'s backfill.
    pub fn backfill_key(&self, category: Category) -> String {
        format!("graph/{}/{}/backfill", self.config.id, category.name())
    }

    /// Per-category accounting.
    pub fn status(&self) -> GraphStatus {
        let now = self.clock.now();
        GraphStatus {
            source: self.config.id.clone(),
            tenant_id: self.config.tenant_id.clone(),
            now,
            categories: self.accounting.snapshot(&self.categories, now),
        }
    }
}
