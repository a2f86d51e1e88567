//! The lake sink end to end against a real Azurite (started by each test; run `scripts/install-test-deps`
//! first) and a local directory: a simulated day is archived in several commits, then replicated.
//! (a) every archive file is in both lakes with equal bytes; (d) pyspark (`scripts/lake_counts.py`, venv
//! `/var/tmp/entrail-pyspark`) reads both lakes with the archive query engine's row counts per table and the
//! manifest's per day; (b) a crash after some uploads (progress not saved) resumes, and each file is in the
//! lake exactly once; a file that differs from its manifest hash is never published, not even as a multipart
//! upload; (c) with Azurite unreachable the run fails as transient, `status` shows the backlog, and once it is
//! back the backlog drains; a refused key (403) stops it as `Auth` with nothing uploaded, and the right key
//! then uploads everything.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests read their own small files whole

mod lake_support;

use lake_support::{assert_mirrors_archive, ingest_day, manifest, query_counts, tables_of};
use pipeline::Pipeline;
use sim::azurite::{ACCOUNT, ACCOUNT_KEY, Azurite};
use sinks::ErrorKind;
use sinks::lake::{LakeConfig, LakeSink, LakeTarget};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const CONTAINER: &str = "lake";
const PYSPARK: &str = "/var/tmp/entrail-pyspark/bin/python";

fn start_azurite() -> Azurite {
    let azurite = Azurite::start()
        .unwrap_or_else(|e| panic!("{e} (Azurite is required: run scripts/install-test-deps)"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(azurite.client().create_container(CONTAINER))
        .unwrap();
    azurite
}

fn azure_target(port: u16) -> String {
    format!(
        "target = {{ type = \"azure\", account = {ACCOUNT:?}, container = {CONTAINER:?}, endpoint = \"http://127.0.0.1:{port}/{ACCOUNT}\", access_key = {ACCOUNT_KEY:?} }}"
    )
}

/// A pipeline with a local-directory lake `local` and an Azurite lake `blob` (through `port`).
fn open(dir: &Path, port: u16) -> Pipeline {
    let text = format!(
        r#"data_dir = {:?}
[[sinks]]
type = "lake"
id = "local"
prefix = "entrail"
target = {{ type = "local", path = {:?} }}

[[sinks]]
type = "lake"
id = "blob"
prefix = "entrail"
request_timeout = "5s"
retry_max = 2
retry_backoff = "50ms"
retry_timeout = "5s"
{}
"#,
        dir.join("data").display().to_string(),
        dir.join("local-lake").display().to_string(),
        azure_target(port),
    );
    Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap()
}

/// A TCP forwarder to Azurite that can be taken down (listener closed, connections cut) and brought back on
/// the same port.
struct Proxy {
    port: u16,
    upstream: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    fn new(upstream: u16) -> Proxy {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut p = Proxy {
            port,
            upstream,
            stop: Arc::new(AtomicBool::new(false)),
            conns: Arc::default(),
            thread: None,
        };
        p.up();
        p
    }

    fn up(&mut self) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        self.stop.store(false, Ordering::SeqCst);
        let (stop, conns, upstream) = (self.stop.clone(), self.conns.clone(), self.upstream);
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else {
                    continue;
                };
                let mut all = conns.lock().unwrap();
                all.push(client.try_clone().unwrap());
                all.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        }));
    }

    fn down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
    }
}

/// Runs scripts/lake_counts.py on `roots` with the pyspark venv; its JSON output.
fn spark_counts(roots: &[&Path]) -> serde_json::Value {
    assert!(
        Path::new(PYSPARK).exists(),
        "{PYSPARK} is missing: run scripts/install-test-deps (pyspark==3.5.3)"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lake_counts.py");
    let out = std::process::Command::new(PYSPARK)
        .arg(script)
        .args(roots)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lake_counts.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[test]
fn a_day_reaches_azurite_and_a_local_lake_and_spark_counts_what_the_archive_query_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let azurite = start_azurite();
    let mut p = open(dir, azurite.port());
    let appended = ingest_day(&mut p, dir);
    assert!(appended > 1000, "only {appended} records generated");
    let m = manifest(dir);
    let tables = tables_of(&m);
    assert_eq!(tables.len(), 3, "{tables:?}");
    assert!(m.files.len() > tables.len(), "want several files per table");

    let reports = p.drain_sinks().unwrap();
    let rows: u64 = m.files.iter().map(|f| f.rows).sum();
    for (id, r) in &reports {
        assert_eq!(r.records, rows, "{id} uploaded rows");
        assert_eq!(r.to, m.files.len() as u64, "{id} lake files");
    }
    let local = p.lake_sink("local").unwrap();
    let blob = p.lake_sink("blob").unwrap();
    // (a) every archive file in both lakes, equal bytes, nothing else.
    assert_mirrors_archive(&local, dir);
    assert_mirrors_archive(&blob, dir);
    // A second pass has nothing to do.
    for (_, r) in p.drain_sinks().unwrap() {
        assert_eq!(r.records, 0);
    }
    let status = p.status().unwrap();
    assert_eq!(status.lake.len(), 2);
    for l in &status.lake {
        assert_eq!((l.pending_files, l.pending_bytes), (0, 0), "{l:?}");
        assert_eq!(l.lake_files, m.files.len());
    }
    assert!(
        status
            .consumers
            .iter()
            .all(|c| c.name != "local" && c.name != "blob"),
        "lake sinks are not log consumers: {:?}",
        status.consumers
    );

    // (d) Spark reads the local lake and the Azurite lake (downloaded in its layout) with the query counts.
    let downloaded = dir.join("azurite-download");
    for (path, _) in blob.list().unwrap() {
        let to = downloaded.join(&path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, blob.fetch(&path).unwrap()).unwrap();
    }
    let local_root = dir.join("local-lake/entrail");
    let spark = spark_counts(&[&local_root, &downloaded]);
    let queried = query_counts(dir, &tables);
    assert!(
        queried.values().any(|(latest, all)| latest < all),
        "the generated day should hold revisions, so that both counts are compared: {queried:?}"
    );
    let mut per_day: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in &m.files {
        *per_day.entry((f.table.clone(), f.day.clone())).or_default() += f.rows;
    }
    for root in [&local_root, &downloaded] {
        let got = &spark[root.display().to_string()];
        for t in &tables {
            let (latest, all) = queried[t];
            let spark = (got[t]["latest"].as_u64(), got[t]["rows"].as_u64());
            assert_eq!(
                spark,
                (Some(latest), Some(all)),
                "{t} in {}: spark {} vs query (latest, all) {:?}",
                root.display(),
                got[t],
                queried[t]
            );
            for ((table, day), n) in per_day.iter().filter(|((table, _), _)| table == t) {
                assert_eq!(got[table]["days"][day].as_u64(), Some(*n), "{table} {day}");
            }
        }
        assert_eq!(got.as_object().unwrap().len(), tables.len());
    }
}

fn lake_config(port: u16, id: &str, max_files: usize) -> LakeConfig {
    let mut c = LakeConfig::new(
        id,
        LakeTarget::Azure {
            account: ACCOUNT.into(),
            container: CONTAINER.into(),
            endpoint: Some(format!("http://127.0.0.1:{port}/{ACCOUNT}")),
            access_key: Some(ACCOUNT_KEY.to_owned().into()),
            sas_token: None,
            tenant_id: None,
            client_id: None,
            client_secret: None,
            managed_identity: false,
        },
    );
    c.prefix = "entrail".into();
    c.max_files_per_run = max_files;
    c
}

#[test]
fn a_crash_after_some_uploads_resumes_and_every_file_is_in_the_lake_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let azurite = start_azurite();
    let mut p = open(dir, azurite.port());
    ingest_day(&mut p, dir);
    let m = manifest(dir);
    let n = m.files.len();
    assert!(n >= 6, "{n} files");
    let state_dir = pipeline::lake::state_dir(&dir.join("data"));
    let state_file = state_dir.join("blob.json");
    let mut sink = LakeSink::new(lake_config(azurite.port(), "blob", 2), &state_dir).unwrap();
    let r = p.sync_lake_sink(&mut sink).unwrap();
    assert_eq!((r.uploaded_files, r.remaining_files), (2, n - 2));
    let saved = std::fs::read(&state_file).unwrap();
    let r = p.sync_lake_sink(&mut sink).unwrap();
    assert_eq!(r.uploaded_files, 2);
    // Crash: files 3 and 4 are up, but the progress that records them was never saved.
    std::fs::write(&state_file, saved).unwrap();
    let backlog = &p.status().unwrap().lake;
    let blob = backlog.iter().find(|l| l.id == "blob").unwrap();
    assert_eq!(blob.pending_files, n - 2);
    let mut sink = LakeSink::new(lake_config(azurite.port(), "blob", 0), &state_dir).unwrap();
    let r = p.sync_lake_sink(&mut sink).unwrap();
    assert_eq!((r.uploaded_files, r.remaining_files), (n - 2, 0));
    assert_mirrors_archive(&sink, dir);

    // A file that no longer matches its manifest hash is never published, also not as a multipart upload.
    let mut cfg = lake_config(azurite.port(), "tampered", 0);
    cfg.prefix = "tampered".into();
    cfg.multipart_threshold_mib = 5;
    let mut tampered = LakeSink::new(cfg, &state_dir).unwrap();
    let big = store::archive::FileEntry {
        path: "SigninLogs/day=2024-01-01/part-0-0.parquet".into(),
        ..m.files[0].clone()
    };
    let content = vec![7u8; 6 << 20];
    let local = dir.join("fake-archive").join(&big.path);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, &content).unwrap();
    let entry = sinks::lake::LakeFile {
        path: big.path.clone(),
        table: big.table.clone(),
        bytes: content.len() as u64,
        rows: 1,
        xxh3_128: "0".repeat(32),
        created_us: 0,
    };
    let e = tampered
        .sync(&dir.join("fake-archive"), &[entry], &Default::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
    assert!(tampered.list().unwrap().is_empty());
}

#[test]
fn with_azurite_unreachable_the_backlog_shows_and_drains_once_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let azurite = start_azurite();
    let mut proxy = Proxy::new(azurite.port());
    let mut p = open(dir, proxy.port);
    ingest_day(&mut p, dir);
    let m = manifest(dir);
    let total: u64 = m.files.iter().map(|f| f.bytes).sum();
    proxy.down();
    let err = p.drain_sinks().unwrap_err();
    match &err {
        pipeline::PipelineError::Sink { id, source } => {
            assert_eq!(id, "blob");
            assert_eq!(source.kind(), ErrorKind::Transient, "{source}");
        }
        other => panic!("unexpected {other}"),
    }
    let status = p.status().unwrap();
    let blob = status.lake.iter().find(|l| l.id == "blob").unwrap();
    assert_eq!(
        (blob.pending_files, blob.pending_bytes),
        (m.files.len(), total)
    );
    assert!(blob.oldest_pending.is_some());
    assert!(blob.last_error.as_deref().unwrap().contains("object store"));
    // The local lake is not held back by the failing one.
    let local = status.lake.iter().find(|l| l.id == "local").unwrap();
    assert_eq!(local.pending_files, 0);

    proxy.up();
    let reports = p.drain_sinks().unwrap();
    let blob_report = reports.iter().find(|(id, _)| id == "blob").unwrap();
    assert_eq!(blob_report.1.to, m.files.len() as u64);
    let status = p.status().unwrap();
    let blob = status.lake.iter().find(|l| l.id == "blob").unwrap();
    assert_eq!((blob.pending_files, blob.pending_bytes), (0, 0));
    assert!(blob.last_error.is_none());
    assert_mirrors_archive(&p.lake_sink("blob").unwrap(), dir);
    let mut buf = Vec::new();
    std::fs::File::open(pipeline::lake::state_dir(&dir.join("data")).join("blob.json"))
        .unwrap()
        .read_to_end(&mut buf)
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&buf).contains(ACCOUNT_KEY),
        "the progress file must not hold the key"
    );
}

#[test]
fn a_refused_key_stops_the_lake_as_auth_and_nothing_is_skipped_once_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let azurite = start_azurite();
    let mut p = open(dir, azurite.port());
    ingest_day(&mut p, dir);
    let n = manifest(dir).files.len();
    let state_dir = pipeline::lake::state_dir(&dir.join("data"));
    let mut cfg = lake_config(azurite.port(), "blob", 0);
    let LakeTarget::Azure { access_key, .. } = &mut cfg.target else {
        unreachable!()
    };
    // A well-formed key that is not the account's: Azurite answers 403.
    *access_key = Some("d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=".to_owned().into());
    let mut wrong = LakeSink::new(cfg, &state_dir).unwrap();
    let e = p.sync_lake_sink(&mut wrong).unwrap_err();
    match &e {
        pipeline::PipelineError::Sink { source, .. } => {
            assert_eq!(source.kind(), ErrorKind::Auth, "{source}")
        }
        other => panic!("unexpected {other}"),
    }
    let status = p.status().unwrap();
    let blob = status.lake.iter().find(|l| l.id == "blob").unwrap();
    assert_eq!((blob.lake_files, blob.pending_files), (0, n));
    assert!(blob.last_error.is_some());
    let mut fixed = LakeSink::new(lake_config(azurite.port(), "blob", 0), &state_dir).unwrap();
    let r = p.sync_lake_sink(&mut fixed).unwrap();
    assert_eq!(r.uploaded_files, n);
    assert_mirrors_archive(&fixed, dir);
}
