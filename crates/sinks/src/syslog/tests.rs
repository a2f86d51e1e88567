//! Syslog unit tests: escaping rules, limits and cuts, the mapping, configuration checks. The round trips
//! through a real rsyslog are in `tests/syslog_rsyslog.rs`.

use super::encode::{Encoder, header_token};
use super::*;
use crate::{Sink, TRUNCATION_MARKER};
use model::{Category, Record, Shape, Value, schema};

fn signin(key: &str, value: &str) -> Record {
    let s = schema(Category::SignInLogs);
    let mut values = vec![Value::Null; s.columns.len()];
    for col in ["UserPrincipalName", "ResultDescription"] {
        values[s.index_of(col).unwrap()] = Value::String(value.into());
    }
    values[s.index_of("ResultType").unwrap()] = Value::String("0".into());
    Record {
        category: Category::SignInLogs,
        event_time: 1_700_000_000_000_000,
        ingest_time: 0,
        key: key.into(),
        content_hash: 1,
        revision: 0,
        source: "t".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

fn encoder(encoding: SyslogEncoding, max: usize) -> Encoder {
    let mut c = SyslogConfig::new("s", "127.0.0.1:514");
    c.encoding = encoding;
    c.max_message_bytes = Some(max);
    Encoder::new(&c, "host name")
}

const HOSTILE: &[&str] = &[
    "x\r\n<13>1 - forged",
    "a|b\\c=d^e\tf\u{0}g\u{7f}",
    "✓ 日本語 \u{FFFD}",
];

#[test]
fn messages_never_contain_control_characters_and_respect_the_limit() {
    let huge = "é".repeat(300_000);
    for encoding in [
        SyslogEncoding::Rfc5424Json,
        SyslogEncoding::Cef,
        SyslogEncoding::Leef,
    ] {
        for max in [480, 2048, 65536] {
            let enc = encoder(encoding, max);
            for v in HOSTILE.iter().copied().chain([huge.as_str()]) {
                let m = enc.encode(&signin("k", v));
                assert!(m.len() <= max, "{encoding:?} {max}: {}", m.len());
                assert!(!m.chars().any(char::is_control), "{encoding:?}: {m:.200}");
                assert!(m.starts_with(
                    "<110>1 2023-11-14T22:13:20.000000Z host_name entrail - SigninLogs - "
                ));
                if v.len() > max {
                    assert!(m.contains(TRUNCATION_MARKER), "{encoding:?} {max}");
                }
            }
        }
    }
}

#[test]
fn cef_escapes_header_and_extension_per_arcsight_rules() {
    let m = encoder(SyslogEncoding::Cef, 65536).encode(&signin("k", "a|b\\c=d\r\n"));
    let body = m.split_once(" - SigninLogs - ").unwrap().1;
    assert!(
        body.starts_with(
            "CEF:0|Microsoft|Entra ID|1.0|SigninLogs:0|a\\|b\\\\c=d\\r\\n|3|rt=1700000000000 "
        ),
        "{body}"
    );
    assert!(body.contains(" suser=a|b\\\\c\\=d\\r\\n "), "{body}");
    assert!(
        body.ends_with(" flexString1Label=EntrailKey flexString1=k"),
        "{body}"
    );
}

#[test]
fn leef_escapes_the_delimiter_and_backslash() {
    let m = encoder(SyslogEncoding::Leef, 65536).encode(&signin("k", "a^b\\c=d|e\t"));
    let body = m.split_once(" - SigninLogs - ").unwrap().1;
    assert!(
        body.starts_with("LEEF:2.0|Microsoft|Entra ID|1.0|SigninLogs:0|^|devTimeFormat="),
        "{body}"
    );
    assert!(body.contains("^usrName=a\\^b\\\\c=d|e\\t^"), "{body}");
    assert!(
        body.contains("^devTime=2023-11-14T22:13:20.000Z^"),
        "{body}"
    );
}

#[test]
fn json_body_stays_valid_json_when_cut() {
    let big = "\"\\".repeat(100_000);
    let m = encoder(SyslogEncoding::Rfc5424Json, 4096).encode(&signin("k", &big));
    assert!(m.len() <= 4096);
    let json = m.split_once(" - SigninLogs - ").unwrap().1;
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    for col in ["UserPrincipalName", "ResultDescription"] {
        let s = v[col].as_str().unwrap();
        let prefix = s.strip_suffix(TRUNCATION_MARKER).unwrap();
        assert!(big.starts_with(prefix));
    }
    assert_eq!(v["_Key"], "k");
}

#[test]
fn header_tokens_are_printable_ascii() {
    assert_eq!(header_token("a b\u{7}c✓", 48), "a_b_c_");
    assert_eq!(header_token("", 48), "-");
    assert_eq!(header_token(&"x".repeat(60), 48).len(), 48);
}

#[test]
fn validation_reports_every_problem() {
    let toml = r#"
        id = ""
        address = "nohost"
        transport = "tls"
        facility = 24
        app_name = "has space"
        max_message_bytes = 100
        leef_delimiter = "="
        categories = ["Nope"]
        [tls]
        client_cert_file = "c.pem"
    "#;
    let c: SyslogConfig = toml::from_str(toml).unwrap();
    let errors = c.validate().unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "address",
        "facility",
        "app_name",
        "max_message_bytes",
        "leef_delimiter",
        "tls.ca_file",
        "tls.client_key_file",
        "categories",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(toml::from_str::<SyslogConfig>("id='a'\naddress='h:1'\nnope=1").is_err());
    let ok: SyslogConfig = toml::from_str(
        "id='a'\naddress='[::1]:6514'\ntransport='udp'\nencoding='cef'\nframing='newline'",
    )
    .unwrap();
    ok.validate().unwrap();
    assert_eq!(ok.max_message_bytes(), 2048);
}

#[test]
fn sink_filters_categories() {
    let mut c = SyslogConfig::new("s", "127.0.0.1:9");
    c.categories = vec!["AuditLogs".into()];
    let mut sink = SyslogSink::new(c).unwrap();
    assert!(sink.accepts(Category::AuditLogs));
    assert!(!sink.accepts(Category::SignInLogs));
    // Nothing accepted: nothing to send, so no connection is attempted.
    sink.send(&[signin("k", "v")]).unwrap();
}

#[test]
fn json_bodies_with_many_mid_sized_strings_are_cut_to_fit_in_one_pass() {
    // A ~4 KiB record of many 150-byte strings into a 2048-byte UDP message: no single cut suffices.
    let s = schema(Category::SignInLogs);
    let mut r = signin("k", "x");
    let mut sent = Vec::new();
    for (i, col) in s.columns.iter().enumerate() {
        if matches!(col.ty, model::ColumnType::String)
            && col.name != "ResultType"
            && sent.len() < 20
        {
            let v = format!("{}-{}", col.name, "v".repeat(150));
            r.values[i] = Value::String(v.clone());
            sent.push((col.name.clone(), v));
        }
    }
    for encoding in [SyslogEncoding::Rfc5424Json, SyslogEncoding::Ocsf] {
        let m = encoder(encoding, 2048).encode(&r);
        assert!(m.len() <= 2048, "{encoding:?}: {}", m.len());
        let json = m.split_once(" - SigninLogs - ").unwrap().1;
        let v: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{encoding:?}: not JSON ({e}): {json}"));
        if encoding == SyslogEncoding::Rfc5424Json {
            let mut cut = 0;
            for (name, value) in &sent {
                let got = v[name].as_str().unwrap();
                match got.strip_suffix(TRUNCATION_MARKER) {
                    Some(prefix) => {
                        cut += 1;
                        assert!(value.starts_with(prefix), "{name}: {got}");
                    }
                    None => assert_eq!(got, value),
                }
            }
            assert!(cut > 1, "several strings had to be cut");
            assert_eq!(v["ResultType"], "0", "short values are kept");
        } else {
            assert_eq!(v["class_uid"], 3002);
        }
    }
}

#[test]
fn raw_and_ocsf_bodies_are_json() {
    let mut r = signin("k", "a\r\nb");
    r.raw = r#"{"id":"k","userPrincipalName":"a\r\nb"}"#.into();
    let body = |e: SyslogEncoding| {
        let m = encoder(e, 65536).encode(&r);
        assert!(!m.chars().any(char::is_control), "{e:?}: {m}");
        let json = m.split_once(" - SigninLogs - ").unwrap().1.to_owned();
        serde_json::from_str::<serde_json::Value>(&json).unwrap()
    };
    assert_eq!(body(SyslogEncoding::Raw)["userPrincipalName"], "a\r\nb");
    assert_eq!(body(SyslogEncoding::Ocsf)["user"]["name"], "a\r\nb");
    assert_eq!(body(SyslogEncoding::OcsfRaw)["raw_data"], r.raw.as_str());
}

#[test]
fn header_timestamps_match_the_model_formatting() {
    for micros in [
        0,
        1_700_000_000_123_456,
        951_782_400_000_001,     // 2000-02-29
        4_107_542_399_999_999,   // 2100-02-28T23:59:59.999999
        -1,                      // 1969-12-31T23:59:59.999999
        253_402_300_799_999_999, // 9999-12-31T23:59:59.999999
    ] {
        assert_eq!(
            super::encode::rfc3339(micros, 6).as_deref(),
            Some(model::format_micros(micros).as_str()),
            "{micros}"
        );
    }
    assert_eq!(super::encode::rfc3339(253_402_300_800_000_000, 6), None);
}

#[test]
fn escaping_copies_plain_runs_and_escapes_every_special_character() {
    let m = encoder(SyslogEncoding::Cef, 65536)
        .encode(&signin("k", "plain ✓ \u{85}c1 a=b|c\\d\"e\u{7f}\u{0}"));
    assert!(
        m.contains("suser=plain ✓ \\x85c1 a\\=b|c\\\\d\"e\\x7F\\x00"),
        "{m}"
    );
    let mut c = SyslogConfig::new("s", "127.0.0.1:514");
    c.encoding = SyslogEncoding::Leef;
    c.leef_delimiter = 'x';
    let m = Encoder::new(&c, "h").encode(&signin("k", "axb"));
    assert!(m.contains("xusrName=a\\xbx"), "{m}");
}
