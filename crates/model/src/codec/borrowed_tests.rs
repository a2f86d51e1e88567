//! The borrowed decode against the owned one: the same record from every valid entry, of every category,
//! and the same verdict on damaged entries.
use super::*;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => Just(Value::Null),
        2 => ".{0,20}".prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::Int),
        1 => any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Value::Real),
        1 => any::<i64>().prop_map(Value::DateTime),
        1 => ".{0,20}".prop_map(Value::Dynamic),
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Graph),
        Just(Shape::Diagnostic),
        Just(Shape::LogAnalytics)
    ]
}

/// A random record of a random category, with a value (or null) for every column of its schema.
fn any_record() -> impl Strategy<Value = Record> {
    (0..Category::ALL.len()).prop_flat_map(|c| {
        let category = Category::ALL[c];
        let columns = schema(category).columns.len();
        (
            proptest::collection::vec(value(), columns),
            any::<i64>(),
            any::<i64>(),
            ".{0,12}",
            any::<u128>(),
            any::<u32>(),
            ".{0,8}",
            shape(),
            ".{0,60}",
        )
            .prop_map(
                move |(
                    values,
                    event_time,
                    ingest_time,
                    key,
                    content_hash,
                    revision,
                    source,
                    shape,
                    raw,
                )| {
                    Record {
                        category,
                        event_time,
                        ingest_time,
                        key,
                        content_hash,
                        revision,
                        source,
                        shape,
                        values,
                        raw,
                    }
                },
            )
    })
}

/// Everything the borrowed decode says about an entry, as an owned record (or the first error).
fn borrowed(bytes: &[u8]) -> Result<Record, CodecError> {
    decode_ref(bytes)?.to_record()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn borrowed_decode_yields_what_owned_decode_yields(r in any_record()) {
        let bytes = encode_to_vec(&r);
        let owned = decode(&bytes).unwrap();
        prop_assert_eq!(&owned, &r);
        let b = decode_ref(&bytes).unwrap();
        prop_assert!(b.is_ordered());
        prop_assert_eq!(b.to_record().unwrap(), owned.clone());
        prop_assert_eq!(
            (b.category, b.event_time, b.ingest_time, b.key, b.content_hash, b.revision, b.source, b.shape),
            (r.category, r.event_time, r.ingest_time, r.key.as_str(), r.content_hash, r.revision, r.source.as_str(), r.shape)
        );
        prop_assert_eq!(b.raw().unwrap(), r.raw.as_str());
        prop_assert_eq!(b.raw_len(), r.raw.len());
        // Column by column, through every accessor.
        let dense = b.dense_values().unwrap();
        prop_assert_eq!(dense.len(), r.values.len());
        for (i, v) in r.values.iter().enumerate() {
            prop_assert_eq!(dense[i], ValueRef::from(v));
            prop_assert_eq!(b.value(i).unwrap(), ValueRef::from(v));
            prop_assert_eq!(&dense[i].to_value(), v);
        }
        let streamed: Vec<(usize, ValueRef<'_>)> = b.values().collect::<Result<_, _>>().unwrap();
        let expected: Vec<(usize, ValueRef<'_>)> = r
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_null())
            .map(|(i, v)| (i, ValueRef::from(v)))
            .collect();
        prop_assert_eq!(&streamed, &expected);
        // `select_values` yields exactly the wanted columns of `values`.
        let wanted: Vec<bool> = (0..r.values.len()).map(|i| (i * 7 + r.key.len()) % 3 != 0).collect();
        let mut selected = Vec::new();
        b.select_values(&wanted, |i, v| selected.push((i, v))).unwrap();
        let want: Vec<(usize, ValueRef<'_>)> = streamed.into_iter().filter(|(i, _)| wanted[*i]).collect();
        prop_assert_eq!(selected, want);
    }

    #[test]
    fn damaged_entries_get_the_same_verdict_owned_borrowed_and_one_pass(r in any_record(), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut bytes = encode_to_vec(&r);
        let at = at % bytes.len();
        if cut {
            bytes.truncate(at);
        } else {
            bytes[at] = byte;
        }
        let owned = decode(&bytes);
        let b = borrowed(&bytes);
        let c = cursor_read(&bytes);
        prop_assert_eq!(owned.is_ok(), b.is_ok(), "owned {:?} borrowed {:?}", owned, b);
        prop_assert_eq!(owned.is_ok(), c.is_ok(), "owned {:?} one-pass cursor {:?}", owned, c);
        if let (Ok(o), Ok(b), Ok(c)) = (owned, b, c) {
            prop_assert_eq!(&o, &b);
            prop_assert_eq!(o, c);
        }
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(decode(&bytes).is_ok(), borrowed(&bytes).is_ok());
    }
}

/// Entries with a column twice or out of order (never written by `encode`, accepted by `decode`): the last
/// occurrence counts in both decoders.
#[test]
fn unordered_entries_read_alike() {
    let mut bytes = vec![VERSION];
    put_str(&mut bytes, Category::AuditLogs.name());
    bytes.extend_from_slice(&7i64.to_le_bytes());
    bytes.extend_from_slice(&8i64.to_le_bytes());
    bytes.extend_from_slice(&9u128.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    put_str(&mut bytes, "key");
    put_str(&mut bytes, "src");
    bytes.push(1);
    put_varint(&mut bytes, 3);
    for (index, text) in [(4u64, "first"), (2, "two"), (4, "last")] {
        put_varint(&mut bytes, index);
        bytes.push(1);
        put_str(&mut bytes, text);
    }
    put_str(&mut bytes, "{}");
    let owned = decode(&bytes).unwrap();
    let b = decode_ref(&bytes).unwrap();
    assert!(!b.is_ordered());
    assert_eq!(b.value(4).unwrap(), ValueRef::String("last"));
    assert_eq!(b.value(2).unwrap(), ValueRef::String("two"));
    assert_eq!(b.value(3).unwrap(), ValueRef::Null);
    assert_eq!(owned.values[4], Value::String("last".into()));
    assert_eq!(b.to_record().unwrap(), owned);
}

/// Invalid UTF-8 in a value or in the raw text: the header decodes, reading the damaged part fails.
#[test]
fn invalid_utf8_is_reported_when_read() {
    let mut r = decode(&encode_to_vec(&Record {
        category: Category::SignInLogs,
        event_time: 1,
        ingest_time: 2,
        key: "k".into(),
        content_hash: 3,
        revision: 0,
        source: "s".into(),
        shape: Shape::Graph,
        values: vec![Value::Null; schema(Category::SignInLogs).columns.len()],
        raw: "ab".into(),
    }))
    .unwrap();
    r.values[1] = Value::String("xy".into());
    let mut bytes = encode_to_vec(&r);
    let n = bytes.len();
    bytes[n - 1] = 0xff; // in the raw text
    let b = decode_ref(&bytes).unwrap();
    assert!(b.raw().is_err());
    assert!(b.value(1).is_ok());
    assert!(decode(&bytes).is_err());
    let at = bytes.windows(2).position(|w| w == b"xy").unwrap();
    bytes[at] = 0xc0;
    let b = decode_ref(&bytes).unwrap();
    assert!(matches!(b.value(1), Err(CodecError::Invalid { .. })));
    assert!(b.to_record().is_err());
}

/// Reads an entry through [`read_entry`] in one pass: the record it describes, or the first error.
fn cursor_read(bytes: &[u8]) -> Result<Record, CodecError> {
    let mut c = read_entry(bytes)?;
    let mut values = vec![Value::Null; crate::schema::schema(c.category).columns.len()];
    while let Some(v) = c.next_value() {
        let v = v?;
        values[v.index] = v.get()?.to_value();
    }
    let (category, event_time, ingest_time, key, content_hash, revision, source, shape) = (
        c.category,
        c.event_time,
        c.ingest_time,
        c.key.to_owned(),
        c.content_hash,
        c.revision,
        c.source.to_owned(),
        c.shape,
    );
    let raw = c.finish()?.to_owned();
    Ok(Record {
        category,
        event_time,
        ingest_time,
        key,
        content_hash,
        revision,
        source,
        shape,
        values,
        raw,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn one_pass_cursor_and_visitor_read_what_decode_reads(r in any_record()) {
        let bytes = encode_to_vec(&r);
        prop_assert_eq!(cursor_read(&bytes).unwrap(), r.clone());
        let mut seen = Vec::new();
        let b = decode_ref_visiting(&bytes, |c, v| seen.push((c, v.index, v.get().unwrap(), v.is_text(), v.payload(), v.position())))
            .unwrap();
        prop_assert_eq!(b.to_record().unwrap(), r.clone());
        let expected: Vec<(usize, ValueRef<'_>)> = b.values().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(seen.len(), expected.len());
        for ((c, i, v, text, payload, at), (ei, ev)) in seen.into_iter().zip(expected) {
            prop_assert_eq!((c, i, v), (r.category, ei, ev));
            prop_assert_eq!(&bytes[at..at + payload.len()], payload);
            if let ValueRef::String(s) | ValueRef::Dynamic(s) = ev {
                prop_assert!(text);
                prop_assert_eq!(payload, s.as_bytes());
            } else {
                prop_assert!(!text);
            }
        }
    }
}
