//! Tests of the streaming JSON scanner.

use super::*;

fn items(input: &str) -> Vec<Result<(String, String), (String, String)>> {
    Scanner::new(input.as_bytes())
        .map(|r| match r {
            Ok(Item {
                at,
                body: Body::Json(s),
                ..
            }) => Ok((at, s)),
            Ok(_) => Err(("row".into(), String::new())),
            Err(f) => Err((f.at, f.reason)),
        })
        .collect()
}

#[test]
fn arrays_stream_element_by_element() {
    let got = items(" [ {\"a\": \"x]}\\\"\"} , [1,2],\n{\"b\":{}} ]\n");
    assert_eq!(
        got,
        vec![
            Ok(("element 1".into(), "{\"a\": \"x]}\\\"\"}".into())),
            Ok(("element 2".into(), "[1,2]".into())),
            Ok(("element 3".into(), "{\"b\":{}}".into())),
        ]
    );
}

#[test]
fn wrappers_yield_their_records_and_skip_the_rest() {
    let doc = "{\n \"@odata.context\": \"x#auditLogs/signIns\",\n \"value\": [\n  {\"id\": 1},\n  {\"id\": 2}\n ],\n \"@odata.nextLink\": \"n\"\n}\n{\"records\":[{\"id\":3}]}";
    let mut s = Scanner::new(doc.as_bytes());
    let first = s.next().and_then(Result::ok).unwrap();
    assert_eq!(first.at, "line 4 record 1");
    assert_eq!(first.context.as_deref(), Some("x#auditLogs/signIns"));
    let rest: Vec<_> = s.map(|r| r.ok().map(|i| i.at)).collect();
    assert_eq!(
        rest,
        vec![
            Some("line 5 record 2".into()),
            Some("line 9 record 1".into())
        ]
    );
}

#[test]
fn plain_objects_are_one_item_each() {
    let got = items("{\n  \"time\": \"t\",\n  \"value\": [1]\n}\n{\"a\":1}");
    assert_eq!(
        got,
        vec![
            Ok(("line 1".into(), "{\"time\":\"t\",\"value\":[1]}".into())),
            Ok(("line 5".into(), "{\"a\":1}".into())),
        ]
    );
}

#[test]
fn truncation_and_garbage_are_reported() {
    let got = items("garbage here\n[{\"a\":1}, {\"b\":");
    assert!(
        matches!(&got[0], Err((at, r)) if at == "line 1" && r.contains("outside any JSON value"))
    );
    assert_eq!(got[1], Ok(("element 1".into(), "{\"a\":1}".into())));
    assert!(matches!(&got[2], Err((at, r)) if at == "element 2" && r.contains("end of input")));
    assert_eq!(got.len(), 3);
}
