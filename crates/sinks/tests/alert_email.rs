//! Alert email against a real SMTP server: Python's aiosmtpd (pinned 1.4.6, installed by
//! `scripts/install-test-deps`) with STARTTLS required, AUTH after TLS, and a certificate made by rcgen.
#![allow(clippy::unwrap_used)]

mod alerts;

use sinks::ErrorKind;
use sinks::alert::{AlertDestinationConfig, EmailDestination};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = r#"
import os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, port, outdir = sys.argv[1:5]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        tmp = os.path.join(outdir, f"{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(b"X-Tls: " + (b"yes" if session.ssl else b"no") + b"\r\n")
            f.write(envelope.content)
        os.rename(tmp, os.path.join(outdir, f"{n}.eml"))
        return "250 OK queued"

def authenticator(server, session, envelope, mechanism, auth_data):
    def text(v):
        return v.decode() if isinstance(v, bytes) else v
    ok = isinstance(auth_data, LoginPassword) and text(auth_data.login) == "alerts" and text(auth_data.password) == "s3cret"
    if ok:
        return AuthResult(success=True)
    # aiosmtpd 1.4.6 sends no reply for a bare failure: name the 535 explicitly.
    return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx,
               require_starttls=True, auth_required=True, authenticator=authenticator)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
"#;

fn python() -> PathBuf {
    let dir = std::env::var("ENTRAIL_AIOSMTPD_DIR")
        .unwrap_or_else(|_| "/var/tmp/entrail-aiosmtpd".to_owned());
    let py = PathBuf::from(dir).join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "aiosmtpd is missing at {}: run scripts/install-test-deps",
        py.display()
    );
    py
}

struct Smtp {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, cert: &Path, key: &Path) -> Smtp {
    let script = dir.join("server.py");
    std::fs::write(&script, SERVER).unwrap();
    let out = dir.join("mail");
    std::fs::create_dir_all(&out).unwrap();
    let port = alerts::free_port();
    let mut child = Command::new(python())
        .arg(&script)
        .arg(cert)
        .arg(key)
        .arg(port.to_string())
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "READY", "aiosmtpd did not start");
    Smtp { child, port, out }
}

fn config(port: u16, ca: &Path, password: &str) -> EmailDestination {
    let c: AlertDestinationConfig = toml::from_str(&format!(
        r#"
        type = "email"
        id = "mail"
        server = "localhost"
        port = {port}
        from = "entrail@example.com"
        to = ["soc@example.com", "oncall@example.com"]
        username = "alerts"
        password = "{password}"
        tls_ca_file = "{}"
        timeout = "10s"
        "#,
        ca.display()
    ))
    .unwrap();
    c.validate().unwrap();
    let AlertDestinationConfig::Email(c) = c else {
        panic!("not an email config")
    };
    EmailDestination::new(c).unwrap()
}

fn wait_for_mail(out: &Path, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let mut files: Vec<_> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        if files.len() >= n || start.elapsed() > Duration::from_secs(10) {
            files.sort();
            return files
                .iter()
                .map(|p| {
                    let f = std::fs::File::open(p).unwrap();
                    String::from_utf8(model::limits::read_capped(f, 1 << 20).unwrap()).unwrap()
                })
                .collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_alert_arrives_by_smtp_over_starttls() {
    use sinks::alert::AlertDestination;
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key, other_ca) = alerts::certs(dir.path());
    let smtp = start(dir.path(), &cert, &key);
    let alert = alerts::alert(4, 1);

    let mut d = config(smtp.port, &ca, "s3cret");
    d.deliver(&alert).unwrap();
    let mail = wait_for_mail(&smtp.out, 1);
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert!(
        m.contains("X-Rcpt: soc@example.com,oncall@example.com"),
        "{m}"
    );
    assert!(m.contains("X-Tls: yes"), "{m}");
    assert!(m.contains("Subject: [entrail] High: Password spray"), "{m}");
    assert!(m.contains("From: entrail@example.com"), "{m}");
    assert!(m.contains("Rule: entrail-builtin-password-spray"), "{m}");
    assert!(m.contains("\"class_uid\": 2004"), "{m}");

    // A server certificate that does not chain to the configured CA: refused, nothing sent.
    let mut wrong_ca = config(smtp.port, &other_ca, "s3cret");
    let e = wrong_ca.deliver(&alert).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e:?}");
    // Wrong password: 535, an operator must act.
    let mut wrong_pw = config(smtp.port, &ca, "nope");
    let e = wrong_pw.deliver(&alert).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e:?}");
    assert_eq!(wait_for_mail(&smtp.out, 1).len(), 1);

    // Server gone: transient, retried later.
    let port = smtp.port;
    drop(smtp);
    let mut d = config(port, &ca, "s3cret");
    assert_eq!(d.deliver(&alert).unwrap_err().kind(), ErrorKind::Transient);
}
