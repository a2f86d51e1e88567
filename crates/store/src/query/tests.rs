//! SQL round trips over archives written by hand-built records.
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, TimestampMicrosecondType};
use model::{Category, Record};
use tempfile::TempDir;

use super::*;
use crate::archive::test_util::{DAY, HOUR, JAN_1, record};
use crate::archive::{Archive, ArchiveConfig};

fn archive(records: &[Record]) -> (TempDir, Archive) {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    for (i, r) in records.iter().enumerate() {
        a.write(i as u64, r).unwrap();
    }
    a.commit().unwrap();
    (tmp, a)
}

async fn count(engine: &QueryEngine, sql: &str) -> i64 {
    let batches = engine.sql(sql).await.unwrap();
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        1,
        "{sql}"
    );
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let c = b
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let c = datafusion::arrow::compute::cast(c, &datafusion::arrow::datatypes::DataType::Utf8)
            .unwrap();
        let c = c.as_string::<i32>();
        out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i).to_owned())));
    }
    out
}

#[tokio::test]
async fn round_trip_returns_the_exact_rows_and_values() {
    let mut r0 = record(Category::SignInLogs, JAN_1 + HOUR, "s0");
    r0.revision = 0;
    r0.source = "graph-signins".into();
    let r1 = record(Category::SignInLogs, JAN_1 + DAY + 2 * HOUR, "s1");
    let a0 = record(Category::AuditLogs, JAN_1, "a0");
    let (tmp, _a) = archive(&[r0.clone(), r1, a0]);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let batches = engine
        .sql(
            "SELECT TimeGenerated, UserPrincipalName, DurationMs, Status, ResultType, _EventTime, _IngestTime, \
             _Key, _Revision, _Source, _Shape, _Raw, day FROM SigninLogs ORDER BY _EventTime",
        )
        .await
        .unwrap();
    assert_eq!(
        strings(&batches, "UserPrincipalName"),
        [Some("s0@contoso.com".into()), Some("s1@contoso.com".into())]
    );
    assert_eq!(
        strings(&batches, "Status"),
        [
            Some(r#"{"errorCode":0}"#.into()),
            Some(r#"{"errorCode":0}"#.into())
        ]
    );
    assert_eq!(
        strings(&batches, "day"),
        [Some("2024-01-01".into()), Some("2024-01-02".into())]
    );
    assert_eq!(
        strings(&batches, "_Source"),
        [Some("graph-signins".into()), Some("test".into())]
    );
    assert_eq!(
        strings(&batches, "_Shape"),
        [Some("graph".into()), Some("graph".into())]
    );
    assert_eq!(
        strings(&batches, "_Raw")[0].as_deref(),
        Some(r#"{"id":"s0"}"#)
    );
    let b = &batches[0];
    let ts = |n: &str| {
        b.column_by_name(n)
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>()
            .value(0)
    };
    assert_eq!(
        (ts("TimeGenerated"), ts("_EventTime"), ts("_IngestTime")),
        (r0.event_time, r0.event_time, r0.ingest_time)
    );
    assert_eq!(
        b.column_by_name("DurationMs")
            .unwrap()
            .as_primitive::<Int64Type>()
            .value(0),
        42
    );
    assert_eq!(
        b.column_by_name("_Revision")
            .unwrap()
            .as_primitive::<Int32Type>()
            .value(0),
        0
    );
    assert!(b.column_by_name("ResultType").unwrap().is_valid(0));
    // A column the record left null.
    let nulls = engine
        .sql("SELECT count(*) FROM SigninLogs WHERE AppDisplayName IS NULL")
        .await
        .unwrap();
    assert_eq!(nulls[0].column(0).as_primitive::<Int64Type>().value(0), 2);
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM AuditLogs WHERE OperationName = 'op a0'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn every_category_is_queryable_with_its_count_even_when_empty() {
    let mut records = Vec::new();
    for (n, category) in Category::ALL.iter().enumerate().take(6) {
        for i in 0..=n {
            records.push(record(*category, JAN_1 + i as i64, &format!("{n}-{i}")));
        }
    }
    let (tmp, _a) = archive(&records);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(engine.tables().len(), Category::ALL.len());
    for (n, category) in Category::ALL.iter().enumerate() {
        let expected = if n < 6 { n as i64 + 1 } else { 0 };
        let table = category.table();
        assert_eq!(
            count(&engine, &format!("SELECT count(*) FROM {table}")).await,
            expected,
            "{table}"
        );
        assert_eq!(
            count(&engine, &format!("SELECT count(*) FROM {table}_all")).await,
            expected,
            "{table}_all"
        );
    }
    let empty = engine
        .sql("SELECT * FROM AzureDiagnostics WHERE day >= '2024-01-01'")
        .await
        .unwrap();
    assert_eq!(empty.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    let cols = engine
        .sql("SELECT * FROM AzureDiagnostics LIMIT 0")
        .await
        .unwrap();
    if let Some(b) = cols.first() {
        assert!(b.schema().field_with_name("_EventTime").is_ok());
    }
}

#[tokio::test]
async fn day_filters_prune_partitions() {
    let mut records = Vec::new();
    for d in 0..3 {
        for h in 0..4 {
            records.push(record(
                Category::SignInLogs,
                JAN_1 + d * DAY + h * HOUR,
                &format!("{d}-{h}"),
            ));
        }
    }
    let (tmp, _a) = archive(&records);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM SigninLogs WHERE day >= '2024-01-02'"
        )
        .await,
        8
    );
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM SigninLogs WHERE day = '2024-01-03'"
        )
        .await,
        4
    );
    let explain = engine
        .sql("EXPLAIN SELECT UserPrincipalName FROM SigninLogs WHERE day = '2024-01-02'")
        .await
        .unwrap();
    let plan = format_table(&explain).unwrap();
    assert!(plan.contains("day=2024-01-02"), "{plan}");
    assert!(
        !plan.contains("day=2024-01-01") && !plan.contains("day=2024-01-03"),
        "{plan}"
    );
}

#[tokio::test]
async fn only_committed_files_are_read_and_a_crash_doubles_nothing() {
    let records: Vec<_> = (0..4)
        .map(|i| record(Category::AuditLogs, JAN_1 + i, &format!("k{i}")))
        .collect();
    let (tmp, mut a) = archive(&records);
    for i in 4..8 {
        a.write(
            i,
            &record(Category::AuditLogs, JAN_1 + i as i64, &format!("k{i}")),
        )
        .unwrap();
    }
    a.publish_files().unwrap(); // files in place, manifest not written: the process dies here
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(
        count(&engine, "SELECT count(*) FROM AuditLogs").await,
        4,
        "uncommitted files are not read"
    );
    drop(a);
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    assert_eq!(a.next_offset(), 4);
    for i in a.next_offset()..8 {
        a.write(
            i,
            &record(Category::AuditLogs, JAN_1 + i as i64, &format!("k{i}")),
        )
        .unwrap();
    }
    a.commit().unwrap();
    assert_eq!(
        count(&engine, "SELECT count(*) FROM AuditLogs").await,
        4,
        "an engine is a snapshot"
    );
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM AuditLogs").await, 8);
    assert_eq!(
        count(&engine, "SELECT count(DISTINCT _Key) FROM AuditLogs").await,
        8
    );
}

#[tokio::test]
async fn compaction_keeps_every_row_visible() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = Archive::open(tmp.path(), ArchiveConfig::default()).unwrap();
    for i in 0..30u64 {
        a.write(
            i,
            &record(
                Category::SignInLogs,
                JAN_1 + i as i64 * HOUR,
                &format!("k{i}"),
            ),
        )
        .unwrap();
        if i % 5 == 4 {
            a.commit().unwrap();
        }
    }
    let before = a.manifest().files.len();
    a.compact().unwrap();
    assert!(a.manifest().files.len() < before);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(count(&engine, "SELECT count(*) FROM SigninLogs").await, 30);
    assert_eq!(
        count(&engine, "SELECT count(DISTINCT _Key) FROM SigninLogs").await,
        30
    );
}

#[tokio::test]
async fn tables_show_the_latest_revision_and_all_shows_every_one() {
    let revision = |key: &str, rev: u32, t: i64| {
        let mut r = record(Category::RiskyUsers, t, key);
        r.revision = rev;
        r
    };
    let records = [
        revision("u1", 0, JAN_1),
        revision("u2", 0, JAN_1),
        revision("u1", 1, JAN_1 + DAY),
        revision("u3", 0, JAN_1 + DAY),
        revision("u1", 2, JAN_1 + 2 * DAY),
    ];
    let (tmp, _a) = archive(&records);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let info = engine
        .tables()
        .iter()
        .find(|t| t.name == "AADRiskyUsers")
        .unwrap();
    assert!(info.has_revisions);
    let latest = engine
        .sql("SELECT _Key, _Revision FROM AADRiskyUsers ORDER BY _Key")
        .await
        .unwrap();
    assert_eq!(
        strings(&latest, "_Key"),
        [Some("u1".into()), Some("u2".into()), Some("u3".into())]
    );
    assert_eq!(
        strings(&latest, "_Revision"),
        [Some("2".into()), Some("0".into()), Some("0".into())]
    );
    assert_eq!(
        count(&engine, "SELECT count(*) FROM AADRiskyUsers_all").await,
        5
    );
    // The hidden revision stays hidden inside its own day.
    assert_eq!(
        count(
            &engine,
            "SELECT count(*) FROM AADRiskyUsers WHERE day = '2024-01-02'"
        )
        .await,
        1
    );
    // Tables without revisions are the plain listing.
    assert!(
        !engine
            .tables()
            .iter()
            .find(|t| t.name == "SigninLogs")
            .unwrap()
            .has_revisions
    );

    let options = QueryOptions {
        all_revisions: true,
        target_partitions: Some(2),
        ..QueryOptions::default()
    };
    let every = QueryEngine::with_options(tmp.path(), options).unwrap();
    assert_eq!(count(&every, "SELECT count(*) FROM AADRiskyUsers").await, 5);
}

#[tokio::test]
async fn results_render_as_text_csv_and_json_lines() {
    let records = [
        record(Category::AuditLogs, JAN_1, "a0"),
        record(Category::AuditLogs, JAN_1 + HOUR, "a,1"),
    ];
    let (tmp, _a) = archive(&records);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let batches = engine
        .sql("SELECT _Key, OperationName, _EventTime, _Revision FROM AuditLogs ORDER BY _EventTime")
        .await
        .unwrap();
    let text = format_table(&batches).unwrap();
    assert!(
        text.contains("| _Key ") && text.contains("| op a0 "),
        "{text}"
    );

    let mut csv = Vec::new();
    assert_eq!(write_csv(&batches, &mut csv).unwrap(), 2);
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines[0], "_Key,OperationName,_EventTime,_Revision");
    assert!(
        lines[1].starts_with("a0,op a0,2024-01-01T00:00:00"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("\"a,1\",\"op a,1\",2024-01-01T01:00:00"),
        "{csv}"
    );

    let mut json = Vec::new();
    assert_eq!(write_json_lines(&batches, &mut json).unwrap(), 2);
    let json = String::from_utf8(json).unwrap();
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["_Key"], "a,1");
    assert_eq!(rows[0]["_Revision"], 0);
    assert!(
        rows[0]["_EventTime"]
            .as_str()
            .unwrap()
            .starts_with("2024-01-01T00:00:00"),
        "{json}"
    );
}

#[tokio::test]
async fn streaming_returns_the_same_rows() {
    let records: Vec<_> = (0..50)
        .map(|i| record(Category::SignInLogs, JAN_1 + i * HOUR, &format!("k{i}")))
        .collect();
    let (tmp, _a) = archive(&records);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let mut stream = engine
        .sql_stream("SELECT _Key FROM SigninLogs")
        .await
        .unwrap();
    assert!(stream.schema().field_with_name("_Key").is_ok());
    let mut rows = 0;
    while let Some(batch) = stream.next_batch().await {
        rows += batch.unwrap().num_rows();
    }
    assert_eq!(rows, 50);
}

#[tokio::test]
async fn bad_queries_are_clean_errors() {
    let (tmp, _a) = archive(&[record(Category::AuditLogs, JAN_1, "a0")]);
    let engine = QueryEngine::new(tmp.path()).unwrap();
    let cases = [
        ("SELECT * FROM NoSuchTable", "NoSuchTable"),
        ("SELECT NoSuchColumn FROM AuditLogs", "NoSuchColumn"),
        ("SELEC 1", "SELEC"),
        ("COPY AuditLogs TO '/tmp/x.csv'", ""),
        (
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
            "",
        ),
    ];
    for (sql, needle) in cases {
        let err = engine.sql(sql).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{sql}: {err}");
        let text = err.to_string();
        assert!(
            text.starts_with("invalid query: ") && text.contains(needle),
            "{sql}: {text}"
        );
        assert!(
            !text.contains("backtrace") && !text.contains('\n'),
            "{sql}: {text}"
        );
    }
    let missing = QueryEngine::new(&tmp.path().join("nope")).unwrap_err();
    assert!(matches!(missing, QueryError::Archive { .. }), "{missing}");
}

#[tokio::test]
async fn text_is_read_as_views_and_handed_out_as_plain_utf8() {
    use datafusion::arrow::datatypes::DataType;
    let records: Vec<_> = (0..20)
        .map(|i| record(Category::SignInLogs, JAN_1 + i * HOUR, &format!("k{i:02}")))
        .collect();
    let (tmp, _a) = archive(&records);
    let sql = "SELECT UserPrincipalName, _Key, upper(_Key) AS k, count(*) AS n FROM SigninLogs \
               WHERE UserPrincipalName LIKE 'k1%' GROUP BY 1, 2 ORDER BY 1";
    let views = QueryEngine::new(tmp.path()).unwrap();
    assert!(
        views
            .session()
            .table_provider(datafusion::common::TableReference::bare("SigninLogs"))
            .await
            .unwrap()
            .schema()
            .field_with_name("UserPrincipalName")
            .unwrap()
            .data_type()
            == &DataType::Utf8View
    );
    let plain = QueryEngine::with_options(
        tmp.path(),
        QueryOptions {
            string_views: false,
            ..QueryOptions::default()
        },
    )
    .unwrap();
    let a = views.sql(sql).await.unwrap();
    let b = plain.sql(sql).await.unwrap();
    for batches in [&a, &b] {
        let schema = batches[0].schema();
        for name in ["UserPrincipalName", "_Key", "k"] {
            assert_eq!(
                schema.field_with_name(name).unwrap().data_type(),
                &DataType::Utf8,
                "{name}"
            );
        }
        // Typed access as callers do it.
        assert_eq!(
            batches[0].column(0).as_string::<i32>().value(0),
            "k10@contoso.com"
        );
    }
    assert_eq!(strings(&a, "_Key"), strings(&b, "_Key"));
    assert_eq!(strings(&a, "k"), strings(&b, "k"));
    assert_eq!(strings(&a, "_Key").len(), 10);
    let mut stream = views
        .sql_stream("SELECT _Key FROM SigninLogs")
        .await
        .unwrap();
    assert_eq!(stream.schema().field(0).data_type(), &DataType::Utf8);
    let batch = stream.next_batch().await.unwrap().unwrap();
    assert_eq!(batch.column(0).data_type(), &DataType::Utf8);
}

#[tokio::test]
async fn session_parquet_settings_reach_the_table_scans() {
    let records: Vec<_> = (0..20)
        .map(|i| record(Category::SignInLogs, JAN_1 + i * HOUR, &format!("k{i:02}")))
        .collect();
    let (tmp, _a) = archive(&records);
    let sql = "EXPLAIN ANALYZE SELECT count(*) FROM SigninLogs WHERE UserPrincipalName = 'k03@contoso.com'";
    let mut config = SessionConfig::new();
    config.options_mut().execution.parquet.pushdown_filters = true;
    let pushed = QueryEngine::with_config(tmp.path(), QueryOptions::default(), config).unwrap();
    let plan = format_table(&pushed.sql(sql).await.unwrap()).unwrap();
    assert!(
        plan.contains("pushdown_rows_matched=1,") && plan.contains("pushdown_rows_pruned=19,"),
        "{plan}"
    );
    let default =
        QueryEngine::with_config(tmp.path(), QueryOptions::default(), SessionConfig::new())
            .unwrap();
    let plan = format_table(&default.sql(sql).await.unwrap()).unwrap();
    assert!(plan.contains("pushdown_rows_pruned=0,"), "{plan}");
    assert_eq!(
        count(
            &pushed,
            "SELECT count(*) FROM SigninLogs WHERE UserPrincipalName = 'k03@contoso.com'"
        )
        .await,
        1
    );
}
