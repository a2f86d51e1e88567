//! Tests of `_Raw` residuals: byte-exact round trips, what is referred to, and malformed residuals.
use datafusion::arrow::array::{Array, AsArray};
use proptest::prelude::*;

use super::*;

/// The stored form of `raw` with text columns `values` (k-th = column k).
fn stored(raw: &str, values: &[Option<&str>]) -> String {
    let mut e = Encoder::default();
    e.clear();
    for (k, v) in values.iter().enumerate() {
        if let Some(v) = v {
            e.add(k, v);
        }
    }
    let mut out = String::new();
    e.encode(raw, &mut out);
    out
}

fn back(stored: &str, values: &[Option<&str>]) -> Result<String, ResidualError> {
    decode(stored, |k| values.get(k).copied().flatten()).map(|c| c.into_owned())
}

const RAW: &str = r#"{"time":"2026-11-20T10:00:00Z","properties":{"id":"6f1c2a9e-8d3b-4c1e-9f2a-0b1c2d3e4f5a","originalRequestId":"6f1c2a9e-8d3b-4c1e-9f2a-0b1c2d3e4f5a","userPrincipalName":"ada@contoso.com","location":{"city":"Oslo","geoCoordinates":{"latitude":59.91}},"ip":"10.0.0.1","a":"\"quoted\" ada@contoso.com"}}"#;

#[test]
fn strings_and_objects_equal_to_columns_become_references_and_come_back_byte_for_byte() {
    let values = [
        Some("6f1c2a9e-8d3b-4c1e-9f2a-0b1c2d3e4f5a"),
        Some("ada@contoso.com"),
        Some(r#"{"city":"Oslo","geoCoordinates":{"latitude":59.91}}"#),
        None,
        Some("6f1c2a9e-8d3b-4c1e-9f2a-0b1c2d3e4f5a"),
        Some("10.0.0.1"),
    ];
    let s = stored(RAW, &values);
    assert!(is_residual(&s));
    // Both ids refer to the first of the equal columns, the location object to column 2 as a whole.
    assert_eq!(s.matches("\0\u{2}").count(), 2, "{s:?}");
    assert_eq!(s.matches("\0\u{3}").count(), 1, "{s:?}");
    assert_eq!(s.matches("\0\u{4}").count(), 1, "{s:?}");
    assert_eq!(s.matches("\0\u{7}").count(), 1, "{s:?}");
    assert!(!s.contains("Oslo") && !s.contains("6f1c2a9e"), "{s:?}");
    // Inside another string the value is not a whole string, so it stays.
    assert!(s.contains(r#"\"quoted\" ada@contoso.com"#), "{s:?}");
    assert_eq!(back(&s, &values).unwrap(), RAW);
}

#[test]
fn raw_with_nothing_to_refer_to_is_stored_as_it_is() {
    let s = stored(RAW, &[Some("not in it"), Some("ab")]);
    assert_eq!(s, RAW);
    assert!(!is_residual(&s));
    assert_eq!(back(&s, &[]).unwrap(), RAW);
}

#[test]
fn nul_bytes_of_the_raw_text_are_escaped_and_a_leading_nul_is_never_read_as_a_marker() {
    let raw = "\0<13>host \"abc\0def\" \0";
    let plain = stored(raw, &[Some("zzz")]);
    assert!(
        is_residual(&plain),
        "a raw text starting with NUL must be escaped"
    );
    assert_eq!(back(&plain, &[]).unwrap(), raw);
    let referred = stored(raw, &[Some("abc\0def")]);
    assert!(!referred.contains("abc"), "{referred:?}");
    assert_eq!(back(&referred, &[Some("abc\0def")]).unwrap(), raw);
}

#[test]
fn a_reference_to_a_null_column_or_a_cut_marker_is_an_error() {
    let s = stored(RAW, &[Some("ada@contoso.com")]);
    assert_eq!(
        back(&s, &[None]),
        Err(ResidualError::MissingColumn { column: 0 })
    );
    assert_eq!(
        back("\0abc\0", &[]),
        Err(ResidualError::Malformed { at: 4 })
    );
    assert_eq!(
        back("\0abc\0\u{80}", &[]),
        Err(ResidualError::Malformed { at: 4 })
    );
}

#[test]
fn text_columns_are_the_utf8_data_columns_in_order() {
    use datafusion::arrow::datatypes::Field;
    let schema = Schema::new(vec![
        Field::new("A", DataType::Utf8, true),
        Field::new("B", DataType::Int64, true),
        Field::new("C", DataType::Utf8View, true),
        Field::new("_Raw", DataType::Utf8, true),
    ]);
    assert_eq!(text_columns(&schema, 3), vec![0, 2]);
}

/// Text made of the bytes that matter to the scanner, and values cut from it.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\""),
            Just("\\"),
            Just("{"),
            Just("}"),
            Just("["),
            Just("]"),
            Just("\0"),
            Just("abc"),
            Just("é"),
            Just(":"),
            Just(","),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn any_text_with_any_values_comes_back_byte_for_byte(
        raw in text(),
        cuts in proptest::collection::vec((0usize..60, 0usize..60), 0..8),
        extra in proptest::collection::vec(text(), 0..3),
    ) {
        let mut values: Vec<String> = cuts
            .iter()
            .filter_map(|&(a, b)| raw.get(a.min(b)..a.max(b)).map(str::to_owned))
            .collect();
        values.extend(extra);
        let refs: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
        let s = stored(&raw, &refs);
        prop_assert_eq!(back(&s, &refs).unwrap(), raw);
    }
}

#[test]
fn keys_equal_to_the_id_column_become_one_reference_and_others_stay() {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    let schema = crate::archive::arrow_schema(model::Category::SignInLogs);
    let data = model::schema(model::Category::SignInLogs).columns.len();
    let (id, k) = key_column(model::Category::SignInLogs, &schema, data).unwrap();
    assert_eq!(schema.field(id).name(), "Id");
    assert!(key_column(model::Category::Syslog, &schema, data).is_none());
    let keys: ArrayRef = std::sync::Arc::new(StringArray::from(vec![
        Some("a1"),
        Some("h:ff"),
        Some("\0odd"),
        None,
    ]));
    let ids: ArrayRef =
        std::sync::Arc::new(StringArray::from(vec![Some("a1"), Some("b2"), None, None]));
    let stored = encode_key_column(&[ids.clone(), keys], 1, (0, k)).unwrap();
    let stored = stored.as_string::<i32>();
    assert_eq!(stored.value(0), reference(k));
    assert_eq!(stored.value(1), "h:ff");
    assert!(stored.is_null(3));
    let ids = ids.as_string::<i32>();
    let column = |row: usize| move |c: usize| (c == k && ids.is_valid(row)).then(|| ids.value(row));
    assert_eq!(back_with(stored.value(0), column(0)), "a1");
    assert_eq!(back_with(stored.value(2), column(2)), "\0odd");
}

fn back_with<'s>(stored: &'s str, column: impl Fn(usize) -> Option<&'s str>) -> String {
    decode(stored, column).unwrap().into_owned()
}
