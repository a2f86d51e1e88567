//! The syslog source against a real rsyslog (Debian's `rsyslog` and `rsyslog-gnutls`; run
//! `scripts/install-test-deps`): entrail listens on UDP, TCP and TLS (client certificates required); one
//! `rsyslogd -n` takes test messages on three plain `imtcp` inputs and forwards each input's messages with
//! `omfwd` to one of entrail's listeners: UDP (RFC 5424), TCP with octet counting (RFC 5424) and TLS through
//! the `gtls` driver with newline framing (RFC 3164 / BSD format). Every message, CEF ones included, must
//! reach the archive exactly once with its fields parsed; an invalid octet count goes to the quarantine with
//! the peer's address; a client without TLS is refused at the handshake and counted.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // test files read small outputs of rsyslogd and entrail whole
use pipeline::Pipeline;
use sources::graph::CancellationToken;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use store::query::{AsArray, QueryEngine};
use testkit::certs::{Certs, certs};
use testkit::net::free_tcp_port;
use testkit::rsyslog::RsyslogProcess;

/// A running rsyslogd with three forwarding inputs; killed on drop.
struct Rsyslog {
    process: RsyslogProcess,
    /// Input ports: forwarded over UDP, TCP, TLS.
    inputs: [u16; 3],
}

impl Rsyslog {
    fn start(dir: &Path, certs: &Certs, udp: u16, tcp: u16, tls: u16) -> Rsyslog {
        let inputs = [free_tcp_port(), free_tcp_port(), free_tcp_port()];
        let conf = format!(
            "global(workDirectory=\"{d}\" maxMessageSize=\"64k\"\n\
               defaultNetstreamDriverCAFile=\"{ca}\"\n\
               defaultNetstreamDriverCertFile=\"{cert}\"\n\
               defaultNetstreamDriverKeyFile=\"{key}\")\n\
             module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{i0}\" ruleset=\"to_udp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{i1}\" ruleset=\"to_tcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{i2}\" ruleset=\"to_tls\")\n\
             ruleset(name=\"to_udp\") {{ action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{udp}\" protocol=\"udp\"\n\
               template=\"RSYSLOG_SyslogProtocol23Format\") }}\n\
             ruleset(name=\"to_tcp\") {{ action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tcp}\" protocol=\"tcp\"\n\
               TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\") }}\n\
             ruleset(name=\"to_tls\") {{ action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tls}\" protocol=\"tcp\"\n\
               StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\"\n\
               StreamDriverPermittedPeers=\"localhost\" template=\"RSYSLOG_TraditionalForwardFormat\") }}\n",
            d = dir.display(),
            ca = certs.ca.display(),
            cert = certs.client_cert.display(),
            key = certs.client_key.display(),
            i0 = inputs[0],
            i1 = inputs[1],
            i2 = inputs[2],
        );
        Rsyslog {
            process: RsyslogProcess::spawn(dir, &conf, &inputs),
            inputs,
        }
    }

    fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// Writes newline-framed messages to one input.
    fn feed(&self, input: usize, messages: &[String]) {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.inputs[input])).unwrap();
        for m in messages {
            s.write_all(m.as_bytes()).unwrap();
            s.write_all(b"\n").unwrap();
        }
        s.flush().unwrap();
    }
}

/// The first column of every row, as text (the query casts it).
fn strings(engine: &QueryEngine, rt: &tokio::runtime::Runtime, sql: &str) -> Vec<String> {
    let batches = rt
        .block_on(engine.sql(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in batches {
        let col = b.column(0);
        if let Some(a) = col.as_string_opt::<i32>() {
            out.extend((0..b.num_rows()).map(|i| a.value(i).to_owned()));
        } else {
            let a = col.as_string_view();
            out.extend((0..b.num_rows()).map(|i| a.value(i).to_owned()));
        }
    }
    out
}

const N: usize = 40;
const TRANSPORTS: [&str; 3] = ["udp", "tcp", "tls"];

#[test]
fn rsyslog_forwards_over_udp_tcp_and_tls_and_every_message_is_archived_once() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path(), "rsyslog-client");
    let text = format!(
        "data_dir = {data:?}\n\
         [[sources]]\n\
         type = \"syslog\"\n\
         id = \"syslog-test\"\n\
         batch_size = 16\n\
         flush_interval_ms = 50\n\
         collector_host_name = \"collector-1\"\n\
         [[sources.listeners]]\n\
         protocol = \"udp\"\n\
         address = \"127.0.0.1:0\"\n\
         [[sources.listeners]]\n\
         protocol = \"tcp\"\n\
         address = \"127.0.0.1:0\"\n\
         [[sources.listeners]]\n\
         protocol = \"tls\"\n\
         address = \"127.0.0.1:0\"\n\
         cert_file = {cert:?}\n\
         key_file = {key:?}\n\
         client_ca_file = {ca:?}\n",
        data = dir.path().join("data").display().to_string(),
        cert = c.server_cert.display().to_string(),
        key = c.server_key.display().to_string(),
        ca = c.ca.display().to_string(),
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    let mut p = Pipeline::open(config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let collector = p.syslog_collector().unwrap();
    let bound = rt.block_on(collector.bind()).unwrap();
    let ports: Vec<u16> = bound[0].addrs().iter().map(|(_, a)| a.port()).collect();
    let rs_dir = dir.path().join("rsyslog");
    std::fs::create_dir_all(&rs_dir).unwrap();
    let rs = Rsyslog::start(&rs_dir, &c, ports[0], ports[1], ports[2]);

    let shutdown = CancellationToken::new();
    let collector = std::sync::Arc::new(collector);
    let serving = {
        let (col, s) = (collector.clone(), shutdown.clone());
        rt.spawn(async move { col.serve(bound, s, Duration::from_secs(1)).await })
    };

    // Known messages: RFC 5424 into rsyslog, one CEF message per transport (escapes in header and extension).
    // A fraction of a second with six significant digits: the archive's text form of a time drops trailing
    // zeros (`.176000` reads back `.176`), which the expected strings below do not.
    let now = chrono::Timelike::with_nanosecond(&chrono::Utc::now(), 123_456_000).unwrap();
    let ts = now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    for (t, transport) in TRANSPORTS.iter().enumerate() {
        let mut msgs: Vec<String> = (0..N)
            .map(|i| {
                format!(
                    "<{pri}>1 {ts} host-{transport} app-{transport} {pid} ID{i} \
                     [test@32473 transport=\"{transport}\" n=\"{i}\"] message {transport} {i} grüße",
                    pri = 8 * 4 + (i % 8),
                    pid = 1000 + i,
                )
            })
            .collect();
        msgs.push(format!(
            "<134>1 {ts} fw-{transport} - - - - CEF:0|Acme\\|Corp|Fire wall|2.1|4000|Port scan {transport}|8|\
             src=10.0.0.{t} msg=a\\=b c\\\\d act=blocked"
        ));
        rs.feed(t, &msgs);
    }
    // An invalid octet count straight to entrail's TCP listener: quarantined with the peer.
    {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", ports[1])).unwrap();
        s.write_all(b"12x not a frame").unwrap();
    }
    // A client that does not speak TLS (and has no certificate) is refused at the handshake.
    {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", ports[2])).unwrap();
        s.write_all(b"<13>1 - - - - - - not tls\n").unwrap();
    }
    let want = TRANSPORTS.len() * (N + 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = &collector.status()[0];
        if st.messages as usize >= want && st.quarantined >= 1 && st.tls_failures >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "received {st:?} of {want}; rsyslogd: {}",
            rs.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    shutdown.cancel();
    rt.block_on(serving).unwrap().unwrap();
    let status = collector.status().remove(0);
    assert_eq!(status.messages as usize, want, "{status:?}");
    assert_eq!((status.udp_dropped, status.tls_failures), (0, 1));
    assert_eq!(status.accepted.new as usize, want);
    assert!(
        std::fs::read_to_string(dir.path().join("data/syslog-status.json"))
            .unwrap()
            .contains("\"syslog-test\"")
    );

    // The quarantine holds the bad frame with where it came from.
    {
        let mut hub = p.hub();
        let q = hub.quarantine().entries().to_vec();
        assert_eq!(q.len(), 1, "{q:?}");
        assert!(q[0].rejected.reason.contains("invalid octet count"));
        assert!(q[0].rejected.position.location.contains("from 127.0.0.1:"));
        assert_eq!(q[0].rejected.raw, b"12x not a frame");
    }

    p.archive().unwrap();
    let engine = QueryEngine::new(&dir.path().join("data/archive")).unwrap();
    let q = |sql: &str| strings(&engine, &rt, sql);
    // Every message exactly once.
    assert_eq!(
        q("SELECT CAST(count(*) AS VARCHAR) FROM Syslog"),
        [want.to_string()]
    );
    assert_eq!(
        q("SELECT CAST(count(DISTINCT SyslogMessage) AS VARCHAR) FROM Syslog"),
        [want.to_string()]
    );
    for transport in TRANSPORTS {
        let mut got = q(&format!(
            "SELECT SyslogMessage FROM Syslog WHERE ProcessName = 'app-{transport}'"
        ));
        got.sort();
        let mut expected: Vec<String> = (0..N)
            .map(|i| format!("message {transport} {i} grüße"))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{transport}");
        // Header fields of one message.
        let row = q(&format!(
            "SELECT concat_ws('|', Facility, SeverityLevel, HostName, Computer, CAST(ProcessID AS VARCHAR), \
             HostIP, CollectorHostName, coalesce(MsgId, '-'), coalesce(StructuredData, '-'), \
             CAST(EventTime AS VARCHAR)) FROM Syslog WHERE SyslogMessage = 'message {transport} 3 grüße'"
        ));
        let (msg_id, sd, time) = if transport == "tls" {
            // BSD format: no MSGID or structured data, whole seconds.
            (
                "-".to_owned(),
                "-".to_owned(),
                now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
        } else {
            (
                "ID3".to_owned(),
                format!(r#"{{"test@32473":{{"n":"3","transport":"{transport}"}}}}"#),
                now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            )
        };
        assert_eq!(
            row,
            [format!(
                "auth|err|host-{transport}|host-{transport}|1003|127.0.0.1|collector-1|{msg_id}|{sd}|{time}"
            )],
            "{transport}"
        );
        // The CEF message.
        let cef = q(&format!(
            "SELECT concat_ws('|', CAST(CefVersion AS VARCHAR), CefDeviceVendor, CefDeviceProduct, CefDeviceVersion, \
             CefSignatureId, CefName, CefSeverity, CefExtensions, Facility, SeverityLevel, Computer) \
             FROM Syslog WHERE CefName = 'Port scan {transport}'"
        ));
        assert_eq!(
            cef,
            [format!(
                r#"0|Acme|Corp|Fire wall|2.1|4000|Port scan {transport}|8|{{"act":"blocked","msg":"a=b c\\d","src":"10.0.0.{}"}}|local0|info|fw-{transport}"#,
                TRANSPORTS.iter().position(|t| *t == transport).unwrap()
            )],
            "{transport}: {:?}",
            q(&format!(
                "SELECT concat_ws(' / ', _Raw, SyslogMessage, coalesce(ProcessName, '-')) FROM Syslog WHERE SyslogMessage LIKE '%Port scan {transport}%'"
            ))
        );
    }
}
