//! The certificate client assertion (entra-docs `certificate-credentials.md`): a JWT with header
//! `{"alg":"PS256","typ":"JWT","x5t#S256":<base64url SHA-256 of the certificate DER>}`, claims `aud` (the
//! token endpoint), `iss` = `sub` = client id, `jti` (a fresh GUID), `nbf`, `iat`, `exp` (10 minutes later),
//! signed RSASSA-PSS with SHA-256 (ring).

use super::GraphError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// How long an assertion is valid.
const LIFETIME_S: i64 = 600;
/// The largest PEM file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A loaded certificate and key that sign assertions.
pub(crate) struct CertificateSigner {
    key: RsaKeyPair,
    x5t_s256: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for CertificateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateSigner")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

pub(crate) fn read_file(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, GraphError> {
    let file = std::fs::File::open(path)
        .map_err(|e| GraphError::fatal(format!("{what} {}: {e}", path.display())))?;
    model::limits::read_capped(file, cap)
        .map_err(|e| GraphError::fatal(format!("{what} {}: {e}", path.display())))
}

impl CertificateSigner {
    /// Loads the first certificate of `cert_path` and the RSA key of `key_path` (PKCS#8 or PKCS#1 PEM).
    pub(crate) fn load(cert_path: &Path, key_path: &Path) -> Result<CertificateSigner, GraphError> {
        let cert_pem = read_file(cert_path, MAX_PEM_BYTES, "certificate")?;
        let cert = CertificateDer::pem_slice_iter(&cert_pem)
            .next()
            .ok_or_else(|| {
                GraphError::fatal(format!(
                    "certificate {}: no CERTIFICATE block",
                    cert_path.display()
                ))
            })?
            .map_err(|e| GraphError::fatal(format!("certificate {}: {e}", cert_path.display())))?;
        let key_pem = read_file(key_path, MAX_PEM_BYTES, "private key")?;
        // The key's bytes are never put in a message.
        let bad_key =
            |why: &str| GraphError::fatal(format!("private key {}: {why}", key_path.display()));
        let key = match PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|_| bad_key("no PEM private key"))?
        {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(bad_key("not an RSA key (PKCS#8 or PKCS#1 expected)")),
        }
        .map_err(|_| bad_key("not a usable RSA key"))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
        Ok(CertificateSigner {
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            rng: SystemRandom::new(),
        })
    }

    /// The `x5t#S256` header value.
    #[cfg(test)]
    pub(crate) fn thumbprint(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed assertion for `client_id` at `audience` (the token endpoint URL), valid from `now`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<String, GraphError> {
        let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        let t = now.timestamp();
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": guid(&self.rng)?,
            "nbf": t,
            "iat": t,
            "exp": t + LIFETIME_S,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| GraphError::fatal("signing the client assertion failed"))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// A random (version 4) GUID.
pub(crate) fn guid(rng: &SystemRandom) -> Result<String, GraphError> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)
        .map_err(|_| GraphError::fatal("no system randomness"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// A uniformly random fraction in `[0, 1)`, for jitter.
pub(crate) fn random_fraction() -> f64 {
    let mut b = [0u8; 4];
    if SystemRandom::new().fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}
