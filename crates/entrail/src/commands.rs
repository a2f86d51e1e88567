//! Command dispatch and the small commands (init, validate, run, import, status, quarantine).

use crate::cli::{Cli, Command, QuarantineAction};
use crate::output;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::{Config, Pipeline};
use sources::file::{FileSource, FileSourceConfig, Progress};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Runs the command; `Ok` carries the exit code.
pub(crate) fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { ref path, force } => init(path, force),
        Command::Validate => validate(&cli),
        Command::Run { ref every } => run(&cli, every.as_deref()),
        Command::Import {
            ref paths,
            ref category,
            ref shape,
            ref source,
            quiet,
        } => {
            let mut pipeline = Pipeline::open(load_config(&cli)?)?;
            import(
                &mut pipeline,
                paths.clone(),
                category.as_deref(),
                shape.as_deref(),
                source,
                quiet,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query {
            ref sql,
            format,
            all_revisions,
        } => crate::query::run(&load_config(&cli)?.data_dir, sql, format, all_revisions),
        Command::Status { json } => status(&cli, json),
        Command::Clock { ref action } => crate::health::clock(&load_config(&cli)?, action),
        Command::Silence {
            json,
            ref history,
            event_time,
            ref at,
        } => crate::silence::run(
            &load_config(&cli)?,
            &crate::silence::SilenceArgs {
                json,
                history: history.clone(),
                event_time,
                at: at.clone(),
            },
        ),
        Command::Coverage {
            json,
            fix,
            ref to,
            ref event_hub_name,
            yes,
        } => crate::coverage::run(
            &load_config(&cli)?,
            &crate::coverage::CoverageArgs {
                json,
                fix,
                to: to.clone(),
                event_hub_name: event_hub_name.clone(),
                yes,
            },
        ),
        Command::Rules {
            action: crate::cli::RulesAction::Check { ref dir },
        } => rules_check(dir),
        Command::Backfill {
            ref since,
            ref categories,
            quiet,
        } => crate::collect::backfill(
            Pipeline::open(load_config(&cli)?)?,
            since,
            categories,
            quiet,
        ),
        Command::Quarantine { ref action } => quarantine(&cli, action),
        Command::Demo {
            users,
            days,
            seed,
            ref dir,
            source,
        } => match source {
            crate::demo_sources::DemoSource::Graph => crate::demo::run(users, days, seed, dir),
            other => crate::demo_sources::run(other, users, days, seed, dir),
        },
        Command::Bench { ref which } => crate::bench::run(which),
        Command::Hunt(ref args) => crate::hunt::run(&load_config(&cli)?.data_dir, args),
        Command::Replay(ref args) => crate::replay::run(load_config(&cli)?, args),
        Command::Report(ref args) => crate::report::run(&load_config(&cli)?, args),
        Command::Alerts { ref action } => crate::alerts::run(&load_config(&cli)?.data_dir, action),
        Command::Verify {
            ref from,
            ref to,
            json,
            ref published,
            ref head,
        } => {
            // `--head`: the given heads, written where `--published` reads them.
            let heads = head.as_deref().map(crate::health::head_file).transpose()?;
            crate::verify::verify(
                &cli,
                from.as_deref(),
                to.as_deref(),
                json,
                heads.as_ref().map(|h| h.path()).or(published.as_deref()),
            )
        }
        Command::Retention {
            action: crate::verify::RetentionAction::Plan { json },
        } => crate::verify::retention_plan(&cli, json),
        Command::Integrity {
            action: crate::verify::IntegrityAction::Keygen { ref dir },
        } => crate::verify::keygen(dir),
    }
}

/// Loads and validates the config (file, then `--data-dir`). Config errors exit with code 2.
pub(crate) fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = cli
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("entrail.toml")).filter(|p| p.exists()));
    let raw = match &path {
        Some(p) => {
            let file = std::fs::File::open(p)
                .with_context(|| format!("reading config {}", p.display()))?;
            let bytes = model::limits::read_capped(file, 1 << 20)
                .with_context(|| format!("reading config {}", p.display()))?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("config {} is not UTF-8", p.display()))?;
            pipeline::config::parse(&text).map_err(|e| config_exit(p, vec![e]))?
        }
        None => pipeline::RawConfig::default(),
    };
    let mut config = raw
        .validate()
        .map_err(|errors| config_exit(path.as_deref().unwrap_or(Path::new("defaults")), errors))?;
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

fn config_exit(path: &Path, errors: Vec<pipeline::ConfigError>) -> anyhow::Error {
    eprintln!("{}: {} problem(s)", path.display(), errors.len());
    for e in &errors {
        eprintln!("  {e}");
    }
    std::process::exit(2)
}

fn init(path: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if path.exists() && !force {
        bail!("{} exists; use --force to overwrite", path.display());
    }
    std::fs::write(path, pipeline::config::EXAMPLE_CONFIG)
        .with_context(|| format!("writing {}", path.display()))?;
    output::line(&format!(
        "wrote {} (every key with its default; see docs/configuration.md)",
        path.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn validate(cli: &Cli) -> anyhow::Result<ExitCode> {
    let c = load_config(cli)?;
    output::line(&format!(
        "config ok: data_dir {}, {} source(s), {} sink(s)",
        c.data_dir.display(),
        c.sources.len(),
        c.sinks.len()
    ));
    Ok(ExitCode::SUCCESS)
}

fn run(cli: &Cli, every: Option<&str>) -> anyhow::Result<ExitCode> {
    let every = every
        .map(humantime::parse_duration)
        .transpose()
        .context("--every")?;
    let mut pipeline = Pipeline::open(load_config(cli)?)?;
    // `[metrics]`: /metrics and /healthz for as long as the run lasts (docs/metrics.md).
    let metrics = pipeline.serve_metrics()?;
    if let Some(m) = &metrics {
        output::line(&format!("metrics: http://{}/metrics", m.local_addr()));
    }
    let collector = pipeline.collector()?;
    if !collector.is_empty() {
        return crate::collect::run(pipeline, collector, every);
    }
    match every {
        Some(d) => crate::collect::repeat(pipeline, d),
        None => {
            crate::collect::pass(&mut pipeline, false)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Imports files into the pipeline's data directory with a progress bar, then archives.
pub(crate) fn import(
    pipeline: &mut Pipeline,
    paths: Vec<String>,
    category: Option<&str>,
    shape: Option<&str>,
    source: &str,
    quiet: bool,
) -> anyhow::Result<pipeline::ImportReport> {
    let mut cfg = FileSourceConfig::new(source, paths);
    cfg.category = category
        .map(|c| {
            model::Category::from_name(c)
                .with_context(|| format!("--category: unknown category {c:?}"))
        })
        .transpose()?;
    cfg.shape = shape
        .map(|s| {
            model::Shape::parse(s).with_context(|| {
                format!("--shape: unknown shape {s:?} (graph, diagnostic, log_analytics)")
            })
        })
        .transpose()?;
    let file_source = FileSource::new(cfg)?;
    let progress = Progress::default();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(file_source.total_bytes())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} importing [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = std::thread::scope(|s| {
        let ticker = s.spawn(|| {
            while !bar.is_finished() {
                bar.set_position(progress.bytes());
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let report = pipeline.import(&file_source, progress.clone());
        bar.set_position(progress.bytes());
        bar.finish_and_clear();
        let _ = ticker.join();
        report
    })?;
    let a = pipeline.archive()?;
    if !quiet {
        output::line(&format!(
            "imported {} file(s), {}: {} records, {} appended ({} revisions), {} exact duplicates dropped, {} quarantined; {} archived",
            report.files,
            output::bytes(report.bytes),
            report.records,
            report.outcome.appended,
            report.outcome.revisions,
            report.outcome.duplicates,
            report.outcome.quarantined,
            a.records
        ));
        if report.outcome.quarantined > 0 {
            output::line("see them with `entrail quarantine list`");
        }
    }
    Ok(report)
}

fn status(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let mut pipeline = Pipeline::open(load_config(cli)?)?;
    let s = pipeline.status()?;
    if json {
        output::line(&serde_json::to_string_pretty(&s)?);
    } else {
        output::print_status(&s);
    }
    Ok(ExitCode::SUCCESS)
}

fn rules_check(dir: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(dir.is_dir(), "{}: not a directory", dir.display());
    let (set, diagnostics) = detect::RuleSet::load_dir(dir);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == detect::Severity::Error)
        .count();
    for d in &diagnostics {
        output::line(&d.to_string());
    }
    output::line(&format!(
        "{} rules and {} correlations loaded; {errors} error(s), {} warning(s)",
        set.len(),
        set.correlations().len(),
        diagnostics.len() - errors
    ));
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn quarantine(cli: &Cli, action: &QuarantineAction) -> anyhow::Result<ExitCode> {
    let mut pipeline = Pipeline::open(load_config(cli)?)?;
    match action {
        QuarantineAction::List { all } => {
            let mut hub = pipeline.hub();
            let q = hub.quarantine();
            output::print_quarantine(q.entries().iter().filter(|e| *all || !e.resolved));
        }
        QuarantineAction::Show { id } => {
            let mut hub = pipeline.hub();
            let q = hub.quarantine();
            let e = q
                .get(*id)
                .with_context(|| format!("no quarantine item {id}"))?;
            output::print_quarantine_entry(e);
        }
        QuarantineAction::Retry {
            ids,
            category,
            shape,
        } => {
            let category = category
                .as_deref()
                .map(|c| {
                    model::Category::from_name(c).with_context(|| format!("unknown category {c:?}"))
                })
                .transpose()?;
            let shape = shape
                .as_deref()
                .map(|s| model::Shape::parse(s).with_context(|| format!("unknown shape {s:?}")))
                .transpose()?;
            let (ok, failed) = retry(&mut pipeline, ids, category, shape)?;
            output::line(&format!(
                "{ok} item(s) decoded and ingested, {failed} still failing"
            ));
            if ok > 0 {
                pipeline.archive()?;
            }
            if failed > 0 {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn retry(
    pipeline: &mut Pipeline,
    ids: &[u64],
    category: Option<model::Category>,
    shape: Option<model::Shape>,
) -> anyhow::Result<(u64, u64)> {
    let entries: Vec<_> = pipeline
        .hub()
        .quarantine()
        .entries()
        .iter()
        .filter(|e| !e.resolved && (ids.is_empty() || ids.contains(&e.id)))
        .cloned()
        .collect();
    for id in ids {
        if !entries.iter().any(|e| e.id == *id) {
            bail!("no open quarantine item {id}");
        }
    }
    let (mut ok, mut failed) = (0, 0);
    let now = chrono::Utc::now().timestamp_micros();
    for e in entries {
        let cx = model::normalize::DecodeContext {
            source: e.rejected.position.source.clone(),
            location: e.rejected.position.location.clone(),
            ingest_time: now,
            category: category.or_else(|| {
                e.rejected
                    .category
                    .as_deref()
                    .and_then(model::Category::from_name)
            }),
            shape,
        };
        let decoded = std::str::from_utf8(&e.rejected.raw)
            .map_err(|err| format!("not UTF-8: {err}"))
            .and_then(|text| {
                model::normalize::decode_record(text, &cx).map_err(|err| err.to_string())
            });
        match decoded {
            Ok(records) => {
                pipeline.ingest(records, Vec::new())?;
                pipeline.hub().quarantine().resolve(e.id)?;
                ok += 1;
            }
            Err(reason) => {
                output::line(&format!("item {}: still fails: {reason}", e.id));
                failed += 1;
            }
        }
    }
    pipeline.hub().checkpoint()?;
    Ok((ok, failed))
}
