//! Unit tests of the Graph source internals: filters, configuration, pacing (on tokio's paused clock),
//! backfill span arithmetic, the certificate assertion, CLI output parsing, the server-date clock.
#![allow(clippy::unwrap_used)]

use super::assertion::CertificateSigner;
use super::backfill::{gaps, merge};
use super::endpoints::{ThrottleClass, encode, endpoint};
use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use model::Category;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn filters_per_category_are_exact() {
    let (s, e) = (t("2026-10-05T10:00:00Z"), t("2026-10-05T11:00:00Z"));
    let f = |c| endpoint(c).unwrap().filter(s, e);
    assert_eq!(
        f(Category::AuditLogs),
        "activityDateTime ge 2026-10-05T10:00:00Z and activityDateTime le 2026-10-05T11:00:00Z"
    );
    assert_eq!(
        f(Category::NonInteractiveUserSignInLogs),
        "createdDateTime ge 2026-10-05T10:00:00Z and createdDateTime le 2026-10-05T11:00:00Z \
         and signInEventTypes/any(t: t eq 'nonInteractiveUser')"
    );
    assert_eq!(
        f(Category::ProvisioningLogs),
        "activityDateTime gt 2026-10-05T09:59:59Z and activityDateTime lt 2026-10-05T11:00:01Z"
    );
    assert_eq!(
        f(Category::RiskyUsers),
        "riskLastUpdatedDateTime gt 2026-10-05T09:59:59Z and riskLastUpdatedDateTime lt 2026-10-05T11:00:01Z"
    );
    // Every sign-in type goes through beta with its own type filter.
    for (c, ty) in [
        (Category::SignInLogs, "interactiveUser"),
        (Category::NonInteractiveUserSignInLogs, "nonInteractiveUser"),
        (Category::ServicePrincipalSignInLogs, "servicePrincipal"),
        (Category::ManagedIdentitySignInLogs, "managedIdentity"),
    ] {
        let ep = endpoint(c).unwrap();
        assert_eq!(ep.version.as_str(), "beta");
        assert!(ep.filter(s, e).ends_with(&format!("any(t: t eq '{ty}')")));
    }
    let url = endpoint(Category::SignInLogs)
        .unwrap()
        .url("https://graph.microsoft.com/", s, e);
    assert_eq!(
        url,
        "https://graph.microsoft.com/beta/auditLogs/signIns?$filter=createdDateTime%20ge%202026-10-05T10%3A00%3A00Z\
         %20and%20createdDateTime%20le%202026-10-05T11%3A00%3A00Z%20and%20signInEventTypes%2Fany%28t%3A%20t%20eq\
         %20%27interactiveUser%27%29&$top=1000"
    );
    assert_eq!(encode("a b+c/'"), "a%20b%2Bc%2F%27");
    for c in endpoints::DEFAULT_CATEGORIES {
        assert!(endpoint(*c).is_some(), "{c}");
    }
}

const TOML_FULL: &str = r#"
id = "entra"
tenant_id = "contoso.onmicrosoft.com"
overlap = "3h"
delay = 60
categories = ["SignInLogs", "AADNonInteractiveUserSignInLogs", "RiskyUsers"]
[auth]
type = "client_secret"
client_id = "abc"
secret = "hunter2-secret"
[limits]
reports_per_window = 3
"#;

#[test]
fn config_parses_with_defaults_and_redacts_the_secret() {
    let c: GraphSourceConfig = toml::from_str(TOML_FULL).unwrap();
    assert_eq!(c.overlap, Duration::from_secs(3 * 3600));
    assert_eq!(c.delay, Duration::from_secs(60));
    assert_eq!(c.poll_interval, Duration::from_secs(300));
    assert_eq!(c.limits.reports_per_window, 3);
    assert_eq!(c.limits.reports_window, Duration::from_secs(10));
    assert_eq!(c.authority_host, "https://login.microsoftonline.com");
    assert_eq!(c.token_scope(), "https://graph.microsoft.com/.default");
    assert_eq!(c.clock, ClockKind::ServerDate);
    let cats = c.validate().unwrap();
    assert_eq!(
        cats,
        [
            Category::SignInLogs,
            Category::NonInteractiveUserSignInLogs,
            Category::RiskyUsers
        ]
    );
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("REDACTED"));
    let d: GraphSourceConfig = toml::from_str(&TOML_FULL.replace(
        "categories = [\"SignInLogs\", \"AADNonInteractiveUserSignInLogs\", \"RiskyUsers\"]\n",
        "",
    ))
    .unwrap();
    assert_eq!(d.validate().unwrap(), endpoints::DEFAULT_CATEGORIES);
}

#[test]
fn config_reports_every_problem_at_once() {
    let bad = r#"
id = ""
tenant_id = "bad tenant!"
authority_host = "ftp://x"
categories = ["AzureActivity", "Nope", "AuditLogs", "auditlogs"]
overlap = "2d"
backfill_share = 1.5
[auth]
type = "certificate"
client_id = ""
certificate_pem_path = ""
key_pem_path = "k.pem"
"#;
    let c: GraphSourceConfig = toml::from_str(bad).unwrap();
    let errs = c.validate().unwrap_err();
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "id",
        "tenant_id",
        "authority_host",
        "auth.client_id",
        "auth.certificate_pem_path",
        "categories",
        "max_window",
        "backfill_share",
    ] {
        assert!(fields.contains(&f), "{f} missing from {errs:?}");
    }
    assert_eq!(
        fields.iter().filter(|f| **f == "categories").count(),
        3,
        "{errs:?}"
    );
    // Tokens never go over plain http to another machine; a local simulator is fine.
    for (url, ok) in [
        ("http://graph.example.com", false),
        ("http://10.0.0.5:8080", false),
        ("http://127.0.0.1:8080", true),
        ("http://[::1]:8080", true),
        ("http://localhost", true),
        ("https://graph.microsoft.us", true),
    ] {
        let c: GraphSourceConfig =
            toml::from_str(&format!("graph_endpoint = {url:?}\n{TOML_FULL}")).unwrap();
        let errs = c.validate().err().unwrap_or_default();
        assert_eq!(
            !errs.iter().any(|e| e.field == "graph_endpoint"),
            ok,
            "{url}: {errs:?}"
        );
    }
    // Unknown fields are refused, also inside `auth`.
    assert!(
        toml::from_str::<GraphSourceConfig>(&TOML_FULL.replace("overlap", "overlapp")).is_err()
    );
    assert!(
        toml::from_str::<GraphSourceConfig>(
            &TOML_FULL.replace("client_id = \"abc\"", "client_id = \"abc\"\nfoo = 1")
        )
        .is_err()
    );
}

/// Takes a grant and sends (records the send in the window), as a page fetch does.
async fn send(s: &Scheduler, class: ThrottleClass, priority: Priority) {
    s.acquire(class, priority).await;
    drop(s.in_flight(class).await);
}

fn limits(reports: u32, window_s: u64, ip: u32) -> GraphLimits {
    GraphLimits {
        reports_per_window: reports,
        reports_window: Duration::from_secs(window_s),
        identity_protection_per_s: ip,
    }
}

#[tokio::test(start_paused = true)]
async fn sliding_window_keeps_the_documented_rate() {
    let s = Scheduler::new(&limits(5, 10, 1), 0.5, Duration::from_secs(60));
    let start = Instant::now();
    let mut at = Vec::new();
    for _ in 0..11 {
        send(&s, ThrottleClass::Reports, Priority::Tail).await;
        at.push(start.elapsed());
    }
    // 5 at once, 5 more one window (plus the latency margin) later, then the 11th after another window:
    // never more than 5 in any 10 s, which is how Graph counts.
    for (i, t) in at.iter().enumerate() {
        for later in &at[i..] {
            assert!(
                *later - *t >= Duration::from_secs(10)
                    || at.iter().filter(|x| *x >= t && *x <= later).count() <= 5,
                "{at:?}"
            );
        }
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(20) && took <= Duration::from_millis(20_100),
        "{took:?}"
    );
    // The other class has its own bucket.
    let start = Instant::now();
    for _ in 0..3 {
        send(&s, ThrottleClass::IdentityProtection, Priority::Tail).await;
    }
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_blocks_the_whole_class() {
    let s = Scheduler::new(&limits(100, 1, 100), 0.5, Duration::from_secs(60));
    send(&s, ThrottleClass::Reports, Priority::Tail).await;
    let start = Instant::now();
    s.throttled(ThrottleClass::Reports, Some(Duration::from_secs(30)));
    send(&s, ThrottleClass::Reports, Priority::Backfill).await;
    assert!(
        start.elapsed() >= Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    // Without Retry-After: exponential backoff with jitter, growing with each 429 in a row.
    let mut waits = Vec::new();
    for _ in 0..4 {
        let start = Instant::now();
        s.throttled(ThrottleClass::IdentityProtection, None);
        send(&s, ThrottleClass::IdentityProtection, Priority::Tail).await;
        waits.push(start.elapsed());
    }
    assert!(waits[0] >= Duration::from_secs(1), "{waits:?}");
    assert!(waits[3] >= Duration::from_secs(8), "{waits:?}");
    s.succeeded(ThrottleClass::IdentityProtection);
    let start = Instant::now();
    s.throttled(ThrottleClass::IdentityProtection, None);
    send(&s, ThrottleClass::IdentityProtection, Priority::Tail).await;
    assert!(
        start.elapsed() <= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

async fn contend(share: f64) -> (u64, u64) {
    let s = Arc::new(Scheduler::new(
        &limits(5, 10, 1),
        share,
        Duration::from_secs(60),
    ));
    let b = s.clone();
    let backfill = tokio::spawn(async move {
        loop {
            send(&b, ThrottleClass::IdentityProtection, Priority::Backfill).await;
        }
    });
    for _ in 0..60 {
        send(&s, ThrottleClass::IdentityProtection, Priority::Tail).await;
    }
    backfill.abort();
    s.granted(ThrottleClass::IdentityProtection)
}

#[tokio::test(start_paused = true)]
async fn backfill_gets_its_share_while_the_tail_waits() {
    let (tail, backfill) = contend(0.5).await;
    assert_eq!(tail, 60);
    assert!((55..=62).contains(&backfill), "{backfill}");
    let (tail, backfill) = contend(0.2).await;
    assert_eq!(tail, 60);
    assert!((13..=17).contains(&backfill), "{backfill}");
    let (_, backfill) = contend(0.0).await;
    assert!(backfill <= 1, "{backfill}");
    // Alone, backfill gets everything.
    let s = Scheduler::new(&limits(5, 10, 1), 0.0, Duration::from_secs(60));
    let start = Instant::now();
    for _ in 0..6 {
        send(&s, ThrottleClass::IdentityProtection, Priority::Backfill).await;
    }
    assert!(
        start.elapsed() <= Duration::from_millis(5_060),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn spans_merge_and_gaps() {
    let a = (t("2026-10-01T00:00:00Z"), t("2026-10-02T00:00:00Z"));
    let b = (t("2026-10-02T00:00:00Z"), t("2026-10-03T00:00:00Z"));
    let c = (t("2026-10-04T00:00:00Z"), t("2026-10-05T00:00:00Z"));
    let m = merge(vec![c, b, a]);
    assert_eq!(m, vec![(a.0, b.1), c]);
    assert_eq!(
        gaps(&m, t("2026-09-30T00:00:00Z"), t("2026-10-06T00:00:00Z")),
        vec![
            (t("2026-09-30T00:00:00Z"), a.0),
            (b.1, c.0),
            (c.1, t("2026-10-06T00:00:00Z"))
        ]
    );
    assert!(gaps(&m, a.0, b.1).is_empty());
}

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/testdata/graph-cert")
        .join(name)
}

#[test]
fn certificate_assertion_is_ps256_with_x5t_s256() {
    let signer =
        CertificateSigner::load(&testdata("client-cert.pem"), &testdata("client-key.pem")).unwrap();
    let aud = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
    let jwt = signer
        .assertion("client-1", aud, t("2026-10-05T12:00:00Z"))
        .unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["x5t#S256"], signer.thumbprint());
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["nbf"], 1_791_201_600);
    assert_eq!(claims["exp"], 1_791_201_600 + 600);
    // Two assertions differ in jti.
    let other = signer
        .assertion("client-1", aud, t("2026-10-05T12:00:00Z"))
        .unwrap();
    assert_ne!(jwt, other);
    // Debug shows no key material.
    assert!(!format!("{signer:?}").contains("BEGIN"));
    let err = CertificateSigner::load(&testdata("client-cert.pem"), &testdata("client-cert.pem"))
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Fatal), "{err}");
}

#[test]
fn azure_cli_output_is_read() {
    let out = br#"{"accessToken":"eyJ0","expiresOn":"2026-10-05 13:00:00.000000","expires_on":1791205200,"tenant":"t","tokenType":"Bearer"}"#;
    let tok = auth::parse_az_output(out, 1_791_201_600).unwrap();
    assert_eq!(tok.expires_in, Duration::from_secs(3600));
    assert!(!format!("{tok:?}").contains("eyJ0"));
    assert_eq!(
        auth::az_args("https://graph.microsoft.com", "t1"),
        [
            "account",
            "get-access-token",
            "--resource",
            "https://graph.microsoft.com",
            "--tenant",
            "t1",
            "-o",
            "json"
        ]
    );
    assert!(matches!(
        auth::parse_az_output(b"ERROR: please run az login", 0)
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    ));
}

#[tokio::test(start_paused = true)]
async fn server_date_clock_follows_the_server() {
    let c = ServerDateClock::new();
    assert!((c.now() - Utc::now()).num_seconds().abs() < 5);
    let d = clock::parse_http_date("Mon, 05 Oct 2026 12:00:00 GMT").unwrap();
    assert_eq!(d, t("2026-10-05T12:00:00Z"));
    c.observe_server_date(d);
    tokio::time::advance(Duration::from_secs(90)).await;
    assert_eq!(c.now(), t("2026-10-05T12:01:30Z"));
}

#[test]
fn errors_classify_and_say_what_is_missing() {
    let e = GraphError::Forbidden {
        category: Category::UserRiskEvents,
        permissions: endpoint(Category::UserRiskEvents)
            .unwrap()
            .permissions_text(),
        code: Some("Authorization_RequestDenied".into()),
        message: "Insufficient privileges".into(),
    };
    let text = e.to_string();
    assert!(
        text.contains("UserRiskEvents") && text.contains("IdentityRiskEvent.Read.All"),
        "{text}"
    );
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let th = GraphError::Throttled {
        what: "x".into(),
        status: 429,
        retry_after: Some(Duration::from_secs(3)),
    };
    assert_eq!(
        th.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(3))
        }
    );
}
