//! Every category in one simulated day of a 500-user tenant, with the right ids.

use std::collections::BTreeMap;

use super::cfg;
use crate::{Category, EventKind, Generator, Tenant};

#[test]
fn every_category_in_one_day_of_a_500_user_tenant() {
    let c = cfg(500, 1, 42);
    let tenant = Tenant::new(&c);
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut g = Generator::new(&tenant, &c).with_truth(false);
    for ev in g.by_ref() {
        *counts.entry(ev.category).or_default() += 1;
        let cat = Category::from_name(ev.category).unwrap();
        if ev.kind == EventKind::Original {
            match cat.id_field() {
                Some(f) => assert!(
                    ev.id().is_some_and(|id| !id.is_empty()),
                    "{} lacks {f}",
                    ev.category
                ),
                None => assert!(ev.envelope.is_some(), "{} has no envelope", ev.category),
            }
        }
        match cat {
            Category::AuditLogs => {
                let id = ev.id().unwrap();
                assert!(
                    id.split('_').count() == 4
                        && id.contains(ev.graph["correlationId"].as_str().unwrap()),
                    "{id}"
                );
            }
            Category::SignInLogs | Category::NonInteractiveUserSignInLogs => {
                assert_eq!(ev.id().unwrap().len(), 36);
                assert!(ev.graph["location"]["geoCoordinates"]["latitude"].is_f64());
                assert!(ev.graph["status"]["errorCode"].is_u64());
            }
            Category::AdfsSignInLogs => {
                assert_eq!(ev.graph["tokenIssuerType"], "ADFederationServices")
            }
            Category::UserRiskEvents => assert_eq!(ev.id().unwrap().len(), 64),
            _ => {}
        }
    }
    for cat in Category::ALL {
        assert!(
            counts.get(cat.name()).copied().unwrap_or(0) > 0,
            "{} not produced: {counts:?}",
            cat.name()
        );
    }
    let interactive = counts["SignInLogs"] as f64;
    let non_interactive = counts["NonInteractiveUserSignInLogs"] as f64;
    let ratio = non_interactive / interactive;
    assert!(
        (5.0..=10.0).contains(&ratio),
        "non-interactive/interactive = {ratio}"
    );
    assert!(interactive > 1000.0, "{interactive}");
}

#[test]
fn risky_state_follows_its_detection() {
    let run = super::small_day();
    for ev in run.events.iter().filter(|e| e.category == "RiskyUsers") {
        let user = ev.graph["id"].as_str().unwrap();
        assert!(
            run.events.iter().any(|d| d.category == "UserRiskEvents"
                && d.graph["userId"] == user
                && d.seed == ev.seed),
            "RiskyUsers {user} without a detection"
        );
    }
}
