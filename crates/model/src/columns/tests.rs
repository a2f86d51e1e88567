//! Unit tests of [`Columns`]: every value of every column of simulated records of several categories reads
//! back as pushed (nulls kept), through `from_records`, `by_category` and a reused, truncated batch.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::DecodeContext;

/// Decoded records of the simulated tenant (every category, the three wire shapes in turn).
fn simulated(n: usize) -> Vec<Record> {
    let cfg = sim::TenantConfig {
        days: 3,
        users: 60,
        quirks: true,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let cx = DecodeContext {
        source: "test".into(),
        ..DecodeContext::default()
    };
    let shapes = [
        sim::Shape::Diagnostic,
        sim::Shape::LogAnalytics,
        sim::Shape::Graph,
    ];
    let mut out = Vec::new();
    for (i, ev) in sim::Generator::new(&tenant, &cfg)
        .with_truth(false)
        .enumerate()
    {
        let Some(wire) = sim::render(&ev, shapes[i % 3], true, &tenant)
            .or_else(|| sim::render(&ev, sim::Shape::Diagnostic, true, &tenant))
        else {
            continue;
        };
        if let Ok(recs) = crate::decode_record(&wire.to_string(), &cx) {
            out.extend(recs);
        }
        if out.len() >= n {
            break;
        }
    }
    out
}

/// Asserts that row `row` of `batch` is `r`, value by value.
fn assert_row(batch: &Columns, row: usize, r: &Record) {
    assert_eq!(batch.category(), r.category);
    assert_eq!(batch.key(row), r.key);
    assert_eq!(batch.event_time(row), r.event_time);
    assert_eq!(batch.width(), schema(r.category).columns.len());
    for c in 0..batch.width() {
        let want = r.values.get(c).map_or(ValueRef::Null, ValueRef::from);
        assert_eq!(
            batch.get(row, c),
            Some(want),
            "{} row {row} column {c} ({})",
            r.category.table(),
            schema(r.category).columns[c].name
        );
    }
    assert_eq!(batch.get(row, batch.width()), None);
    let back = batch.record(row);
    assert_eq!(back.values.len(), batch.width());
    for (c, v) in back.values.iter().enumerate() {
        assert_eq!(Some(v), r.values.get(c).or(Some(&Value::Null)));
    }
}

#[test]
fn every_value_of_every_column_round_trips() {
    let recs = simulated(6_000);
    let batches = by_category(&recs, 500).unwrap();
    let mut categories = std::collections::BTreeSet::new();
    let mut seen = vec![false; recs.len()];
    let (mut nulls, mut texts, mut numbers) = (0usize, 0usize, 0usize);
    for (batch, rows) in &batches {
        assert!(batch.len() <= 500 && batch.len() == rows.len());
        categories.insert(batch.category().table());
        assert!(
            rows.windows(2).all(|w| w[0] < w[1]),
            "rows keep their order"
        );
        for (row, &i) in rows.iter().enumerate() {
            assert!(!seen[i], "record {i} in two batches");
            seen[i] = true;
            assert_row(batch, row, &recs[i]);
            for c in 0..batch.width() {
                match batch.value(row, c) {
                    ValueRef::Null => nulls += 1,
                    ValueRef::String(_) | ValueRef::Dynamic(_) => texts += 1,
                    _ => numbers += 1,
                }
            }
        }
    }
    assert!(seen.iter().all(|s| *s), "every record is in a batch");
    assert!(categories.len() >= 4, "several categories: {categories:?}");
    assert!(
        nulls > 0 && texts > 0 && numbers > 0,
        "{nulls} {texts} {numbers}"
    );
}

#[test]
fn one_category_from_records_and_reused_after_truncate() {
    // The category with the most records.
    let all = simulated(3_000);
    let mut counts = vec![0usize; Category::ALL.len()];
    all.iter().for_each(|r| counts[r.category as usize] += 1);
    let most = all
        .iter()
        .map(|r| r.category)
        .max_by_key(|c| counts[*c as usize])
        .unwrap();
    let recs: Vec<Record> = all
        .into_iter()
        .filter(|r| r.category == most)
        .take(200)
        .collect();
    assert!(recs.len() > 100, "{} {most:?}", recs.len());
    let mut batch = Columns::from_records(most, &recs).unwrap();
    assert_eq!(batch.len(), recs.len());
    for (row, r) in recs.iter().enumerate() {
        assert_row(&batch, row, r);
    }
    // Cut in the middle of a validity word, then refill with the rows in reverse order.
    batch.truncate(70);
    assert_eq!(batch.len(), 70);
    for (row, r) in recs[..70].iter().enumerate() {
        assert_row(&batch, row, r);
    }
    assert_eq!(batch.get(70, 0), None);
    batch.clear();
    assert!(batch.is_empty() && batch.text_bytes() == 0);
    for r in recs.iter().rev() {
        batch.push(r).unwrap();
    }
    for (row, r) in recs.iter().rev().enumerate() {
        assert_row(&batch, row, r);
    }
}

#[test]
fn rejects_other_categories_and_misfits_unchanged() {
    let recs = simulated(2_000);
    let signin = recs
        .iter()
        .find(|r| r.category == Category::SignInLogs)
        .unwrap();
    let audit = recs
        .iter()
        .find(|r| r.category == Category::AuditLogs)
        .unwrap();
    let mut batch =
        Columns::from_records(Category::SignInLogs, std::slice::from_ref(signin)).unwrap();
    assert!(matches!(
        batch.push(audit),
        Err(ColumnsError::Category { .. })
    ));
    let s = schema(Category::SignInLogs);
    let mut bad = signin.clone();
    let text_col = s
        .columns
        .iter()
        .position(|c| c.ty == ColumnType::String)
        .unwrap();
    bad.values[text_col] = Value::Int(3);
    assert_eq!(
        batch.push(&bad),
        Err(ColumnsError::Misfit {
            table: Category::SignInLogs.table(),
            column: text_col
        })
    );
    bad.values = signin.values.clone();
    bad.values.push(Value::Bool(true));
    assert!(matches!(batch.push(&bad), Err(ColumnsError::Misfit { .. })));
    assert_eq!(batch.len(), 1);
    assert_row(&batch, 0, signin);
    // Short value lists read as nulls after their end.
    let mut short = signin.clone();
    short.values.truncate(2);
    batch.push(&short).unwrap();
    assert_eq!(batch.value(1, s.columns.len() - 1), ValueRef::Null);
    assert_eq!(batch.get(1, 1), Some(ValueRef::from(&signin.values[1])));
}

#[test]
fn fixed_columns_keep_nulls_and_values_across_words() {
    let mut f: Fixed<i64> = Fixed::new(0);
    for i in 0..200i64 {
        f.push((i % 3 != 0).then_some(i));
    }
    for i in 0..200usize {
        let want = (i % 3 != 0).then_some(i as i64);
        assert_eq!(f.get(i), Some(want), "row {i}");
    }
    f.truncate(65);
    f.push(None);
    f.push(Some(-1));
    assert_eq!(f.get(64), Some(Some(64)));
    assert_eq!(f.get(65), Some(None));
    assert_eq!(f.get(66), Some(Some(-1)));
    assert_eq!(f.get(67), None);
}

#[test]
fn text_columns_are_dictionaries_of_the_batch() {
    let recs: Vec<Record> = simulated(3_000)
        .into_iter()
        .filter(|r| r.category == Category::NonInteractiveUserSignInLogs)
        .collect();
    assert!(recs.len() > 100, "{}", recs.len());
    let batch = Columns::from_records(Category::NonInteractiveUserSignInLogs, &recs).unwrap();
    let s = schema(batch.category());
    let mut repeated = 0;
    for (c, col) in s.columns.iter().enumerate() {
        if !matches!(col.ty, ColumnType::String | ColumnType::Dynamic) {
            assert_eq!(batch.dict_len(c), 0);
            assert_eq!(batch.dict_id(0, c), None);
            assert_eq!(batch.dict_ids(c), None);
            continue;
        }
        // The whole column's numbers are the rows' numbers, a null as `NULL_DICT_ID`.
        let ids = batch.dict_ids(c).unwrap();
        assert_eq!(ids.len(), batch.len());
        for (row, &id) in ids.iter().enumerate() {
            assert_eq!(batch.dict_id(row, c), (id != NULL_DICT_ID).then_some(id));
        }
        let mut by_id: Vec<Option<&str>> = vec![None; batch.dict_len(c)];
        let mut distinct = std::collections::HashSet::new();
        for row in 0..batch.len() {
            let text = match batch.value(row, c) {
                ValueRef::String(t) | ValueRef::Dynamic(t) => t,
                _ => {
                    assert_eq!(batch.dict_id(row, c), None, "null row");
                    continue;
                }
            };
            distinct.insert(text);
            let id = batch.dict_id(row, c).unwrap() as usize;
            // One text per number, one number per text.
            match by_id[id] {
                Some(t) => assert_eq!(t, text, "{} row {row}", col.name),
                None => by_id[id] = Some(text),
            }
        }
        assert_eq!(batch.dict_len(c), distinct.len(), "{}", col.name);
        if distinct.len() * 4 < batch.len() && !distinct.is_empty() {
            repeated += 1;
        }
    }
    assert!(repeated >= 5, "only {repeated} columns repeat");
    let plain: usize = recs
        .iter()
        .flat_map(|r| r.values.iter())
        .filter_map(Value::as_str)
        .map(str::len)
        .sum();
    assert!(
        batch.text_bytes() < plain / 2,
        "{} vs {plain}",
        batch.text_bytes()
    );
}
