//! Tests of the S3 server's parts: MD5 and SigV4 against published vectors, ranges, listing pages, and raw
//! signed requests for what `object_store` never sends wrong (bad `Content-MD5`, unsigned requests). The
//! client-driven tests are in `tests_client.rs`.
#![allow(clippy::unwrap_used)]

use super::auth::{self, Expected, canonical_request, signature};
use super::handlers::parse_range;
use super::xml::hex;
use super::*;
use axum::http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

#[test]
fn md5_matches_rfc_1321_vectors() {
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(&md5(input.as_bytes())), want, "md5({input:?})");
    }
}

/// The "GET Object" example of the S3 SigV4 documentation (examplebucket, `Range: bytes=0-9`).
fn aws_example() -> (HeaderMap, &'static str) {
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("examplebucket.s3.amazonaws.com"),
    );
    h.insert("range", HeaderValue::from_static("bytes=0-9"));
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    );
    h.insert("x-amz-date", HeaderValue::from_static("20130524T000000Z"));
    (h, "host;range;x-amz-content-sha256;x-amz-date")
}

#[test]
fn sigv4_reproduces_the_aws_documentation_example_and_refuses_a_wrong_secret() {
    let (mut h, signed) = aws_example();
    let canonical = canonical_request(
        "GET",
        "/test.txt",
        "",
        &h,
        signed,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    assert_eq!(
        hex(&Sha256::digest(canonical.as_bytes())),
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    );
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let sts = "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
    let sig = signature(secret, "20130524", "us-east-1", "s3", sts);
    assert_eq!(
        sig,
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    h.insert(
        "authorization",
        format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={sig}").parse().unwrap(),
    );
    let now = chrono::DateTime::parse_from_rfc3339("2013-05-24T00:05:00Z")
        .unwrap()
        .to_utc();
    let mut expected = Expected {
        access_key_id: "AKIAIOSFODNN7EXAMPLE",
        secret_access_key: secret,
        region: "us-east-1",
        now,
    };
    assert_eq!(
        auth::verify(&expected, "GET", "/test.txt", "", &h, b""),
        Ok(())
    );
    // A different path, query, secret, region or time fails.
    let code = |e: &Expected<'_>, path: &str, query: &str| {
        auth::verify(e, "GET", path, query, &h, b"")
            .unwrap_err()
            .code
    };
    assert_eq!(code(&expected, "/test2.txt", ""), "SignatureDoesNotMatch");
    assert_eq!(code(&expected, "/test.txt", "a=b"), "SignatureDoesNotMatch");
    expected.secret_access_key = "not-the-secret";
    assert_eq!(code(&expected, "/test.txt", ""), "SignatureDoesNotMatch");
    expected.secret_access_key = secret;
    expected.region = "eu-west-1";
    assert_eq!(
        code(&expected, "/test.txt", ""),
        "AuthorizationHeaderMalformed"
    );
    expected.region = "us-east-1";
    expected.now = now + chrono::Duration::minutes(20);
    assert_eq!(code(&expected, "/test.txt", ""), "RequestTimeTooSkewed");
    expected.now = now;
    expected.access_key_id = "AKIAOTHER";
    assert_eq!(code(&expected, "/test.txt", ""), "InvalidAccessKeyId");
    // A signed payload hash must match the body.
    let e = auth::verify(
        &Expected {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            ..expected
        },
        "GET",
        "/test.txt",
        "",
        &h,
        b"body",
    )
    .unwrap_err();
    assert_eq!(e.code, "XAmzContentSHA256Mismatch");
    // Query canonicalization: decoded, re-encoded strictly, sorted.
    assert_eq!(
        auth::canonical_query("uploadId=a%2Fb&partNumber=2&uploads="),
        "partNumber=2&uploadId=a%2Fb&uploads="
    );
}

#[test]
fn ranges_follow_rfc_9110() {
    assert_eq!(parse_range("bytes=2-5", 10), Some((2, 5)));
    assert_eq!(parse_range("bytes=8-", 10), Some((8, 9)));
    assert_eq!(parse_range("bytes=-3", 10), Some((7, 9)));
    assert_eq!(parse_range("bytes=5-100", 10), Some((5, 9)));
    assert_eq!(parse_range("bytes=12-20", 10), None);
    assert_eq!(parse_range("bytes=0-0", 0), None);
}

#[test]
fn raw_list_pages_roll_up_prefixes_without_repeating_them() {
    let mut objects = std::collections::BTreeMap::new();
    for d in 0..5 {
        for i in 0..3 {
            objects.insert(
                format!("p/{d}/{i}"),
                handlers::new_object(Bytes::from_static(b"0"), None),
            );
        }
        objects.insert(
            format!("p/{d}x"),
            handlers::new_object(Bytes::from_static(b"0"), None),
        );
    }
    let objects = &objects;
    let (mut seen, mut resume) = (Vec::new(), None);
    loop {
        let page = list::list_page(objects, "p/", Some("/"), resume.as_ref(), 2);
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries);
        match page.next {
            Some(n) => resume = Some(n),
            None => break,
        }
    }
    let names: Vec<String> = seen
        .iter()
        .map(|e| match e {
            list::Entry::Prefix(p) => p.clone(),
            list::Entry::Object { key, .. } => key.clone(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "p/0/", "p/0x", "p/1/", "p/1x", "p/2/", "p/2x", "p/3/", "p/3x", "p/4/", "p/4x"
        ]
    );
}

/// A request signed by the server's own signer (checked against the AWS example above), for what
/// `object_store` never sends wrong: a bad Content-MD5, an unsigned request.
async fn raw_put(
    server: &S3Server,
    path: &str,
    body: &'static [u8],
    md5_header: Option<String>,
) -> reqwest::Response {
    let c = server.config();
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = hex(&Sha256::digest(body));
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        format!("127.0.0.1:{}", server.port()).parse().unwrap(),
    );
    h.insert("x-amz-content-sha256", payload.parse().unwrap());
    h.insert("x-amz-date", amz_date.parse().unwrap());
    let mut signed = "host;x-amz-content-sha256;x-amz-date".to_owned();
    if let Some(m) = &md5_header {
        h.insert("content-md5", m.parse().unwrap());
        signed = format!("content-md5;{signed}");
    }
    let canonical = canonical_request("PUT", path, "", &h, &signed, &payload);
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{}/s3/aws4_request\n{}",
        c.region,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let sig = signature(&c.secret_access_key, &date, &c.region, "s3", &sts);
    let mut req = reqwest::Client::new()
        .put(format!("{}{path}", server.endpoint()))
        .header("x-amz-content-sha256", payload)
        .header("x-amz-date", amz_date)
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={}/{date}/{}/s3/aws4_request, SignedHeaders={signed}, Signature={sig}", c.access_key_id, c.region),
        )
        .body(body);
    if let Some(m) = md5_header {
        req = req.header("content-md5", m);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn content_md5_is_checked_and_unsigned_requests_are_refused() {
    use base64::Engine as _;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = S3Server::start(S3ServerConfig::default()).await.unwrap();
    let good = base64::engine::general_purpose::STANDARD.encode(md5(b"hello"));
    let r = raw_put(&server, "/lake/ok", b"hello", Some(good)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", hex(&md5(b"hello")))
    );
    let wrong = base64::engine::general_purpose::STANDARD.encode(md5(b"other"));
    let r = raw_put(&server, "/lake/bad", b"hello", Some(wrong)).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<Code>BadDigest</Code>"));
    let r = raw_put(&server, "/nobucket/x", b"hello", None).await;
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<Code>NoSuchBucket</Code>")
    );
    let r = reqwest::Client::new()
        .put(format!("{}/lake/anon", server.endpoint()))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<Code>AccessDenied</Code>")
    );
    let r = reqwest::Client::new()
        .get(format!("{}/lake/ok", server.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(server.keys("lake"), vec![("ok".to_owned(), 5)]);
}
