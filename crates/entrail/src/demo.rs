//! `entrail demo`: a simulated tenant's day, end to end, on a machine with no Azure. The tenant is served over
//! HTTP on loopback (token endpoint and Microsoft Graph, with throttling): the Graph categories are collected
//! through it like from the real service. The categories Graph does not serve are exported as Event Hubs
//! bodies and Log Analytics rows (with Microsoft's quirks, late republications and duplicates) and imported.
//! Everything is archived and checked against the ground truth; three example queries and what to try next
//! close it.

use crate::output;
use crate::query::{block_on, sql_batches};
use anyhow::{Context, bail};
use pipeline::Pipeline;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MARKER: &str = ".entrail-demo";

/// Which file and shape each category is exported in: most as Event Hubs bodies (diagnostic settings), some
/// as Graph pages and Log Analytics rows, as they come from the three ways of getting them.
fn shape_for(category: &str) -> sim::Shape {
    match category {
        "MicrosoftGraphActivityLogs" | "ADFSSignInLogs" => sim::Shape::LogAnalytics,
        _ => sim::Shape::Diagnostic,
    }
}

/// An open export file and the records waiting to be written as one body or page.
type ExportFile = (std::io::BufWriter<std::fs::File>, Vec<serde_json::Value>);

struct Exports {
    dir: PathBuf,
    files: BTreeMap<(String, &'static str), ExportFile>,
}

impl Exports {
    fn push(
        &mut self,
        category: &str,
        shape: sim::Shape,
        value: serde_json::Value,
    ) -> anyhow::Result<()> {
        let kind = match shape {
            sim::Shape::Graph => "graph",
            sim::Shape::Diagnostic => "eventhub",
            sim::Shape::LogAnalytics => "loganalytics",
        };
        let key = (category.to_owned(), kind);
        if !self.files.contains_key(&key) {
            let path = self
                .dir
                .join(format!("{kind}-{}.json", category.to_ascii_lowercase()));
            let file = std::fs::File::create(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            self.files
                .insert(key.clone(), (std::io::BufWriter::new(file), Vec::new()));
        }
        let Some((w, pending)) = self.files.get_mut(&key) else {
            return Ok(());
        };
        if kind == "loganalytics" {
            serde_json::to_writer(&mut *w, &value)?;
            w.write_all(b"\n")?;
            return Ok(());
        }
        pending.push(value);
        if pending.len() >= 100 {
            flush(kind, w, pending)?;
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        for ((_, kind), (w, pending)) in &mut self.files {
            flush(kind, w, pending)?;
            w.flush()?;
        }
        Ok(())
    }
}

/// One line per batch: `{"records":[...]}` like an Event Hubs message, or `{"value":[...]}` like a Graph page.
fn flush(
    kind: &str,
    w: &mut impl Write,
    pending: &mut Vec<serde_json::Value>,
) -> anyhow::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let field = if kind == "graph" { "value" } else { "records" };
    let mut body = serde_json::Map::new();
    if kind == "graph" {
        body.insert(
            "@odata.context".into(),
            "https://graph.microsoft.com/v1.0/$metadata#auditLogs".into(),
        );
    }
    body.insert(
        field.into(),
        serde_json::Value::Array(std::mem::take(pending)),
    );
    serde_json::to_writer(&mut *w, &body)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Empties `dir` if it holds an earlier demo (refuses any other directory), creates it with its marker.
pub(crate) fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            bail!(
                "{} exists and is not an earlier demo; choose another --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "entrail demo directory; `entrail demo` replaces it\n",
    )?;
    Ok(())
}

pub(crate) fn run(users: u32, days: u32, seed: u64, dir: &Path) -> anyhow::Result<ExitCode> {
    prepare_dir(dir)?;
    let exports = dir.join("exports");
    std::fs::create_dir_all(&exports)?;

    let cfg = sim::TenantConfig {
        seed,
        users,
        days,
        attacks: true,
        ..sim::TenantConfig::default()
    };
    output::line(&format!(
        "simulating {users} users for {days} day(s) from {} (seed {seed}) ...",
        cfg.start.format("%Y-%m-%d")
    ));
    let served = crate::demo_graph::start(&cfg)?;
    let tenant = sim::Tenant::new(&cfg);
    // Graph categories come over HTTP; the rest as exports.
    let exported: Vec<sim::Category> = sim::Category::ALL
        .iter()
        .copied()
        .filter(|c| !sim::server::GRAPH_CATEGORIES.contains(c))
        .collect();
    let mut generator = sim::Generator::new(&tenant, &cfg)
        .with_categories(&exported)
        .with_truth(true);
    let mut files = Exports {
        dir: exports.clone(),
        files: BTreeMap::new(),
    };
    for event in generator.by_ref() {
        let shape = shape_for(event.category);
        if let Some(v) = sim::render(&event, shape, cfg.quirks, &tenant) {
            files.push(event.category, shape, v)?;
        }
    }
    files.finish()?;
    let truth = generator
        .into_truth()
        .context("the generator kept no ground truth")?;

    let text = format!(
        "data_dir = {:?}\n{}",
        dir.join("data").display().to_string(),
        crate::demo_graph::source_toml(
            &served.server,
            &crate::demo_graph::demo_limits(),
            "graph",
            &[]
        )
    );
    // Detection with the built-in analytics (docs/alerts.md): the demo prints the alerts it raised.
    let text = format!("{text}\n[detection]\n");
    let config = pipeline::config::parse(&text)?
        .validate()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut pipeline = Pipeline::open(config)?;
    let (graph_truth, _) = crate::demo_graph::collect(&served, &pipeline, cfg.start)?;
    let report = crate::commands::import(
        &mut pipeline,
        vec![exports.display().to_string()],
        None,
        None,
        "demo",
        false,
    )?;

    // Per category: what the generator made vs what the archive holds.
    let status = pipeline.status()?;
    let mut t = output::table(&[
        "category",
        "table",
        "generated",
        "appended",
        "revisions",
        "duplicates",
        "archived keys",
        "check",
    ]);
    let mut all_ok = true;
    let mut expected_by = expected_by_category(&truth);
    for (name, t) in &graph_truth.categories {
        let category = model::Category::from_name(name)
            .with_context(|| format!("the tenant served an unknown category {name}"))?;
        let e = expected_by.entry(category).or_default();
        e.0 += t.records;
        e.1 += t.ids.len() as u64;
    }
    for (c, (emitted, expected)) in &expected_by {
        let s = status.categories.iter().find(|s| s.category == c.name());
        let sql = format!("SELECT count(*) AS n FROM {}", c.table());
        let batches = block_on(sql_batches(&dir.join("data"), &sql, false))??;
        let archived = count(&batches);
        let ok = archived == *expected;
        all_ok &= ok;
        t.add_row(vec![
            c.name().to_owned(),
            c.table().to_owned(),
            emitted.to_string(),
            s.map_or(0, |s| s.appended).to_string(),
            s.map_or(0, |s| s.revisions).to_string(),
            s.map_or(0, |s| s.duplicates).to_string(),
            archived.to_string(),
            if ok {
                "ok".into()
            } else {
                format!("expected {expected}")
            },
        ]);
    }
    output::line(&t.to_string());
    output::line(&format!(
        "imported {} in {} records; quarantine: {} item(s)",
        output::bytes(report.bytes),
        report.records,
        status.quarantine_open
    ));

    let d = dir.join("data");
    examples(&d)?;
    crate::alerts::demo(&mut pipeline, &d)?;
    output::line(&format!(
        "\nTry next:\n  entrail -d {0} status\n  entrail -d {0} query \"SELECT * FROM AuditLogs LIMIT 3\" --format json\n  entrail -d {0} query \"SELECT _Key, _Revision, RiskLevelDuringSignIn FROM SigninLogs WHERE _Revision > 0 LIMIT 5\" --all-revisions\n  entrail -d {0} quarantine list\n  entrail -d {0} import <your exported files>\n  entrail init   # then edit entrail.toml and `entrail run`",
        d.display()
    ));
    if !all_ok {
        bail!("the archive does not match the generator's ground truth (see the check column)");
    }
    Ok(ExitCode::SUCCESS)
}

/// The three example queries of the demo, with the command that runs each.
pub(crate) fn examples(data: &Path) -> anyhow::Result<()> {
    let examples = [
        (
            "Top IP addresses by failed interactive sign-ins",
            "SELECT IPAddress, count(*) AS failures, count(DISTINCT UserPrincipalName) AS users FROM SigninLogs WHERE ResultType <> '0' GROUP BY IPAddress ORDER BY failures DESC LIMIT 5",
        ),
        (
            "Directory changes by operation",
            "SELECT OperationName, count(*) AS n FROM AuditLogs GROUP BY OperationName ORDER BY n DESC LIMIT 5",
        ),
        (
            "Sign-ins per hour, all kinds",
            "SELECT date_trunc('hour', _EventTime) AS hour, count(*) AS n FROM (SELECT _EventTime FROM SigninLogs UNION ALL SELECT _EventTime FROM AADNonInteractiveUserSignInLogs UNION ALL SELECT _EventTime FROM AADServicePrincipalSignInLogs) GROUP BY 1 ORDER BY n DESC LIMIT 5",
        ),
    ];
    for (title, sql) in examples {
        output::line(&format!(
            "\n{title}:\n  entrail -d {} query \"{sql}\"",
            data.display()
        ));
        let batches = block_on(sql_batches(data, sql, false))??;
        output::line(&store::query::format_table(&batches)?);
    }
    Ok(())
}

/// The single count of a `SELECT count(*)` result.
pub(crate) fn count(batches: &[store::query::RecordBatch]) -> u64 {
    use store::query::AsArray;
    batches
        .iter()
        .filter(|b| b.num_rows() > 0)
        .filter_map(|b| {
            b.column(0)
                .as_primitive_opt::<store::query::Int64Type>()
                .map(|a| a.value(0))
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
        .sum()
}

/// Per archive category: (records the generator emitted, records the archive should hold once each) from the
/// ground truth. The generator names Activity Log categories (Administrative, ...) and resource-log categories
/// by their own diagnostic names; the archive files them under AzureActivity and AzureDiagnostics.
pub(crate) fn expected_by_category(
    truth: &sim::GroundTruth,
) -> BTreeMap<model::Category, (u64, u64)> {
    let mut expected_by: BTreeMap<model::Category, (u64, u64)> = BTreeMap::new();
    for (name, t) in &truth.categories {
        let category =
            model::Category::from_name(name).unwrap_or(model::Category::ResourceDiagnostics);
        let expected = if t.flow_tuples > 0 {
            t.flow_tuples
        } else if t.id_field.is_some() {
            t.distinct_ids
        } else {
            t.originals
        };
        let e = expected_by.entry(category).or_default();
        e.0 += t.emitted;
        e.1 += expected;
    }
    expected_by
}
