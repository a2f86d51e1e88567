//! The fast parser against serde_json: same tree where it answers, and `parse` the same result always.

use super::{fast, parse};
use crate::normalize::tree::Node;
use proptest::prelude::*;

fn serde(text: &str) -> Result<Node<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

/// `parse` agrees with serde_json (tree or error), and the fast path, where it answers, too.
fn agrees(text: &str) {
    let ours = parse(text);
    let theirs = serde(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
        _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
    if let Some(f) = fast(text) {
        assert_eq!(Ok(&f), theirs.as_ref().map_err(|_| ()), "{text:?}");
    }
}

#[test]
fn edge_cases_agree_with_serde_json() {
    for text in [
        r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        " { \"a\" : [ 1 , 2 ] }\n",
        "-0",
        "0",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678",
        "1234567890123456789",
        "1.5",
        "-2.5e-3",
        "1E400",
        "47.6062095",
        "0.1e1",
        "01",
        "1.",
        ".5",
        "1e",
        "-",
        r#""\u00e9\ud83d\ude00\n\t\"\\\/""#,
        r#""\ud83d""#,
        r#""\ude00x""#,
        r#""\ud83dx""#,
        r#""\u12""#,
        "\"tab\there\"",
        r#""a\qb""#,
        r#"{"a":1,}"#,
        r#"[1,]"#,
        r#"{"a" 1}"#,
        r#"{"a":1}x"#,
        r#"{"a":1} "#,
        "",
        "   ",
        "nul",
        "truex",
        r#"{"a":1,"a":2}"#,
        r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
    ] {
        agrees(text);
    }
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    agrees(&deep);
    let deep_ok = format!(
        "{}{}",
        "{\"a\":".repeat(90),
        "1".to_owned() + &"}".repeat(90)
    );
    agrees(&deep_ok);
    assert!(fast(&deep_ok).is_some());
}

#[test]
fn strings_without_escapes_borrow() {
    let n = fast(r#"{"k":"plain","e":"x\ny"}"#).unwrap();
    let obj = n.as_obj().unwrap();
    assert!(matches!(
        &obj[0].1,
        Node::Str(std::borrow::Cow::Borrowed("plain"))
    ));
    assert!(matches!(&obj[1].1, Node::Str(std::borrow::Cow::Owned(s)) if s == "x\ny"));
}

#[test]
fn the_shared_test_corpus_parses_on_the_fast_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/panther-tests");
    let mut lines = 0;
    for entry in std::fs::read_dir(&dir).expect("shared testdata") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        #[allow(clippy::disallowed_methods)]
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            agrees(line);
            assert!(fast(line).is_some(), "{}: {line}", path.display());
            lines += 1;
        }
    }
    assert!(lines > 50, "only {lines} lines");
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<u64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn generated_json_parses_the_same(v in json(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let f = fast(&text);
        prop_assert!(f.is_some(), "fast path refused valid JSON {}", text);
        prop_assert_eq!(f.unwrap(), serde(&text).unwrap());
    }

    #[test]
    fn damaged_json_gets_serde_json_verdicts(v in json(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = v.to_string().into_bytes();
        if !text.is_empty() {
            let i = cut.index(text.len());
            text[i] = byte;
        }
        if let Ok(text) = String::from_utf8(text) {
            agrees(&text);
        }
    }
}
