//! Unit tests: framing of growing blobs, hour folders, connection strings, config validation.
#![allow(clippy::unwrap_used)]

use super::config::{BlobAuth, BlobSourceConfig, ConnectionString, Since};
use super::reader::{Item, Offset, cut, detect};
use super::source::hour_of;
use secrecy::{ExposeSecret, SecretString};

fn records<'a>(items: &[Item<'a>]) -> Vec<(u64, &'a str)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Record(at, t) => Some((*at, std::str::from_utf8(t).unwrap())),
            Item::Garbage(..) => None,
        })
        .collect()
}

#[test]
fn lines_are_consumed_only_when_complete() {
    let blob = b"{\"a\":1}\n{\"b\":2}\r\n{\"c\":";
    let (items, next) = cut(blob, Offset::Lines(0), false);
    assert_eq!(records(&items), vec![(0, "{\"a\":1}"), (8, "{\"b\":2}")]);
    assert_eq!(next, Offset::Lines(17));
    // The partial line waits; once the blob grew it is read from the offset.
    let grown = b"{\"c\":3}\n";
    let (items, next) = cut(grown, next, false);
    assert_eq!(records(&items), vec![(17, "{\"c\":3}")]);
    assert_eq!(next, Offset::Lines(25));
    // A closed hour takes an unterminated last line as it is.
    let (items, next) = cut(b"{\"d\":4}", next, true);
    assert_eq!(records(&items), vec![(25, "{\"d\":4}")]);
    assert_eq!(next, Offset::Lines(32));
}

#[test]
fn a_records_document_rewritten_in_place_is_read_record_by_record() {
    let v1 = br#"{"records":[{"x":"a]}"},{"y":{"z":[1]}}]}"#;
    assert_eq!(detect(v1), Offset::Document { doc: 0 });
    assert_eq!(detect(b"{\"time\":1}\n"), Offset::Lines(0));
    let (items, next) = cut(v1, Offset::Document { doc: 0 }, false);
    assert_eq!(
        records(&items),
        vec![(12, r#"{"x":"a]}"}"#), (24, r#"{"y":{"z":[1]}}"#)]
    );
    // The offset stays before `]}`, which the next rewrite replaces with `,{...}]}`.
    assert_eq!(next, Offset::Document { doc: 39 });
    let v2 = br#"{"records":[{"x":"a]}"},{"y":{"z":[1]}},{"w":3}]}"#;
    let (items, next2) = cut(&v2[39..], next, false);
    assert_eq!(records(&items), vec![(40, r#"{"w":3}"#)]);
    assert_eq!(next2, Offset::Document { doc: 47 });
    // An unfinished record waits.
    let (items, same) = cut(br#",{"v":"#, next2, false);
    assert!(items.is_empty());
    assert_eq!(same, next2);
}

#[test]
fn a_second_document_after_the_first_is_read_too() {
    let blob = br#"{"records":[{"a":1}]}
{"records":[{"b":2}]}"#;
    let (items, _) = cut(blob, Offset::Document { doc: 0 }, false);
    assert_eq!(records(&items).len(), 2);
}

#[test]
fn garbage_in_a_records_array_is_handed_over_and_reading_goes_on() {
    let blob = br#"{"records":[{"a":1},oops,{"b":2}]}"#;
    let (items, _) = cut(blob, Offset::Document { doc: 0 }, false);
    assert_eq!(records(&items).len(), 2);
    assert!(
        items
            .iter()
            .any(|i| matches!(i, Item::Garbage(20, b"oops,", _)))
    );
}

#[test]
fn blob_hours_come_from_the_folders() {
    let h = hour_of(
        "resourceId=/TENANTS/T/PROVIDERS/MICROSOFT.AADIAM/y=2024/m=03/d=04/h=05/m=00/PT1H.json",
    );
    assert_eq!(h.unwrap().to_rfc3339(), "2024-03-04T05:00:00+00:00");
    let h = hour_of("resourceId=/S/y=2024/m=03/d=04/h=23/m=00/macAddress=00AA/PT1H.json");
    assert_eq!(h.unwrap().to_rfc3339(), "2024-03-04T23:00:00+00:00");
    assert!(hour_of("other/PT1H.json").is_none());
}

#[test]
fn connection_strings_name_endpoint_account_and_credential() {
    let c = ConnectionString::parse(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
    )
    .unwrap();
    assert_eq!(c.account.as_deref(), Some("devstoreaccount1"));
    assert_eq!(c.key.unwrap().expose_secret(), "a2V5");
    assert_eq!(
        c.endpoint.as_deref(),
        Some("http://127.0.0.1:10000/devstoreaccount1")
    );
    let c = ConnectionString::parse("AccountName=acct;SharedAccessSignature=sv=1&sig=x%3D;EndpointSuffix=core.usgovcloudapi.net").unwrap();
    assert_eq!(
        c.endpoint.as_deref(),
        Some("https://acct.blob.core.usgovcloudapi.net")
    );
    assert_eq!(c.sas.unwrap().expose_secret(), "sv=1&sig=x%3D");
    assert!(ConnectionString::parse("AccountName=acct").is_err());
}

#[test]
fn validation_reports_every_problem_with_its_field() {
    let mut c = BlobSourceConfig::new(
        "",
        "ftp://x",
        BlobAuth::AccountKey {
            key: SecretString::from("not base64!"),
        },
    );
    c.containers = vec!["Bad_Name".into()];
    c.lookback = "soon".into();
    c.batch_records = 0;
    let errors = c.validate().unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "auth.key",
        "endpoint",
        "containers[0]",
        "batch_records",
        "lookback",
    ] {
        assert!(fields.contains(&f), "{f} missing from {errors:?}");
    }
    let mut ok = BlobSourceConfig::new(
        "blob",
        "http://127.0.0.1:10000/devstoreaccount1",
        BlobAuth::Sas {
            token: SecretString::from("sv=2021&sig=abc"),
        },
    );
    ok.since = Some("2024-03-04T00:00:00Z".into());
    let v = ok.validate().unwrap();
    assert!(matches!(v.since, Since::At(_)));
    assert!(
        !format!("{:?}", ok.auth).contains("abc"),
        "secrets stay out of Debug"
    );
}

#[test]
fn config_parses_from_toml_with_defaults() {
    let c: BlobSourceConfig = toml::from_str(
        r#"
id = "storage"
account = "contoso"
auth = { type = "connection_string", connection_string = "AccountName=contoso;AccountKey=a2V5" }
"#,
    )
    .unwrap();
    let v = c.validate().unwrap();
    assert_eq!(v.lookback, std::time::Duration::from_secs(7200));
    assert!(matches!(v.since, Since::Ago(_)));
    assert!(
        toml::from_str::<BlobSourceConfig>("id='x'\nauth={type='sas',token='a'}\nbogus=1").is_err()
    );
}
