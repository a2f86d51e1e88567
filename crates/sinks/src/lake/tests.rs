//! Unit tests of the lake sink: config validation, the upload/delete plan, and runs against a local
//! directory target (uploads, resume, hash check, compaction and retention deletions).
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests read their own small files whole

use super::*;
use crate::ErrorKind;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn parse(text: &str) -> LakeConfig {
    toml::from_str(text).unwrap()
}

fn local(dir: &Path) -> LakeConfig {
    let mut c = LakeConfig::new(
        "lake",
        LakeTarget::Local {
            path: dir.to_path_buf(),
        },
    );
    c.prefix = "entrail/v1".to_owned();
    c
}

/// Writes `content` as an archive file and returns its entry.
fn file(archive: &Path, rel: &str, content: &[u8], created_us: i64) -> LakeFile {
    let p = archive.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    LakeFile {
        path: rel.to_owned(),
        table: rel.split('/').next().unwrap().to_owned(),
        bytes: content.len() as u64,
        rows: 1,
        xxh3_128: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(content)),
        created_us,
    }
}

#[test]
fn config_parses_with_defaults_and_hides_secrets() {
    let c = parse(
        r#"id = "lake"
prefix = "/entrail/"
target = { type = "azure", account = "acct", container = "lake", access_key = "c2VjcmV0" }
"#,
    );
    assert!(!c.mirror_deletions);
    assert_eq!(c.multipart_threshold_mib, 64);
    assert_eq!(c.retry_max, 10);
    assert_eq!(c.clean_prefix(), "entrail");
    assert!(c.validate().is_ok());
    let debug = format!("{c:?}");
    assert!(
        debug.contains("acct") && !debug.contains("c2VjcmV0"),
        "{debug}"
    );
    assert_eq!(c.target.describe(), "azure://acct/lake");
}

#[test]
fn validation_reports_every_problem_with_its_field() {
    let c = parse(
        r#"id = "a b"
prefix = "x/../y"
categories = ["NoSuchCategory"]
multipart_threshold_mib = 1
target = { type = "azure", account = "", container = "Bad_Name", endpoint = "http://example.com", access_key = "k", sas_token = "s" }
"#,
    );
    let errors = c.validate().unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for want in [
        "id",
        "prefix",
        "categories",
        "multipart_threshold_mib",
        "target.account",
        "target.container",
        "target.endpoint",
        "target",
    ] {
        assert!(fields.contains(&want), "{want} missing in {errors:?}");
    }
    let s3 = parse(
        r#"id = "s3"
target = { type = "s3", bucket = "b", region = "", access_key_id = "AK" }
"#,
    );
    let fields: Vec<String> = s3
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        ["target.bucket", "target.region", "target.secret_access_key"]
    );
    let loopback = parse(
        r#"id = "az"
target = { type = "azure", account = "devstoreaccount1", container = "lake", endpoint = "http://127.0.0.1:10000/devstoreaccount1", access_key = "k" }
"#,
    );
    assert!(loopback.validate().is_ok());
}

#[test]
fn plan_uploads_missing_files_and_deletes_only_what_policy_allows() {
    let f = |path: &str, hash: &str| LakeFile {
        path: path.to_owned(),
        table: path.split('/').next().unwrap().to_owned(),
        bytes: 10,
        rows: 1,
        xxh3_128: hash.to_owned(),
        created_us: 0,
    };
    let obj = |hash: &str| LakeObject {
        bytes: 10,
        rows: 1,
        xxh3_128: hash.to_owned(),
        uploaded_us: 0,
    };
    let files = vec![
        f("SigninLogs/day=2024-01-01/part-0-9.parquet", "aa"),
        f("SigninLogs/day=2024-01-02/part-10-19.parquet", "bb"),
        f("AuditLogs/day=2024-01-01/part-20-29.parquet", "cc"),
    ];
    let mut objects = BTreeMap::new();
    objects.insert(files[0].path.clone(), obj("aa"));
    objects.insert(files[1].path.clone(), obj("old")); // same path, other content
    objects.insert(
        "SigninLogs/day=2023-01-01/part-1-2.parquet".into(),
        obj("r"),
    );
    objects.insert(
        "SigninLogs/day=2024-01-01/part-3-4.parquet".into(),
        obj("c"),
    );
    let removed = HashMap::from([
        (
            "SigninLogs/day=2023-01-01/part-1-2.parquet".to_owned(),
            Removal::Retention,
        ),
        (
            "SigninLogs/day=2024-01-01/part-3-4.parquet".to_owned(),
            Removal::Compaction,
        ),
    ]);
    let p = state::plan(&objects, &files, &removed, false, &[]);
    let up: Vec<&str> = p.uploads.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        up,
        [
            "AuditLogs/day=2024-01-01/part-20-29.parquet",
            "SigninLogs/day=2024-01-02/part-10-19.parquet"
        ]
    );
    assert_eq!(p.deletes, ["SigninLogs/day=2024-01-01/part-3-4.parquet"]);
    assert_eq!(p.kept, 1);
    let mirrored = state::plan(&objects, &files, &removed, true, &[]);
    assert_eq!(mirrored.deletes.len(), 2);
    assert_eq!(mirrored.kept, 0);
    let only_signins = state::plan(
        &objects,
        &files,
        &removed,
        false,
        &[model::Category::SignInLogs],
    );
    assert_eq!(only_signins.uploads.len(), 1);
}

#[test]
fn a_local_lake_receives_every_file_once_and_resumes_after_a_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (archive, lake_dir, state_dir) = (
        tmp.path().join("archive"),
        tmp.path().join("lake"),
        tmp.path().join("state"),
    );
    let files: Vec<LakeFile> = (0..5)
        .map(|i| {
            file(
                &archive,
                &format!("SigninLogs/day=2024-01-0{}/part-{i}-{i}.parquet", i + 1),
                format!("content {i}").repeat(100 + i).as_bytes(),
                1_700_000_000_000_000 + i64::from(u8::try_from(i).unwrap()),
            )
        })
        .collect();
    let none = HashMap::new();
    let mut cfg = local(&lake_dir);
    cfg.max_files_per_run = 2;
    let mut sink = LakeSink::new(cfg.clone(), &state_dir).unwrap();
    let r = sink.sync(&archive, &files, &none).unwrap();
    assert_eq!((r.uploaded_files, r.remaining_files), (2, 3));
    let backlog = LakeSink::backlog(&cfg, &state_dir, &files, &none).unwrap();
    assert_eq!((backlog.lake_files, backlog.pending_files), (2, 3));
    assert_eq!(
        backlog.pending_bytes,
        files[2..].iter().map(|f| f.bytes).sum::<u64>()
    );
    assert!(backlog.last_success.is_some() && backlog.last_error.is_none());
    cfg.max_files_per_run = 0;
    let mut sink = LakeSink::new(cfg.clone(), &state_dir).unwrap();
    let r = sink.sync(&archive, &files, &none).unwrap();
    assert_eq!((r.uploaded_files, r.remaining_files), (3, 0));
    assert_eq!(
        sink.sync(&archive, &files, &none).unwrap().uploaded_files,
        0
    );
    let listed = sink.list().unwrap();
    let want: Vec<(String, u64)> = files.iter().map(|f| (f.path.clone(), f.bytes)).collect();
    assert_eq!(listed, want);
    for f in &files {
        let a = std::fs::read(archive.join(&f.path)).unwrap();
        let b = std::fs::read(lake_dir.join("entrail/v1").join(&f.path)).unwrap();
        assert_eq!(a, b, "{}", f.path);
    }
}

#[test]
fn a_file_that_differs_from_its_manifest_hash_is_fatal_and_not_published() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let mut f = file(
        &archive,
        "AuditLogs/day=2024-01-01/part-0-0.parquet",
        b"abc",
        0,
    );
    f.xxh3_128 = "0".repeat(32);
    let mut sink = LakeSink::new(local(&tmp.path().join("lake")), &tmp.path().join("st")).unwrap();
    let e = sink.sync(&archive, &[f], &HashMap::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
    assert!(sink.list().unwrap().is_empty());
    let backlog = LakeSink::backlog(
        &local(&tmp.path().join("lake")),
        &tmp.path().join("st"),
        &[],
        &HashMap::new(),
    )
    .unwrap();
    assert!(backlog.last_error.unwrap().contains("manifest lists"));
}

#[test]
fn compaction_is_mirrored_after_the_merged_file_and_retention_only_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let a = file(
        &archive,
        "SigninLogs/day=2024-01-01/part-0-4.parquet",
        b"aaaa",
        0,
    );
    let b = file(
        &archive,
        "SigninLogs/day=2024-01-01/part-5-9.parquet",
        b"bbbb",
        0,
    );
    let old = file(
        &archive,
        "SigninLogs/day=2020-01-01/part-10-11.parquet",
        b"old",
        0,
    );
    let lake_dir = tmp.path().join("lake");
    let state_dir = tmp.path().join("st");
    let mut sink = LakeSink::new(local(&lake_dir), &state_dir).unwrap();
    sink.sync(
        &archive,
        &[a.clone(), b.clone(), old.clone()],
        &HashMap::new(),
    )
    .unwrap();
    // Compaction merged a and b; retention deleted old.
    let merged = file(
        &archive,
        "SigninLogs/day=2024-01-01/part-0-9.parquet",
        b"aaaabbbb",
        0,
    );
    let removed = HashMap::from([
        (a.path.clone(), Removal::Compaction),
        (b.path.clone(), Removal::Compaction),
        (old.path.clone(), Removal::Retention),
    ]);
    let r = sink
        .sync(&archive, std::slice::from_ref(&merged), &removed)
        .unwrap();
    assert_eq!((r.uploaded_files, r.deleted), (1, 2));
    let names: Vec<String> = sink.list().unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, [old.path.clone(), merged.path.clone()]);
    let mut cfg = local(&lake_dir);
    cfg.mirror_deletions = true;
    let mut mirrored = LakeSink::new(cfg, &state_dir).unwrap();
    let r = mirrored
        .sync(&archive, std::slice::from_ref(&merged), &removed)
        .unwrap();
    assert_eq!((r.uploaded_files, r.deleted), (0, 1));
    let names: Vec<String> = sink.list().unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, [merged.path]);
}

#[test]
fn large_files_go_up_as_multipart_with_equal_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let content: Vec<u8> = (0..(6u32 << 20)).map(|i| (i % 251) as u8).collect();
    let f = file(
        &archive,
        "AuditLogs/day=2024-01-01/part-0-0.parquet",
        &content,
        0,
    );
    let lake_dir = tmp.path().join("lake");
    let mut cfg = local(&lake_dir);
    cfg.multipart_threshold_mib = 5;
    let mut sink = LakeSink::new(cfg, &tmp.path().join("st")).unwrap();
    sink.sync(&archive, std::slice::from_ref(&f), &HashMap::new())
        .unwrap();
    let stored = std::fs::read(lake_dir.join("entrail/v1").join(&f.path)).unwrap();
    assert!(stored == content);
}

#[test]
fn object_store_errors_are_classified() {
    let boxed = || -> Box<dyn std::error::Error + Send + Sync> { "x".into() };
    let denied = object_store::Error::PermissionDenied {
        path: "p".into(),
        source: boxed(),
    };
    let unauth = object_store::Error::Unauthenticated {
        path: "p".into(),
        source: boxed(),
    };
    let missing = object_store::Error::NotFound {
        path: "p".into(),
        source: boxed(),
    };
    let generic = object_store::Error::Generic {
        store: "MicrosoftAzure",
        source: boxed(),
    };
    let wrap = |e| crate::SinkError::ObjectStore {
        target: "t".into(),
        source: Box::new(e),
    };
    assert_eq!(wrap(denied).kind(), ErrorKind::Auth);
    assert_eq!(wrap(unauth).kind(), ErrorKind::Auth);
    assert_eq!(wrap(missing).kind(), ErrorKind::Fatal);
    assert_eq!(wrap(generic).kind(), ErrorKind::Transient);
}
