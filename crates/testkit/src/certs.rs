//! Test certificates made with rcgen and written as PEM files: a CA, a server certificate for
//! `localhost`/`127.0.0.1`, a client certificate, and an unrelated CA that trusts none of them.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use std::path::{Path, PathBuf};

/// Paths of the PEM files [`certs`] wrote.
pub struct Certs {
    /// The CA that signed the server and client certificates (`ca.pem`).
    pub ca: PathBuf,
    /// Server certificate for `localhost` and `127.0.0.1` (`server.pem`).
    pub server_cert: PathBuf,
    /// Its key (`server-key.pem`).
    pub server_key: PathBuf,
    /// Client certificate (`client.pem`).
    pub client_cert: PathBuf,
    /// Its key (`client-key.pem`).
    pub client_key: PathBuf,
    /// A CA that signed nothing here (`other-ca.pem`): trusting only it must fail.
    pub other_ca: PathBuf,
}

/// Writes a CA, a server and a client certificate (subject alternative name `client_name`) and an
/// unrelated CA into `dir`.
pub fn certs(dir: &Path, client_name: &str) -> Certs {
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    };
    let issuer = ca("entrail test CA");
    let leaf = |sans: Vec<String>, usage: ExtendedKeyUsagePurpose, stem: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(sans).unwrap();
        p.extended_key_usages = vec![usage];
        p.distinguished_name.push(DnType::CommonName, stem);
        let cert = p.signed_by(&key, &issuer).unwrap();
        let (c, k) = (
            dir.join(format!("{stem}.pem")),
            dir.join(format!("{stem}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    };
    let (server_cert, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        "server",
    );
    let (client_cert, client_key) = leaf(
        vec![client_name.to_owned()],
        ExtendedKeyUsagePurpose::ClientAuth,
        "client",
    );
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, issuer.pem()).unwrap();
    let other_ca = dir.join("other-ca.pem");
    std::fs::write(&other_ca, ca("someone else").pem()).unwrap();
    Certs {
        ca: ca_path,
        server_cert,
        server_key,
        client_cert,
        client_key,
        other_ca,
    }
}
