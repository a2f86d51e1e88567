//! The I/O half of coverage: reads the diagnostic settings through ARM and what entrail received from the
//! data directory's ingest statistics (`stats.json`, written at every hub checkpoint: readable while
//! `entrail run` is running).

use super::config::CoverageConfig;
use super::evaluate::{Observed, Received, ReceivedStats, ScopeKind, ScopeObserved};
use chrono::{DateTime, Utc};
use model::Category;
use sources::arm::ArmClient;
use std::path::Path;

/// Reads every setting coverage needs; failures are kept per call, never fatal.
pub async fn observe(client: &ArmClient, config: &CoverageConfig) -> Observed {
    let entra = client.entra_settings().await.map_err(|e| e.to_string());
    let licensed = match client.entra_categories().await {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(error = %e, "could not list the tenant's diagnostic categories; licence not checked");
            None
        }
    };
    let mut errors = Vec::new();
    let subscriptions = match &config.subscriptions {
        Some(list) => list.clone(),
        None => match client.subscriptions().await {
            Ok(s) => s
                .into_iter()
                .filter(|s| s.state.is_empty() || s.state.eq_ignore_ascii_case("Enabled"))
                .map(|s| s.subscription_id)
                .collect(),
            Err(e) => {
                errors.push(format!("subscriptions: {e}"));
                Vec::new()
            }
        },
    };
    let mut scopes = Vec::new();
    for sub in subscriptions {
        let scope = format!("/subscriptions/{sub}");
        let settings = client
            .scope_settings(&scope)
            .await
            .map_err(|e| e.to_string());
        scopes.push(ScopeObserved {
            scope,
            kind: ScopeKind::Subscription,
            settings,
        });
    }
    for r in &config.resources {
        let settings = client.scope_settings(r).await.map_err(|e| e.to_string());
        scopes.push(ScopeObserved {
            scope: r.clone(),
            kind: ScopeKind::Resource,
            settings,
        });
    }
    Observed {
        entra,
        licensed,
        scopes,
        errors,
        graph: config.graph_categories.clone(),
    }
}

fn micros(t: Option<i64>) -> Option<DateTime<Utc>> {
    t.and_then(DateTime::from_timestamp_micros)
}

/// What the data directory holds, per category.
pub fn received(data_dir: &Path) -> Received {
    let stats = store::hub::IngestStats::load(&data_dir.join("stats.json"));
    stats
        .categories
        .iter()
        .filter_map(|(name, s)| {
            Some((
                Category::from_name(name)?,
                ReceivedStats {
                    records: s.appended,
                    first_event: micros(s.first_event_time),
                    last_event: micros(s.last_event_time),
                    last_received: micros(s.last_ingest_time),
                },
            ))
        })
        .collect()
}
