//! The stream table: which generator feeds which category, at what rate and with which rhythm, and the
//! dispatch from a stream to its family builder.

use std::collections::BTreeSet;

use super::{
    Built, Ctx, activity, audit, flow, graph_activity, network, office, provisioning, resource,
    risk, signin, workload,
};
use crate::catalog::CITIES;
use crate::category::Category;
use crate::config::TenantConfig;
use crate::rhythm::Profile;
use crate::tenant::{ResourceKind, Tenant};

/// A source of events of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Stream {
    SignIn,
    NonInteractive,
    Adfs,
    SpSignIn,
    MiSignIn,
    Audit,
    Provisioning,
    UserRisk,
    RiskyUser,
    SpRisk,
    RiskySp,
    AgentRisk,
    RiskyAgent,
    Traffic,
    Connection,
    RemoteHealth,
    NetAlert,
    Office,
    GraphUser,
    GraphApp,
    Activity(Category),
    Nsg,
    Vnet,
    KeyVault,
}

impl Stream {
    pub(crate) const fn category(self) -> Category {
        match self {
            Stream::SignIn => Category::SignInLogs,
            Stream::NonInteractive => Category::NonInteractiveUserSignInLogs,
            Stream::Adfs => Category::AdfsSignInLogs,
            Stream::SpSignIn => Category::ServicePrincipalSignInLogs,
            Stream::MiSignIn => Category::ManagedIdentitySignInLogs,
            Stream::Audit => Category::AuditLogs,
            Stream::Provisioning => Category::ProvisioningLogs,
            Stream::UserRisk => Category::UserRiskEvents,
            Stream::RiskyUser => Category::RiskyUsers,
            Stream::SpRisk => Category::ServicePrincipalRiskEvents,
            Stream::RiskySp => Category::RiskyServicePrincipals,
            Stream::AgentRisk => Category::AgentRiskEvents,
            Stream::RiskyAgent => Category::RiskyAgents,
            Stream::Traffic => Category::NetworkAccessTrafficLogs,
            Stream::Connection => Category::NetworkAccessConnectionEvents,
            Stream::RemoteHealth => Category::RemoteNetworkHealthLogs,
            Stream::NetAlert => Category::NetworkAccessAlerts,
            Stream::Office => Category::EnrichedOffice365AuditLogs,
            Stream::GraphUser | Stream::GraphApp => Category::MicrosoftGraphActivityLogs,
            Stream::Activity(c) => c,
            Stream::Nsg => Category::NsgFlowEvent,
            Stream::Vnet => Category::VnetFlowEvent,
            Stream::KeyVault => Category::KeyVaultAuditEvent,
        }
    }

    /// The state stream a detection updates, with its delay in minutes.
    pub(crate) const fn cascade(self) -> Option<(Stream, i64)> {
        match self {
            Stream::UserRisk => Some((Stream::RiskyUser, 3)),
            Stream::SpRisk => Some((Stream::RiskySp, 5)),
            Stream::AgentRisk => Some((Stream::RiskyAgent, 4)),
            _ => None,
        }
    }
}

/// How a stream is scheduled.
pub(crate) enum Sched {
    /// People-driven: expected events per minute per home city at intensity 1.
    PerCity {
        base_per_min: Vec<f64>,
        profile: Profile,
    },
    /// Organisation-wide: expected events per minute at intensity 1 (headquarters clock).
    Flat { base_per_min: f64, profile: Profile },
    /// One event per slot every `every_min` minutes.
    Periodic { every_min: u32, count: u32 },
    /// Rare: a Poisson number (at least one) per simulated day.
    Daily { mean: f64, profile: Profile },
}

pub(crate) struct StreamPlan {
    pub(crate) stream: Stream,
    pub(crate) sched: Sched,
}

const ACTIVITY_DAILY: &[(Category, f64)] = &[
    (Category::Security, 2.0),
    (Category::ServiceHealth, 1.0),
    (Category::ResourceHealth, 2.0),
    (Category::Alert, 3.0),
    (Category::Recommendation, 1.0),
    (Category::Autoscale, 2.0),
];

/// Builds the plan for the categories in `emit` (plus detections whose state category is wanted).
pub(crate) fn plan(
    tenant: &Tenant,
    cfg: &TenantConfig,
    emit: &BTreeSet<Category>,
) -> Vec<(usize, StreamPlan)> {
    let scale = cfg.volume_scale.max(0.0);
    let users = tenant.users.len() as f64;
    let per_city = |per_user_day: f64, profile: Profile, federated_only: bool| {
        let base_per_min = (0..CITIES.len())
            .map(|c| {
                let pop = tenant.by_city[c]
                    .iter()
                    .filter(|&&i| !federated_only || tenant.users[i as usize].federated)
                    .count() as f64;
                per_user_day * pop * scale / (profile.mean() * 1440.0)
            })
            .collect();
        Sched::PerCity {
            base_per_min,
            profile,
        }
    };
    let flat = |per_day: f64, profile: Profile| Sched::Flat {
        base_per_min: per_day * scale / (profile.mean() * 1440.0),
        profile,
    };
    let daily = |mean: f64, profile: Profile| Sched::Daily {
        mean: mean * scale,
        profile,
    };
    let n_sp = tenant.service_principals.len() as f64;
    let n_kv = tenant.resources_of(ResourceKind::KeyVault).count() as f64;
    let count = |k: ResourceKind| tenant.resources_of(k).count() as u32;

    let mut all = vec![
        StreamPlan {
            stream: Stream::SignIn,
            sched: per_city(6.0, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::NonInteractive,
            sched: per_city(36.0, Profile::Device, false),
        },
        StreamPlan {
            stream: Stream::Adfs,
            sched: per_city(4.0, Profile::Office, true),
        },
        StreamPlan {
            stream: Stream::SpSignIn,
            sched: flat(60.0 * n_sp, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::MiSignIn,
            sched: flat(48.0 * tenant.managed_identities.len() as f64, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::Audit,
            sched: per_city(0.6, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::Provisioning,
            sched: flat((users * 0.15).max(24.0), Profile::Flat),
        },
        StreamPlan {
            stream: Stream::UserRisk,
            sched: daily((users * 0.01).max(1.0), Profile::Office),
        },
        StreamPlan {
            stream: Stream::SpRisk,
            sched: daily(0.5 + n_sp * 0.03, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::AgentRisk,
            sched: daily(0.5 + tenant.agents.len() as f64 * 0.3, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::Traffic,
            sched: per_city(12.0, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::Connection,
            sched: per_city(3.0, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::RemoteHealth,
            sched: Sched::Periodic {
                every_min: 15,
                count: tenant.remote_networks.len() as u32,
            },
        },
        StreamPlan {
            stream: Stream::NetAlert,
            sched: daily(2.0, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::Office,
            sched: per_city(5.0, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::GraphUser,
            sched: per_city(4.0, Profile::Office, false),
        },
        StreamPlan {
            stream: Stream::GraphApp,
            sched: flat(30.0 * n_sp, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::Activity(Category::Administrative),
            sched: flat(users * 0.3, Profile::Change),
        },
        StreamPlan {
            stream: Stream::Activity(Category::Policy),
            sched: flat(tenant.resources.len() as f64 * 3.0, Profile::Flat),
        },
        StreamPlan {
            stream: Stream::Nsg,
            sched: Sched::Periodic {
                every_min: 1,
                count: count(ResourceKind::NetworkSecurityGroup),
            },
        },
        StreamPlan {
            stream: Stream::Vnet,
            sched: Sched::Periodic {
                every_min: 1,
                count: count(ResourceKind::VirtualNetwork),
            },
        },
        StreamPlan {
            stream: Stream::KeyVault,
            sched: flat(200.0 * n_kv, Profile::Device),
        },
    ];
    for (c, mean) in ACTIVITY_DAILY {
        all.push(StreamPlan {
            stream: Stream::Activity(*c),
            sched: daily(*mean, Profile::Flat),
        });
    }
    // Each plan keeps its position in the full list: it seeds the stream's randomness, so a generator
    // restricted to some categories emits exactly the events of those categories in the full stream.
    all.into_iter()
        .enumerate()
        .filter(|(_, p)| {
            emit.contains(&p.stream.category())
                || p.stream
                    .cascade()
                    .is_some_and(|(s, _)| emit.contains(&s.category()))
        })
        .collect()
}

/// Builds the record of a stream.
pub(crate) fn build(stream: Stream, ctx: &Ctx<'_>) -> Built {
    match stream {
        Stream::SignIn => signin::interactive(ctx),
        Stream::NonInteractive => signin::non_interactive(ctx),
        Stream::Adfs => signin::adfs(ctx),
        Stream::SpSignIn => workload::service_principal(ctx),
        Stream::MiSignIn => workload::managed_identity(ctx),
        Stream::Audit => audit::build(ctx),
        Stream::Provisioning => provisioning::build(ctx),
        Stream::UserRisk => risk::user_detection(ctx),
        Stream::RiskyUser => risk::risky_user(ctx),
        Stream::SpRisk => risk::sp_detection(ctx),
        Stream::RiskySp => risk::risky_sp(ctx),
        Stream::AgentRisk => risk::agent_detection(ctx),
        Stream::RiskyAgent => risk::risky_agent(ctx),
        Stream::Traffic => network::traffic(ctx),
        Stream::Connection => network::connection(ctx),
        Stream::RemoteHealth => network::remote_health(ctx),
        Stream::NetAlert => network::alert(ctx),
        Stream::Office => office::build(ctx),
        Stream::GraphUser => graph_activity::build(ctx, false),
        Stream::GraphApp => graph_activity::build(ctx, true),
        Stream::Activity(c) => activity::build(ctx, c),
        Stream::Nsg => flow::nsg(ctx),
        Stream::Vnet => flow::vnet(ctx),
        Stream::KeyVault => resource::key_vault(ctx),
    }
}
