//! Ed25519 key files: PKCS#8 PEM private keys, SPKI PEM public keys, and key ids.
use std::fs;
use std::io::Read;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::{SealError, hex};

/// Largest key file accepted.
const MAX_KEY_FILE: u64 = 64 * 1024;

fn read_pem(path: &Path) -> Result<String, SealError> {
    let file = fs::File::open(path).map_err(|e| SealError::io(path, e))?;
    let bytes = model::limits::read_capped(file, MAX_KEY_FILE).map_err(|e| SealError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| SealError::Key {
        path: path.to_owned(),
        reason: "not UTF-8 PEM".into(),
    })
}

/// Reads an Ed25519 private key (PKCS#8 PEM, `-----BEGIN PRIVATE KEY-----`).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, SealError> {
    SigningKey::from_pkcs8_pem(&read_pem(path)?).map_err(|e| SealError::Key {
        path: path.to_owned(),
        reason: format!("not an Ed25519 PKCS#8 PEM private key: {e}"),
    })
}

/// Reads an Ed25519 public key (SPKI PEM, `-----BEGIN PUBLIC KEY-----`).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, SealError> {
    VerifyingKey::from_public_key_pem(&read_pem(path)?).map_err(|e| SealError::Key {
        path: path.to_owned(),
        reason: format!("not an Ed25519 SPKI PEM public key: {e}"),
    })
}

/// The first 16 hex digits of the SHA-256 of the public key bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex(&Sha256::digest(key.as_bytes())[..8])
}

/// Generates a key pair from the OS random source and writes `private` (mode 0600, refusing to overwrite)
/// and `public`. Returns the key id.
pub fn generate_key_pair(private: &Path, public: &Path) -> Result<String, SealError> {
    let mut seed = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| SealError::io("/dev/urandom", e))?;
    let key = SigningKey::from_bytes(&seed);
    let key_err = |path: &Path, e: &dyn std::fmt::Display| SealError::Key {
        path: path.to_owned(),
        reason: format!("cannot encode: {e}"),
    };
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| key_err(private, &e))?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| key_err(public, &e))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(private)
        .map_err(|e| SealError::io(private, e))?;
    std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(|e| SealError::io(private, e))?;
    file.sync_all().map_err(|e| SealError::io(private, e))?;
    fs::write(public, public_pem).map_err(|e| SealError::io(public, e))?;
    Ok(key_id(&key.verifying_key()))
}
