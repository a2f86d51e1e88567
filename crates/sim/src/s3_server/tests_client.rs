//! Tests of the S3 server driven by `object_store`'s `AmazonS3` client, as the lake sink uses it: put, get,
//! ranges, conditional put, delete, list paging beyond 1000 keys, multipart, refused credentials, session
//! tokens, injected faults.
#![allow(clippy::unwrap_used)]

use super::xml::hex;
use super::*;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutMode, PutPayload, RetryConfig, WriteMultipart,
};
use std::time::Duration;

fn client(server: &S3Server, secret: &str, retries: usize) -> AmazonS3 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = server.config();
    AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region(&c.region)
        .with_bucket_name("lake")
        .with_access_key_id(&c.access_key_id)
        .with_secret_access_key(secret)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                base: 2.0,
            },
            max_retries: retries,
            retry_timeout: Duration::from_secs(10),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn object_store_puts_gets_ranges_conditional_puts_and_deletes() {
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    let s3 = client(&server, &server.config().secret_access_key, 0);
    let key = Path::from("SigninLogs/day=2024-03-04/part-1-9.parquet");
    let data = b"PAR1 hello lake PAR1".to_vec();
    let put = s3.put(&key, PutPayload::from(data.clone())).await.unwrap();
    assert_eq!(
        put.e_tag.as_deref(),
        Some(format!("\"{}\"", hex(&md5(&data))).as_str())
    );
    // Stored under the decoded key ('=' travelled as %3D).
    assert_eq!(
        server
            .object("lake", "SigninLogs/day=2024-03-04/part-1-9.parquet")
            .as_deref(),
        Some(&data[..])
    );
    let got = s3.get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], &data[..]);
    assert_eq!(&s3.get_range(&key, 5..10).await.unwrap()[..], &data[5..10]);
    let meta = s3.head(&key).await.unwrap();
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(meta.e_tag, put.e_tag);
    // Create-only put: If-None-Match: * gets 412, which object_store reports as AlreadyExists.
    let again = s3
        .put_opts(
            &key,
            PutPayload::from_static(b"other"),
            PutMode::Create.into(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(again, object_store::Error::AlreadyExists { .. }),
        "{again}"
    );
    s3.put_opts(
        &Path::from("new"),
        PutPayload::from_static(b"x"),
        PutMode::Create.into(),
    )
    .await
    .unwrap();
    s3.delete(&key).await.unwrap();
    let missing = s3.get(&key).await.unwrap_err();
    assert!(
        matches!(missing, object_store::Error::NotFound { .. }),
        "{missing}"
    );
    let missing = s3.head(&key).await.unwrap_err();
    assert!(
        matches!(missing, object_store::Error::NotFound { .. }),
        "{missing}"
    );
    // Deleting what is gone succeeds, as on S3.
    s3.delete(&key).await.unwrap();
    assert_eq!(server.keys("lake"), vec![("new".to_owned(), 1)]);
}

#[tokio::test]
async fn listing_pages_beyond_1000_keys_with_prefixes_and_offsets() {
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    for i in 0..2500 {
        server.insert(
            "lake",
            &format!("T/day=2024-03-{:02}/f{i:05}", 1 + i % 3),
            vec![1u8; i % 7],
        );
    }
    server.insert("lake", "U/other", vec![0u8; 3]);
    let s3 = client(&server, &server.config().secret_access_key, 0);
    let all: Vec<_> = s3
        .list(Some(&Path::from("T")))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|m| m.unwrap())
        .collect();
    assert_eq!(all.len(), 2500);
    let mut keys: Vec<String> = all.iter().map(|m| m.location.to_string()).collect();
    let listed = keys.clone();
    keys.sort();
    keys.dedup();
    assert_eq!(keys, listed, "sorted, no duplicates across pages");
    assert_eq!(
        S3ServerStats::get(&server.stats().lists),
        3,
        "1000-key pages"
    );
    let sizes: u64 = all.iter().map(|m| m.size).sum();
    assert_eq!(sizes, (0..2500u64).map(|i| i % 7).sum::<u64>());
    // Delimiter: the three day folders as common prefixes.
    let top = s3
        .list_with_delimiter(Some(&Path::from("T")))
        .await
        .unwrap();
    let days: Vec<String> = top.common_prefixes.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        days,
        ["T/day=2024-03-01", "T/day=2024-03-02", "T/day=2024-03-03"]
    );
    assert!(top.objects.is_empty());
    let root = s3.list_with_delimiter(None).await.unwrap();
    assert_eq!(root.common_prefixes.len(), 2);
    // Offset (start-after).
    let after: Vec<_> = s3
        .list_with_offset(
            Some(&Path::from("T")),
            &Path::from("T/day=2024-03-03/f02490"),
        )
        .collect::<Vec<_>>()
        .await;
    assert_eq!(after.len(), 3, "f02493, f02496, f02499");
}

#[tokio::test]
async fn multipart_uploads_complete_abort_and_enforce_the_5_mib_minimum() {
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    let s3 = client(&server, &server.config().secret_access_key, 0);
    let key = Path::from("big/file.parquet");
    let data: Vec<u8> = (0..(MIN_PART_BYTES + (1 << 20)))
        .map(|i| (i % 251) as u8)
        .collect();
    let mut w =
        WriteMultipart::new_with_chunk_size(s3.put_multipart(&key).await.unwrap(), MIN_PART_BYTES);
    w.write(&data);
    let put = w.finish().await.unwrap();
    assert_eq!(
        server.object("lake", "big/file.parquet").as_deref(),
        Some(&data[..])
    );
    let mut digests = md5(&data[..MIN_PART_BYTES]).to_vec();
    digests.extend_from_slice(&md5(&data[MIN_PART_BYTES..]));
    assert_eq!(put.e_tag, Some(format!("\"{}-2\"", hex(&md5(&digests)))));
    assert_eq!(S3ServerStats::get(&server.stats().parts), 2);
    assert_eq!(server.pending_uploads(), 0);

    // A non-last part under 5 MiB: EntityTooSmall on completion, nothing visible.
    let small = Path::from("small/parts");
    let mut up = s3.put_multipart(&small).await.unwrap();
    up.put_part(PutPayload::from(vec![1u8; 1024]))
        .await
        .unwrap();
    up.put_part(PutPayload::from(vec![2u8; 1024]))
        .await
        .unwrap();
    let e = up.complete().await.unwrap_err();
    assert!(e.to_string().contains("EntityTooSmall"), "{e}");
    assert!(server.object("lake", "small/parts").is_none());
    up.abort().await.unwrap();
    assert_eq!(server.pending_uploads(), 0);
    assert_eq!(S3ServerStats::get(&server.stats().aborted_uploads), 1);
    // An aborted upload is gone.
    let mut up = s3.put_multipart(&small).await.unwrap();
    up.put_part(PutPayload::from(vec![1u8; 10])).await.unwrap();
    up.abort().await.unwrap();
    assert!(up.abort().await.is_err(), "NoSuchUpload");
}

#[tokio::test]
async fn a_wrong_secret_or_key_is_refused_and_nothing_is_stored() {
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    let bad = client(&server, "wrong-secret", 3);
    let e = bad
        .put(&Path::from("x"), PutPayload::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, object_store::Error::PermissionDenied { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("SignatureDoesNotMatch"), "{e}");
    let e = bad.head(&Path::from("x")).await.unwrap_err();
    assert!(
        matches!(e, object_store::Error::PermissionDenied { .. }),
        "{e}"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let unknown = AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name("lake")
        .with_access_key_id("AKIAUNKNOWN")
        .with_secret_access_key(&server.config().secret_access_key)
        .build()
        .unwrap();
    let e = unknown.list_with_delimiter(None).await.unwrap_err();
    assert!(e.to_string().contains("InvalidAccessKeyId"), "{e}");
    assert!(server.keys("lake").is_empty());
    assert!(S3ServerStats::get(&server.stats().auth_failures) >= 3);
    // A bucket that does not exist.
    let other = AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name("nope")
        .with_access_key_id(&server.config().access_key_id)
        .with_secret_access_key(&server.config().secret_access_key)
        .build()
        .unwrap();
    let e = other
        .put(&Path::from("x"), PutPayload::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(e, object_store::Error::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn injected_slowdowns_are_retried_by_the_client_and_an_outage_fails_until_cleared() {
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    let s3 = client(&server, &server.config().secret_access_key, 5);
    server.inject(Fault::slow_down(3));
    s3.put(&Path::from("a"), PutPayload::from_static(b"a"))
        .await
        .unwrap();
    assert_eq!(S3ServerStats::get(&server.stats().faults), 3);
    assert_eq!(server.keys("lake").len(), 1);
    server.inject(Fault::outage());
    let no_retry = client(&server, &server.config().secret_access_key, 1);
    let e = no_retry
        .put(&Path::from("b"), PutPayload::from_static(b"b"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("SlowDown") || e.to_string().contains("503"),
        "{e}"
    );
    // Writes only, after two: reads pass, the third write fails.
    server.inject(Fault {
        kind: FaultKind::InternalError,
        skip: 2,
        count: u64::MAX,
        writes_only: true,
    });
    for k in ["c", "d"] {
        no_retry
            .put(&Path::from(k), PutPayload::from_static(b"c"))
            .await
            .unwrap();
    }
    no_retry.head(&Path::from("c")).await.unwrap();
    assert!(
        no_retry
            .put(&Path::from("e"), PutPayload::from_static(b"e"))
            .await
            .is_err()
    );
    server.clear_faults();
    no_retry
        .put(&Path::from("e"), PutPayload::from_static(b"e"))
        .await
        .unwrap();
    let keys: Vec<String> = server.keys("lake").into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "c", "d", "e"]);
}

#[tokio::test]
async fn a_configured_session_token_is_required() {
    let server = S3Server::start(S3ServerConfig {
        session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
        ..S3ServerConfig::default()
    })
    .await
    .unwrap();
    let c = server.config().clone();
    let without = client(&server, &c.secret_access_key, 0);
    let e = without
        .put(&Path::from("t"), PutPayload::from_static(b"t"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("<Code>InvalidToken</Code>"), "{e}");
    let with = AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_region(&c.region)
        .with_bucket_name("lake")
        .with_access_key_id(&c.access_key_id)
        .with_secret_access_key(&c.secret_access_key)
        .with_token("FwoGZXIvYXdzEXAMPLETOKEN")
        .build()
        .unwrap();
    with.put(&Path::from("t"), PutPayload::from_static(b"t"))
        .await
        .unwrap();
    assert_eq!(server.keys("lake"), vec![("t".to_owned(), 1)]);
}
