//! `entrail coverage [--json] [--fix --to <id> [--event-hub-name <hub>] [--yes]]`: is every required log
//! exported and arriving? Exit 0 only when every required category passes (docs/coverage.md).

use crate::output;
use anyhow::Context;
use pipeline::coverage::{self, Report, Verdict};
use sources::arm::ArmClient;
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// What `entrail coverage` was asked.
#[derive(Debug, Clone)]
pub(crate) struct CoverageArgs {
    /// Print JSON.
    pub json: bool,
    /// Propose (and apply) the fix.
    pub fix: bool,
    /// The destination of the fix.
    pub to: Option<String>,
    /// The event hub name for an event hub destination.
    pub event_hub_name: Option<String>,
    /// Apply without asking.
    pub yes: bool,
}

pub(crate) fn run(config: &pipeline::Config, args: &CoverageArgs) -> anyhow::Result<ExitCode> {
    let Some(cov) = config.coverage.as_ref() else {
        eprintln!(
            "coverage needs ARM credentials: add a [[sources]] type = \"graph\" section or a [coverage] table with tenant_id and auth (docs/coverage.md)"
        );
        return Ok(ExitCode::from(2));
    };
    if args.fix && args.to.is_none() {
        eprintln!("--fix needs --to <event hub authorization rule id | storage account id>");
        return Ok(ExitCode::from(2));
    }
    let rt = crate::collect::runtime()?;
    let client = ArmClient::new(&cov.arm).context("building the ARM client")?;
    let check = |rt: &tokio::runtime::Runtime| {
        let observed = rt.block_on(coverage::observe(&client, cov));
        let received = coverage::received(&config.data_dir);
        let report = coverage::evaluate(
            &observed,
            &received,
            &|c| cov.silence_after(c),
            chrono::Utc::now(),
        );
        (observed, report)
    };
    let (observed, report) = check(&rt);
    if !args.fix {
        print(&report, args.json)?;
        return Ok(exit(&report));
    }
    let to = args.to.as_deref().unwrap_or_default();
    let plan = coverage::plan_fix(
        &report,
        &observed.entra,
        to,
        args.event_hub_name.as_deref(),
        &cov.fix_setting_name,
    )?;
    if !args.json {
        print(&report, false)?;
    }
    let Some(plan) = plan else {
        if args.json {
            let doc = serde_json::json!({"fix": null, "applied": false, "coverage": report});
            output::line(&serde_json::to_string_pretty(&doc)?);
        } else {
            output::line("nothing to fix: no required or recommended category is missing");
        }
        return Ok(exit(&report));
    };
    let url = format!(
        "{}/{}?api-version={}",
        cov.arm.endpoint.trim_end_matches('/'),
        plan.path,
        sources::arm::AADIAM_API_VERSION
    );
    let summary = format!(
        "{} diagnostic setting {:?} to export {}",
        if plan.existing { "update" } else { "create" },
        plan.setting,
        plan.categories.join(", ")
    );
    let fix_doc = serde_json::json!({
        "method": "PUT", "url": url, "setting": plan.setting, "existing": plan.existing,
        "categories": plan.categories, "body": plan.body,
    });
    if args.json {
        eprintln!("{summary}");
    } else {
        // The exact request, so it can be reviewed or applied by other means.
        output::line(&format!("{summary}:"));
        output::line(&format!("PUT {url}"));
        output::line(&serde_json::to_string_pretty(&plan.body)?);
    }
    if !args.yes && !confirm("apply this change?")? {
        eprintln!("not applied");
        if args.json {
            let doc = serde_json::json!({"fix": fix_doc, "applied": false, "coverage": report});
            output::line(&serde_json::to_string_pretty(&doc)?);
        }
        return Ok(ExitCode::from(1));
    }
    rt.block_on(client.put_entra_setting(&plan.setting, &plan.properties))
        .with_context(|| format!("applying diagnostic setting {:?}", plan.setting))?;
    let (_, after) = check(&rt);
    if args.json {
        let doc = serde_json::json!({"fix": fix_doc, "applied": true, "coverage": after});
        output::line(&serde_json::to_string_pretty(&doc)?);
    } else {
        output::line("applied; coverage now:");
        print(&after, false)?;
    }
    Ok(exit(&after))
}

fn exit(r: &Report) -> ExitCode {
    if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Asks on stderr, reads y/N from stdin.
fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn print(r: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        output::line(&serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let mut t = output::table(&[
        "scope",
        "category",
        "requirement",
        "exported to",
        "retention",
        "last received",
        "rate/day",
        "verdict",
        "reason / fix",
    ]);
    for row in &r.rows {
        let dests: Vec<String> = row
            .destinations
            .iter()
            .map(|d| format!("{} ({})", d.kind.label(), d.setting))
            .collect();
        let retention: Vec<String> = row
            .destinations
            .iter()
            .map(|d| match d.retention_days {
                Some(0) => "forever".to_owned(),
                Some(n) => format!("{n}d"),
                None => "-".to_owned(),
            })
            .collect();
        let scope = if row.scope.len() > 40 {
            format!("…{}", &row.scope[row.scope.len() - 39..])
        } else {
            row.scope.clone()
        };
        let mut why = row.reason.clone();
        if let Some(f) = &row.fix {
            why.push_str("\nfix: ");
            why.push_str(f);
        }
        t.add_row(vec![
            scope,
            row.category.clone(),
            format!("{:?}", row.requirement).to_lowercase(),
            if dests.is_empty() {
                "-".to_owned()
            } else {
                dests.join("\n")
            },
            retention.join("\n"),
            row.last_received
                .clone()
                .unwrap_or_else(|| "never".to_owned()),
            row.rate_per_day
                .map(|r| format!("{r:.0}"))
                .unwrap_or_else(|| "-".to_owned()),
            row.verdict.label().to_owned(),
            why,
        ]);
    }
    output::line(&t.to_string());
    for e in &r.errors {
        output::line(&format!("error: {e}"));
    }
    let count = |v: Verdict| r.rows.iter().filter(|x| x.verdict == v).count();
    output::line(&format!(
        "{}: {} pass, {} missing, {} silent, {} not licensed",
        if r.passed {
            "PASS (every required category passes)"
        } else {
            "FAIL"
        },
        count(Verdict::Pass),
        count(Verdict::Missing),
        count(Verdict::Silent),
        count(Verdict::NotLicensed)
    ));
    Ok(())
}
