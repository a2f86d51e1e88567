//! Sigma semantics, one test per modifier, on hand-written rules over canonical records (condition forms,
//! null/exists, numbers, paths: `semantics_forms.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::rules::{audit, engine_for, hit, rec};
use detect::EngineConfig;
use model::Category;

#[test]
fn equality_ignores_case_and_lists_are_or() {
    let mut e = audit(
        "    sel:\n        OperationName:\n            - Add user\n            - Delete user\n    condition: sel",
    );
    assert!(hit(&mut e, &rec(&[("OperationName", "ADD USER")])));
    assert!(hit(&mut e, &rec(&[("OperationName", "delete user")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add user x")])));
    assert!(!hit(&mut e, &rec(&[])));
}

#[test]
fn contains_startswith_endswith_and_all() {
    let mut e = audit("    sel:\n        OperationName|contains: member\n    condition: sel");
    assert!(hit(
        &mut e,
        &rec(&[("OperationName", "Add MEMBER to role")])
    ));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add user")])));
    let mut e = audit("    sel:\n        OperationName|startswith: add\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "Add user")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Readd")])));
    let mut e = audit("    sel:\n        OperationName|endswith: USER\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "Add user")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "user add")])));
    let mut e = audit(
        "    sel:\n        OperationName|contains|all:\n            - add\n            - role\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[("OperationName", "Add member to role")])
    ));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add member")])));
}

#[test]
fn wildcards_and_escapes() {
    let mut e = audit("    sel:\n        OperationName: 'Add * to ?ole'\n    condition: sel");
    assert!(hit(
        &mut e,
        &rec(&[("OperationName", "add member to role")])
    ));
    assert!(!hit(
        &mut e,
        &rec(&[("OperationName", "add member to roles")])
    ));
    let mut e = audit("    sel:\n        OperationName: 'a\\*b'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "A*B")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "axxb")])));
}

#[test]
fn cased_modifier() {
    let mut e = audit("    sel:\n        OperationName|cased: Add user\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "Add user")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "add user")])));
    let mut e = audit("    sel:\n        OperationName|contains|cased: User\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "Add User")])));
    assert!(!hit(&mut e, &rec(&[("OperationName", "Add user")])));
}

#[test]
fn regex_and_its_flags() {
    let mut e =
        audit("    sel:\n        OperationName|re: '^Add (user|member)$'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "Add member")])));
    // `re` is case-sensitive without `i`.
    assert!(!hit(&mut e, &rec(&[("OperationName", "add member")])));
    let mut e =
        audit("    sel:\n        OperationName|re|i: '^add (user|member)$'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("OperationName", "ADD MEMBER")])));
    let mut e = audit("    sel:\n        ResultDescription|re|m: '^second$'\n    condition: sel");
    assert!(hit(
        &mut e,
        &rec(&[("ResultDescription", "first\nsecond\nthird")])
    ));
    let mut e2 = audit("    sel:\n        ResultDescription|re: '^second$'\n    condition: sel");
    assert!(!hit(
        &mut e2,
        &rec(&[("ResultDescription", "first\nsecond\nthird")])
    ));
    let mut e =
        audit("    sel:\n        ResultDescription|re|s: 'first.second'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("ResultDescription", "first\nsecond")])));
    let mut e2 =
        audit("    sel:\n        ResultDescription|re: 'first.second'\n    condition: sel");
    assert!(!hit(
        &mut e2,
        &rec(&[("ResultDescription", "first\nsecond")])
    ));
}

#[test]
fn base64_base64offset_and_utf16_variants() {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut e = audit("    sel:\n        ResultDescription|base64: 'whoami'\n    condition: sel");
    assert!(hit(&mut e, &rec(&[("ResultDescription", &b64(b"whoami"))])));
    assert!(!hit(&mut e, &rec(&[("ResultDescription", "whoami")])));
    // Base64 is case-sensitive.
    assert!(!hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(b"whoami").to_lowercase())])
    ));
    let mut e = audit(
        "    sel:\n        ResultDescription|base64offset|contains: '/bin/bash'\n    condition: sel",
    );
    for prefix in ["", "x", "xy", "xyz"] {
        let text = b64(format!("{prefix}/bin/bash -c id").as_bytes());
        assert!(
            hit(&mut e, &rec(&[("ResultDescription", &text)])),
            "offset {}",
            prefix.len()
        );
    }
    assert!(!hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(b"/bin/sh -c id"))])
    ));
    let utf16le = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let utf16be = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<u8>>()
    };
    let mut e = audit(
        "    sel:\n        ResultDescription|utf16le|base64offset|contains: 'ping'\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(&utf16le("cmd /c ping 1")))])
    ));
    assert!(!hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(&utf16le("cmd /c pong 1")))])
    ));
    // Big-endian "ping" is the little-endian bytes one byte later: only the byte order inside a
    // character tells them apart, so check a value whose first byte is not shared.
    assert!(!hit(&mut e, &rec(&[("ResultDescription", &b64(b"ping"))])));
    let mut e = audit(
        "    sel:\n        ResultDescription|wide|base64offset|contains: 'ping'\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(&utf16le("xping")))])
    ));
    let mut e = audit(
        "    sel:\n        ResultDescription|utf16be|base64offset|contains: 'ping'\n    condition: sel",
    );
    assert!(hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(&utf16be("a ping")))])
    ));
    let mut e =
        audit("    sel:\n        ResultDescription|utf16|base64: 'ping'\n    condition: sel");
    let mut bom = vec![0xFF, 0xFE];
    bom.extend(utf16le("ping"));
    assert!(hit(&mut e, &rec(&[("ResultDescription", &b64(&bom))])));
    assert!(!hit(
        &mut e,
        &rec(&[("ResultDescription", &b64(&utf16le("ping")))])
    ));
}

#[test]
fn windash() {
    let mut e =
        audit("    sel:\n        ResultDescription|windash|contains: ' -enc '\n    condition: sel");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            hit(
                &mut e,
                &rec(&[("ResultDescription", &format!("powershell {dash}enc AAA"))])
            ),
            "{dash}"
        );
    }
    assert!(!hit(
        &mut e,
        &rec(&[("ResultDescription", "powershell enc AAA")])
    ));
}

#[test]
fn cidr_v4_and_v6() {
    let d = "    sel:\n        IPAddress|cidr:\n            - 10.0.0.0/8\n            - 2001:db8::/32\n    condition: sel";
    let mut e = engine_for("signinlogs", d, EngineConfig::default());
    let s = |ip: &str| common::with(Category::SignInLogs, &[("IPAddress", ip)]);
    assert!(hit(&mut e, &s("10.20.30.40")));
    assert!(hit(&mut e, &s("2001:db8:abcd::1")));
    assert!(!hit(&mut e, &s("11.0.0.1")));
    assert!(!hit(&mut e, &s("2001:db9::1")));
    assert!(!hit(&mut e, &s("not an ip")));
}
