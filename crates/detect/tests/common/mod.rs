//! Shared helpers of the integration tests: where the SigmaHQ azure rules are, and building canonical
//! records by column name.
#![allow(dead_code, unreachable_pub)]

pub mod rules;
pub mod shapes;
pub mod synth;

use model::{Category, Record, Shape, Value, schema};
use std::path::PathBuf;

/// `shared/testdata/sigma-azure` (DRL 1.1: read in place, never copied).
pub fn sigma_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sigma-azure")
}

/// An empty canonical record of a category.
pub fn record(category: Category, key: &str, time: i64) -> Record {
    Record {
        category,
        event_time: time,
        ingest_time: time,
        key: key.to_owned(),
        content_hash: 0,
        revision: 0,
        source: "test".to_owned(),
        shape: Shape::Graph,
        values: vec![Value::Null; schema(category).columns.len()],
        raw: String::new(),
    }
}

/// Sets a column by name (panics on an unknown column: a test bug).
pub fn set(r: &mut Record, column: &str, v: Value) {
    let i = schema(r.category)
        .index_of(column)
        .unwrap_or_else(|| panic!("{} has no column {column}", r.category.table()));
    r.values[i] = v;
}

/// A record with string columns set.
pub fn with(category: Category, cols: &[(&str, &str)]) -> Record {
    let mut r = record(category, "k1", 1_700_000_000_000_000);
    for (c, v) in cols {
        let ty = schema(category).columns[schema(category).index_of(c).unwrap_or(0)].ty;
        let v = if ty == model::ColumnType::Dynamic {
            Value::Dynamic((*v).to_owned())
        } else {
            Value::String((*v).to_owned())
        };
        set(&mut r, c, v);
    }
    r
}
