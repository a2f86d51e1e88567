//! Projected decoding (`decode_stream_projected`) equals full decoding restricted to the projected columns,
//! for every golden input of every category and shape (`data/testdata/normalize/<Category>/*.input.*`):
//! same records and rejections, same meta fields, projected columns equal, all others null; the content
//! hash is equal where the projection keeps it or the key is made from it, else 0.

#![allow(clippy::unwrap_used)]

use model::normalize::{Projection, decode_stream_projected};
use model::{Category, DecodeContext, Record, Value, decode_stream, detect_format, schema};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::PathBuf;

fn inputs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/testdata/normalize");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.file_name().unwrap().to_string_lossy().contains(".input.") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

fn cx(path: &std::path::Path) -> DecodeContext {
    DecodeContext {
        source: "projection".into(),
        location: path.file_name().unwrap().to_string_lossy().into_owned(),
        ingest_time: 1_709_600_000_000_000,
        category: None,
        shape: None,
    }
}

type Decoded = Vec<Result<Record, String>>;

fn decode(path: &std::path::Path, projection: Option<Projection>) -> Decoded {
    #[allow(clippy::disallowed_methods)] // small checked-in test files
    let bytes = std::fs::read(path).unwrap();
    let mut reader = &bytes[..];
    let format = detect_format(reader.fill_buf().unwrap());
    let stream = match projection {
        Some(p) => decode_stream_projected(reader, format, cx(path), p),
        None => decode_stream(reader, format, cx(path)),
    };
    stream.map(|r| r.map_err(|e| e.reason)).collect()
}

/// Checks one projected decode against the full one; returns how many records were compared.
fn check(path: &std::path::Path, full: &Decoded, projection: &Projection) -> usize {
    let projected = decode(path, Some(projection.clone()));
    assert_eq!(projected.len(), full.len(), "{}", path.display());
    let mut n = 0;
    for (p, f) in projected.iter().zip(full) {
        let (p, f) = match (p, f) {
            (Ok(p), Ok(f)) => (p, f),
            (Err(p), Err(f)) => {
                assert_eq!(p, f, "{}", path.display());
                continue;
            }
            _ => panic!("{}: one decode failed, the other not", path.display()),
        };
        let what = format!("{} {} {}", path.display(), f.category.name(), f.key);
        assert_eq!(
            (p.category, p.event_time, p.ingest_time, &p.key, p.revision),
            (f.category, f.event_time, f.ingest_time, &f.key, f.revision),
            "{what}"
        );
        assert_eq!(
            (&p.source, p.shape, &p.raw),
            (&f.source, f.shape, &f.raw),
            "{what}"
        );
        if projection.keeps_content_hash() || f.key.starts_with("h:") {
            assert_eq!(p.content_hash, f.content_hash, "{what}");
        } else {
            assert_eq!(p.content_hash, 0, "{what}");
        }
        let columns = &schema(f.category).columns;
        assert_eq!(p.values.len(), f.values.len(), "{what}");
        for ((col, pv), fv) in columns.iter().zip(&p.values).zip(&f.values) {
            if projection.fills(f.category, &col.name) {
                assert_eq!(pv, fv, "{what} column {}", col.name);
            } else {
                assert_eq!(pv, &Value::Null, "{what} column {}", col.name);
            }
        }
        n += 1;
    }
    n
}

#[test]
fn projected_decode_equals_full_decode_restricted() {
    let files = inputs();
    assert!(files.len() >= 40, "golden inputs missing: {}", files.len());
    let mut categories = BTreeSet::new();
    let mut compared = 0;
    let mut non_null_projected = 0;
    for path in &files {
        let full = decode(path, None);
        for r in full.iter().flatten() {
            categories.insert(r.category);
        }
        let Some(first) = full.iter().flatten().next() else {
            continue;
        };
        let names: Vec<String> = schema(first.category)
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        // A few columns (in another case than the schema's), every other column, none, and all of them.
        let few: Vec<String> = names
            .iter()
            .take(4)
            .chain(names.iter().rev().take(3))
            .map(|n| n.to_ascii_uppercase())
            .collect();
        let every_other: Vec<&String> = names.iter().step_by(2).collect();
        for projection in [
            Projection::columns(&few),
            Projection::columns(&few).with_content_hash(),
            Projection::columns(every_other.iter().map(|s| s.as_str())),
            Projection::columns(Vec::<String>::new()),
            Projection::columns(&names),
        ] {
            compared += check(path, &full, &projection);
        }
        let projection = Projection::columns(&few);
        non_null_projected += decode(path, Some(projection))
            .iter()
            .flatten()
            .map(|r| r.values.iter().filter(|v| !v.is_null()).count())
            .sum::<usize>();
    }
    assert!(compared >= 500, "only {compared} records compared");
    assert!(non_null_projected > 0, "projected columns all null");
    for c in [
        Category::SignInLogs,
        Category::AuditLogs,
        Category::AzureActivity,
        Category::NsgFlowLogs,
        Category::ResourceDiagnostics,
        Category::Syslog,
    ] {
        assert!(categories.contains(&c), "no golden records of {}", c.name());
    }
}

#[test]
fn projection_names_ignore_case_and_unknown_names() {
    let p = Projection::columns(["userprincipalname", "NoSuchColumn"]);
    assert!(p.fills(Category::SignInLogs, "UserPrincipalName"));
    assert!(
        p.fills(Category::AuditLogs, "userPrincipalName")
            == schema(Category::AuditLogs)
                .index_of("UserPrincipalName")
                .is_some()
    );
    assert!(!p.fills(Category::SignInLogs, "IPAddress"));
    assert!(!p.fills(Category::SignInLogs, "NoSuchColumn"));
    assert!(!p.keeps_content_hash());
    assert!(p.with_content_hash().keeps_content_hash());
}
