//! Writers produce parseable files whose record counts match the input.

use serde_json::Value;

use super::small_day;
use crate::shape::la_columns;
use crate::write::{
    write_csv, write_csv_per_table, write_graph_pages, write_json_array, write_json_lines,
    write_records_batches,
};
use crate::{Category, Shape};

#[test]
fn records_batches_and_json_lines() {
    let run = small_day();
    let t = &run.tenant;
    let events = || run.events.iter().take(1000).cloned();
    let mut out = Vec::new();
    let n = write_records_batches(&mut out, events(), 100, true, t).unwrap();
    assert_eq!(n, out.len() as u64);
    let text = String::from_utf8(out).unwrap();
    let mut records = 0;
    for line in text.lines() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let batch = doc["records"].as_array().unwrap();
        assert!(!batch.is_empty() && batch.len() <= 100);
        records += batch.len();
    }
    assert_eq!(records, 1000);
    assert_eq!(text.lines().count(), 10);

    let mut out = Vec::new();
    write_json_lines(&mut out, events(), Shape::Diagnostic, false, t).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1000);

    let mut out = Vec::new();
    write_json_lines(&mut out, events(), Shape::Graph, false, t).unwrap();
    let graph_count = events()
        .filter(|e| Category::from_name(e.category).unwrap().has_graph_api())
        .count();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), graph_count);
}

#[test]
fn la_json_array() {
    let run = small_day();
    let mut out = Vec::new();
    write_json_array(
        &mut out,
        run.events.iter().take(300).cloned(),
        Shape::LogAnalytics,
        true,
        &run.tenant,
    )
    .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out).unwrap();
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter()
            .all(|r| r["Type"].is_string() && r["TimeGenerated"].is_string())
    );
}

#[test]
fn csv_round_trips() {
    let run = small_day();
    for (table, quirks) in [
        ("SigninLogs", false),
        ("AADNonInteractiveUserSignInLogs", true),
        ("AuditLogs", true),
    ] {
        let mut out = Vec::new();
        write_csv(
            &mut out,
            run.events.iter().cloned(),
            table,
            quirks,
            &run.tenant,
        )
        .unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(|h| h.trim_end_matches(" [UTC]").to_owned())
            .collect();
        let expected: Vec<&str> = la_columns(table).unwrap().iter().map(|(n, _)| *n).collect();
        assert_eq!(header, expected);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let n = run
            .events
            .iter()
            .filter(|e| crate::la_table(e.category) == table)
            .count();
        assert_eq!(rows.len(), n, "{table}");
        let status = header.iter().position(|h| h == "Status").unwrap_or(0);
        if table != "AuditLogs" {
            let cell: Value = serde_json::from_str(&rows[0][status]).unwrap();
            assert!(cell["errorCode"].is_u64(), "{table}: {cell}");
        }
        if quirks {
            let tg = header.iter().position(|h| h == "TimeGenerated").unwrap();
            assert!(
                rows[0][tg].contains(", ")
                    && (rows[0][tg].ends_with("AM") || rows[0][tg].ends_with("PM")),
                "{}",
                &rows[0][tg]
            );
        }
    }
}

#[test]
fn csv_per_table_files() {
    let run = small_day();
    let dir = tempfile::tempdir().unwrap();
    let n = write_csv_per_table(
        dir.path(),
        run.events.iter().take(2000).cloned(),
        false,
        &run.tenant,
    )
    .unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(n, total);
    assert!(files.iter().any(|p| p.ends_with("SigninLogs.csv")));
}

#[test]
fn graph_pages_chain() {
    let run = small_day();
    let mut out = Vec::new();
    write_graph_pages(
        &mut out,
        run.events.iter().cloned(),
        "SignInLogs",
        50,
        false,
        &run.tenant,
    )
    .unwrap();
    let pages: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let total: usize = pages
        .iter()
        .map(|p| p["value"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        total,
        run.events
            .iter()
            .filter(|e| e.category == "SignInLogs")
            .count()
    );
    let (last, rest) = pages.split_last().unwrap();
    assert!(last.get("@odata.nextLink").is_none());
    for p in rest {
        assert_eq!(p["value"].as_array().unwrap().len(), 50);
        assert!(
            p["@odata.nextLink"].as_str().unwrap().starts_with(
                "https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=50&$skiptoken="
            )
        );
        assert_eq!(
            p["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns"
        );
    }
    let mut none = Vec::new();
    write_graph_pages(
        &mut none,
        run.events.iter().cloned(),
        "Administrative",
        50,
        false,
        &run.tenant,
    )
    .unwrap();
    assert!(none.is_empty());
}
