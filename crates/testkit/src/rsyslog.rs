//! A real `rsyslogd -n` (Debian's `rsyslog` and `rsyslog-gnutls`; run `scripts/install-test-deps`):
//! [`RsyslogProcess`] starts one from any generated config and kills it on drop; [`Rsyslog`] is the
//! receiver the syslog sink tests use (plain or TLS listeners on free loopback ports, every message
//! written to a file as `%msgid% %rawmsg%`).

use crate::certs::Certs;
use crate::net::{free_tcp_port, free_udp_port, wait_for_tcp_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the installed `rsyslogd`; panics with the install hint when there is none.
pub fn rsyslogd() -> PathBuf {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("rsyslogd not found: run scripts/install-test-deps")
}

/// One running `rsyslogd -n`; killed on drop.
pub struct RsyslogProcess {
    child: Child,
    dir: PathBuf,
}

impl RsyslogProcess {
    /// Writes `conf` to `dir/rsyslog.conf`, starts rsyslogd on it (stderr to `dir/rsyslogd.stderr`)
    /// and waits until every TCP port in `ready_ports` accepts connections.
    pub fn spawn(dir: &Path, conf: &str, ready_ports: &[u16]) -> RsyslogProcess {
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.join("rsyslogd.stderr")).unwrap();
        let child = Command::new(rsyslogd())
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = RsyslogProcess {
            child,
            dir: dir.to_owned(),
        };
        for &port in ready_ports {
            p.wait_for_port(port);
        }
        p
    }

    /// Waits (up to 15 s) until 127.0.0.1:`port` accepts TCP connections.
    pub fn wait_for_port(&self, port: u16) {
        wait_for_tcp_port(port, Duration::from_secs(15), "rsyslogd", || self.stderr());
    }

    /// What rsyslogd wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        std::fs::File::open(self.dir.join("rsyslogd.stderr"))
            .ok()
            .and_then(|f| model::limits::read_capped(f, 1 << 20).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Stops rsyslogd gracefully (SIGTERM: it closes its connections, TLS with close_notify).
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for RsyslogProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An rsyslogd receiving on loopback and writing each message to a file.
pub struct Rsyslog {
    process: RsyslogProcess,
    /// Its working directory (config, stderr, output).
    pub dir: tempfile::TempDir,
    /// The output file: one `%msgid% %rawmsg%` line per message.
    pub out: PathBuf,
    /// imudp port (plain mode).
    pub udp: u16,
    /// imtcp port (plain mode).
    pub tcp: u16,
    /// imptcp port (plain mode).
    pub ptcp: u16,
    /// gtls imtcp port (TLS mode).
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
        // Ready once its stream listeners accept (imudp and imptcp start in the same activation).
        let ready: &[u16] = if tls.is_some() {
            &[tls_port]
        } else {
            &[ptcp, tcp]
        };
        let process = RsyslogProcess::spawn(dir.path(), &conf, ready);
        Rsyslog {
            process,
            out,
            udp,
            tcp,
            ptcp,
            tls: tls_port,
            dir,
        }
    }

    /// What rsyslogd wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// Waits (polling the output file) for `n` lines, then returns them as (msgid, raw message).
    pub fn lines(&self, n: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::File::open(&self.out)
                .ok()
                .and_then(|f| model::limits::read_capped(f, 256 << 20).ok())
                .map(|mut b| {
                    // rsyslog may be mid-write: only complete lines count (a cut line could even end inside a
                    // UTF-8 sequence).
                    b.truncate(b.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1));
                    String::from_utf8(b).unwrap()
                })
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

    /// Stops rsyslogd gracefully (SIGTERM: it closes its connections, TLS with close_notify).
    pub fn terminate(self) {
        self.process.terminate();
    }
}
