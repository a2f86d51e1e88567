//! Alert destination unit tests: formats, config validation, the delivery filter.
#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::{Value, json};

pub(crate) fn sample(severity_id: u8, activity_id: u8) -> Value {
    json!({
        "activity_id": activity_id, "class_uid": 2004, "category_uid": 2, "type_uid": 200400 + u32::from(activity_id),
        "severity_id": severity_id, "severity": "High", "count": 3, "time": 1_700_000_000_000i64,
        "message": "Password spray <b> & co (IPAddress=203.0.113.7)",
        "finding_info": {
            "uid": "abc123", "title": "Password spray",
            "analytic": {"uid": "entrail-builtin-password-spray", "name": "Password spray", "type": "Behavioral", "type_id": 2},
            "first_seen_time": 1_699_999_000_000i64, "last_seen_time": 1_700_000_000_000i64
        },
        "attacks": [{"technique": {"uid": "T1110"}, "sub_technique": {"uid": "T1110.003"},
                     "tactic": {"uid": "TA0006", "name": "Credential Access"}, "version": "15"}],
        "observables": [{"name": "ip", "type_id": 2, "type": "IP Address", "value": "203.0.113.7"},
                        {"name": "user", "type_id": 4, "type": "User Name", "value": "alice@contoso.com"}],
        "unmapped": {"entity": "IPAddress=203.0.113.7", "evidence_total": 42, "revision": 1}
    })
}

#[test]
fn the_summary_reads_ocsf_attributes() {
    let s = AlertSummary::of(&sample(4, 1));
    assert_eq!(s.uid, "abc123");
    assert_eq!(s.title, "Password spray");
    assert_eq!(s.rule, "entrail-builtin-password-spray");
    assert_eq!(s.count, 3);
    assert_eq!(s.evidence, 42);
    assert_eq!(s.attacks, ["T1110.003", "TA0006"]);
    assert_eq!(s.first_seen, "2023-11-14T21:56:40.000000Z");
    assert!(s.entities.contains(&("ip".into(), "203.0.113.7".into())));
    assert!(!s.update);
}

#[test]
fn teams_gets_an_adaptive_card_in_a_message_attachment() {
    let m = teams_message(&sample(4, 1));
    assert_eq!(m["type"], "message");
    let a = &m["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(a["content"]["type"], "AdaptiveCard");
    assert_eq!(a["content"]["body"][0]["text"], "Password spray (High)");
    let facts = a["content"]["body"][2]["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["title"] == "Ip" && f["value"] == "203.0.113.7"),
        "{facts:?}"
    );
    assert!(
        facts
            .iter()
            .any(|f| f["title"] == "Alert id" && f["value"] == "abc123")
    );
}

#[test]
fn slack_gets_blocks_with_escaped_text() {
    let m = slack_message(&sample(4, 1));
    assert!(m["text"].as_str().unwrap().contains("Password spray"));
    let blocks = m["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(
        blocks[1]["text"]["text"],
        "Password spray &lt;b&gt; &amp; co (IPAddress=203.0.113.7)"
    );
    let fields = blocks[2]["fields"].as_array().unwrap();
    assert!(fields.len() <= 10);
    assert_eq!(fields[0]["text"], "*Severity*\nHigh");
}

#[test]
fn email_subject_and_body() {
    let a = sample(4, 2);
    assert_eq!(email_subject(&a), "[entrail] Updated High: Password spray");
    let body = email_body(&a);
    assert!(body.contains("Rule: entrail-builtin-password-spray"));
    assert!(body.contains("\"class_uid\": 2004"));
}

#[test]
fn the_filter_applies_min_severity_and_updates() {
    assert!(wanted(&sample(4, 1), MinSeverity::High, false));
    assert!(!wanted(&sample(3, 1), MinSeverity::High, false));
    assert!(!wanted(&sample(4, 2), MinSeverity::Low, false));
    assert!(wanted(&sample(4, 2), MinSeverity::Low, true));
}

#[test]
fn config_reports_every_problem() {
    let c: AlertDestinationConfig = toml::from_str(
        r#"
        type = "email"
        id = "bad id"
        server = ""
        from = "nobody"
        to = ["ok@example.com", "broken"]
        username = "u"
        timeout = "0s"
        "#,
    )
    .unwrap();
    let errs = c.validate().unwrap_err();
    let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["id", "server", "from", "to[1]", "password", "timeout"]
    );
    let w: AlertDestinationConfig =
        toml::from_str("type = \"teams\"\nid = \"t\"\nurl = \"http://example.com/hook\"\n")
            .unwrap();
    assert_eq!(w.validate().unwrap_err()[0].field, "url");
    let ok: AlertDestinationConfig = toml::from_str(
        "type = \"slack\"\nid = \"s\"\nurl = \"http://127.0.0.1:9/x\"\nmin_severity = \"high\"\n",
    )
    .unwrap();
    assert!(ok.validate().is_ok());
    assert!(
        toml::from_str::<AlertDestinationConfig>(
            "type = \"slack\"\nid = \"s\"\nurl = \"x\"\nbogus = 1\n"
        )
        .is_err()
    );
}

#[test]
fn syslog_messages_are_rfc5424_with_the_ocsf_json() {
    let c: AlertSyslogConfig =
        toml::from_str("id = \"sl\"\naddress = \"127.0.0.1:514\"\nhostname = \"h1\"\n").unwrap();
    let d = SyslogDestination::new(c).unwrap();
    let m = d.encode(&sample(4, 1));
    // facility 13 * 8 + severity 3 (error) for High.
    assert!(
        m.starts_with("<107>1 2023-11-14T22:13:20.000000Z h1 entrail - ALERT - {"),
        "{m}"
    );
    let json: Value = serde_json::from_str(m.split_once(" - ALERT - ").unwrap().1).unwrap();
    assert_eq!(json["finding_info"]["uid"], "abc123");
    let parsed = syslog_loose::parse_message(&m, syslog_loose::Variant::RFC5424);
    assert_eq!(parsed.msgid, Some("ALERT"));
}
