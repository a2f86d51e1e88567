//! Real-format third-party records (`shared/testdata`): every Panther `log` object and the OTRF Log Analytics
//! exports decode to the expected category, or are rejected for a reason listed here.
//!
//! Expectations:
//! - `Azure.Audit` (47): the envelope category; `Policy`, `DirectoryManagement`, `ApplicationManagement` on
//!   an Entra envelope are directoryAudits → AuditLogs.
//! - `Azure.MonitorActivity` (214): Activity Log categories → AzureActivity; Storage resource logs
//!   (`StorageRead`/`StorageWrite`/`StorageDelete`, or no category) → ResourceDiagnostics.
//! - `Microsoft365.Audit.AzureActiveDirectory` (4): Office 365 Management API records →
//!   EnrichedOffice365AuditLogs.
//! - `MicrosoftGraph.SecurityAlertV2` (4): rejected, Graph security alerts are not an entrail category.
//! - OTRF `AADAuditEvents.json` (4 LA rows): AuditLogs, two rows sharing one `Id`.
//! - OTRF `OfficeActivityEvents.json` (1 LA row): rejected, table `OfficeActivity` is not a category.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use model::{Category, DecodeContext, Format, Record, decode_record, decode_stream};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(rel)
}

fn cx(location: &str) -> DecodeContext {
    DecodeContext {
        source: "corpus".into(),
        location: location.into(),
        ingest_time: 0,
        category: None,
        shape: None,
    }
}

/// The category a Panther `log` object must decode to, or the text its rejection must contain.
fn expected(file: &str, log: &serde_json::Value) -> Result<Category, &'static str> {
    let cat = log.get("category").and_then(|c| c.as_str()).unwrap_or("");
    match file {
        "Azure.Audit.tests.jsonl" => match cat {
            "Policy" | "DirectoryManagement" | "ApplicationManagement" => Ok(Category::AuditLogs),
            other => Category::from_name(other).ok_or("unexpected category in Azure.Audit"),
        },
        "Azure.MonitorActivity.tests.jsonl" => match cat {
            "" | "StorageRead" | "StorageWrite" | "StorageDelete" => {
                Ok(Category::ResourceDiagnostics)
            }
            _ => Ok(Category::AzureActivity),
        },
        "Microsoft365.Audit.AzureActiveDirectory.tests.jsonl" => {
            Ok(Category::EnrichedOffice365AuditLogs)
        }
        "MicrosoftGraph.SecurityAlertV2.tests.jsonl" => Err("Microsoft Graph security alert"),
        _ => Err("unknown file"),
    }
}

#[test]
fn panther_logs_decode_to_their_categories() {
    let files = [
        ("Azure.Audit.tests.jsonl", 47),
        ("Azure.MonitorActivity.tests.jsonl", 214),
        ("Microsoft365.Audit.AzureActiveDirectory.tests.jsonl", 4),
        ("MicrosoftGraph.SecurityAlertV2.tests.jsonl", 4),
    ];
    let mut total = 0;
    for (file, count) in files {
        let reader =
            BufReader::new(File::open(testdata(&format!("panther-tests/{file}"))).unwrap());
        let mut tally: BTreeMap<String, usize> = BTreeMap::new();
        let mut n = 0;
        for (i, line) in reader.lines().enumerate() {
            let line = line.unwrap();
            let test: serde_json::Value = serde_json::from_str(&line).unwrap();
            let log = &test["log"];
            let want = expected(file, log);
            let got = decode_record(&log.to_string(), &cx(file));
            match (&want, &got) {
                (Ok(c), Ok(recs)) => {
                    assert_eq!(recs.len(), 1, "{file}:{}", i + 1);
                    assert_eq!(
                        recs[0].category,
                        *c,
                        "{file}:{} {}",
                        i + 1,
                        test["test_name"]
                    );
                    check_types(&recs[0]);
                    *tally.entry(c.name().to_owned()).or_default() += 1;
                }
                (Err(reason), Err(e)) => {
                    assert!(e.to_string().contains(reason), "{file}:{}: {e}", i + 1);
                    *tally.entry(format!("rejected: {e}")).or_default() += 1;
                }
                _ => panic!(
                    "{file}:{} {}: expected {want:?}, got {:?}",
                    i + 1,
                    test["test_name"],
                    got.map(|r| r[0].category)
                ),
            }
            n += 1;
        }
        assert_eq!(n, count, "{file}");
        total += n;
        println!("{file}: {n} records: {tally:?}");
    }
    assert_eq!(total, 269);
}

fn check_types(r: &Record) {
    for (c, v) in r.schema().columns.iter().zip(&r.values) {
        assert!(
            v.fits(c.ty),
            "{} {}: {:?} does not fit {:?}",
            r.category,
            c.name,
            v,
            c.ty
        );
    }
}

#[test]
fn otrf_log_analytics_exports() {
    let path = testdata("otrf-security-datasets/AADAuditEvents.json");
    let out: Vec<_> = decode_stream(
        BufReader::new(File::open(path).unwrap()),
        Format::JsonLines,
        cx("AADAuditEvents.json"),
    )
    .collect();
    assert_eq!(out.len(), 4);
    let recs: Vec<Record> = out
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {}", e.position, e.reason)))
        .collect();
    for r in &recs {
        assert_eq!(r.category, Category::AuditLogs);
        assert_eq!(r.shape, model::Shape::LogAnalytics);
        check_types(r);
        let initiated = r.get("InitiatedBy").and_then(|v| v.as_str()).unwrap();
        assert!(
            initiated.starts_with("{\"user\":{\"displayName\":null,\"id\":"),
            "{initiated}"
        );
        assert_eq!(
            r.get("Category").and_then(|v| v.as_str()),
            Some("ApplicationManagement")
        );
    }
    let ids: std::collections::BTreeSet<_> = recs.iter().map(|r| r.key.as_str()).collect();
    println!(
        "AADAuditEvents.json: 4 AuditLogs rows, {} distinct ids",
        ids.len()
    );
    assert_eq!(ids.len(), 3, "the export holds two rows with the same Id");

    let path = testdata("otrf-security-datasets/OfficeActivityEvents.json");
    let out: Vec<_> = decode_stream(
        BufReader::new(File::open(path).unwrap()),
        Format::JsonLines,
        cx("OfficeActivityEvents.json"),
    )
    .collect();
    assert_eq!(out.len(), 1);
    let rej = out[0].as_ref().unwrap_err();
    assert_eq!(rej.position.at, "line 1");
    assert!(
        rej.reason.starts_with(
            "field Type: Log Analytics table \"OfficeActivity\" is not an entrail category"
        ),
        "{}",
        rej.reason
    );
    println!("OfficeActivityEvents.json: rejected: {}", rej.reason);
}

#[test]
fn panther_time_spellings_parse() {
    // `time` "2025-01-15 14:20:35.456", createdDateTime "2023-07-26 22:58:30.983201900", lower-case envelope keys.
    let reader =
        BufReader::new(File::open(testdata("panther-tests/Azure.Audit.tests.jsonl")).unwrap());
    let line = reader
        .lines()
        .find_map(|l| l.ok().filter(|l| l.contains("\"calleripaddress\"")))
        .unwrap();
    let test: serde_json::Value = serde_json::from_str(&line).unwrap();
    let r = &decode_record(&test["log"].to_string(), &cx("panther")).unwrap()[0];
    assert!(r.event_time > 1_600_000_000_000_000);
    assert_eq!(
        r.get("OperationName").and_then(|v| v.as_str()),
        Some("Sign-in activity")
    );
    assert!(r.get("ResultType").and_then(|v| v.as_str()).is_some());
}
