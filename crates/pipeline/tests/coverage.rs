//! Coverage against the simulated tenant's ARM: verdicts for a complete tenant, one missing required
//! categories, one whose setting was deleted, one exporting only to Log Analytics, a second setting with
//! storage retention, an unlicensed tenant, silence once records stop; and the fix, which the simulated ARM
//! validates against the documented schema, after which coverage passes.
#![allow(clippy::unwrap_used)]

use model::Category;
use pipeline::Pipeline;
use pipeline::coverage::{self, Report, Verdict};
use sim::server::{ArmConfig, ArmScenario, ServerConfig, SimServer};
use sources::arm::{ArmClient, DestinationKind};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::io::Write;
use std::path::Path;

const REQUIRED: [Category; 9] = [
    Category::AuditLogs,
    Category::SignInLogs,
    Category::ServicePrincipalSignInLogs,
    Category::ManagedIdentitySignInLogs,
    Category::AdfsSignInLogs,
    Category::RiskyUsers,
    Category::UserRiskEvents,
    Category::RiskyServicePrincipals,
    Category::ServicePrincipalRiskEvents,
];

struct Env {
    _dir: tempfile::TempDir,
    config: pipeline::Config,
    server: SimServer,
    rt: tokio::runtime::Runtime,
}

/// A simulated day of every category except `skip`, imported in its diagnostic-settings shape.
fn import_day(data: &Path, skip: &[&str]) -> pipeline::Config {
    let exports = data.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let cfg = sim::TenantConfig {
        users: 30,
        days: 1,
        ..sim::TenantConfig::default()
    };
    let tenant = sim::Tenant::new(&cfg);
    let mut out = std::fs::File::create(exports.join("day.json")).unwrap();
    for event in sim::Generator::new(&tenant, &cfg).with_truth(false) {
        if skip.contains(&event.category) {
            continue;
        }
        if let Some(v) = sim::render(&event, sim::Shape::Diagnostic, true, &tenant) {
            serde_json::to_writer(&mut out, &serde_json::json!({ "records": [v] })).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    drop(out);
    let text = format!("data_dir = {:?}\n", data.join("data").display().to_string());
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    let mut p = Pipeline::open(config.clone()).unwrap();
    let source = FileSource::new(FileSourceConfig::new(
        "test",
        vec![exports.join("day.json").display().to_string()],
    ))
    .unwrap();
    p.import(&source, Progress::default()).unwrap();
    p.hub().checkpoint().unwrap();
    config
}

/// A tenant in `scenario` and a data directory holding a fresh import (less `skip`), with `[coverage]`
/// using its own credentials (no Graph source: only exports count as a way in).
fn env(scenario: ArmScenario, skip: &[&str]) -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(SimServer::start(ServerConfig {
            arm: ArmConfig {
                scenario,
                ..ArmConfig::default()
            },
            tenant: sim::TenantConfig {
                users: 5,
                days: 1,
                ..sim::TenantConfig::default()
            },
            ..ServerConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let imported = import_day(dir.path(), skip);
    let text = format!(
        r#"data_dir = {data:?}
[coverage]
tenant_id = {tenant:?}
authority_host = {base:?}
arm_endpoint = {base:?}
resources = [{kv:?}]
silence_after = "6h"
auth = {{ type = "client_secret", client_id = {client:?}, secret = {secret:?} }}
"#,
        data = imported.data_dir.display().to_string(),
        tenant = sim::server::DEFAULT_TENANT_ID,
        base = server.base_url(),
        kv = sim::server::SIM_KEY_VAULT_ID,
        client = sim::server::DEFAULT_CLIENT_ID,
        secret = sim::server::DEFAULT_CLIENT_SECRET,
    );
    let config = pipeline::config::parse(&text).unwrap().validate().unwrap();
    Env {
        _dir: dir,
        config,
        server,
        rt,
    }
}

impl Env {
    fn check_at(&self, now: chrono::DateTime<chrono::Utc>) -> (coverage::Observed, Report) {
        let cov = self.config.coverage.as_ref().unwrap();
        let client = ArmClient::new(&cov.arm).unwrap();
        let observed = self.rt.block_on(coverage::observe(&client, cov));
        let received = coverage::received(&self.config.data_dir);
        let report = coverage::evaluate(&observed, &received, &|c| cov.silence_after(c), now);
        (observed, report)
    }

    fn check(&self) -> Report {
        self.check_at(chrono::Utc::now()).1
    }
}

fn row<'a>(r: &'a Report, scope: &str, c: Category) -> &'a coverage::Row {
    r.rows
        .iter()
        .find(|x| x.scope == scope && x.category == c.name())
        .unwrap_or_else(|| panic!("no row {scope} {c}: {r:#?}"))
}

fn verdicts(r: &Report, cats: &[Category]) -> Vec<Verdict> {
    cats.iter().map(|c| row(r, "tenant", *c).verdict).collect()
}

#[test]
fn complete_tenant_passes_with_activity_log_and_resource_rows() {
    let e = env(ArmScenario::Complete, &[]);
    let r = e.check();
    assert!(r.passed, "{r:#?}");
    assert!(r.errors.is_empty());
    assert_eq!(verdicts(&r, &REQUIRED), [Verdict::Pass; 9]);
    let signins = row(&r, "tenant", Category::SignInLogs);
    assert_eq!(signins.destinations[0].kind, DestinationKind::EventHub);
    assert_eq!(signins.destinations[0].setting, "entrail-eventhub");
    assert!(signins.records > 0 && signins.rate_per_day.unwrap() > 0.0);
    assert!(signins.last_received.is_some());
    let sub = format!("/subscriptions/{}", sim::server::SIM_SUBSCRIPTION_ID);
    assert_eq!(
        row(&r, &sub, Category::AzureActivity).verdict,
        Verdict::Pass
    );
    assert_eq!(
        row(
            &r,
            sim::server::SIM_KEY_VAULT_ID,
            Category::ResourceDiagnostics
        )
        .verdict,
        Verdict::Pass
    );
    // Silence: the same tenant seen a day later, nothing new received.
    let (_, later) = e.check_at(chrono::Utc::now() + chrono::TimeDelta::hours(24));
    assert!(!later.passed);
    let s = row(&later, "tenant", Category::SignInLogs);
    assert_eq!(s.verdict, Verdict::Silent, "{s:#?}");
    assert!(s.reason.contains("nothing received for"), "{}", s.reason);
    // Low-volume categories are not judged on arrival by default.
    assert_eq!(
        row(&later, "tenant", Category::RiskyUsers).verdict,
        Verdict::Pass
    );
}

#[test]
fn missing_required_categories_fail() {
    let e = env(ArmScenario::MissingRequired, &[]);
    let r = e.check();
    assert!(!r.passed);
    let missing: Vec<&str> = r
        .rows
        .iter()
        .filter(|x| {
            x.scope == "tenant"
                && x.verdict == Verdict::Missing
                && x.requirement != model::Requirement::Optional
        })
        .map(|x| x.category.as_str())
        .collect();
    assert_eq!(
        missing,
        [
            "ServicePrincipalSignInLogs",
            "ADFSSignInLogs",
            "RiskyUsers",
            "ProvisioningLogs"
        ]
    );
    let risky = row(&r, "tenant", Category::RiskyUsers);
    assert!(
        risky.reason.contains("no diagnostic setting exports it"),
        "{}",
        risky.reason
    );
    assert_eq!(risky.fix.as_deref(), Some(coverage::FIX_COMMAND));
}

#[test]
fn deleted_setting_and_log_analytics_only_are_missing_everything() {
    let e = env(ArmScenario::Deleted, &[]);
    let r = e.check();
    assert!(!r.passed);
    assert_eq!(verdicts(&r, &REQUIRED), [Verdict::Missing; 9]);
    e.server.arm_reset(ArmScenario::LogAnalyticsOnly);
    let r = e.check();
    assert!(!r.passed);
    for c in REQUIRED {
        let x = row(&r, "tenant", c);
        assert_eq!(x.verdict, Verdict::Missing);
        assert_eq!(x.destinations[0].kind, DestinationKind::LogAnalytics);
        assert!(
            x.reason.contains("exported only to log_analytics"),
            "{}",
            x.reason
        );
    }
}

#[test]
fn second_setting_shows_both_destinations_and_retention() {
    let e = env(ArmScenario::SecondSetting, &[]);
    let r = e.check();
    assert!(r.passed, "{r:#?}");
    let audit = row(&r, "tenant", Category::AuditLogs);
    let kinds: Vec<_> = audit
        .destinations
        .iter()
        .map(|d| (d.kind, d.retention_days))
        .collect();
    assert_eq!(
        kinds,
        [
            (DestinationKind::EventHub, None),
            (DestinationKind::Storage, Some(365))
        ]
    );
}

#[test]
fn unlicensed_categories_are_told_apart() {
    let skip = sim::server::P2_ONLY_CATEGORIES;
    let e = env(ArmScenario::NotLicensed, skip);
    let r = e.check();
    assert!(!r.passed);
    assert_eq!(
        verdicts(&r, &REQUIRED),
        [
            Verdict::Pass,
            Verdict::Pass,
            Verdict::Pass,
            Verdict::Pass,
            Verdict::Pass,
            Verdict::NotLicensed,
            Verdict::NotLicensed,
            Verdict::NotLicensed,
            Verdict::NotLicensed
        ]
    );
}

#[test]
fn fix_is_accepted_by_arm_and_then_coverage_passes() {
    let e = env(ArmScenario::Deleted, &[]);
    let (observed, before) = e.check_at(chrono::Utc::now());
    assert!(!before.passed);
    let cov = e.config.coverage.as_ref().unwrap();
    let plan = coverage::plan_fix(
        &before,
        &observed.entra,
        sim::server::SIM_EVENT_HUB_RULE_ID,
        Some("entra-logs"),
        &cov.fix_setting_name,
    )
    .unwrap()
    .unwrap();
    assert_eq!(plan.setting, "entrail");
    assert_eq!(plan.categories.len(), 15);
    let client = ArmClient::new(&cov.arm).unwrap();
    e.rt.block_on(client.put_entra_setting(&plan.setting, &plan.properties))
        .unwrap();
    // The simulated ARM validated and stored exactly the planned body.
    let snap = e.server.arm_snapshot();
    assert_eq!(snap["puts"][0]["body"], plan.body);
    let after = e.check();
    assert!(after.passed, "{after:#?}");
    assert_eq!(verdicts(&after, &REQUIRED), [Verdict::Pass; 9]);
    // Nothing left to fix.
    let (observed, report) = e.check_at(chrono::Utc::now());
    assert!(
        coverage::plan_fix(
            &report,
            &observed.entra,
            sim::server::SIM_EVENT_HUB_RULE_ID,
            None,
            "entrail"
        )
        .unwrap()
        .is_none()
    );
}
