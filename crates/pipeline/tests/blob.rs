//! The Storage-account (Blob) source end to end against a real Azurite (started by each test; run
//! `scripts/install-test-deps` first): a simulated day in Microsoft's layout reaches the archive with the
//! ground-truth count of every category; a growing append blob is read record by record exactly once; a
//! collector dropped mid-blob resumes without loss; a malformed line is quarantined and the rest goes on.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use model::Category;
use sim::azurite::Azurite;
use sources::Batch;
use sources::blob::{BlobSource, BlobSourceConfig};
use sources::graph::{Accepted, Deliver, DeliverError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use testkit::pipeline::{count, expected_rows as expected, open, runtime as rt};

const SIGNINS: &str = "insights-logs-signinlogs";

fn blob_source_toml(azurite: &Azurite, extra: &str) -> String {
    format!(
        "[[sources]]\ntype = \"blob\"\nid = \"storage\"\nendpoint = {:?}\n{extra}\nauth = {{ type = \"connection_string\", connection_string = {:?} }}\n",
        azurite.blob_endpoint(),
        azurite.connection_string()
    )
}

/// Writes a simulated day to Azurite; returns the expected rows per category.
fn write_day(
    rt: &tokio::runtime::Runtime,
    azurite: &Azurite,
    users: u32,
) -> BTreeMap<Category, u64> {
    let cfg = sim::TenantConfig {
        users,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut generator = sim::Generator::new(&tenant, &cfg);
    rt.block_on(sim::blob::write_events(
        &azurite.client(),
        generator.by_ref(),
        true,
        &tenant,
    ))
    .unwrap();
    expected(&generator.into_truth().unwrap())
}

/// Every category matches the ground truth, and flow logs keep the rule and decision of every tuple.
fn assert_archive_matches(dir: &Path, expected: &BTreeMap<Category, u64>) {
    let (engine, rt) = testkit::pipeline::assert_archive_matches(dir, expected);
    let missing = count(
        &engine,
        &rt,
        "SELECT count(*) FROM AzureNsgFlowLogs WHERE AclRule IS NULL OR FlowStatus IS NULL",
    );
    assert_eq!(missing, 0, "every NSG tuple keeps its rule and decision");
}

fn accepted(reports: &[(String, sources::blob::PollReport)]) -> Accepted {
    let mut a = Accepted::default();
    for (_, r) in reports {
        for c in &r.containers {
            assert!(c.error.is_none(), "{}: {:?}", c.container, c.error);
            a.add(&c.accepted);
        }
    }
    a
}

#[test]
fn every_category_in_storage_reaches_the_archive_with_ground_truth_counts() {
    let rt = rt();
    let azurite = Azurite::start().unwrap();
    let expected = write_day(&rt, &azurite, 40);
    assert!(expected.len() >= 20, "{expected:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut p = open(
        dir.path(),
        &blob_source_toml(
            &azurite,
            "since = \"2024-03-03T00:00:00Z\"\nbatch_records = 2000",
        ),
    );
    let collector = p.collector().unwrap();
    let first = rt.block_on(collector.blob().poll_once()).unwrap();
    let containers: Vec<&str> = first[0]
        .1
        .containers
        .iter()
        .map(|c| c.container.as_str())
        .collect();
    assert!(
        containers.contains(&"insights-activity-logs"),
        "{containers:?}"
    );
    assert!(
        containers.contains(&"insights-logs-flowlogflowevent"),
        "{containers:?}"
    );
    let a = accepted(&first);
    assert_eq!(
        a.quarantined, 0,
        "nothing the simulator writes is malformed"
    );
    // The day's hours are closed now: a second poll lists nothing old and reads nothing.
    let second = rt.block_on(collector.blob().poll_once()).unwrap();
    let again: u64 = second[0].1.containers.iter().map(|c| c.blobs_read).sum();
    assert_eq!(again, 0);
    drop(collector);
    p.archive().unwrap();
    let status = p.status().unwrap();
    let blob = &status.blob[0];
    assert_eq!(blob.source, "storage");
    assert!(
        blob.containers
            .iter()
            .all(|c| c.records > 0 && c.open_blobs == 0)
    );
    drop(p);
    assert_archive_matches(dir.path(), &expected);
}

/// Sign-in lines (diagnostic shape, one per line) with distinct ids.
fn signin_lines(n: usize) -> Vec<Vec<u8>> {
    let cfg = sim::TenantConfig {
        users: 30,
        days: 1,
        quirks: false,
        duplicate_rate: 0.0,
        republish_rate: 0.0,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    sim::Generator::new(&tenant, &cfg)
        .with_categories(&[sim::Category::SignInLogs])
        .filter(|e| e.kind == sim::EventKind::Original)
        .take(n)
        .map(|e| {
            let mut v = serde_json::to_vec(
                &sim::render(&e, sim::Shape::Diagnostic, false, &tenant).unwrap(),
            )
            .unwrap();
            v.push(b'\n');
            v
        })
        .collect()
}

fn hour(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 4, h, m, 0).single().unwrap()
}

const BLOB: &str =
    "resourceId=/TENANTS/T1/PROVIDERS/MICROSOFT.AADIAM/y=2024/m=03/d=04/h=10/m=00/PT1H.json";

fn new_records(reports: &[(String, sources::blob::PollReport)]) -> u64 {
    accepted(reports).new
}

#[test]
fn an_append_blob_growing_while_being_read_yields_every_record_exactly_once() {
    let rt = rt();
    let azurite = Azurite::start().unwrap();
    let client = azurite.client();
    let lines = signin_lines(22);
    let dir = tempfile::tempdir().unwrap();
    let p = open(
        dir.path(),
        &blob_source_toml(
            &azurite,
            "since = \"2024-03-04T10:00:00Z\"\nlookback = \"2h\"",
        ),
    );
    let collector = p.collector().unwrap();
    let blobs = collector.blob();
    rt.block_on(async {
        client.create_container(SIGNINS).await.unwrap();
        client.create_append_blob(SIGNINS, BLOB).await.unwrap();
        // Ten lines and half of the eleventh.
        let mut first: Vec<u8> = lines[..10].concat();
        let (head, tail) = lines[10].split_at(lines[10].len() / 2);
        first.extend_from_slice(head);
        client.append_block(SIGNINS, BLOB, first).await.unwrap();
        assert_eq!(
            new_records(&blobs.poll_once_at(hour(10, 30)).await.unwrap()),
            10
        );

        // The rest of the eleventh line and ten more.
        let mut more = tail.to_vec();
        more.extend(lines[11..21].concat());
        client.append_block(SIGNINS, BLOB, more).await.unwrap();
        assert_eq!(
            new_records(&blobs.poll_once_at(hour(10, 40)).await.unwrap()),
            11
        );
        let idle = blobs.poll_once_at(hour(10, 45)).await.unwrap();
        assert_eq!(
            idle[0].1.containers[0].blobs_read, 0,
            "nothing new, nothing read"
        );

        // A last line without its newline waits while the hour is open, and is taken once it closed.
        let last = lines[21].strip_suffix(b"\n").unwrap().to_vec();
        client.append_block(SIGNINS, BLOB, last).await.unwrap();
        assert_eq!(
            new_records(&blobs.poll_once_at(hour(11, 0)).await.unwrap()),
            0
        );
        let closing = blobs.poll_once_at(hour(13, 5)).await.unwrap();
        assert_eq!(new_records(&closing), 1);
        assert_eq!(accepted(&closing).duplicates, 0);
    });
    let status = blobs.status();
    let c = &status[0].containers[0];
    assert_eq!(c.records, 22);
    assert_eq!(c.accepted.new, 22);
    assert_eq!(c.accepted.duplicates, 0, "each record exactly once");
    assert_eq!(c.open_blobs, 0, "the closed hour's offsets are pruned");
    assert_eq!(c.open_from.as_deref(), Some("2024-03-04T11:00:00+00:00"));
}

/// Delivers `durable` batches, then makes the next one durable and hangs before its offset can be saved,
/// like a process killed between the append and the cursor save.
struct CrashAfter {
    inner: pipeline::collect::HubDeliver,
    durable: usize,
    done: AtomicUsize,
    crashed: Arc<tokio::sync::Notify>,
}

impl Deliver for CrashAfter {
    async fn deliver(&self, batch: Batch) -> Result<Accepted, DeliverError> {
        let a = self.inner.deliver(batch).await?;
        if self.done.fetch_add(1, Ordering::SeqCst) >= self.durable {
            self.crashed.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(a)
    }
}

#[test]
fn a_collector_dropped_mid_blob_resumes_without_loss_or_duplicates() {
    let rt = rt();
    let azurite = Azurite::start().unwrap();
    let expected = write_day(&rt, &azurite, 20);
    let dir = tempfile::tempdir().unwrap();
    let toml = blob_source_toml(
        &azurite,
        "since = \"2024-03-03T00:00:00Z\"\nbatch_records = 100",
    );
    {
        let p = open(dir.path(), &toml);
        let collector = p.collector().unwrap();
        let pipeline::SourceConfig::Blob(cfg) = &p.config().sources[0] else {
            panic!("a blob source")
        };
        let source = BlobSource::from_config(BlobSourceConfig::clone(cfg)).unwrap();
        let crashed = Arc::new(tokio::sync::Notify::new());
        let deliver = CrashAfter {
            inner: collector.blob().deliver().clone(),
            durable: 7,
            done: AtomicUsize::new(0),
            crashed: crashed.clone(),
        };
        let cursors = collector.blob().cursors().unwrap();
        rt.block_on(async {
            tokio::select! {
                r = source.poll_once(&deliver, cursors) => panic!("the poll should hang: {r:?}"),
                () = crashed.notified() => {}
            }
        });
        assert!(p.log().end_offset() > 0, "some batches were durable");
        // Everything is dropped here without any further save: the "crash".
    }
    let mut p = open(dir.path(), &toml);
    let collector = p.collector().unwrap();
    let resumed = rt.block_on(collector.blob().poll_once()).unwrap();
    let a = accepted(&resumed);
    assert!(a.new > 0);
    assert!(
        a.duplicates > 0,
        "the batch made durable before the crash was read again and deduped"
    );
    drop(collector);
    p.archive().unwrap();
    drop(p);
    assert_archive_matches(dir.path(), &expected);
}

#[test]
fn a_malformed_line_goes_to_quarantine_with_its_position_and_the_rest_continues() {
    let rt = rt();
    let azurite = Azurite::start().unwrap();
    let client = azurite.client();
    let lines = signin_lines(3);
    let bad1 = b"{\"time\":\"2024-03-04T10:01:00Z\",\"category\":\"SignInLogs\",\"properties\":\n"
        .to_vec();
    let bad2 = b"not json at all\n".to_vec();
    let body = [
        lines[0].clone(),
        bad1.clone(),
        lines[1].clone(),
        bad2.clone(),
        lines[2].clone(),
    ];
    let at1 = lines[0].len();
    let at2 = at1 + bad1.len() + lines[1].len();
    let dir = tempfile::tempdir().unwrap();
    let p = open(
        dir.path(),
        &blob_source_toml(
            &azurite,
            "since = \"2024-03-04T10:00:00Z\"\ncontainers = [\"insights-logs-signinlogs\"]",
        ),
    );
    let collector = p.collector().unwrap();
    rt.block_on(async {
        client.create_container(SIGNINS).await.unwrap();
        client.create_append_blob(SIGNINS, BLOB).await.unwrap();
        client
            .append_block(SIGNINS, BLOB, body.concat())
            .await
            .unwrap();
        let r = collector.blob().poll_once_at(hour(10, 30)).await.unwrap();
        let a = accepted(&r);
        assert_eq!((a.new, a.quarantined), (3, 2));
    });
    drop(collector);
    let mut hub = p.hub();
    let entries = hub.quarantine().entries().to_vec();
    assert_eq!(entries.len(), 2);
    for (e, at, raw) in [(&entries[0], at1, &bad1), (&entries[1], at2, &bad2)] {
        let pos = &e.rejected.position;
        assert_eq!(pos.source, "storage");
        assert_eq!(pos.location, format!("{SIGNINS}/{BLOB}"));
        assert_eq!(pos.at, format!("byte {at}"));
        assert_eq!(&e.rejected.raw[..], raw.trim_ascii());
        assert!(e.rejected.reason.contains("JSON"), "{}", e.rejected.reason);
    }
}
