//! An axum app served on 127.0.0.1 from its own background runtime, so blocking tests can talk to it.

use std::net::SocketAddr;

/// A running server; dropping it stops the runtime (and the server) without waiting.
pub struct HttpServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
}

impl HttpServer {
    /// Serves `app` on 127.0.0.1:`port` (0: any free port) from a one-worker runtime.
    pub fn start(app: axum::Router, port: u16) -> HttpServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move { axum::serve(listener, app).await });
        HttpServer {
            url: format!("http://{addr}"),
            addr,
            rt: Some(rt),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
