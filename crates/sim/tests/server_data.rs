//! Simulated tenant server: filters and paging return exactly the visible records of a window (checked against
//! an independent replay of the generator), pages are pinned to the first page's snapshot, v1.0 vs beta sign-in
//! types, `$top` limits, filter errors, and ground truth.
#![allow(clippy::unwrap_used)]

#[path = "server_util.rs"]
mod util;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use sim::server::{ServerConfig, SimServer};
use sim::{Category, EventKind, Generator, Shape, Tenant};
use util::*;

fn day_start(c: &ServerConfig) -> DateTime<Utc> {
    c.tenant.start
}

/// What the server should show at `at` for `cat`: per id the latest visible version, or the original plus its
/// exact duplicates while no republication is visible. Returns compact JSON strings, sorted.
fn expected(
    c: &ServerConfig,
    served: &[Category],
    cat: Category,
    at: DateTime<Utc>,
    field: &str,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Vec<String> {
    let tenant = Tenant::new(&c.tenant);
    let mut by_id: HashMap<String, (Option<Value>, Vec<Value>)> = HashMap::new();
    for ev in Generator::new(&tenant, &c.tenant)
        .with_categories(served)
        .with_truth(false)
    {
        if ev.category != cat.name() || ev.received > at {
            continue;
        }
        let id = ev.id().unwrap().to_owned();
        let kind = ev.kind;
        let obj = sim::render(&ev, Shape::Graph, c.tenant.quirks, &tenant).unwrap();
        let e = by_id.entry(id).or_default();
        match kind {
            EventKind::Republished => e.0 = Some(obj),
            _ => e.1.push(obj),
        }
    }
    let mut out = Vec::new();
    for (_, (repub, copies)) in by_id {
        let shown = match repub {
            Some(r) => vec![r],
            None => copies,
        };
        for v in shown {
            let t = DateTime::parse_from_rfc3339(v[field].as_str().unwrap())
                .unwrap()
                .to_utc();
            if t >= lo && t < hi {
                out.push(serde_json::to_string(&v).unwrap());
            }
        }
    }
    out.sort();
    out
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut s = v.to_vec();
    s.sort();
    s
}

fn parse(raw: &[String]) -> Vec<Value> {
    raw.iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect()
}

fn times(v: &[Value], field: &str) -> Vec<DateTime<Utc>> {
    v.iter()
        .map(|o| {
            DateTime::parse_from_rfc3339(o[field].as_str().unwrap())
                .unwrap()
                .to_utc()
        })
        .collect()
}

fn z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn window_paging_is_exact() {
    let served = [
        Category::SignInLogs,
        Category::NonInteractiveUserSignInLogs,
        Category::AuditLogs,
    ];
    let mut c = cfg(40);
    c.categories = Some(served.to_vec());
    let at = day_start(&c) + TimeDelta::hours(14);
    c.clock.start = Some(at);
    let srv = SimServer::start(c.clone()).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let (lo, hi) = (
        day_start(&c) + TimeDelta::hours(9),
        day_start(&c) + TimeDelta::hours(13),
    );
    let url = format!(
        "{}/beta/auditLogs/signIns?$filter=createdDateTime ge {} and createdDateTime lt {} and signInEventTypes/any(t: t eq 'nonInteractiveUser')&$top=37",
        srv.base_url(),
        z(lo),
        z(hi)
    );
    let (raw, pages) = get_all_raw(&cl, &token, &url).await;
    assert!(pages > 3, "{pages} pages");
    let got = parse(&raw);
    let ts = times(&got, "createdDateTime");
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let want = expected(
        &c,
        &served,
        Category::NonInteractiveUserSignInLogs,
        at,
        "createdDateTime",
        lo,
        hi,
    );
    assert_eq!(raw.len(), want.len());
    assert!(
        sorted(&raw) == want,
        "exactly the visible records of the window"
    );

    // Audits, v1.0, no filter, ascending order on request.
    let url = format!(
        "{}/v1.0/auditLogs/directoryAudits?$top=10&$orderby=activityDateTime asc",
        srv.base_url()
    );
    let (raw, _) = get_all_raw(&cl, &token, &url).await;
    let ts = times(&parse(&raw), "activityDateTime");
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "ascending");
    let all = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let want = expected(
        &c,
        &served,
        Category::AuditLogs,
        at,
        "activityDateTime",
        all.0,
        all.1,
    );
    assert_eq!(raw.len(), want.len());
    assert!(sorted(&raw) == want);
}

#[tokio::test]
async fn next_links_pin_the_first_snapshot() {
    let served = [Category::NonInteractiveUserSignInLogs];
    let mut c = cfg(30);
    c.categories = Some(served.to_vec());
    c.clock.start = Some(day_start(&c) + TimeDelta::hours(10));
    let srv = SimServer::start(c).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let first = format!(
        "{}/beta/auditLogs/signIns?$filter=signInEventTypes/any(t:t eq 'nonInteractiveUser')&$top=25",
        srv.base_url()
    );
    let (before, pages) = get_all(&cl, &token, &first).await;
    assert!(pages > 4);
    // Same query again: first page at the same sim time, then the clock jumps 3 h before the rest is read.
    let body: Value = get_url(&cl, &token, &first).await.json().await.unwrap();
    let mut paged: Vec<Value> = body["value"].as_array().unwrap().clone();
    srv.clock()
        .advance(std::time::Duration::from_secs(3 * 3600));
    let (rest, _) = get_all(&cl, &token, body["@odata.nextLink"].as_str().unwrap()).await;
    paged.extend(rest);
    assert_eq!(
        paged, before,
        "records made visible while paging never shift pages"
    );
    let (after, _) = get_all(&cl, &token, &first).await;
    assert!(
        after.len() > before.len() + 100,
        "a fresh query sees the new records"
    );
}

#[tokio::test]
async fn paging_while_the_clock_runs() {
    let served = [Category::SignInLogs];
    let mut c = cfg(30);
    c.categories = Some(served.to_vec());
    c.clock.start = Some(day_start(&c) + TimeDelta::hours(12));
    c.clock.frozen = false;
    c.clock.speed = 3600.0;
    let srv = SimServer::start(c).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let url = format!("{}/v1.0/auditLogs/signIns?$top=5", srv.base_url());
    let (raw, pages) = get_all_raw(&cl, &token, &url).await;
    assert!(pages > 5, "{pages}");
    let got = parse(&raw);
    let ts = times(&got, "createdDateTime");
    assert!(
        ts.windows(2).all(|w| w[0] >= w[1]),
        "newest first across pages"
    );
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (o, r) in got.iter().zip(&raw) {
        let id = o["id"].as_str().unwrap().to_owned();
        if let Some(prev) = seen.insert(id, r.clone()) {
            assert_eq!(&prev, r, "only exact duplicates repeat an id");
        }
        assert!(
            o.get("signInEventTypes").is_none(),
            "v1.0 objects have no signInEventTypes"
        );
    }
}

#[tokio::test]
async fn sign_in_types_v1_and_beta() {
    let served = [
        Category::SignInLogs,
        Category::NonInteractiveUserSignInLogs,
        Category::ServicePrincipalSignInLogs,
        Category::ManagedIdentitySignInLogs,
    ];
    let mut c = cfg(30);
    c.categories = Some(served.to_vec());
    let srv = SimServer::start(c).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let base = srv.base_url();
    let ids = |v: &[Value]| {
        v.iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (v1, _) = get_all(&cl, &token, &format!("{base}/v1.0/auditLogs/signIns")).await;
    assert!(
        !v1.is_empty()
            && v1
                .iter()
                .all(|o| o["isInteractive"] == true && o.get("signInEventTypes").is_none())
    );
    let (beta, _) = get_all(&cl, &token, &format!("{base}/beta/auditLogs/signIns")).await;
    assert_eq!(
        ids(&v1),
        ids(&beta),
        "beta without a type filter: interactive only"
    );
    assert!(
        beta.iter()
            .all(|o| o["signInEventTypes"] == serde_json::json!(["interactiveUser"]))
    );
    let truth = srv.truth();
    for (ty, cat) in [
        ("interactiveUser", "SignInLogs"),
        ("nonInteractiveUser", "NonInteractiveUserSignInLogs"),
        ("servicePrincipal", "ServicePrincipalSignInLogs"),
        ("managedIdentity", "ManagedIdentitySignInLogs"),
    ] {
        let url =
            format!("{base}/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq '{ty}')");
        let (got, _) = get_all(&cl, &token, &url).await;
        assert!(
            got.iter()
                .all(|o| o["signInEventTypes"] == serde_json::json!([ty])),
            "{ty}"
        );
        let want: std::collections::BTreeSet<String> =
            truth.category(cat).ids.keys().cloned().collect();
        assert_eq!(ids(&got), want, "{ty}: every visible id");
    }
    let url = format!(
        "{base}/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal' or t eq 'managedIdentity')&$top=1000"
    );
    let (both, _) = get_all(&cl, &token, &url).await;
    let n = truth.category("ServicePrincipalSignInLogs").ids.len()
        + truth.category("ManagedIdentitySignInLogs").ids.len();
    assert_eq!(ids(&both).len(), n, "or inside any()");
    // Default page size of signIns is 1000.
    let url = format!(
        "{base}/beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser')"
    );
    let body: Value = get_url(&cl, &token, &url).await.json().await.unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 1000);
    assert!(
        body["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("$skiptoken=")
    );
    let r = get_url(
        &cl,
        &token,
        &format!(
            "{base}/v1.0/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal')"
        ),
    )
    .await;
    assert_eq!(r.status(), 400, "no signInEventTypes on v1.0");
}

#[tokio::test]
async fn filter_and_top_errors_are_400_with_graph_bodies() {
    let mut c = cfg(20);
    c.categories = Some(vec![
        Category::AuditLogs,
        Category::ProvisioningLogs,
        Category::UserRiskEvents,
        Category::SignInLogs,
    ]);
    let srv = SimServer::start(c).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let cases = [
        (
            "/v1.0/auditLogs/provisioning?$filter=activityDateTime ge 2024-03-04T00:00:00Z",
            400,
        ),
        (
            "/v1.0/auditLogs/provisioning?$filter=activityDateTime gt 2024-03-04T00:00:00Z",
            200,
        ),
        (
            "/v1.0/auditLogs/provisioning?$filter=activityDateTime GT 2024-03-04T00:00:00Z",
            400,
        ),
        (
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge '2024-03-04T00:00:00Z'",
            400,
        ),
        (
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge 2024-03-04T00:00:00Z and noSuchField eq 'x'",
            400,
        ),
        (
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge 2024-03-04T00:00:00Z or category eq 'x'",
            400,
        ),
        (
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge",
            400,
        ),
        ("/v1.0/auditLogs/signIns?$top=1001", 400),
        ("/v1.0/auditLogs/signIns?$top=1000", 200),
        ("/v1.0/auditLogs/signIns?$top=0", 400),
        ("/v1.0/identityProtection/riskDetections?$top=501", 400),
        ("/v1.0/identityProtection/riskDetections?$top=500", 200),
        ("/v1.0/auditLogs/signIns?$skiptoken=0123", 400),
        ("/v1.0/auditLogs/nosuch", 400),
    ];
    for (path, status) in cases {
        let r = get(&cl, &srv, &token, path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        if status == 400 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(error_code(&body), "BadRequest", "{path}");
            assert!(body["error"]["message"].is_string());
        }
    }
}

#[tokio::test]
async fn property_filters_and_ground_truth_hashes() {
    let served = [
        Category::SignInLogs,
        Category::AuditLogs,
        Category::ProvisioningLogs,
    ];
    let mut c = cfg(20);
    c.categories = Some(served.to_vec());
    c.clock.start = Some(day_start(&c) + TimeDelta::hours(20));
    let srv = SimServer::start(c).await.unwrap();
    let cl = client();
    let token = default_token(&cl, &srv).await;
    let base = srv.base_url();
    let (all, _) = get_all(&cl, &token, &format!("{base}/v1.0/auditLogs/signIns")).await;
    let upn = all[0]["userPrincipalName"].as_str().unwrap().to_owned();
    let url = format!(
        "{base}/v1.0/auditLogs/signIns?$filter=userPrincipalName eq '{}'",
        upn.to_uppercase()
    );
    let (mine, _) = get_all(&cl, &token, &url).await;
    let want = all
        .iter()
        .filter(|o| o["userPrincipalName"] == upn.as_str())
        .count();
    assert_eq!(mine.len(), want, "eq is case-insensitive");
    let prefix: String = upn.chars().take(3).collect();
    let url =
        format!("{base}/v1.0/auditLogs/signIns?$filter=startswith(userPrincipalName,'{prefix}')");
    let (pre, _) = get_all(&cl, &token, &url).await;
    assert!(
        pre.len() >= want
            && pre.iter().all(|o| o["userPrincipalName"]
                .as_str()
                .unwrap()
                .starts_with(&prefix))
    );

    // Truth: every served id is in the truth with the hash of what was served.
    let truth = srv.truth();
    for (path, cat) in [
        ("beta/auditLogs/signIns", "SignInLogs"),
        ("v1.0/auditLogs/directoryAudits", "AuditLogs"),
        ("v1.0/auditLogs/provisioning", "ProvisioningLogs"),
    ] {
        let (raw, _) = get_all_raw(&cl, &token, &format!("{base}/{path}")).await;
        let got = parse(&raw);
        let t = truth.category(cat);
        let dups = got.len()
            - got
                .iter()
                .map(|o| o["id"].as_str().unwrap())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
        assert_eq!(got.len() - dups, t.ids.len(), "{cat}");
        for (o, r) in got.iter().zip(&raw) {
            let h = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(r.as_bytes()));
            assert_eq!(t.ids[o["id"].as_str().unwrap()].hash, h, "{cat}");
        }
    }
}
