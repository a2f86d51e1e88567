//! End to end through the public API: archive records, compact, expire, and query with SQL.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions
use std::collections::HashMap;

use chrono::DateTime;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use model::{Category, Record, Shape, Value};
use store::archive::{Archive, ArchiveConfig, DeletionReason, RetentionPolicy};
use store::query::{QueryEngine, write_json_lines};

const JAN_1: i64 = 1_704_067_200_000_000;
const DAY: i64 = 86_400_000_000;

fn signin(offset: u64, day: i64, user: &str) -> Record {
    let schema = model::schema(Category::SignInLogs);
    let mut values = vec![Value::Null; schema.columns.len()];
    let event_time = JAN_1 + day * DAY + offset as i64;
    values[schema.index_of("TimeGenerated").unwrap()] = Value::DateTime(event_time);
    values[schema.index_of("UserPrincipalName").unwrap()] = Value::String(user.to_owned());
    values[schema.index_of("ResultType").unwrap()] = Value::String(
        if offset.is_multiple_of(3) {
            "50126"
        } else {
            "0"
        }
        .into(),
    );
    Record {
        category: Category::SignInLogs,
        event_time,
        ingest_time: event_time,
        key: format!("id-{offset}"),
        content_hash: u128::from(offset),
        revision: 0,
        source: "it".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

async fn scalar(engine: &QueryEngine, sql: &str) -> i64 {
    let batches: Vec<RecordBatch> = engine.sql(sql).await.unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn archive_compact_expire_and_query() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ArchiveConfig {
        retention: HashMap::from([(
            Category::SignInLogs,
            RetentionPolicy {
                days: Some(7),
                legal_hold: false,
            },
        )]),
        ..ArchiveConfig::default()
    };
    let mut archive = Archive::open(tmp.path(), cfg).unwrap();
    let mut offset = 0;
    for day in 0..10 {
        for user in ["alice@contoso.com", "bob@contoso.com"] {
            archive.write(offset, &signin(offset, day, user)).unwrap();
            offset += 1;
        }
        assert_eq!(archive.commit().unwrap(), offset);
    }
    for day in 0..10 {
        archive
            .write(offset, &signin(offset, day, "carol@contoso.com"))
            .unwrap();
        offset += 1;
    }
    archive.commit().unwrap();
    assert_eq!(archive.manifest().files.len(), 20);
    assert_eq!(archive.compact().unwrap().files_written, 10);

    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(scalar(&engine, "SELECT count(*) FROM SigninLogs").await, 30);
    assert_eq!(
        scalar(
            &engine,
            "SELECT count(*) FROM SigninLogs WHERE ResultType <> '0' AND day < '2024-01-05'"
        )
        .await,
        4
    );
    let per_user = engine
        .sql("SELECT UserPrincipalName, count(*) AS n FROM SigninLogs GROUP BY UserPrincipalName ORDER BY 1")
        .await
        .unwrap();
    let mut out = Vec::new();
    write_json_lines(&per_user, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"UserPrincipalName\":\"alice@contoso.com\",\"n\":10}\n\
         {\"UserPrincipalName\":\"bob@contoso.com\",\"n\":10}\n\
         {\"UserPrincipalName\":\"carol@contoso.com\",\"n\":10}\n"
    );

    // 2024-01-12: days 01..04 are past 7 days of retention.
    let now = DateTime::from_timestamp_micros(JAN_1 + 11 * DAY).unwrap();
    let report = archive.apply_retention(now).unwrap();
    assert_eq!((report.deleted.len(), report.rows), (4, 12));
    assert!(
        archive
            .manifest()
            .deletions
            .iter()
            .any(|d| d.reason == DeletionReason::Retention)
    );
    let engine = QueryEngine::new(tmp.path()).unwrap();
    assert_eq!(scalar(&engine, "SELECT count(*) FROM SigninLogs").await, 18);
    assert_eq!(
        scalar(
            &engine,
            "SELECT count(*) FROM SigninLogs WHERE day < '2024-01-05'"
        )
        .await,
        0
    );
}
