//! Enforcing receivers for the HTTP SIEM sinks, shared by the `sinks` and `pipeline` tests: each checks
//! the documented request format, stores what it accepted and can inject faults.

use crate::http::HttpServer;
use std::sync::{Arc, Mutex};

pub mod elastic;
pub mod sentinel;

/// A running receiver with state `S`; stopped on drop.
pub struct Receiver<S> {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What it saw and what it should answer.
    pub state: Arc<Mutex<S>>,
    _server: HttpServer,
}

impl<S> Receiver<S> {
    /// Serves `app` (built over `state`) on 127.0.0.1:`port` (0: any free port).
    fn serve(app: axum::Router, state: Arc<Mutex<S>>, port: u16) -> Receiver<S> {
        let server = HttpServer::start(app, port);
        Receiver {
            url: server.url.clone(),
            state,
            _server: server,
        }
    }
}
