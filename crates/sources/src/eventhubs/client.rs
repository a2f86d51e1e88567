//! The Kafka client: librdkafka settings from the config (never auto-commit, never auto-store offsets),
//! the consumer context that tracks assignments and revocations, and the OAUTHBEARER token callback that
//! gets Entra tokens through the Graph source's token flows.

use super::config::{EventHubsAuth, EventHubsSourceConfig, StartPosition};
use super::watermark::{TopicPartition, Watermarks};
use crate::graph::{GraphSourceConfig, SystemClock};
use rdkafka::ClientContext;
use rdkafka::client::OAuthToken;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use secrecy::ExposeSecret;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often librdkafka reports its statistics, which carry every partition's watermarks as learnt from its
/// fetch responses: lag comes from them without asking the broker (a ListOffsets request waits behind the
/// long-polling fetches on the same connection, up to `fetch.wait.max.ms` per partition).
pub(crate) const STATS_EVERY: Duration = Duration::from_secs(1);

/// A partition's watermarks as librdkafka last learnt them, and when they were reported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    /// The oldest retained offset.
    pub low: i64,
    /// One past the last message.
    pub high: i64,
    /// The group's committed offset as librdkafka fetched it on assignment or last committed (none when
    /// the group has no commit for the partition).
    pub committed: Option<i64>,
    /// When the statistics reporting them arrived.
    pub at: Instant,
}

/// What the consumer context and the run loop share.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Commit watermarks.
    pub marks: Watermarks,
    /// Partitions assigned to this consumer now.
    pub assigned: BTreeSet<TopicPartition>,
    /// Rebalances seen (assignments and revocations).
    pub rebalances: u64,
    /// Watermarks from librdkafka's statistics, per partition.
    pub seen: BTreeMap<TopicPartition, Seen>,
}

/// The part of librdkafka's statistics JSON the source reads (the rest is skipped, not built).
#[derive(serde::Deserialize)]
struct Stats {
    #[serde(default)]
    topics: HashMap<String, StatsTopic>,
}

#[derive(serde::Deserialize)]
struct StatsTopic {
    #[serde(default)]
    partitions: HashMap<String, StatsPartition>,
}

#[derive(serde::Deserialize)]
struct StatsPartition {
    partition: i32,
    #[serde(default = "unknown")]
    lo_offset: i64,
    #[serde(default = "unknown")]
    hi_offset: i64,
    #[serde(default = "unknown")]
    committed_offset: i64,
}

const fn unknown() -> i64 {
    -1
}

/// State behind a lock, shared with the librdkafka callbacks.
#[derive(Debug, Default)]
pub(crate) struct Shared(Mutex<State>);

impl Shared {
    /// Locks the state (a poisoned lock is taken over: the state is plain data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Token settings for OAUTHBEARER.
#[derive(Clone)]
struct OauthSettings {
    graph: GraphSourceConfig,
}

/// The consumer context.
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    oauth: Option<OauthSettings>,
    source: String,
}

impl ClientContext for Context {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn stats_raw(&self, statistics: &[u8]) {
        let Ok(stats) = serde_json::from_slice::<Stats>(statistics) else {
            return;
        };
        let at = Instant::now();
        let mut st = self.shared.lock();
        for (topic, t) in stats.topics {
            for p in t.partitions.into_values() {
                // -1 is librdkafka's internal "unassigned" partition; a negative high is not known yet.
                if p.partition >= 0 && p.hi_offset >= 0 {
                    let low = p.lo_offset.max(0);
                    st.seen.insert(
                        (topic.clone(), p.partition),
                        Seen {
                            low,
                            high: p.hi_offset,
                            committed: (p.committed_offset >= 0).then_some(p.committed_offset),
                            at,
                        },
                    );
                }
            }
        }
    }

    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        let Some(oauth) = self.oauth.clone() else {
            return Err("OAUTHBEARER is not configured for this source".into());
        };
        // librdkafka calls this from inside the consumer's poll (an async task): fetch on a thread of its own
        // with a runtime of its own.
        let fetched = std::thread::spawn(move || -> Result<(String, Duration), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("token runtime: {e}"))?;
            rt.block_on(async {
                let http = crate::graph::client::http_client(Duration::from_secs(30))
                    .map_err(|e| e.to_string())?;
                let provider =
                    crate::graph::auth::provider(&oauth.graph, http, Arc::new(SystemClock))
                        .map_err(|e| e.to_string())?;
                let t = provider.fetch().await.map_err(|e| e.to_string())?;
                Ok((t.token.expose_secret().to_owned(), t.expires_in))
            })
        })
        .join()
        .map_err(|_| "token thread panicked".to_owned())
        .and_then(|r| r);
        match fetched {
            Ok((token, expires_in)) => {
                let expires = chrono::Utc::now()
                    + chrono::TimeDelta::from_std(expires_in).unwrap_or_default();
                Ok(OAuthToken {
                    token,
                    principal_name: self.source.clone(),
                    lifetime_ms: expires.timestamp_millis(),
                })
            }
            Err(e) => {
                tracing::warn!(source = %self.source, error = %e, "Event Hubs token request failed");
                Err(e.into())
            }
        }
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let mut st = self.shared.lock();
            st.rebalances += 1;
            for e in list.elements() {
                let tp = (e.topic().to_owned(), e.partition());
                // Nothing more is committed for it here: its messages in flight are still made durable, and
                // the next owner re-reads them from the committed offset (dedupe drops the repeats).
                st.marks.revoke(&tp);
                st.assigned.remove(&tp);
                st.seen.remove(&tp);
            }
            tracing::info!(source = %self.source, partitions = list.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let mut st = self.shared.lock();
                st.rebalances += 1;
                for e in list.elements() {
                    st.assigned.insert((e.topic().to_owned(), e.partition()));
                }
                tracing::info!(source = %self.source, partitions = list.count(), "partitions assigned");
            }
            Rebalance::Error(e) => {
                tracing::warn!(source = %self.source, error = %e, "rebalance failed");
            }
            Rebalance::Revoke(_) => {}
        }
    }
}

impl Context {
    /// The context for a source.
    pub(crate) fn new(config: &EventHubsSourceConfig, shared: Arc<Shared>) -> Context {
        let oauth = match &config.auth {
            EventHubsAuth::Oauth {
                tenant_id,
                authority_host,
                credential,
            } => {
                let mut graph = GraphSourceConfig::new(
                    config.id.clone(),
                    tenant_id.clone(),
                    credential.clone(),
                );
                graph.authority_host.clone_from(authority_host);
                graph.scope = Some(config.token_scope());
                Some(OauthSettings { graph })
            }
            _ => None,
        };
        Context {
            shared,
            oauth,
            source: config.id.clone(),
        }
    }
}

/// librdkafka settings for a validated config.
pub(crate) fn client_config(config: &EventHubsSourceConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.servers().join(","))
        .set("group.id", &config.consumer_group)
        .set("client.id", format!("entrail-{}", config.id))
        // Offsets move only when the pipeline says the data is durable.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            match config.start_position() {
                StartPosition::Latest => "latest",
                StartPosition::Earliest | StartPosition::Time(_) => "earliest",
            },
        )
        .set(
            "session.timeout.ms",
            config.session_timeout.as_millis().to_string(),
        )
        // Event Hubs closes idle connections after 240 s; librdkafka reconnects, but Microsoft recommends
        // these settings for its Kafka endpoint.
        .set("socket.keepalive.enable", "true")
        .set("metadata.max.age.ms", "180000")
        .set("partition.assignment.strategy", "range,roundrobin")
        .set("enable.partition.eof", "false")
        // Watermarks for lag (see STATS_EVERY).
        .set(
            "statistics.interval.ms",
            STATS_EVERY.as_millis().to_string(),
        );
    match &config.auth {
        EventHubsAuth::ConnectionString { connection_string } => {
            c.set("security.protocol", "SASL_SSL")
                .set("sasl.mechanisms", "PLAIN")
                .set("sasl.username", "$ConnectionString")
                .set("sasl.password", connection_string.expose_secret());
        }
        EventHubsAuth::Oauth { .. } => {
            c.set("security.protocol", "SASL_SSL")
                .set("sasl.mechanisms", "OAUTHBEARER");
        }
        EventHubsAuth::Plaintext => {
            c.set("security.protocol", "PLAINTEXT");
        }
    }
    c
}
