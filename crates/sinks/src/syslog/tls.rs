//! The TLS client configuration: rustls with ring, the receiver checked against `tls.ca_file` (on by
//! default), an optional client certificate. PEM parsing through `rustls-pki-types`.

use super::config::SyslogTlsConfig;
use crate::SinkError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::path::Path;
use std::sync::Arc;

fn config_error(path: &Path, what: impl std::fmt::Display) -> SinkError {
    SinkError::Config {
        message: format!("{}: {what}", path.display()),
    }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, SinkError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| config_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(path, e))?;
    if certs.is_empty() {
        return Err(config_error(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// Builds the rustls client configuration (reads the PEM files).
pub(crate) fn client_config(tls: &SyslogTlsConfig) -> Result<Arc<ClientConfig>, SinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Config {
            message: format!("tls: {e}"),
        })?;
    let builder = if tls.verify_server {
        let path = tls.ca_file.as_deref().ok_or_else(|| SinkError::Config {
            message: "tls.ca_file is required while tls.verify_server is on".into(),
        })?;
        let mut roots = RootCertStore::empty();
        for cert in certs(path)? {
            roots.add(cert).map_err(|e| config_error(path, e))?;
        }
        builder.with_root_certificates(roots)
    } else {
        tracing::warn!("syslog tls: server certificate verification is off");
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    };
    let config = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert), Some(key)) => {
            let chain = certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| config_error(key, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| config_error(cert, e))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate (signatures are still checked): only with `verify_server = false`.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
