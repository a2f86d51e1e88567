//! A real rsyslog for the syslog sink tests: generated config on free loopback ports, started with
//! `rsyslogd -n`, killed on drop; plus test certificates (CA, server, client) made with rcgen.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn rsyslogd() -> PathBuf {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("rsyslogd not found: run scripts/install-test-deps")
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Certs {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub other_ca: PathBuf,
}

pub fn certs(dir: &Path) -> Certs {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair,
    };
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    };
    let issuer = ca("entrail test CA");
    let leaf = |sans: Vec<String>, usage: ExtendedKeyUsagePurpose, stem: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(sans).unwrap();
        p.extended_key_usages = vec![usage];
        p.distinguished_name.push(rcgen::DnType::CommonName, stem);
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
        vec!["entrail-client".into()],
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

/// One running rsyslogd.
pub struct Rsyslog {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub out: PathBuf,
    pub udp: u16,
    pub tcp: u16,
    pub ptcp: u16,
    pub tls: u16,
}

impl Rsyslog {
    /// Plain listeners (imudp, imtcp, imptcp); with `tls`, one gtls imtcp listener instead.
    /// `port`: the stream port to use (imtcp, or the TLS listener), default a free one.
    pub fn start(tls: Option<&Certs>, port: Option<u16>) -> Rsyslog {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.log");
        let (udp, tcp, ptcp, tls_port) = (
            free_udp_port(),
            port.filter(|_| tls.is_none()).unwrap_or_else(free_tcp_port),
            free_tcp_port(),
            port.filter(|_| tls.is_some()).unwrap_or_else(free_tcp_port),
        );
        let d = dir.path().display();
        let mut conf = String::new();
        match tls {
            None => conf.push_str(&format!(
                "global(workDirectory=\"{d}\" maxMessageSize=\"2m\")\n\
                 module(load=\"imudp\")\nmodule(load=\"imtcp\")\nmodule(load=\"imptcp\")\n\
                 input(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\")\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\")\n\
                 input(type=\"imptcp\" address=\"127.0.0.1\" port=\"{ptcp}\")\n"
            )),
            Some(c) => conf.push_str(&format!(
                "global(workDirectory=\"{d}\" maxMessageSize=\"2m\"\n\
                   parser.escapeControlCharacterTab=\"off\"\n\
                   defaultNetstreamDriver=\"gtls\"\n\
                   defaultNetstreamDriverCAFile=\"{}\"\n\
                   defaultNetstreamDriverCertFile=\"{}\"\n\
                   defaultNetstreamDriverKeyFile=\"{}\")\n\
                 module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\"\n\
                   streamDriver.authMode=\"x509/certvalid\")\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tls_port}\")\n",
                c.ca.display(),
                c.server_cert.display(),
                c.server_key.display()
            )),
        }
        conf.push_str(&format!(
            "template(name=\"line\" type=\"string\" string=\"%msgid% %rawmsg%\\n\")\n\
             action(type=\"omfile\" file=\"{}\" template=\"line\")\n",
            out.display()
        ));
        let conf_path = dir.path().join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("rsyslogd.stderr")).unwrap();
        let child = Command::new(rsyslogd())
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let r = Rsyslog {
            child,
            out,
            udp,
            tcp,
            ptcp,
            tls: tls_port,
            dir,
        };
        // Ready once its stream listener accepts (imudp and imptcp start in the same activation).
        let port = if tls.is_some() { tls_port } else { ptcp };
        r.wait_for_port(port);
        if tls.is_none() {
            r.wait_for_port(tcp);
        }
        r
    }

    fn wait_for_port(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on {port}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::File::open(self.dir.path().join("rsyslogd.stderr"))
            .ok()
            .and_then(|f| model::limits::read_capped(f, 1 << 20).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits (polling the output file) for `n` lines, then returns them as (msgid, raw message).
    pub fn lines(&self, n: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::File::open(&self.out)
                .ok()
                .and_then(|f| model::limits::read_capped(f, 256 << 20).ok())
                .map(|b| String::from_utf8(b).unwrap())
                .unwrap_or_default();
            let lines: Vec<_> = text
                .lines()
                .map(|l| {
                    let (id, raw) = l.split_once(' ').unwrap();
                    (id.to_owned(), raw.to_owned())
                })
                .collect();
            if lines.len() >= n {
                assert_eq!(lines.len(), n, "more lines than inputs");
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "got {} of {n} lines; rsyslogd: {}",
                lines.len(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Rsyslog {
    /// Stops rsyslogd gracefully (SIGTERM: it closes its connections, TLS with close_notify).
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
