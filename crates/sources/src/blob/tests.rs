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

/// Counts what is delivered.
#[derive(Default)]
struct CountDeliver(std::sync::atomic::AtomicU64);

impl crate::graph::Deliver for CountDeliver {
    async fn deliver(
        &self,
        batch: crate::Batch,
    ) -> Result<crate::graph::Accepted, crate::graph::DeliverError> {
        let n = batch.records.len() as u64;
        self.0.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        Ok(crate::graph::Accepted {
            new: n,
            ..crate::graph::Accepted::default()
        })
    }
}

/// Keeps cursors in memory and notes the most blob offsets any saved cursor held.
#[derive(Default)]
struct MemCursors {
    saved: std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>,
    largest: std::sync::atomic::AtomicUsize,
}

impl crate::graph::CursorStore for MemCursors {
    fn load(&self, key: &str) -> Result<Option<serde_json::Value>, crate::graph::CursorError> {
        Ok(self.saved.lock().unwrap().get(key).cloned())
    }

    fn save(&self, key: &str, value: &serde_json::Value) -> Result<(), crate::graph::CursorError> {
        let blobs = value["blobs"].as_object().map_or(0, serde_json::Map::len);
        self.largest
            .fetch_max(blobs, std::sync::atomic::Ordering::SeqCst);
        self.saved
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.clone());
        Ok(())
    }
}

const NSG_CONTAINER: &str = "insights-logs-networksecuritygroupflowevent";

/// `resources` NSGs x `hours` hours x `nics` one-tuple flow-log blobs from 2024-03-04 00:00.
async fn flow_log_store(
    resources: u32,
    hours: u32,
    nics: u32,
) -> std::sync::Arc<object_store::memory::InMemory> {
    use object_store::ObjectStoreExt;
    let store = std::sync::Arc::new(object_store::memory::InMemory::new());
    for r in 0..resources {
        let id = format!(
            "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG{r}"
        );
        for h in 0..hours {
            for n in 0..nics {
                let mac = format!("0022487100{n:02X}");
                let name = format!(
                    "resourceId={id}/y=2024/m=03/d=04/h={h:02}/m=00/macAddress={mac}/PT1H.json"
                );
                let epoch = 1_709_510_400 + h * 3600 + n;
                let body = format!(
                    r#"{{"records":[{{"time":"2024-03-04T{h:02}:30:00.0000000Z","systemId":"s","macAddress":"{mac}","category":"NetworkSecurityGroupFlowEvent","resourceId":"{id}","operationName":"NetworkSecurityGroupFlowEvents","properties":{{"Version":2,"flows":[{{"rule":"R","flows":[{{"mac":"{mac}","flowTuples":["{epoch},10.0.0.{r},13.107.21.200,{n},443,T,O,A,C,7,1158,12,8143"]}}]}}]}}}}]}}"#
                );
                store
                    .put(&object_store::path::Path::from(name), body.into())
                    .await
                    .unwrap();
            }
        }
    }
    store
}

#[tokio::test]
async fn the_cursor_holds_one_closed_hour_at_a_time_and_every_blob_is_read_once() {
    let (resources, hours, nics) = (3, 6, 20);
    let store = flow_log_store(resources, hours, nics).await;
    let mut cfg = BlobSourceConfig::new(
        "t",
        "http://127.0.0.1:9/devstoreaccount1",
        BlobAuth::AccountKey {
            key: SecretString::from("a2V5".to_owned()),
        },
    );
    cfg.containers = vec![NSG_CONTAINER.to_owned()];
    cfg.since = Some("2024-03-04T00:00:00Z".to_owned());
    cfg.batch_records = 7;
    let source = super::BlobSource::from_config(cfg).unwrap();
    source.set_store(NSG_CONTAINER, store);
    let (deliver, cursors) = (CountDeliver::default(), MemCursors::default());
    // Every hour is closed by then (lookback 2 h).
    let now = "2024-03-04T12:00:00Z".parse().unwrap();
    let report = source.poll_once_at(now, &deliver, &cursors).await.unwrap();
    let total = u64::from(resources * hours * nics);
    let c = &report.containers[0];
    assert_eq!(c.error, None);
    assert_eq!((c.blobs_read, c.records), (total, total));
    assert_eq!(deliver.0.load(std::sync::atomic::Ordering::SeqCst), total);
    // The cursor never held more than the blobs of one hour over every resource (60), not all 360: a
    // closed hour's offsets are dropped once it is durable, before the next hour is read.
    let largest = cursors.largest.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        largest > 0 && largest <= (resources * nics) as usize,
        "{largest}"
    );
    // What stays: the open hour from now - lookback, and no offsets (every hour read was closed).
    let saved = crate::graph::CursorStore::load(&cursors, &format!("blob/t/{NSG_CONTAINER}"))
        .unwrap()
        .unwrap();
    assert_eq!(saved["from"], "2024-03-04T10:00:00Z");
    assert_eq!(
        saved["blobs"].as_object().map(serde_json::Map::len),
        Some(0)
    );
    // A second poll reads nothing again.
    let again = source.poll_once_at(now, &deliver, &cursors).await.unwrap();
    assert_eq!(again.containers[0].blobs_read, 0);
    assert_eq!(deliver.0.load(std::sync::atomic::Ordering::SeqCst), total);
}
