//! The tamper corpus of `tamper.rs`: simulated sign-ins ingested through the hub into rolled log segments,
//! archived to Parquet with several row groups per file, sealed with a signing key, with published heads;
//! built once per test binary and copied per test, plus the helpers that read and check it.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use model::{Record, codec};
use store::archive::{Archive, ArchiveConfig};
use store::hub::{Hub, HubConfig};
use store::log::LogConfig;
use store::seal::{
    Body, Entry, FindingKind, SealConfig, Sealer, VerifyOptions, VerifyReport, generate_key_pair,
    load_verifying_key, verify,
};

pub(crate) const SEGMENT_BYTES: u64 = 2 << 20;
pub(crate) const ROW_GROUP_ROWS: usize = 200;

pub(crate) fn records(n: usize) -> Vec<Record> {
    sim::signin_rows::diagnostic_sign_ins(11, 300, 3, n)
        .iter()
        .flat_map(|json| store::query::bench::decode_generated(json, 1_700_000_000_000_000))
        .collect()
}

pub(crate) fn seal_config(root: &Path) -> SealConfig {
    SealConfig {
        signing_key_file: Some(root.join("keys/signing.pem")),
        verify_key_file: Some(root.join("keys/verify.pem")),
        publish_file: Some(root.join("published-heads.jsonl")),
        checkpoint_every: 8,
        fsync: false,
        ..SealConfig::default()
    }
}

pub(crate) fn archive_config() -> ArchiveConfig {
    ArchiveConfig {
        row_group_rows: ROW_GROUP_ROWS,
        ..ArchiveConfig::default()
    }
}

/// Builds the corpus under `root`: keys, `data/` (log, archive, seal) and the published heads.
pub(crate) fn build(root: &Path) {
    fs::create_dir_all(root.join("keys")).unwrap();
    generate_key_pair(
        &root.join("keys/signing.pem"),
        &root.join("keys/verify.pem"),
    )
    .unwrap();
    let data = root.join("data");
    let sealer = Sealer::open(&data, seal_config(root)).unwrap();
    let hub_cfg = HubConfig {
        log: LogConfig {
            segment_bytes: SEGMENT_BYTES,
            max_commit_delay: std::time::Duration::ZERO,
            fsync: false,
        },
        ..HubConfig::default()
    };
    let mut hub = Hub::open(&data, hub_cfg).unwrap();
    hub.log().set_seal_hook(sealer.clone());
    let all = records(6000);
    for batch in all.chunks(500) {
        hub.ingest(batch.to_vec(), Vec::new()).unwrap();
    }
    let log = hub.log().clone();
    let mut archive = Archive::open(&data.join("archive"), archive_config()).unwrap();
    archive.set_seal_hook(sealer.clone());
    // Two commits: two files per partition, so compaction has work.
    let end = log.end_offset();
    let mut reader = log.reader(0);
    let mut next = 0;
    while next < end {
        let batch = reader.read_batch(1000, 64 << 20).unwrap();
        for (offset, bytes) in &batch {
            archive
                .write(*offset, &codec::decode(bytes).unwrap())
                .unwrap();
            next = offset + 1;
        }
        if next >= end / 2 && archive.manifest().files.is_empty() {
            archive.commit().unwrap();
        }
    }
    archive.commit().unwrap();
    sealer.checkpoint().unwrap();
    assert_eq!(sealer.failures(), 0);
    drop(archive);
    drop(hub);
    drop(log);
    drop(sealer);
}

/// The corpus, built once per test binary.
pub(crate) fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("seal-tamper-{}", std::process::id()));
        // Earlier runs' corpora (a static is never dropped, so each run leaves its own).
        if let Ok(dirs) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) {
            for d in dirs.flatten() {
                if d.file_name().to_string_lossy().starts_with("seal-tamper-") {
                    let _ = fs::remove_dir_all(d.path());
                }
            }
        }
        build(&root);
        root
    })
}

pub(crate) fn read(path: impl AsRef<Path>) -> Vec<u8> {
    model::limits::read_capped(fs::File::open(path).unwrap(), 1 << 30).unwrap()
}

pub(crate) fn read_text(path: impl AsRef<Path>) -> std::io::Result<String> {
    Ok(String::from_utf8(read(path)).unwrap())
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A private copy of the corpus.
pub(crate) fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base(), dir.path());
    dir
}

pub(crate) fn check(root: &Path) -> VerifyReport {
    verify(&VerifyOptions {
        data_dir: root.join("data"),
        verify_key: Some(load_verifying_key(&root.join("keys/verify.pem")).unwrap()),
        published: Some(root.join("published-heads.jsonl")),
        from_us: None,
        to_us: None,
    })
    .unwrap()
}

pub(crate) fn chain(root: &Path) -> Vec<Entry> {
    read_text(root.join("data/seal/chain.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Sealed Parquet files with at least four row groups: (path, entry).
pub(crate) fn big_parquet(root: &Path) -> Vec<(String, Entry)> {
    chain(root)
        .into_iter()
        .filter_map(|e| match &e.body {
            Body::Parquet {
                path, row_groups, ..
            } if row_groups.len() >= 4 => Some((path.clone(), e)),
            _ => None,
        })
        .collect()
}

pub(crate) fn segments(root: &Path) -> Vec<(String, Entry)> {
    chain(root)
        .into_iter()
        .filter_map(|e| match &e.body {
            Body::Segment { path, .. } => Some((path.clone(), e)),
            _ => None,
        })
        .collect()
}

/// Exactly one finding of `kind`, about `path`; returns its location.
pub(crate) fn only(report: &VerifyReport, kind: FindingKind, path: &str) -> String {
    assert_eq!(
        report.findings.len(),
        1,
        "expected one {kind:?} on {path}: {:#?}",
        report.findings
    );
    let f = &report.findings[0];
    assert_eq!(f.kind, kind, "{f}");
    assert_eq!(f.path.as_deref(), Some(path), "{f}");
    format!("{}: {}", f.location, f.detail)
}
