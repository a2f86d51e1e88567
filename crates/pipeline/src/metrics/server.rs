//! The HTTP endpoint: `GET /metrics` (text format 0.0.4) and `GET /healthz` (200 with a JSON summary),
//! served by axum on a thread of its own with a single-threaded runtime, so scrapes never wait for the
//! pipeline's work and the pipeline never waits for a scrape.

use super::Metrics;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;

/// Metrics endpoint failures.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("metrics endpoint: binding {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server thread could not start.
    #[error("metrics endpoint: starting the server thread")]
    Start(#[source] std::io::Error),
}

/// A running endpoint; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// The bound address (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The endpoint's routes over `metrics` (usable without a socket in tests).
pub fn router(metrics: Metrics) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(healthz))
        .with_state(metrics)
}

async fn scrape(State(m): State<Metrics>) -> impl IntoResponse {
    ([(CONTENT_TYPE, super::render::CONTENT_TYPE)], m.render())
}

async fn healthz(State(m): State<Metrics>) -> impl IntoResponse {
    axum::Json(m.health())
}

/// Binds `addr` now (so a taken port fails at startup) and serves `metrics` until the returned handle is
/// dropped.
pub fn serve(addr: SocketAddr, metrics: Metrics) -> Result<MetricsServer, MetricsError> {
    let bind = |source| MetricsError::Bind { addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
    listener.set_nonblocking(true).map_err(bind)?;
    let local = listener.local_addr().map_err(bind)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(MetricsError::Start)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("entrail-metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(error = %e, "metrics endpoint: listener unusable");
                        return;
                    }
                };
                let served = axum::serve(listener, router(metrics))
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics endpoint stopped");
                }
            });
        })
        .map_err(MetricsError::Start)?;
    tracing::info!(addr = %local, "serving /metrics and /healthz");
    Ok(MetricsServer {
        addr: local,
        stop: Some(stop),
        thread: Some(thread),
    })
}
