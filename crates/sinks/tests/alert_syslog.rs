//! Alert syslog over TCP to a loopback listener: one octet-counted RFC 5424 message per alert, MSGID
//! `ALERT`, the OCSF JSON as MSG.
#![allow(clippy::unwrap_used)]

mod alerts;

use sinks::alert::AlertDestinationConfig;
use std::io::Read;

#[test]
fn alerts_arrive_as_rfc5424_messages() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let c: AlertDestinationConfig = toml::from_str(&format!(
        "type = \"syslog\"\nid = \"siem\"\naddress = \"{addr}\"\nhostname = \"entrail-host\"\n"
    ))
    .unwrap();
    c.validate().unwrap();
    let mut d = c.build().unwrap();
    let a = alerts::alert(5, 1);
    d.deliver(&a).unwrap();
    d.deliver(&alerts::alert(2, 1)).unwrap();
    drop(d);
    let (mut conn, _) = listener.accept().unwrap();
    let mut buf = String::new();
    conn.read_to_string(&mut buf).unwrap();
    let mut rest = buf.as_str();
    let mut messages = Vec::new();
    while let Some((len, tail)) = rest.split_once(' ') {
        let n: usize = len.parse().unwrap();
        messages.push(&tail[..n]);
        rest = &tail[n..];
    }
    assert_eq!(messages.len(), 2);
    let m = syslog_loose::parse_message(messages[0], syslog_loose::Variant::RFC5424);
    assert_eq!(m.msgid, Some("ALERT"));
    assert_eq!(m.hostname, Some("entrail-host"));
    assert_eq!(m.severity, Some(syslog_loose::SyslogSeverity::SEV_CRIT));
    let json: serde_json::Value = serde_json::from_str(m.msg).unwrap();
    assert_eq!(json, a);
    let low = syslog_loose::parse_message(messages[1], syslog_loose::Variant::RFC5424);
    assert_eq!(low.severity, Some(syslog_loose::SyslogSeverity::SEV_NOTICE));
}
