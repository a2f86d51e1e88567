//! The lake sink end to end against S3: `[[sinks]] type = "lake"` with `target = { type = "s3", ... }` pointed
//! at the sim S3 server (`sim::s3_server`: path-style REST, SigV4 verified, in memory, faults on demand). A
//! simulated day is archived in three commits, then replicated: (a) every archive file is an object
//! `entrail/<Table>/day=YYYY-MM-DD/part-<first>-<last>.parquet` with equal bytes, and reading every object
//! back with the parquet crate gives the archive query engine's `<Table>_all` row counts per table and the
//! manifest's per day; (b) a large file goes up as a multipart upload of 16 MiB parts; (c) with the server
//! failing writes after three uploads the run fails as transient, the progress lists exactly the objects
//! that are in the bucket, an outage changes nothing, and once the server recovers (after 503s the client
//! retries) the backlog drains with nothing lost; (d) a wrong secret (403 `SignatureDoesNotMatch`) stops
//! the sink as `Auth` with nothing uploaded or skipped, and the right secret then uploads every file; with
//! temporary credentials the configured `session_token` is sent, and a missing one (400 `InvalidToken`) is
//! `Auth` too.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests read their own small files whole

mod lake_support;

use lake_support::{assert_mirrors_archive, ingest_day, manifest, query_counts, tables_of};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pipeline::Pipeline;
use sim::s3_server::{Fault, FaultKind, S3Server, S3ServerConfig, S3ServerStats};
use sinks::ErrorKind;
use sinks::lake::{LakeConfig, LakeSink, LakeTarget};
use std::collections::BTreeMap;
use std::path::Path;

const BUCKET: &str = "lake";

/// The sim S3 server on its own runtime (which must outlive the server).
struct S3 {
    server: S3Server,
    _rt: tokio::runtime::Runtime,
}

fn start_s3() -> S3 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(S3Server::start(S3ServerConfig::default()))
        .unwrap();
    S3 { server, _rt: rt }
}

fn s3_target(server: &S3Server, secret: &str) -> LakeTarget {
    let c = server.config();
    LakeTarget::S3 {
        bucket: BUCKET.into(),
        region: c.region.clone(),
        endpoint: Some(server.endpoint()),
        access_key_id: Some(c.access_key_id.clone()),
        secret_access_key: Some(secret.to_owned().into()),
        session_token: None,
        virtual_hosted_style: false,
    }
}

/// A pipeline whose only sink is the S3 lake `s3` (prefix `entrail`, quick retries).
fn open(dir: &Path, server: &S3Server) -> Pipeline {
    let c = server.config();
    let text = format!(
        r#"data_dir = {:?}
[[sinks]]
type = "lake"
id = "s3"
prefix = "entrail"
request_timeout = "5s"
retry_max = 2
retry_backoff = "20ms"
retry_timeout = "5s"
target = {{ type = "s3", bucket = {BUCKET:?}, region = {:?}, endpoint = {:?}, access_key_id = {:?}, secret_access_key = {:?} }}
"#,
        dir.join("data").display().to_string(),
        c.region,
        server.endpoint(),
        c.access_key_id,
        c.secret_access_key,
    );
    Pipeline::open(pipeline::config::parse(&text).unwrap().validate().unwrap()).unwrap()
}

fn lake_config(server: &S3Server, secret: &str) -> LakeConfig {
    let mut c = LakeConfig::new("s3", s3_target(server, secret));
    c.prefix = "entrail".into();
    c.retry_max = 2;
    c.retry_backoff = std::time::Duration::from_millis(20);
    c.retry_timeout = std::time::Duration::from_secs(5);
    c
}

/// Rows of a Parquet object, decoded batch by batch (through a scratch file in `dir`).
fn parquet_rows(dir: &Path, bytes: &[u8]) -> u64 {
    let scratch = dir.join("readback.parquet");
    std::fs::write(&scratch, bytes).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&scratch).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap().num_rows() as u64).sum()
}

/// An error and its causes, `: `-joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn status_of(p: &mut Pipeline) -> sinks::lake::LakeBacklog {
    let status = p.status().unwrap();
    status.lake.into_iter().find(|l| l.id == "s3").unwrap()
}

#[test]
fn a_day_reaches_the_s3_lake_in_hive_layout_and_reads_back_with_the_archive_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let s3 = start_s3();
    let mut p = open(dir, &s3.server);
    let appended = ingest_day(&mut p, dir);
    assert!(appended > 1000, "only {appended} records generated");
    let m = manifest(dir);
    let tables = tables_of(&m);
    assert_eq!(tables.len(), 3, "{tables:?}");
    assert!(m.files.len() > tables.len(), "want several files per table");

    let reports = p.drain_sinks().unwrap();
    let rows: u64 = m.files.iter().map(|f| f.rows).sum();
    let (_, r) = reports.iter().find(|(id, _)| id == "s3").unwrap();
    assert_eq!((r.records, r.to), (rows, m.files.len() as u64));
    assert_eq!(
        S3ServerStats::get(&s3.server.stats().puts),
        m.files.len() as u64
    );

    // (a) The bucket holds exactly the archive's files under the Hive layout, byte for byte.
    let objects = s3.server.keys(BUCKET);
    let want: Vec<(String, u64)> = m
        .files
        .iter()
        .map(|f| (format!("entrail/{}", f.path), f.bytes))
        .collect();
    assert_eq!(objects, want);
    for (key, _) in &objects {
        let parts: Vec<&str> = key.split('/').collect();
        let [root, table, day, file] = parts.as_slice() else {
            panic!("{key} is not entrail/<Table>/day=YYYY-MM-DD/<file>")
        };
        assert_eq!(*root, "entrail");
        assert!(tables.iter().any(|t| t == table), "{key}");
        let date = day.strip_prefix("day=").unwrap();
        assert!(
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
            "{key}"
        );
        assert!(
            file.starts_with("part-") && file.ends_with(".parquet"),
            "{key}"
        );
    }
    let sink = p.lake_sink("s3").unwrap();
    assert_mirrors_archive(&sink, dir);

    // Every object read back with the parquet crate: per table the archive query's `<Table>_all` count, per
    // day the manifest's.
    let mut per_table: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for (key, _) in &objects {
        let n = parquet_rows(dir, &s3.server.object(BUCKET, key).unwrap());
        let mut parts = key.split('/').skip(1);
        let table = parts.next().unwrap().to_owned();
        let day = parts.next().unwrap().to_owned();
        *per_table.entry(table.clone()).or_default() += n;
        *per_day.entry(format!("{table}/{day}")).or_default() += n;
    }
    let queried = query_counts(dir, &tables);
    for t in &tables {
        assert_eq!(per_table[t], queried[t].1, "{t}: lake rows vs `{t}_all`");
    }
    assert!(
        queried.values().any(|(latest, all)| latest < all),
        "the day should hold revisions: {queried:?}"
    );
    let mut manifest_days: BTreeMap<String, u64> = BTreeMap::new();
    for f in &m.files {
        *manifest_days
            .entry(format!("{}/day={}", f.table, f.day))
            .or_default() += f.rows;
    }
    assert_eq!(per_day, manifest_days);

    // A second pass has nothing to do; status shows no backlog; lake sinks are not log consumers.
    let puts = S3ServerStats::get(&s3.server.stats().puts);
    for (_, r) in p.drain_sinks().unwrap() {
        assert_eq!(r.records, 0);
    }
    assert_eq!(S3ServerStats::get(&s3.server.stats().puts), puts);
    let l = status_of(&mut p);
    assert_eq!(
        (l.lake_files, l.pending_files, l.pending_bytes),
        (m.files.len(), 0, 0)
    );
    assert!(
        l.target.starts_with("s3://lake at http://127.0.0.1:"),
        "{l:?}"
    );
}

#[test]
fn a_large_file_goes_up_as_a_multipart_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let s3 = start_s3();
    let mut cfg = lake_config(&s3.server, &s3.server.config().secret_access_key);
    cfg.multipart_threshold_mib = 5;
    let mut sink = LakeSink::new(cfg, &dir.join("state")).unwrap();
    // 20 MiB: a 16 MiB part and a 4 MiB last part (the 5 MiB minimum holds for every part but the last).
    let content: Vec<u8> = (0..20u32 << 20).map(|i| (i % 253) as u8).collect();
    let rel = "SigninLogs/day=2024-03-04/part-0-99.parquet";
    let local = dir.join("archive").join(rel);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, &content).unwrap();
    let entry = sinks::lake::LakeFile {
        path: rel.into(),
        table: "SigninLogs".into(),
        bytes: content.len() as u64,
        rows: 100,
        xxh3_128: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&content)),
        created_us: 0,
    };
    let r = sink
        .sync(&dir.join("archive"), &[entry], &Default::default())
        .unwrap();
    assert_eq!(r.uploaded_files, 1);
    let stats = s3.server.stats();
    assert_eq!(S3ServerStats::get(&stats.completed_uploads), 1);
    assert_eq!(S3ServerStats::get(&stats.parts), 2);
    assert_eq!(S3ServerStats::get(&stats.puts), 0, "no single PutObject");
    assert_eq!(s3.server.pending_uploads(), 0);
    let stored = s3.server.object(BUCKET, &format!("entrail/{rel}")).unwrap();
    assert!(stored[..] == content[..], "multipart object differs");
}

#[test]
fn failing_writes_then_an_outage_lose_nothing_and_progress_counts_only_finished_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let s3 = start_s3();
    let mut p = open(dir, &s3.server);
    ingest_day(&mut p, dir);
    let m = manifest(dir);
    let n = m.files.len();
    assert!(n >= 6, "{n} files");

    // Three uploads succeed, then every write fails with 503 SlowDown (retried by the client, in vain).
    s3.server.inject(Fault {
        kind: FaultKind::SlowDown,
        skip: 3,
        count: u64::MAX,
        writes_only: true,
    });
    let err = p.drain_sinks().unwrap_err();
    match &err {
        pipeline::PipelineError::Sink { id, source } => {
            assert_eq!(id, "s3");
            assert_eq!(source.kind(), ErrorKind::Transient, "{source}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        S3ServerStats::get(&s3.server.stats().faults) >= 3,
        "retried"
    );
    // The progress (what the sink will never upload again) is exactly what the bucket holds.
    let l = status_of(&mut p);
    assert_eq!((l.lake_files, l.pending_files), (3, n - 3), "{l:?}");
    assert!(
        l.last_error.as_deref().unwrap().contains("SlowDown"),
        "{l:?}"
    );
    let in_bucket: Vec<String> = s3.server.keys(BUCKET).into_iter().map(|(k, _)| k).collect();
    let first3: Vec<String> = m.files[..3]
        .iter()
        .map(|f| format!("entrail/{}", f.path))
        .collect();
    assert_eq!(in_bucket, first3);

    // A full outage (reads fail too): nothing changes.
    s3.server.inject(Fault::outage());
    assert!(p.drain_sinks().is_err());
    assert_eq!(status_of(&mut p).lake_files, 3);
    assert_eq!(s3.server.keys(BUCKET).len(), 3);

    // Recovery, with two more 503s the client's retries absorb: the backlog drains, nothing lost.
    s3.server.inject(Fault::slow_down(2));
    let reports = p.drain_sinks().unwrap();
    let (_, r) = reports.iter().find(|(id, _)| id == "s3").unwrap();
    assert_eq!(r.to, n as u64);
    assert_eq!(
        r.records,
        m.files[3..].iter().map(|f| f.rows).sum::<u64>(),
        "only the files not yet up were uploaded"
    );
    let l = status_of(&mut p);
    assert_eq!((l.lake_files, l.pending_files), (n, 0));
    assert!(l.last_error.is_none(), "{l:?}");
    assert_mirrors_archive(&p.lake_sink("s3").unwrap(), dir);
}

#[test]
fn a_wrong_secret_stops_the_sink_as_auth_and_the_right_one_uploads_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let s3 = start_s3();
    let mut p = open(dir, &s3.server);
    ingest_day(&mut p, dir);
    let n = manifest(dir).files.len();
    let state_dir = pipeline::lake::state_dir(&dir.join("data"));
    let mut wrong = LakeSink::new(lake_config(&s3.server, "not-the-secret"), &state_dir).unwrap();
    for _ in 0..2 {
        let e = p.sync_lake_sink(&mut wrong).unwrap_err();
        match &e {
            pipeline::PipelineError::Sink { source, .. } => {
                assert_eq!(source.kind(), ErrorKind::Auth, "{source}");
                assert!(
                    chain(source).contains("SignatureDoesNotMatch"),
                    "{}",
                    chain(source)
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(s3.server.keys(BUCKET).is_empty());
    assert!(S3ServerStats::get(&s3.server.stats().auth_failures) >= 2);
    let l = status_of(&mut p);
    assert_eq!((l.lake_files, l.pending_files), (0, n));
    assert!(l.last_error.is_some());
    let secret = s3.server.config().secret_access_key.clone();
    let progress = std::fs::read_to_string(state_dir.join("s3.json")).unwrap();
    assert!(!progress.contains(&secret) && !progress.contains("not-the-secret"));

    let mut fixed = LakeSink::new(lake_config(&s3.server, &secret), &state_dir).unwrap();
    let r = p.sync_lake_sink(&mut fixed).unwrap();
    assert_eq!(r.uploaded_files, n);
    assert_mirrors_archive(&fixed, dir);
    assert!(status_of(&mut p).last_error.is_none());
}

#[test]
fn temporary_credentials_send_the_session_token_and_a_refused_token_is_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(S3Server::start(S3ServerConfig {
            session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
            ..S3ServerConfig::default()
        }))
        .unwrap();
    let secret = server.config().secret_access_key.clone();
    let file = |sink: &mut LakeSink| {
        let rel = "AuditLogs/day=2024-03-04/part-0-0.parquet";
        let local = dir.join("archive").join(rel);
        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(&local, b"PAR1").unwrap();
        let entry = sinks::lake::LakeFile {
            path: rel.into(),
            table: "AuditLogs".into(),
            bytes: 4,
            rows: 0,
            xxh3_128: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"PAR1")),
            created_us: 0,
        };
        sink.sync(&dir.join("archive"), &[entry], &Default::default())
    };
    let mut no_token = LakeSink::new(lake_config(&server, &secret), &dir.join("state")).unwrap();
    let e = file(&mut no_token).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{}", chain(&e));
    assert!(chain(&e).contains("InvalidToken"), "{}", chain(&e));
    let mut cfg = lake_config(&server, &secret);
    let LakeTarget::S3 { session_token, .. } = &mut cfg.target else {
        unreachable!()
    };
    *session_token = Some("FwoGZXIvYXdzEXAMPLETOKEN".to_owned().into());
    let mut with_token = LakeSink::new(cfg, &dir.join("state")).unwrap();
    assert_eq!(file(&mut with_token).unwrap().uploaded_files, 1);
    assert_eq!(server.keys(BUCKET).len(), 1);
}

#[test]
fn s3_target_settings_are_validated_all_at_once() {
    let text = r#"data_dir = "/tmp/x"
[[sinks]]
type = "lake"
id = "s3"
target = { type = "s3", bucket = "b", region = "", endpoint = "http://example.com", session_token = "t", virtual_hosted_style = true }
"#;
    let errors = pipeline::config::parse(text)
        .unwrap()
        .validate()
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for key in [
        "target.bucket",
        "target.region",
        "target.endpoint",
        "target.session_token",
    ] {
        assert!(errors.contains(key), "{key} missing from: {errors}");
    }
}
