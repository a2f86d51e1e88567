//! The TLS listener's server configuration: rustls with ring, the certificate chain and key from PEM files,
//! and, with `client_ca_file`, mutual TLS (a client certificate chaining to that CA is required).

use super::SyslogError;
use super::config::ListenerConfig;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

fn tls_error(path: &Path, what: impl std::fmt::Display) -> SyslogError {
    SyslogError::Tls {
        message: format!("{}: {what}", path.display()),
    }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, SyslogError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(path, e))?;
    if certs.is_empty() {
        return Err(tls_error(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// Builds the server configuration of a `tls` listener (reads its PEM files).
pub(crate) fn server_config(l: &ListenerConfig) -> Result<Arc<ServerConfig>, SyslogError> {
    let missing = |what: &str| SyslogError::Tls {
        message: format!("{what} is required for a tls listener"),
    };
    let cert = l.cert_file.as_deref().ok_or_else(|| missing("cert_file"))?;
    let key = l.key_file.as_deref().ok_or_else(|| missing("key_file"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SyslogError::Tls {
            message: e.to_string(),
        })?;
    let builder = match &l.client_ca_file {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c).map_err(|e| tls_error(ca, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error(ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = certs(cert)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_error(key, e))?;
    let config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| tls_error(cert, e))?;
    Ok(Arc::new(config))
}
