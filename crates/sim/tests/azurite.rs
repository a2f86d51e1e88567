//! The Azurite starter and the blob writer against a real Azurite: every category lands in its container in
//! Microsoft's layout, append blobs grow, flow-log blobs are `{"records":[...]}` documents.
#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sim::azurite::{ACCOUNT, ACCOUNT_KEY, Azurite};

fn store(azurite: &Azurite, container: &str) -> object_store::azure::MicrosoftAzure {
    MicrosoftAzureBuilder::new()
        .with_account(ACCOUNT)
        .with_access_key(ACCOUNT_KEY)
        .with_endpoint(azurite.blob_endpoint())
        .with_allow_http(true)
        .with_container_name(container)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_is_written_in_microsofts_layout() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let azurite = Azurite::start().unwrap();
    let cfg = sim::TenantConfig {
        users: 20,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg);
    let report = sim::blob::write_events(&azurite.client(), generator.by_ref(), true, &tenant)
        .await
        .unwrap();
    let truth = generator.into_truth().unwrap();
    let written: u64 = report.records.values().sum();
    assert_eq!(written, truth.total_emitted());
    assert!(report.records.contains_key("insights-activity-logs"));
    assert!(report.records.contains_key("insights-logs-signinlogs"));
    assert!(
        report
            .records
            .contains_key("insights-logs-networksecuritygroupflowevent")
    );

    let signins = store(&azurite, "insights-logs-signinlogs");
    let blobs: Vec<_> = signins.list(None).try_collect().await.unwrap();
    assert!(!blobs.is_empty());
    let name = blobs[0].location.to_string();
    assert!(
        name.starts_with(&format!(
            "resourceId=/TENANTS/{}/PROVIDERS/MICROSOFT.AADIAM/y=2024/m=03/d=0",
            tenant.tenant_id.to_ascii_uppercase()
        )) && name.ends_with("/m=00/PT1H.json"),
        "{name}"
    );
    let body = signins
        .get(&Path::parse(&name).unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let first = body.split(|b| *b == b'\n').next().unwrap();
    let v: serde_json::Value = serde_json::from_slice(first).unwrap();
    assert_eq!(v["category"], "SignInLogs");

    let nsg = store(&azurite, "insights-logs-networksecuritygroupflowevent");
    let blobs: Vec<_> = nsg.list(None).try_collect().await.unwrap();
    let name = blobs[0].location.to_string();
    assert!(
        name.contains("/macAddress=") && name.contains("NETWORKSECURITYGROUPS"),
        "{name}"
    );
    let body = nsg
        .get(&blobs[0].location)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["records"].as_array().is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn an_append_blob_grows_block_by_block() {
    let azurite = Azurite::start().unwrap();
    let client = azurite.client();
    client.create_container("ctr").await.unwrap();
    client
        .create_append_blob("ctr", "a/PT1H.json")
        .await
        .unwrap();
    client
        .append_block("ctr", "a/PT1H.json", b"one\n".to_vec())
        .await
        .unwrap();
    client
        .append_block("ctr", "a/PT1H.json", b"two\n".to_vec())
        .await
        .unwrap();
    let s = store(&azurite, "ctr");
    let body = s
        .get(&Path::parse("a/PT1H.json").unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"one\ntwo\n");
    let port = azurite.port();
    drop(azurite);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "killed on drop"
    );
}
