//! Serving an axum router on a loopback listener until told to stop: what the local Blob and S3 servers share.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `router` on `listener` in a spawned task; sending `true` (or dropping the sender) stops it
/// gracefully.
pub(crate) fn serve_until_stopped(listener: TcpListener, router: Router) -> watch::Sender<bool> {
    let (stop, mut stopped) = watch::channel(false);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await;
    });
    stop
}
