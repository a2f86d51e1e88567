//! Differential tests of the hand-written JSON parser ([`super::parse`]) against the serde_json path: where
//! it decides, it builds the same tree (down to which strings borrow); it decides every record the simulated
//! tenant renders in every shape and every shared test record; and whole decodes (records or errors) are the
//! same with it and without it.
#![allow(clippy::unwrap_used)]

use super::parse::{SERDE_ONLY, parse_fast};
use super::tree::{Node, Num};
use super::*;
use proptest::prelude::*;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::io::BufRead;

#[allow(clippy::ptr_arg)] // the Cow variant is what is compared
fn same_str(a: &Cow<'_, str>, b: &Cow<'_, str>) -> bool {
    a == b && matches!(a, Cow::Borrowed(_)) == matches!(b, Cow::Borrowed(_))
}

/// Whether two trees are equal, down to which strings borrow and to the bits of floats.
fn same(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a, b) {
        (Node::Str(x), Node::Str(y)) => same_str(x, y),
        (Node::Num(Num::F(x)), Node::Num(Num::F(y))) => x.to_bits() == y.to_bits(),
        (Node::Arr(x), Node::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Node::Obj(x), Node::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same_str(ka, kb) && same(va, vb))
        }
        _ => a == b,
    }
}

/// Parses `text` both ways; where the fast parser decides, serde_json must agree. Returns whether it decided.
fn check(text: &str) -> bool {
    let slow = Node::parse_serde(text);
    match parse_fast(text) {
        Some(fast) => {
            let slow = slow.unwrap_or_else(|e| {
                panic!("fast parser accepted what serde rejects ({e}): {text:?}")
            });
            assert!(
                same(&fast, &slow),
                "trees differ for {text:?}:\n{fast:?}\n{slow:?}"
            );
            true
        }
        None => false,
    }
}

/// Decodes `text` with and without the fast parser and asserts the same outcome.
fn check_decode(text: &str, cx: &DecodeContext) {
    let fast = decode_record(text, cx);
    SERDE_ONLY.with(|f| f.set(true));
    let slow = decode_record(text, cx);
    SERDE_ONLY.with(|f| f.set(false));
    assert_eq!(fast, slow, "{text}");
}

/// Every JSON string nested in a value that itself holds JSON (`properties` as a string and the like).
fn nested_json_strings(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::String(s) if s.trim_start().starts_with(['{', '[']) => out.push(s.clone()),
        Json::Array(a) => a.iter().for_each(|x| nested_json_strings(x, out)),
        Json::Object(o) => o.values().for_each(|x| nested_json_strings(x, out)),
        _ => {}
    }
}

#[test]
fn edge_cases_parse_like_serde_json() {
    let cases = [
        "0",
        "-0",
        "01",
        "-01",
        "1.",
        ".5",
        "+1",
        "1e",
        "-",
        "[-]",
        "1e5",
        "1E-3",
        "2.50",
        "-1.5e+10",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "9999999999999999999",
        "-9999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234",
        r#""\ud83d\ude00""#,
        r#""\ud800""#,
        r#""\udc00x""#,
        r#""\ud800\u0041""#,
        r#""\u00e9\u00E9""#,
        r#""a\x""#,
        r#""\/\b\f\n\r\t\"\\""#,
        "\"raw\u{1}control\"",
        "\"tab\there\"",
        "\"é😀\"",
        r#""\u12""#,
        "[1,]",
        r#"{"a":1,}"#,
        "  {} ",
        " [ ] ",
        "nul",
        "truex",
        "true false",
        "[true,false,null]",
        r#"{"a" : 1 , "b":[ 1 ,2 ] }"#,
        r#"{"a":1 "b":2}"#,
        r#"{"a":1}x"#,
        r#"{"a"}"#,
        r#"{1:2}"#,
        "\u{feff}{}",
        "{\"k\":\"v\"}\n",
        "\"unterminated",
        "[\"x\"",
        "",
    ];
    for c in cases {
        let decided = check(c);
        // It decides everything serde_json accepts but surrogate escapes.
        let surrogate = c.contains("\\ud8") || c.contains("\\udc");
        if Node::parse_serde(c).is_ok() && !surrogate {
            assert!(decided, "the fast parser gave up on {c:?}");
        }
    }
    let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
    assert!(!check(&deep), "nesting beyond the limit is serde_json's");
    assert!(
        Node::parse(&deep).is_err(),
        "serde_json's recursion limit still applies"
    );
    let ok = format!("{}{}", "[".repeat(90), "]".repeat(90));
    assert!(check(&ok));
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<u64>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Json::from),
        "(.|\\PC|[\"\\\\/\u{0}-\u{1f}é😀]){0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            proptest::collection::vec(("[a-zA-Z\"\\\\é]{0,6}", inner), 0..6)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn serde_rendered_values_parse_alike(v in json_value()) {
        let compact = serde_json::to_string(&v).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        prop_assert!(check(&compact), "not decided: {}", compact);
        prop_assert!(check(&pretty), "not decided: {}", pretty);
    }

    #[test]
    fn decimals_parse_to_the_same_bits(t in "-?(0|[1-9][0-9]{0,12})\\.[0-9]{1,12}", f in any::<f64>()) {
        prop_assert!(check(&t), "not decided: {}", t);
        let pair = format!("[{},{}0]", t, t);
        prop_assert!(check(&pair), "not decided: {}", pair);
        let short = format!("{:.6}", f % 1e9);
        prop_assert!(check(&short), "not decided: {}", short);
    }

    #[test]
    fn mutated_texts_parse_alike(v in json_value(), at in any::<prop::sample::Index>(), op in 0u8..3,
                                 ch in prop::sample::select(&['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '-', '.', 'e', 'u', '\n', '\u{1}', 'x'][..])) {
        let text = serde_json::to_string(&v).unwrap();
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let i = bounds[at.index(bounds.len())];
        let mut t = text.clone();
        match op {
            0 => t.insert(i, ch),
            1 if i < text.len() => { t.remove(i); }
            _ if i < text.len() => { t.remove(i); t.insert(i, ch); }
            _ => t.push(ch),
        }
        check(&t);
        check(&text[..i]);
    }
}

/// Records of the simulated tenant: every category, each in every shape it has, compact and pretty.
fn simulated() -> Vec<String> {
    let cfg = sim::TenantConfig {
        days: 2,
        users: 40,
        quirks: true,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut per_category = std::collections::BTreeMap::<&str, usize>::new();
    let mut out = Vec::new();
    for ev in sim::Generator::new(&tenant, &cfg).with_truth(false) {
        let n = per_category.entry(ev.category).or_default();
        if *n >= 40 {
            continue;
        }
        *n += 1;
        for shape in [
            sim::Shape::Diagnostic,
            sim::Shape::LogAnalytics,
            sim::Shape::Graph,
        ] {
            if let Some(v) = sim::render(&ev, shape, true, &tenant) {
                out.push(v.to_string());
                if *n <= 3 {
                    out.push(serde_json::to_string_pretty(&v).unwrap());
                }
            }
        }
    }
    assert!(
        per_category.len() >= sim::Category::ALL.len(),
        "{per_category:?}"
    );
    out
}

/// The shared Panther test records (`log` objects of every file).
fn panther() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/panther-tests");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            for line in std::io::BufReader::new(std::fs::File::open(&path).unwrap()).lines() {
                let line: Json = serde_json::from_str(&line.unwrap()).unwrap();
                out.push(line["log"].to_string());
            }
        }
    }
    assert!(out.len() >= 260, "{} Panther records", out.len());
    out
}

#[test]
fn every_simulated_and_shared_record_parses_fast_and_decodes_alike() {
    let cx = DecodeContext {
        source: "t".into(),
        location: "mem".into(),
        ingest_time: 7,
        ..DecodeContext::default()
    };
    let texts: Vec<String> = simulated().into_iter().chain(panther()).collect();
    for text in &texts {
        assert!(check(text), "the fast parser gave up on {text}");
        let mut nested = Vec::new();
        nested_json_strings(&serde_json::from_str(text).unwrap(), &mut nested);
        for n in &nested {
            check(n.trim());
        }
        check_decode(text, &cx);
    }
    // Also the input as whole streams (framing, wrappers, rejections).
    let lines = texts
        .iter()
        .filter(|t| !t.contains('\n'))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let fast: Vec<_> = decode_stream(lines.as_bytes(), Format::JsonLines, cx.clone()).collect();
    SERDE_ONLY.with(|f| f.set(true));
    let slow: Vec<_> = decode_stream(lines.as_bytes(), Format::JsonLines, cx.clone()).collect();
    SERDE_ONLY.with(|f| f.set(false));
    assert!(fast.len() > 1000, "{} items", fast.len());
    assert_eq!(fast, slow);
}
