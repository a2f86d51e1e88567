//! Syslog sink against a real rsyslog (Debian's `rsyslog` and `rsyslog-gnutls`; `scripts/install-test-deps`
//! installs them): each test starts its own `rsyslogd -n` with a generated config on free loopback ports
//! (imudp; imtcp, which takes octet counting; imptcp with newline framing; imtcp with the `gtls` driver and
//! client-certificate checking) writing `%msgid% %rawmsg%` per line to a file, then parses every line back
//! (syslog_loose for RFC 5424, the CEF / LEEF parsers in `common`) and checks one record per input with
//! exact field values, including the hostile-values corpus.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    assert_intact_or_cut, hostile_corpus, hostile_records, parse_cef, parse_leef, record,
};
use model::Category;
use sinks::syslog::{SyslogConfig, SyslogEncoding, SyslogFraming, SyslogSink, SyslogTransport};
use sinks::{ErrorKind, Sink};
use std::path::Path;
use testkit::certs::certs;
use testkit::rsyslog::Rsyslog;

/// Subject alternative name of the sink's client certificate.
const CLIENT_NAME: &str = "entrail-client";

fn sink(
    port: u16,
    transport: SyslogTransport,
    framing: SyslogFraming,
    encoding: SyslogEncoding,
) -> SyslogConfig {
    let mut c = SyslogConfig::new("syslog", format!("127.0.0.1:{port}"));
    c.transport = transport;
    c.framing = framing;
    c.encoding = encoding;
    c.hostname = Some("entrail-test".into());
    c
}

/// Parses one RFC 5424 line; returns its MSG.
fn rfc5424(raw: &str) -> String {
    let m =
        syslog_loose::parse_message_with_year_exact(raw, |_| 2026, syslog_loose::Variant::RFC5424)
            .unwrap_or_else(|e| panic!("{e}: {raw:.300}"));
    assert!(matches!(m.protocol, syslog_loose::Protocol::RFC5424(1)));
    assert_eq!(m.hostname, Some("entrail-test"));
    assert_eq!(m.appname, Some("entrail"));
    assert_eq!(m.msgid, Some("SigninLogs"));
    assert_eq!(m.facility, Some(syslog_loose::SyslogFacility::LOG_AUDIT));
    assert_eq!(m.severity, Some(syslog_loose::SyslogSeverity::SEV_NOTICE));
    assert_eq!(
        m.timestamp.unwrap().timestamp_micros(),
        1_700_000_000_123_456
    );
    m.msg.to_owned()
}

/// Finds the one line per corpus entry by key (`_Key`, `flexString1`, `entrailKey`).
fn by_key<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    let n = hostile_corpus().len();
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for item in items {
        let k = key(&item);
        let i: usize = k.strip_prefix('k').unwrap().parse().unwrap();
        assert!(slots[i].is_none(), "{k} received twice");
        slots[i] = Some(item);
    }
    slots
        .into_iter()
        .map(|s| s.expect("one per input"))
        .collect()
}

#[test]
fn rfc5424_json_over_tcp_octet_counting() {
    let rs = Rsyslog::start(None, None);
    let config = sink(
        rs.tcp,
        SyslogTransport::Tcp,
        SyslogFraming::OctetCounting,
        SyslogEncoding::Rfc5424Json,
    );
    let mut s = SyslogSink::new(config).unwrap();
    s.send(&hostile_records()).unwrap();
    let corpus = hostile_corpus();
    let lines = rs.lines(corpus.len());
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|(msgid, raw)| {
            assert_eq!(msgid, "SigninLogs");
            assert!(raw.len() <= 65536);
            serde_json::from_str(&rfc5424(raw)).unwrap()
        })
        .collect();
    let events = by_key(events, |e| e["_Key"].as_str().unwrap().to_owned());
    for (v, e) in corpus.iter().zip(&events) {
        let big = v.len() > 60_000;
        assert_intact_or_cut(v, e["UserPrincipalName"].as_str().unwrap(), big);
        assert_intact_or_cut(v, e["ResultDescription"].as_str().unwrap(), big);
        assert_eq!(e["ResultType"], "50126");
    }
}

#[test]
fn cef_over_tcp_newline_framing() {
    let rs = Rsyslog::start(None, None);
    let config = sink(
        rs.ptcp,
        SyslogTransport::Tcp,
        SyslogFraming::Newline,
        SyslogEncoding::Cef,
    );
    let mut s = SyslogSink::new(config).unwrap();
    s.send(&hostile_records()).unwrap();
    let corpus = hostile_corpus();
    let parsed: Vec<_> = rs
        .lines(corpus.len())
        .iter()
        .map(|(_, raw)| parse_cef(&rfc5424(raw)))
        .collect();
    let parsed = by_key(parsed, |p| p.fields["flexString1"].clone());
    for (v, p) in corpus.iter().zip(&parsed) {
        assert_eq!(p.header[..3], ["Microsoft", "Entra ID", "1.0"]);
        assert_eq!(p.header[3], "SigninLogs:50126");
        assert_eq!(p.header[5], "5");
        assert_intact_or_cut(v, &p.header[4], v.len() > 200);
        assert_intact_or_cut(v, &p.fields["suser"], v.len() > 60_000);
        assert_intact_or_cut(v, &p.fields["requestClientApplication"], v.len() > 60_000);
        assert_eq!(p.fields["rt"], "1700000000123");
        assert_eq!(p.fields["cat"], "SigninLogs");
        assert_eq!(p.fields["outcome"], "50126");
    }
}

#[test]
fn leef_over_udp_one_datagram_per_message() {
    let rs = Rsyslog::start(None, None);
    let config = sink(
        rs.udp,
        SyslogTransport::Udp,
        SyslogFraming::OctetCounting,
        SyslogEncoding::Leef,
    );
    let mut s = SyslogSink::new(config).unwrap();
    s.send(&hostile_records()).unwrap();
    let corpus = hostile_corpus();
    let parsed: Vec<_> = rs
        .lines(corpus.len())
        .iter()
        .map(|(_, raw)| {
            assert!(raw.len() <= 2048, "UDP limit");
            parse_leef(&rfc5424(raw))
        })
        .collect();
    let parsed = by_key(parsed, |p| p.fields["entrailKey"].clone());
    for (v, p) in corpus.iter().zip(&parsed) {
        assert_eq!(
            p.header,
            ["Microsoft", "Entra ID", "1.0", "SigninLogs:50126", "^"]
        );
        let big = v.len() > 500;
        assert_intact_or_cut(v, &p.fields["usrName"], big);
        assert_intact_or_cut(v, &p.fields["reason"], big);
        assert_eq!(p.fields["devTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(p.fields["sev"], "5");
    }
}

#[test]
fn leef_and_cef_over_tls_with_client_certificate_map_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path(), CLIENT_NAME);
    let rs = Rsyslog::start(Some(&c), None);
    let tls_config = |encoding, ca: &Path| {
        let mut config = sink(
            rs.tls,
            SyslogTransport::Tls,
            SyslogFraming::OctetCounting,
            encoding,
        );
        config.tls.ca_file = Some(ca.to_owned());
        config.tls.client_cert_file = Some(c.client_cert.clone());
        config.tls.client_key_file = Some(c.client_key.clone());
        config.leef_delimiter = '\t';
        config
    };
    // A receiver whose certificate does not chain to our CA is refused, and gets nothing.
    let mut wrong = SyslogSink::new(tls_config(SyslogEncoding::Leef, &c.other_ca)).unwrap();
    let e = wrong.send(&hostile_records()[..1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e:?}");
    // Without a client certificate the receiver refuses the connection: an error, not a silent Ok.
    let mut anonymous = tls_config(SyslogEncoding::Leef, &c.ca);
    anonymous.tls.client_cert_file = None;
    anonymous.tls.client_key_file = None;
    let e = SyslogSink::new(anonymous)
        .unwrap()
        .send(&hostile_records()[..1])
        .unwrap_err();
    // rsyslog closes without an alert, so this one cannot be told from a network failure: transient.
    assert_eq!(e.kind(), ErrorKind::Transient, "{e:?}");
    let records = vec![
        record(
            Category::AuditLogs,
            "a1",
            &[
                ("OperationName", "Add member to role"),
                ("Category", "RoleManagement"),
                ("Result", "failure"),
                (
                    "InitiatedBy",
                    r#"{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.9"}}"#,
                ),
            ],
        ),
        record(
            Category::AzureActivity,
            "a2",
            &[
                (
                    "OperationNameValue",
                    "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
                ),
                ("Caller", "ops@contoso.com"),
                ("CallerIpAddress", "198.51.100.7"),
                ("Level", "Error"),
            ],
        ),
        record(
            Category::UserRiskEvents,
            "a3",
            &[
                ("RiskEventType", "unfamiliarFeatures"),
                ("RiskLevel", "high"),
                ("UserPrincipalName", "bob@contoso.com"),
                ("IpAddress", "192.0.2.1"),
            ],
        ),
        record(Category::NsgFlowLogs, "a4", &[]),
    ];
    let mut leef = SyslogSink::new(tls_config(SyslogEncoding::Leef, &c.ca)).unwrap();
    leef.send(&records).unwrap();
    let mut cef = SyslogSink::new(tls_config(SyslogEncoding::Cef, &c.ca)).unwrap();
    cef.send(&records).unwrap();
    let lines = rs.lines(8);
    let msg = |raw: &str| {
        syslog_loose::parse_message_with_year_exact(raw, |_| 2026, syslog_loose::Variant::RFC5424)
            .unwrap()
            .msg
            .to_owned()
    };
    let leefs: Vec<_> = lines[..4]
        .iter()
        .map(|(_, r)| parse_leef(&msg(r)))
        .collect();
    let cefs: Vec<_> = lines[4..].iter().map(|(_, r)| parse_cef(&msg(r))).collect();
    assert_eq!(lines[0].0, "AuditLogs");
    assert_eq!(leefs[0].header[3], "AuditLogs:RoleManagement");
    assert_eq!(leefs[0].header[4], "0x09");
    assert_eq!(leefs[0].fields["usrName"], "admin@contoso.com");
    assert_eq!(leefs[0].fields["src"], "203.0.113.9");
    assert_eq!(leefs[0].fields["sev"], "5");
    assert_eq!(cefs[0].header[4], "Add member to role");
    assert_eq!(cefs[0].fields["suser"], "admin@contoso.com");
    assert_eq!(cefs[0].fields["outcome"], "failure");
    assert_eq!(cefs[0].fields["cs1Label"], "Category");
    assert_eq!(lines[1].0, "AzureActivity");
    assert_eq!(cefs[1].header[1], "Azure");
    assert_eq!(
        cefs[1].header[3],
        "AzureActivity:MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"
    );
    assert_eq!(cefs[1].header[5], "7");
    assert_eq!(cefs[1].fields["suser"], "ops@contoso.com");
    assert_eq!(leefs[1].fields["src"], "198.51.100.7");
    assert_eq!(cefs[2].header[3], "AADUserRiskEvents:unfamiliarFeatures");
    assert_eq!(cefs[2].header[5], "8");
    assert_eq!(cefs[2].fields["cs1"], "high");
    assert_eq!(leefs[2].fields["usrName"], "bob@contoso.com");
    assert_eq!(cefs[3].header[3], "AzureNsgFlowLogs");
    assert_eq!(cefs[3].header[1], "Azure");
    let full: serde_json::Value = serde_json::from_str(&cefs[3].fields["msg"]).unwrap();
    assert_eq!(full["_Key"], "a4");
    assert_eq!(leefs[3].fields["entrailKey"], "a4");
}

#[test]
fn reconnects_after_the_receiver_restarts_tcp_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path(), CLIENT_NAME);
    for tls in [None, Some(&c)] {
        let rs = Rsyslog::start(tls, None);
        let port = if tls.is_some() { rs.tls } else { rs.tcp };
        let transport = if tls.is_some() {
            SyslogTransport::Tls
        } else {
            SyslogTransport::Tcp
        };
        let mut config = sink(
            port,
            transport,
            SyslogFraming::OctetCounting,
            SyslogEncoding::Cef,
        );
        config.tls.ca_file = Some(c.ca.clone());
        config.tls.client_cert_file = Some(c.client_cert.clone());
        config.tls.client_key_file = Some(c.client_key.clone());
        let mut s = SyslogSink::new(config).unwrap();
        let batch = |k: &str| vec![record(Category::SignInLogs, k, &[("ResultType", "0")])];
        s.send(&batch("k0")).unwrap();
        assert_eq!(rs.lines(1).len(), 1);
        rs.terminate();
        // Down: the kept connection is seen closed, the reconnect is refused: transient, nothing acked.
        let e = s.send(&batch("k1")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transient, "{e:?}");
        // Back on the same port: the same batch goes through on a new connection.
        let rs = Rsyslog::start(tls, Some(port));
        s.send(&batch("k1")).unwrap();
        let lines = rs.lines(1);
        assert_eq!(
            parse_cef(&rfc5424_any(&lines[0].1)).fields["flexString1"],
            "k1"
        );
    }
}

fn rfc5424_any(raw: &str) -> String {
    syslog_loose::parse_message_with_year_exact(raw, |_| 2026, syslog_loose::Variant::RFC5424)
        .unwrap()
        .msg
        .to_owned()
}
