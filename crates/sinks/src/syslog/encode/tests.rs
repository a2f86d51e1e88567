//! The fast CEF/LEEF path against the general path (the reference: fields by name, every attribute
//! collected, then written), the table-driven escaper against the per-character rules, and the timestamp
//! and integer writers against the model's formatting.

use super::escape::{
    Escaper, Rule, esc_cef_value, esc_header, esc_leef_value, push_i64, push_rfc3339,
};
use super::plan::Plan;
use super::{Encoder, SyslogConfig, SyslogEncoding};
use model::{Category, ColumnType, DecodeContext, Record, Shape, Value, schema};
use std::io::BufRead;

const HOSTILE: &[&str] = &[
    "plain",
    "x\r\n<13>1 - forged",
    "a|b\\c=d^e\tf\u{0}g\u{7f}h\u{1f}",
    "✓ 日本語 \u{FFFD} \u{85}\u{9f}\u{a0}\u{c2}é",
    "key=value x=y\\",
    "HIGH",
    "Critical",
    "",
    "0",
    "1'-:.TZ x^|",
];

/// Every character class the escapers care about, and some they do not.
fn corpus() -> Vec<String> {
    let mut all: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    all.push((0u32..0x300).filter_map(char::from_u32).collect());
    all.push((0u32..0x300).rev().filter_map(char::from_u32).collect());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for len in [1, 2, 7, 64, 300] {
        let s: String = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pool = "ab=|\\^\t\r\n\u{0}\u{7f}\u{85}é✓x :-.";
                let chars: Vec<char> = pool.chars().collect();
                chars[(seed % chars.len() as u64) as usize]
            })
            .collect();
        all.push(s);
    }
    all
}

/// A record of `category` with `value` in every text column, a nested object (with a nested JSON string)
/// in every dynamic column, and numbers elsewhere.
fn filled(category: Category, value: &str, n: i64) -> Record {
    let s = schema(category);
    let nested = serde_json::json!({
        "User": {"UserPrincipalName": value, "id": value, "ipAddress": "10.0.0.1"},
        "app": {"displayName": value, "servicePrincipalId": format!("{{\"x\":\"{value}\"}}")},
        "list": [value, n],
    })
    .to_string();
    let values = s
        .columns
        .iter()
        .map(|c| match c.ty {
            ColumnType::String => Value::String(value.to_owned()),
            ColumnType::Dynamic => Value::Dynamic(nested.clone()),
            ColumnType::Int | ColumnType::Long => Value::Int(n),
            ColumnType::Bool => Value::Bool(n % 2 == 0),
            ColumnType::Real => Value::Real(n as f64 / 4.0),
            ColumnType::DateTime => Value::DateTime(1_700_000_000_000_000 + n),
        })
        .collect();
    Record {
        category,
        event_time: 1_700_000_000_123_456 + n * 1_000_003,
        ingest_time: 0,
        key: format!("{value}-{n}"),
        content_hash: 1,
        revision: 0,
        source: "t".into(),
        shape: Shape::Graph,
        values,
        raw: "{}".into(),
    }
}

/// The golden normalize inputs of every category that has them.
fn golden() -> Vec<Record> {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/testdata/normalize");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(category) = Category::from_name(&name) else {
            continue;
        };
        for file in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            if !file.to_string_lossy().contains(".input.") {
                continue;
            }
            let mut reader = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
            let format = model::detect_format(reader.fill_buf().unwrap());
            let cx = DecodeContext {
                source: "t".into(),
                location: file.display().to_string(),
                ingest_time: 1,
                category: Some(category),
                shape: None,
            };
            out.extend(model::decode_stream(reader, format, cx).filter_map(Result::ok));
        }
    }
    out
}

fn encoder(encoding: SyslogEncoding, max: usize, delimiter: char) -> Encoder {
    let mut c = SyslogConfig::new("s", "127.0.0.1:514");
    c.encoding = encoding;
    c.max_message_bytes = Some(max);
    c.leef_delimiter = delimiter;
    Encoder::new(&c, "host")
}

/// Asserts the fast path takes `record` and writes what the general path writes.
fn same(enc: &Encoder, record: &Record, what: &str) {
    let plan = &enc.plans[record.category as usize];
    assert_eq!(plan.category, record.category);
    let fast = match enc.encoding {
        SyslogEncoding::Rfc5424Json => enc.json(record, plan),
        e => enc.flat(record, plan, e == SyslogEncoding::Cef),
    }
    .unwrap_or_else(|| panic!("{what}: the fast path gave up"));
    assert_eq!(fast, enc.encode_general(record), "{what}");
    assert_eq!(enc.encode(record), fast, "{what}");
}

#[test]
fn fast_path_writes_what_the_general_path_writes_for_every_category() {
    // Large enough for the generic mapping's `msg` (the whole record) of a long value in every column.
    let max = 1 << 22;
    let mut encoders = vec![
        encoder(SyslogEncoding::Cef, max, '^'),
        encoder(SyslogEncoding::Rfc5424Json, max, '^'),
    ];
    for d in ['^', '\t', 'x', ':', '-', '1', ' '] {
        encoders.push(encoder(SyslogEncoding::Leef, max, d));
    }
    let mut checked = 0;
    for enc in &encoders {
        for (n, value) in corpus().iter().enumerate() {
            for &category in Category::ALL {
                let r = filled(category, value, n as i64 - 3);
                same(
                    enc,
                    &r,
                    &format!("{:?} {category:?} {value:?}", enc.encoding),
                );
                checked += 1;
            }
        }
        for r in golden() {
            same(enc, &r, &format!("{:?} golden {}", enc.encoding, r.key));
            checked += 1;
        }
        // Times outside years 0..=9999 (the model's formatting), a NaN, a dynamic column that is no JSON.
        for &category in Category::ALL {
            let mut r = filled(category, "v", 1);
            r.event_time = 320_000_000_000_000_000;
            r.ingest_time = -70_000_000_000_000_000;
            for v in &mut r.values {
                match v {
                    Value::Real(f) => *f = f64::NAN,
                    Value::DateTime(t) => *t = -70_000_000_000_000_000,
                    Value::Dynamic(d) => *d = "not json \u{7f}\"\n".into(),
                    _ => {}
                }
            }
            same(
                enc,
                &r,
                &format!("{:?} {category:?} odd values", enc.encoding),
            );
        }
    }
    assert!(checked > 1000, "{checked}");
    assert!(
        golden().iter().any(|r| r.category == Category::AuditLogs),
        "golden audit records present"
    );
}

#[test]
fn audit_paths_reach_into_dynamic_columns_once_parsed() {
    let r = filled(Category::AuditLogs, "Ann@X", 2);
    let m = encoder(SyslogEncoding::Cef, 65_536, '^').encode(&r);
    // Keys matched ignoring case ("User" for "user"), nested JSON text parsed on the way.
    assert!(m.contains(" suser=Ann@X "), "{m}");
    assert!(m.contains(" src=10.0.0.1 "), "{m}");
    let r = filled(Category::AuditLogs, "", 2);
    let m = encoder(SyslogEncoding::Cef, 65_536, '^').encode(&r);
    assert!(!m.contains(" suser="), "empty values are left out: {m}");
}

#[test]
fn messages_at_the_limit_stay_fast_and_one_byte_over_are_cut() {
    let r = filled(Category::SignInLogs, &"v".repeat(300), 1);
    for encoding in [
        SyslogEncoding::Cef,
        SyslogEncoding::Leef,
        SyslogEncoding::Rfc5424Json,
    ] {
        let full = encoder(encoding, 1 << 20, '^').encode(&r);
        let at = encoder(encoding, full.len(), '^');
        same(&at, &r, "at the limit");
        let over = encoder(encoding, full.len() - 1, '^');
        let plan = &over.plans[r.category as usize];
        let fast = match encoding {
            SyslogEncoding::Rfc5424Json => over.json(&r, plan),
            e => over.flat(&r, plan, e == SyslogEncoding::Cef),
        };
        assert!(fast.is_none(), "{encoding:?}");
        let cut = over.encode(&r);
        assert!(cut.len() < full.len(), "{encoding:?}");
        assert!(
            cut.contains(crate::TRUNCATION_MARKER),
            "{encoding:?}: {cut}"
        );
        assert_eq!(cut, over.encode_general(&r));
    }
}

#[test]
fn table_escaper_applies_the_per_character_rules() {
    type CharRule = Box<dyn Fn(char, &mut String)>;
    let rules: Vec<(Rule, CharRule)> = vec![
        (Rule::Header, Box::new(esc_header)),
        (Rule::CefValue, Box::new(esc_cef_value)),
        (
            Rule::LeefValue('^'),
            Box::new(|c, o| esc_leef_value(c, '^', o)),
        ),
        (
            Rule::LeefValue('\t'),
            Box::new(|c, o| esc_leef_value(c, '\t', o)),
        ),
        (
            Rule::LeefValue('x'),
            Box::new(|c, o| esc_leef_value(c, 'x', o)),
        ),
        (
            Rule::LeefValue('é'),
            Box::new(|c, o| esc_leef_value(c, 'é', o)),
        ),
    ];
    for (rule, esc) in &rules {
        let table = Escaper::new(*rule);
        for s in corpus() {
            let mut want = String::new();
            s.chars().for_each(|c| esc(c, &mut want));
            let mut got = String::from("prefix");
            table.push(&s, &mut got);
            assert_eq!(got, format!("prefix{want}"), "{rule:?} {s:?}");
            // Clean means unchanged (it may be conservative for a non-ASCII delimiter).
            assert!(!table.is_clean(&s) || want == s, "{rule:?} {s:?}");
            if matches!(rule, Rule::Header | Rule::CefValue | Rule::LeefValue('^')) {
                assert_eq!(table.is_clean(&s), want == s, "{rule:?} {s:?}");
            }
            assert!(!got.chars().any(char::is_control), "{rule:?} {got:?}");
        }
    }
}

#[test]
fn timestamp_and_integer_writers_match_the_standard_formatting() {
    for micros in [
        0,
        1_700_000_000_123_456,
        951_782_400_000_001,
        4_107_542_399_999_999,
        -1,
        -86_400_000_001,
        253_402_300_799_999_999,
    ] {
        // The model's (chrono's) `...SS.ffffffZ`; milliseconds are its first three fraction digits.
        let six = model::format_micros(micros);
        let three = format!("{}Z", &six[..six.len() - 4]);
        for (digits, want) in [(3, three), (6, six)] {
            let mut out = String::new();
            assert!(push_rfc3339(&mut out, micros, digits));
            assert_eq!(out, want, "{micros} {digits}");
        }
    }
    let mut out = String::new();
    assert!(!push_rfc3339(&mut out, 253_402_300_800_000_000, 3));
    assert!(!push_rfc3339(&mut out, -62_167_219_200_000_001, 6));
    assert_eq!(out, "", "nothing written out of range");
    for n in [0, 7, -7, 10, 1_700_000_000_123, i64::MIN, i64::MAX] {
        let mut out = String::new();
        push_i64(&mut out, n);
        assert_eq!(out, n.to_string());
    }
}

#[test]
fn plans_resolve_mapped_names_to_the_columns_of_that_name() {
    use super::plan::Src;
    let mut columns = 0;
    for &category in Category::ALL {
        let plan = Plan::new(category);
        let s = schema(category);
        assert_eq!(plan.fields.len(), plan.map.fields.len(), "{category:?}");
        for (f, srcs) in plan.map.fields.iter().zip(&plan.fields) {
            assert_eq!(srcs.len(), f.columns.len(), "{category:?} {}", f.cef);
            for (name, src) in f.columns.iter().zip(srcs) {
                match *src {
                    Src::Col(i) => {
                        assert!(s.columns[i].name.eq_ignore_ascii_case(name), "{name}");
                        columns += 1;
                    }
                    Src::Path { col, path } => {
                        let (column, rest) = name.split_once('.').unwrap();
                        assert!(s.columns[col].name.eq_ignore_ascii_case(column), "{name}");
                        assert_eq!(path, rest);
                    }
                    Src::Missing => assert!(s.index_of(name).is_none(), "{name}"),
                }
            }
        }
    }
    assert!(columns > 50, "{columns}");
    let signin = Plan::new(Category::SignInLogs);
    assert!(
        matches!(signin.fields[1][0], Src::Col(_)),
        "UserPrincipalName is a column"
    );
}
