//! The malformed-input corpus: every kind of bad item becomes a `Rejected` with its position, raw bytes and a
//! reason naming the field, and the good items around it still decode.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use model::Format;
use model::limits::MAX_RECORD_BYTES;

mod common;
use common::run;

const GOOD: &str = r#"{"id":"g1","createdDateTime":"2024-03-04T10:00:00Z","userPrincipalName":"a@b.c","appId":"x","status":{"errorCode":0}}"#;
const GOOD_DIAG: &str = r#"{"time":"2024-03-04T10:00:05Z","category":"AuditLogs","operationName":"Add user","resourceId":"/tenants/t/providers/Microsoft.aadiam","properties":{"id":"a1","activityDateTime":"2024-03-04T10:00:00Z","activityDisplayName":"Add user"}}"#;

/// One corpus case: input, format, expected good records, and per rejection (position, reason fragment).
struct Case {
    name: &'static str,
    input: Vec<u8>,
    format: Format,
    good: usize,
    rejected: Vec<(&'static str, &'static str)>,
}

fn case(
    name: &'static str,
    input: impl Into<Vec<u8>>,
    format: Format,
    good: usize,
    rejected: Vec<(&'static str, &'static str)>,
) -> Case {
    Case {
        name,
        input: input.into(),
        format,
        good,
        rejected,
    }
}

fn corpus() -> Vec<Case> {
    use Format::{Csv, JsonArray, JsonDocument, JsonLines};
    let lines = |bad: &str| format!("{GOOD}\n{bad}\n{GOOD_DIAG}\n");
    let mut long = GOOD.as_bytes().to_vec();
    long.push(b'\n');
    long.extend_from_slice(b"{\"pad\":\"");
    long.resize(
        long.len() + usize::try_from(MAX_RECORD_BYTES).unwrap() + 10,
        b'x',
    );
    long.extend_from_slice(b"\"}\n");
    long.extend_from_slice(GOOD_DIAG.as_bytes());
    let mut bad_utf8 = format!("{GOOD}\n").into_bytes();
    bad_utf8.extend_from_slice(b"{\"id\":\"\xc3\x28\"}\n");
    bad_utf8.extend_from_slice(GOOD_DIAG.as_bytes());
    let csv_head =
        "TimeGenerated [UTC],Type,Id,ActivityDateTime [UTC],ActivityDisplayName,InitiatedBy\n";
    vec![
        case(
            "malformed JSON",
            lines("{\"id\": tru}"),
            JsonLines,
            2,
            vec![("line 2", "malformed JSON")],
        ),
        case(
            "array record",
            lines("[1,2]"),
            JsonLines,
            2,
            vec![("line 2", "must be a JSON object, found an array")],
        ),
        case(
            "number record",
            lines("42"),
            JsonLines,
            2,
            vec![("line 2", "found a number")],
        ),
        case(
            "string record",
            lines("\"hello\""),
            JsonLines,
            2,
            vec![("line 2", "found a string")],
        ),
        case(
            "invalid UTF-8",
            bad_utf8,
            JsonLines,
            2,
            vec![("line 2", "invalid UTF-8 at byte 7")],
        ),
        case(
            "over-long line",
            long,
            JsonLines,
            2,
            vec![("line 2", "line longer than")],
        ),
        case(
            "missing time",
            lines(
                r#"{"id":"m","userPrincipalName":"u","appId":"a","createdDateTime":null,"status":{}}"#,
            ),
            JsonLines,
            2,
            vec![("line 2", "unknown record")],
        ),
        case(
            "bad time",
            lines(
                r#"{"id":"m","userPrincipalName":"u","appId":"a","createdDateTime":"yesterday","status":{}}"#,
            ),
            JsonLines,
            2,
            vec![(
                "line 2",
                r#"field createdDateTime: not a timestamp: "yesterday""#,
            )],
        ),
        case(
            "bad envelope time",
            lines(
                r#"{"time":"soon","category":"Administrative","operationName":"x","resourceId":"/subscriptions/s"}"#,
            ),
            JsonLines,
            2,
            vec![("line 2", "field time: not a timestamp")],
        ),
        case(
            "unknown object",
            lines(r#"{"foo":1,"bar":2}"#),
            JsonLines,
            2,
            vec![("line 2", "unknown record")],
        ),
        case(
            "security alert",
            lines(
                r#"{"id":"a","title":"x","serviceSource":"y","createdDateTime":"2024-03-04T10:00:00Z"}"#,
            ),
            JsonLines,
            2,
            vec![("line 2", "security alert")],
        ),
        case(
            "unknown LA table",
            lines(
                r#"{"TimeGenerated":"2024-03-04T10:00:00Z","Type":"OfficeActivity","Operation":"x"}"#,
            ),
            JsonLines,
            2,
            vec![(
                "line 2",
                "field Type: Log Analytics table \"OfficeActivity\"",
            )],
        ),
        case(
            "properties not an object",
            lines(r#"{"time":"2024-03-04T10:00:00Z","category":"SignInLogs","properties":[1]}"#),
            JsonLines,
            2,
            vec![("line 2", "field properties: not an object: an array")],
        ),
        case(
            "properties missing",
            lines(
                r#"{"time":"2024-03-04T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity"}"#,
            ),
            JsonLines,
            2,
            vec![("line 2", "field properties: missing")],
        ),
        case(
            "flowTuples not an array",
            lines(
                r#"{"time":"2024-03-04T10:00:00Z","category":"NetworkSecurityGroupFlowEvent","properties":{"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":"1,2"}]}]}}"#,
            ),
            JsonLines,
            2,
            vec![(
                "line 2",
                "field properties.flows[0].flows[0].flowTuples: not an array: a string",
            )],
        ),
        case(
            "short flow tuple",
            lines(
                r#"{"time":"2024-03-04T10:00:00Z","category":"NetworkSecurityGroupFlowEvent","properties":{"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":["1,2,3"]}]}]}}"#,
            ),
            JsonLines,
            2,
            vec![("line 2", "flowTuples[0]: flow tuple has neither 8")],
        ),
        case(
            "bad element in an Event Hubs body",
            lines(&format!(
                r#"{{"records":[{GOOD_DIAG},{{"category":"AuditLogs","properties":{{"id":"x"}}}},7]}}"#
            )),
            JsonLines,
            3,
            vec![
                (
                    "line 2 record 2",
                    "field properties.activityDateTime: no event time",
                ),
                ("line 2 record 3", "found a number"),
            ],
        ),
        case(
            "bad element in a Graph page",
            lines(&format!(
                r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{GOOD},{{"id":"y","createdDateTime":"2024-13-01T00:00:00Z"}}]}}"#
            )),
            JsonLines,
            3,
            vec![("line 2 record 2", "field createdDateTime: not a timestamp")],
        ),
        case(
            "blank lines and CRLF",
            format!("\r\n{GOOD}\r\n   \r\n{GOOD_DIAG}\r\n"),
            JsonLines,
            2,
            vec![],
        ),
        case(
            "array: bad elements",
            format!("[{GOOD}, 17, {{\"id\": tru}} {GOOD_DIAG}]"),
            JsonArray,
            2,
            vec![
                ("element 2", "found a number"),
                ("element 3", "malformed JSON"),
            ],
        ),
        case(
            "array: truncated",
            format!("[{GOOD},\n{GOOD_DIAG},\n{{\"id\":\"cut"),
            JsonArray,
            2,
            vec![("element 3", "unexpected end of input")],
        ),
        case(
            "array: stray bytes",
            format!("junk\n[{GOOD}]\n]"),
            JsonArray,
            1,
            vec![
                ("line 1", "outside any JSON value"),
                ("line 3", "outside any JSON value"),
            ],
        ),
        case(
            "document: bad record",
            format!(
                "{{\n  \"records\": [\n    {GOOD_DIAG},\n    {{\"nope\": 1}},\n    {GOOD_DIAG}\n  ]\n}}\n"
            ),
            JsonDocument,
            2,
            vec![("line 4 record 2", "unknown record")],
        ),
        case(
            "document: truncated",
            format!("{{\n  \"records\": [\n    {GOOD_DIAG},\n    {{\"time\": \"2024"),
            JsonDocument,
            1,
            vec![("line 4 record 2", "unexpected end of input")],
        ),
        case(
            "csv: wrong cell count",
            format!(
                "{csv_head}2024-03-04T10:00:05Z,AuditLogs,a1,2024-03-04T10:00:00Z,Add user,\"{{\"\"user\"\":{{}}}}\"\nx,y\n2024-03-04T10:00:05Z,AuditLogs,a2,2024-03-04T10:00:00Z,Add user,\n"
            ),
            Csv,
            2,
            vec![("row 2", "row has 2 cells, the header has 6")],
        ),
        // An unknown `Type` falls back to the columns (a query export may overwrite `Type`): row 2 is AuditLogs.
        case(
            "csv: bad time, overwritten Type",
            format!(
                "{csv_head}2024-03-04T10:00:05Z,AuditLogs,a1,later,Add user,\n2024-03-04T10:00:05Z,Nope,a2,2024-03-04T10:00:00Z,Add user,\n2024-03-04T10:00:05Z,AuditLogs,a3,\"3/4/2024, 10:00:00.123 AM\",Add user,\n"
            ),
            Csv,
            2,
            vec![(
                "row 1",
                "field ActivityDateTime: not a timestamp: \"later\"",
            )],
        ),
        case(
            "csv: unknown table",
            "TimeGenerated,Type,Operation\n2024-03-04T10:00:05Z,OfficeActivity,x\n",
            Csv,
            0,
            vec![(
                "row 1",
                "Log Analytics table \"OfficeActivity\" is not an entrail category",
            )],
        ),
    ]
}

#[test]
fn malformed_inputs_are_rejected_and_decoding_goes_on() {
    let mut csv_bad = b"TimeGenerated,Type,Id,ActivityDateTime,ActivityDisplayName\n".to_vec();
    csv_bad.extend_from_slice(b"2024-03-04T10:00:05Z,AuditLogs,a\xff,2024-03-04T10:00:00Z,x\n2024-03-04T10:00:05Z,AuditLogs,b,2024-03-04T10:00:00Z,x\n");
    let mut cases = corpus();
    cases.push(case(
        "csv: invalid UTF-8",
        csv_bad,
        Format::Csv,
        1,
        vec![("row 1", "field Id: invalid UTF-8")],
    ));
    for c in cases {
        let (ok, bad) = run(&c.input, c.format);
        let got: Vec<(String, String)> = bad
            .iter()
            .map(|r| (r.position.at.clone(), r.reason.clone()))
            .collect();
        assert_eq!(
            ok.len(),
            c.good,
            "{}: good records; rejections {got:?}",
            c.name
        );
        assert_eq!(
            bad.len(),
            c.rejected.len(),
            "{}: rejections {got:?}",
            c.name
        );
        for (r, (at, reason)) in bad.iter().zip(&c.rejected) {
            assert_eq!(r.position.at, *at, "{}: {got:?}", c.name);
            assert!(
                r.reason.contains(reason),
                "{}: {:?} lacks {reason:?}",
                c.name,
                r.reason
            );
            assert_eq!(r.position.source, "t");
            assert_eq!(r.position.location, "mem");
            assert!(
                !r.raw.is_empty() || r.reason.contains("end of input"),
                "{}: no raw bytes",
                c.name
            );
            assert!(r.raw.len() as u64 <= MAX_RECORD_BYTES);
        }
    }
}
