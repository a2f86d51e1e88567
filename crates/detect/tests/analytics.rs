//! The built-in Entra analytics, one test each: password spray, brute force on one account, MFA fatigue,
//! impossible travel, multiple countries in a window, success after multiple failures.
#![allow(clippy::unwrap_used)]

mod common;

use detect::{Engine, EngineConfig, Match, RuleSet};
use model::{Category, Record, Value};

const MIN: i64 = 60_000_000;

struct SignIn<'a> {
    user: &'a str,
    ip: &'a str,
    code: &'a str,
    minute: i64,
    country: &'a str,
    lat: f64,
    lon: f64,
    status: &'a str,
}

impl Default for SignIn<'_> {
    fn default() -> Self {
        SignIn {
            user: "alice@contoso.example",
            ip: "20.1.1.1",
            code: "0",
            minute: 0,
            country: "US",
            lat: 47.6,
            lon: -122.3,
            status: "",
        }
    }
}

fn rec(s: SignIn<'_>, key: &str) -> Record {
    let mut r = common::record(
        Category::SignInLogs,
        key,
        1_709_800_000_000_000 + s.minute * MIN,
    );
    let set = |r: &mut Record, c: &str, v: Value| common::set(r, c, v);
    set(&mut r, "UserPrincipalName", Value::String(s.user.into()));
    set(&mut r, "IPAddress", Value::String(s.ip.into()));
    set(&mut r, "ResultType", Value::String(s.code.into()));
    set(&mut r, "Location", Value::String(s.country.into()));
    let loc = format!(
        r#"{{"countryOrRegion":"{}","geoCoordinates":{{"latitude":{},"longitude":{}}}}}"#,
        s.country, s.lat, s.lon
    );
    set(&mut r, "LocationDetails", Value::Dynamic(loc));
    let status = serde_json::json!({ "errorCode": s.code.parse::<i64>().unwrap_or(0), "additionalDetails": s.status });
    set(&mut r, "Status", Value::Dynamic(status.to_string()));
    r
}

fn engine() -> Engine {
    Engine::new(
        &RuleSet::new(),
        EngineConfig {
            builtin_analytics: true,
            ..EngineConfig::default()
        },
    )
}

fn fired(e: &mut Engine, r: &Record, id: &str) -> Option<Match> {
    e.evaluate(r).find(|m| &*m.rule_id == id)
}

#[test]
fn builtin_rules_load_clean() {
    let set = detect::analytics::builtin_rules();
    assert_eq!(set.rules().len(), 4);
    assert_eq!(set.correlations().len(), 4);
    assert!(set.check().is_empty());
}

#[test]
fn password_spray() {
    let mut e = engine();
    let id = "entrail-builtin-password-spray";
    for i in 0..4 {
        let user = format!("u{i}@contoso.example");
        let r = rec(
            SignIn {
                user: &user,
                ip: "6.6.6.6",
                code: "50126",
                minute: i,
                ..SignIn::default()
            },
            &format!("k{i}"),
        );
        assert!(fired(&mut e, &r, id).is_none());
    }
    // The same four users again: still four distinct accounts.
    let r = rec(
        SignIn {
            user: "u0@contoso.example",
            ip: "6.6.6.6",
            code: "50126",
            minute: 5,
            ..SignIn::default()
        },
        "k5",
    );
    assert!(fired(&mut e, &r, id).is_none());
    let r = rec(
        SignIn {
            user: "u9@contoso.example",
            ip: "6.6.6.6",
            code: "50053",
            minute: 6,
            ..SignIn::default()
        },
        "k6",
    );
    let m = fired(&mut e, &r, id).unwrap();
    let c = m.correlation.unwrap();
    assert_eq!(c.count, 5);
    assert_eq!(c.group, [("IPAddress".to_owned(), "6.6.6.6".to_owned())]);
    assert!(m.tags.iter().any(|t| t == "attack.t1110.003"));
}

#[test]
fn brute_force_on_one_account() {
    let mut e = engine();
    let id = "entrail-builtin-brute-force";
    for i in 0..9 {
        let r = rec(
            SignIn {
                code: "50126",
                minute: i,
                ..SignIn::default()
            },
            &format!("k{i}"),
        );
        assert!(fired(&mut e, &r, id).is_none());
    }
    let r = rec(
        SignIn {
            code: "50126",
            minute: 9,
            ..SignIn::default()
        },
        "k9",
    );
    assert_eq!(
        fired(&mut e, &r, id)
            .unwrap()
            .correlation
            .unwrap()
            .evidence
            .len(),
        10
    );
    // Spread over hours, ten failures never fire.
    let mut e = engine();
    for i in 0..12 {
        let r = rec(
            SignIn {
                code: "50126",
                minute: i * 30,
                ..SignIn::default()
            },
            &format!("s{i}"),
        );
        assert!(fired(&mut e, &r, id).is_none());
    }
}

#[test]
fn mfa_fatigue() {
    let mut e = engine();
    let id = "entrail-builtin-mfa-fatigue";
    let denied = |i: i64| {
        rec(
            SignIn {
                code: "500121",
                minute: i,
                status: "MFA denied; user declined the authentication",
                ..SignIn::default()
            },
            &format!("m{i}"),
        )
    };
    for i in 0..4 {
        assert!(fired(&mut e, &denied(i), id).is_none());
    }
    // A 500121 without a denial text does not count.
    let other = rec(
        SignIn {
            code: "500121",
            minute: 4,
            status: "Authentication failed",
            ..SignIn::default()
        },
        "x",
    );
    assert!(fired(&mut e, &other, id).is_none());
    assert!(fired(&mut e, &denied(5), id).is_some());
}

#[test]
fn multiple_countries_in_an_hour() {
    let mut e = engine();
    let id = "entrail-builtin-multiple-countries";
    let at = |country: &str, minute: i64, key: &str| {
        rec(
            SignIn {
                country,
                minute,
                lat: 47.6,
                lon: -122.3,
                ..SignIn::default()
            },
            key,
        )
    };
    assert!(fired(&mut e, &at("US", 0, "a"), id).is_none());
    assert!(fired(&mut e, &at("GB", 10, "b"), id).is_none());
    assert!(fired(&mut e, &at("US", 20, "c"), id).is_none());
    let m = fired(&mut e, &at("FR", 30, "d"), id).unwrap();
    assert_eq!(m.correlation.unwrap().count, 3);
    // A third country two hours later is outside the window.
    let mut e = engine();
    assert!(fired(&mut e, &at("US", 0, "a"), id).is_none());
    assert!(fired(&mut e, &at("GB", 10, "b"), id).is_none());
    assert!(fired(&mut e, &at("FR", 130, "c"), id).is_none());
}

#[test]
fn impossible_travel() {
    let mut e = engine();
    let id = "entrail-builtin-impossible-travel";
    let seattle = rec(
        SignIn {
            minute: 0,
            ..SignIn::default()
        },
        "sea",
    );
    assert!(fired(&mut e, &seattle, id).is_none());
    // London one hour later: ~7,700 km/h.
    let london = rec(
        SignIn {
            minute: 60,
            country: "GB",
            lat: 51.5,
            lon: -0.1,
            ..SignIn::default()
        },
        "lon",
    );
    let m = fired(&mut e, &london, id).unwrap();
    let c = m.correlation.unwrap();
    assert_eq!(c.evidence, ["sea", "lon"]);
    assert!(c.count > 5000, "{} km/h", c.count);
    // Another user, or the same trip over a day, is fine.
    let mut e = engine();
    assert!(fired(&mut e, &seattle, id).is_none());
    let slow = rec(
        SignIn {
            minute: 14 * 60,
            country: "GB",
            lat: 51.5,
            lon: -0.1,
            ..SignIn::default()
        },
        "lon2",
    );
    assert!(fired(&mut e, &slow, id).is_none());
    let bob = rec(
        SignIn {
            user: "bob@contoso.example",
            minute: 61,
            country: "GB",
            lat: 51.5,
            lon: -0.1,
            ..SignIn::default()
        },
        "bob",
    );
    assert!(fired(&mut e, &bob, id).is_none());
    // A failed sign-in does not count as being there.
    let failed = rec(
        SignIn {
            code: "50126",
            minute: 62,
            country: "JP",
            lat: 35.7,
            lon: 139.7,
            ..SignIn::default()
        },
        "f",
    );
    assert!(fired(&mut e, &failed, id).is_none());
}

#[test]
fn success_after_multiple_failures_and_state_is_bounded() {
    let mut e = engine();
    let id = "entrail-builtin-success-after-failures";
    for i in 0..4 {
        let r = rec(
            SignIn {
                code: "50126",
                minute: i,
                ..SignIn::default()
            },
            &format!("f{i}"),
        );
        assert!(fired(&mut e, &r, id).is_none());
    }
    // Four failures then a success: not enough.
    assert!(
        fired(
            &mut e,
            &rec(
                SignIn {
                    minute: 5,
                    ..SignIn::default()
                },
                "ok0"
            ),
            id
        )
        .is_none()
    );
    for i in 0..5 {
        let r = rec(
            SignIn {
                code: "50053",
                minute: 6 + i,
                ..SignIn::default()
            },
            &format!("g{i}"),
        );
        assert!(fired(&mut e, &r, id).is_none());
    }
    let m = fired(
        &mut e,
        &rec(
            SignIn {
                minute: 12,
                ..SignIn::default()
            },
            "ok1",
        ),
        id,
    )
    .unwrap();
    let c = m.correlation.unwrap();
    assert_eq!(c.count, 5);
    assert_eq!(c.evidence.last().unwrap(), "ok1");
    // Failures older than the window do not count.
    let mut e = engine();
    for i in 0..5 {
        let r = rec(
            SignIn {
                code: "50126",
                minute: i,
                ..SignIn::default()
            },
            &format!("o{i}"),
        );
        e.evaluate(&r).count();
    }
    assert!(
        fired(
            &mut e,
            &rec(
                SignIn {
                    minute: 60,
                    ..SignIn::default()
                },
                "late"
            ),
            id
        )
        .is_none()
    );
    // Bounded: at most max_groups users.
    let mut e = Engine::new(
        &RuleSet::new(),
        EngineConfig {
            builtin_analytics: true,
            max_groups: 10,
            ..EngineConfig::default()
        },
    );
    for i in 0..50 {
        let user = format!("u{i}@x");
        e.evaluate(&rec(
            SignIn {
                user: &user,
                code: "50126",
                minute: i,
                ..SignIn::default()
            },
            "k",
        ))
        .count();
    }
    assert!(e.analytics_users() <= 10, "{}", e.analytics_users());
    assert!(e.analytics_users() >= 1);
    // Four correlation rules, at most ten groups each.
    assert!(e.correlation_groups() <= 40);
}
