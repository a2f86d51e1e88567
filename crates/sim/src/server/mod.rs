//! The simulated tenant served over HTTP on loopback, like Microsoft Graph and the Microsoft identity platform.
//!
//! [`SimServer::start`] pre-generates the tenant's Graph objects ([`ServerConfig::tenant`]) and binds
//! `127.0.0.1:0`. From [`SimServer::base_url`]:
//!
//! | Path | What |
//! |---|---|
//! | `POST /{tenant}/oauth2/v2.0/token` | client credentials: secret or certificate assertion (wire-formats §4) |
//! | `GET /metadata/identity/oauth2/token` | IMDS managed identity (`Metadata: true`, strings throughout) |
//! | `GET /v1.0/…`, `GET /beta/…` | Graph list endpoints (see `endpoints.rs`), `$filter` `$top` `$orderby` `$skiptoken` |
//! | `/providers/microsoft.aadiam/…`, `/subscriptions/…` | Azure Resource Manager: diagnostic settings (see `arm.rs`) |
//! | `GET /_sim/truth`, `GET /_sim/stats` | [`GraphTruth`] and [`ServerStats`] as JSON |
//! | `GET/POST /_sim/clock` | read / drive the clock: `{"set":"…"}`, `{"advance_secs":n}`, `{"speed":x}`, `{"freeze":true}`, `{"resume":true}` |
//!
//! Every response carries a `Date` header in **sim** time. Records are served once sim-now reaches the time they
//! were received (plus any late-arrival delay); a republication replaces the earlier version from then on; an
//! exact duplicate is a second identical entry. Throttling runs on real time (limits are per real second).

mod arm;
mod arm_validate;
mod auth;
mod clock;
mod config;
mod data;
mod endpoints;
mod faults;
mod filter;
mod graph;
mod odata;
mod respond;
mod throttle;
mod tokens;
mod truth;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower_service::Service;

pub use arm::{
    ArmConfig, ArmScenario, ENTRA_CATEGORIES, MISSING_IN_SCENARIO, P2_ONLY_CATEGORIES,
    REQUIRED_AND_RECOMMENDED, SIM_EVENT_HUB_RULE_ID, SIM_KEY_VAULT_ID, SIM_STORAGE_ACCOUNT_ID,
    SIM_SUBSCRIPTION_ID, SIM_WORKSPACE_ID,
};
pub use clock::SimClock;
pub use config::{
    ALL_READ_PERMISSIONS, AppConfig, ClockConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_MI_CLIENT_ID, DEFAULT_TENANT_ID, Faults, Limits, ServerConfig, Storm, all_permissions,
};
pub use truth::{CategoryGraphTruth, FaultStats, GraphTruth, IdTruth, ServerStats};

use crate::Category;
use auth::CertKey;
use data::Data;
use faults::FaultState;
use graph::Version;
use respond::{http_date, json_response};
use throttle::Throttle;
use tokens::Tokens;

/// Every category the Graph endpoints serve, in a fixed order.
pub const GRAPH_CATEGORIES: &[Category] = &[
    Category::SignInLogs,
    Category::NonInteractiveUserSignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::ManagedIdentitySignInLogs,
    Category::AuditLogs,
    Category::ProvisioningLogs,
    Category::RiskyUsers,
    Category::UserRiskEvents,
    Category::RiskyServicePrincipals,
    Category::ServicePrincipalRiskEvents,
    Category::NetworkAccessTrafficLogs,
    Category::RemoteNetworkHealthLogs,
    Category::RiskyAgents,
    Category::AgentRiskEvents,
];

fn category_index(cat: Category) -> Option<u8> {
    GRAPH_CATEGORIES
        .iter()
        .position(|c| *c == cat)
        .map(|i| i as u8)
}

/// Locks a mutex, ignoring poisoning (state stays usable after a panicking test thread).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Shared state of a running server.
pub(crate) struct App {
    cfg: ServerConfig,
    base_url: String,
    clock: SimClock,
    data: Data,
    served: Vec<Category>,
    tokens: Tokens,
    throttle: Throttle,
    faults: FaultState,
    stats: Mutex<ServerStats>,
    certs: HashMap<String, Result<CertKey, String>>,
    request_seq: AtomicU64,
    skip_key: u64,
    arm: arm::Arm,
}

impl App {
    fn stat(&self, f: impl FnOnce(&mut ServerStats)) {
        f(&mut lock(&self.stats));
    }

    fn next_request_id(&self) -> String {
        respond::guid(
            self.request_seq.fetch_add(1, Ordering::Relaxed),
            self.skip_key,
        )
    }
}

/// Lets a handler close its connection without answering (the connection-reset fault).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnCtl(Arc<Notify>);

impl ConnCtl {
    fn kill(&self) {
        self.0.notify_one();
    }
}

/// A running simulated tenant. Dropping it stops the server too; [`SimServer::shutdown`] also waits.
pub struct SimServer {
    app: Arc<App>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimServer {
    /// Generates the tenant (on a blocking thread) and starts serving on `127.0.0.1:0`. Fails on bind errors
    /// and on an application certificate that does not parse.
    pub async fn start(config: ServerConfig) -> io::Result<SimServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let mut certs = HashMap::new();
        for a in &config.apps {
            if let Some(pem) = &a.certificate_pem {
                let cert = auth::load_cert(pem).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("app {}: {e}", a.client_id),
                    )
                })?;
                certs.insert(a.client_id.clone(), Ok(cert));
            }
        }
        let served: Vec<Category> = match &config.categories {
            None => GRAPH_CATEGORIES.to_vec(),
            Some(c) => GRAPH_CATEGORIES
                .iter()
                .copied()
                .filter(|g| c.contains(g))
                .collect(),
        };
        let started = Instant::now();
        let (cfg2, served2) = (config.clone(), served.clone());
        let data = tokio::task::spawn_blocking(move || data::build(&cfg2, &served2))
            .await
            .map_err(io::Error::other)?;
        let generation_ms = started.elapsed().as_millis() as u64;
        let c = &config.clock;
        let clock = SimClock::new(
            c.start.unwrap_or_else(|| config.tenant.end()),
            c.speed,
            c.end,
            c.frozen,
        );
        let stats = ServerStats {
            records_generated: data.records,
            data_bytes: data.bytes,
            generation_ms,
            faults: FaultStats {
                late_records: data.late_records,
                ..FaultStats::default()
            },
            ..ServerStats::default()
        };
        let app = Arc::new(App {
            base_url: format!("http://{addr}"),
            clock,
            data,
            served,
            tokens: Tokens::new(config.faults.seed),
            throttle: Throttle::new(config.limits.clone()),
            faults: FaultState::new(config.faults.clone()),
            stats: Mutex::new(stats),
            certs,
            request_seq: AtomicU64::new(1),
            skip_key: crate::util::mix2(config.tenant.seed, 0x5C1F),
            arm: arm::Arm {
                state: Mutex::new(arm::ArmState::new(&config.arm)),
            },
            cfg: config,
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router(app.clone()), stop_rx));
        Ok(SimServer {
            app,
            addr,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: authority host, Graph root and IMDS endpoint at once.
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    /// The token endpoint URL (`{base}/{tenant}/oauth2/v2.0/token`).
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.app.base_url, self.app.cfg.tenant_id
        )
    }

    /// The simulated clock (shared with the server).
    pub fn clock(&self) -> SimClock {
        self.app.clock.clone()
    }

    /// Everything made visible up to sim-now.
    pub fn truth(&self) -> GraphTruth {
        truth::compute(&self.app.data, &self.app.served, self.app.clock.now())
    }

    /// The simulated ARM's state as JSON: `{"entra":{name:properties}, "scopes":{scope:{name:properties}},
    /// "licensed":[...], "puts":[{"path","body"}]}` (every accepted PUT body as sent).
    pub fn arm_snapshot(&self) -> serde_json::Value {
        lock(&self.app.arm.state).snapshot()
    }

    /// Resets the simulated ARM to a scenario's starting state (for tests that change the tenant mid-way).
    pub fn arm_reset(&self, scenario: ArmScenario) {
        let cfg = ArmConfig {
            scenario,
            ..self.app.cfg.arm.clone()
        };
        *lock(&self.app.arm.state) = arm::ArmState::new(&cfg);
    }

    /// Counters so far.
    pub fn stats(&self) -> ServerStats {
        lock(&self.app.stats).clone()
    }

    /// Stops accepting, closes open connections and waits for the accept loop.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            _ = stop.changed() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
        };
        let router = router.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let ctl = ConnCtl::default();
            let ctl2 = ctl.clone();
            let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ctl2.clone());
                let mut router = router.clone();
                async move { router.call(req.map(Body::new)).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = ctl.0.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/metadata/identity/oauth2/token", get(imds))
        .route("/_sim/truth", get(sim_truth))
        .route("/_sim/stats", get(sim_stats))
        .route("/_sim/clock", get(sim_clock).post(sim_clock_post))
        .route("/v1.0/{*path}", get(graph_v1))
        .route("/beta/{*path}", get(graph_beta))
        .route("/providers/{*path}", any(arm_request))
        .route("/subscriptions", any(arm_request))
        .route("/subscriptions/{*path}", any(arm_request))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

fn endpoint_label(path: &str) -> String {
    if path.ends_with("/oauth2/v2.0/token") {
        "token".to_owned()
    } else if path == "/metadata/identity/oauth2/token" {
        "imds".to_owned()
    } else if path.starts_with("/providers/") || path.starts_with("/subscriptions") {
        "arm".to_owned()
    } else if path.starts_with("/v1.0/") || path.starts_with("/beta/") || path.starts_with("/_sim/")
    {
        path.trim_matches('/').to_owned()
    } else {
        "other".to_owned()
    }
}

/// Counts requests per endpoint and status and stamps the sim-time `Date` header.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let label = endpoint_label(req.uri().path());
    app.stat(|s| {
        s.requests += 1;
        *s.by_endpoint.entry(label).or_default() += 1;
    });
    let mut resp = next.run(req).await;
    let status = resp.status().as_u16();
    app.stat(|s| {
        *s.by_status.entry(status).or_default() += 1;
        if status == 429 {
            s.throttled += 1;
        }
    });
    if let Ok(v) = HeaderValue::from_str(&http_date(app.clock.now())) {
        resp.headers_mut().insert(header::DATE, v);
    }
    resp
}

async fn token(State(app): State<Arc<App>>, req: Request) -> Response {
    let tenant = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let body: Bytes = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": "invalid_request"}),
            );
        }
    };
    auth::token_endpoint(&app, &tenant, &body)
}

async fn imds(State(app): State<Arc<App>>, req: Request) -> Response {
    auth::imds(&app, req.headers(), req.uri().query().unwrap_or(""))
}

async fn graph_v1(State(app): State<Arc<App>>, req: Request) -> Response {
    graph_request(app, Version::V1, req).await
}

async fn graph_beta(State(app): State<Arc<App>>, req: Request) -> Response {
    graph_request(app, Version::Beta, req).await
}

async fn graph_request(app: Arc<App>, version: Version, req: Request) -> Response {
    let prefix = match version {
        Version::V1 => "/v1.0/",
        Version::Beta => "/beta/",
    };
    let path = req
        .uri()
        .path()
        .strip_prefix(prefix)
        .unwrap_or("")
        .to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let conn = req.extensions().get::<ConnCtl>().cloned();
    graph::serve(&app, version, &path, req.headers(), &query, conn).await
}

async fn arm_request(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 4 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"error": {"code": "RequestEntityTooLarge", "message": "The request content is too large."}}),
            );
        }
    };
    arm::serve(
        &app,
        &parts.method,
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &body,
    )
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    let rid = app.next_request_id();
    respond::graph_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "Resource not found.",
        app.clock.now(),
        &rid,
    )
}

async fn sim_truth(State(app): State<Arc<App>>) -> Response {
    let t = truth::compute(&app.data, &app.served, app.clock.now());
    json_response(StatusCode::OK, &serde_json::to_value(t).unwrap_or_default())
}

async fn sim_stats(State(app): State<Arc<App>>) -> Response {
    let s = lock(&app.stats).clone();
    json_response(StatusCode::OK, &serde_json::to_value(s).unwrap_or_default())
}

fn clock_state(app: &App) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"now": app.clock.now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true), "frozen": app.clock.is_frozen()}),
    )
}

async fn sim_clock(State(app): State<Arc<App>>) -> Response {
    clock_state(&app)
}

/// A clock command; fields apply in the order set, speed, advance, freeze, resume.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockCommand {
    set: Option<chrono::DateTime<chrono::Utc>>,
    speed: Option<f64>,
    advance_secs: Option<f64>,
    freeze: Option<bool>,
    resume: Option<bool>,
}

async fn sim_clock_post(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let cmd: ClockCommand = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
    };
    if let Some(t) = cmd.set {
        app.clock.set(t);
    }
    if let Some(s) = cmd.speed {
        app.clock.set_speed(s);
    }
    if let Some(secs) = cmd.advance_secs.filter(|s| s.is_finite() && *s >= 0.0) {
        app.clock.advance(std::time::Duration::from_secs_f64(secs));
    }
    if cmd.freeze == Some(true) {
        app.clock.freeze();
    }
    if cmd.resume == Some(true) {
        app.clock.resume();
    }
    clock_state(&app)
}
