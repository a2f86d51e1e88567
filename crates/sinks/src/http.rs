//! HTTP plumbing shared by the HTTP sinks (Elasticsearch, Logs Ingestion): the `reqwest` client with an
//! optional private CA, a capped response reader, `Retry-After`, gzip, and running a future to completion
//! from the synchronous [`crate::Sink::send`] (also when called from inside a Tokio runtime).

use crate::SinkError;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// Builds an HTTP client: rustls (ring), no redirects, `timeout` per request, extra roots from `ca_file`.
pub(crate) fn client(
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<reqwest::Client, SinkError> {
    // Another component may have installed a provider already; either is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(15).min(timeout))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("entrail/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let config_err = |e: &dyn std::fmt::Display| SinkError::Config {
            message: format!("tls_ca_file {}: {e}", path.display()),
        };
        let file = std::fs::File::open(path).map_err(|e| config_err(&e))?;
        let pem = model::limits::read_capped(file, 1 << 20).map_err(|e| config_err(&e))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| config_err(&e))? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| SinkError::Config {
        message: format!("building the HTTP client: {e}"),
    })
}

/// A response read to its end (at most `cap` bytes of body are kept).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body as text for error messages (at most 300 characters).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(300)
            .collect()
    }

    /// The error for a non-2xx answer.
    pub(crate) fn error(&self, target: &str) -> SinkError {
        SinkError::Status {
            target: target.to_owned(),
            status: self.status,
            code: None,
            text: self.text(),
            retry_after: self.retry_after,
        }
    }
}

/// Sends `req` and reads the answer (body capped at `cap` bytes).
pub(crate) async fn call(
    target: &str,
    req: reqwest::RequestBuilder,
    cap: usize,
) -> Result<Reply, SinkError> {
    let request_err = |source| SinkError::Request {
        target: target.to_owned(),
        source,
    };
    let mut resp = req.send().await.map_err(request_err)?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(request_err)? {
        if body.len() + chunk.len() > cap {
            return Err(SinkError::Protocol {
                target: target.to_owned(),
                message: format!("response larger than {cap} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// Gzips `data` (fast level: JSON compresses well even so).
pub(crate) fn gzip(data: &[u8]) -> Result<Vec<u8>, SinkError> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|source| SinkError::Io {
            target: "gzip".into(),
            source,
        })
}

/// A current-thread runtime owned by a sink, dropped without blocking (a runtime must not be dropped inside
/// another one).
#[derive(Debug)]
pub(crate) struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    /// Starts the runtime.
    pub(crate) fn new() -> Result<Runtime, SinkError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Runtime(Some(rt)))
            .map_err(|e| SinkError::Config {
                message: format!("starting the HTTP runtime: {e}"),
            })
    }

    /// Runs `fut` to completion; from inside another runtime it runs on a scoped helper thread.
    pub(crate) fn block_on<T: Send>(
        &self,
        target: &str,
        fut: impl Future<Output = Result<T, SinkError>> + Send,
    ) -> Result<T, SinkError> {
        let Some(rt) = &self.0 else {
            return Err(SinkError::Config {
                message: "sink already shut down".into(),
            });
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| rt.block_on(fut)).join().unwrap_or_else(|_| {
                    Err(SinkError::Protocol {
                        target: target.to_owned(),
                        message: "HTTP thread panicked".into(),
                    })
                })
            })
        } else {
            rt.block_on(fut)
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// The backoff before retry `attempt` (0-based): `base * 2^attempt` capped at `max`, with up to 25% jitter.
pub(crate) fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 4000.0);
    exp + jitter
}

/// Logs a failed send at the level its kind deserves.
pub(crate) fn log_failure(id: &str, what: &str, e: &SinkError) {
    match e.kind() {
        crate::ErrorKind::Auth | crate::ErrorKind::Fatal => tracing::error!(
            component = %id, error = %e, kind = ?e.kind(),
            "{what} refused the batch; the sink stops until an operator acts"
        ),
        _ => tracing::warn!(
            component = %id, error = %e, kind = ?e.kind(),
            "{what} batch failed; it will be retried"
        ),
    }
}

/// Checks an endpoint URL: http(s), a host, no query or fragment, `https` unless the host is loopback.
pub(crate) fn check_url(field: &str, url: &str, errors: &mut Vec<crate::ConfigError>) {
    let mut err = |m: String| errors.push(crate::ConfigError::new(field, m));
    match reqwest::Url::parse(url) {
        Err(e) => err(format!("not a URL ({e}): {url:?}")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
            err(format!("must be an http(s) URL, got {url:?}"));
        }
        Ok(u) if u.query().is_some() || u.fragment().is_some() => {
            err("must be a base URL without query or fragment".into());
        }
        Ok(u)
            if u.scheme() == "http"
                && !crate::util::is_loopback_host(u.host_str().unwrap_or("")) =>
        {
            err(
                "must use https (credentials would travel in clear); http only for loopback".into(),
            );
        }
        Ok(_) => {}
    }
}

/// Checks a secret that goes into a header: not empty, no spaces or control characters.
pub(crate) fn check_secret(field: &str, secret: &str, errors: &mut Vec<crate::ConfigError>) {
    if secret.trim().is_empty() {
        errors.push(crate::ConfigError::new(field, "must not be empty"));
    } else if secret.chars().any(|c| c.is_control() || c == ' ') {
        errors.push(crate::ConfigError::new(
            field,
            "must not contain spaces or control characters",
        ));
    }
}

/// Joins `path` to a base URL's path (keeping a base path such as `/es`).
pub(crate) fn join(base: &str, path: &str) -> Result<reqwest::Url, SinkError> {
    let mut u = reqwest::Url::parse(base.trim_end_matches('/')).map_err(|e| SinkError::Config {
        message: format!("url: {e}"),
    })?;
    let joined = format!("{}{path}", u.path().trim_end_matches('/'));
    u.set_path(&joined);
    Ok(u)
}
