//! `run` with API sources (Graph tails on async tasks while archive and sinks run on this thread) and
//! `backfill` (parallel time slices with a progress bar per category).

use crate::output;
use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pipeline::Pipeline;
use pipeline::collect::Collector;
use sources::file::Progress;
use sources::graph::{BackfillProgress, CancellationToken, PollReport};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How often a running collector writes its status snapshot.
const STATUS_EVERY: Duration = Duration::from_secs(10);

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// One pass (no `every`): a window per Graph category up to now, file sources, archive, sinks. With
/// `every`: Graph tails run continuously; files, archive and sinks every `every`, until Ctrl-C / SIGTERM.
pub(crate) fn run(
    mut pipeline: Pipeline,
    collector: Collector,
    every: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let Some(every) = every else {
        // Windows back to back until every category reached now (or failed: it is retried next run).
        let mut failed = false;
        loop {
            let polls = rt.block_on(collector.poll_once())?;
            failed |= print_polls(&polls);
            let behind = polls
                .iter()
                .flat_map(|(_, r)| &r.categories)
                .any(|c| c.error.is_none() && !c.caught_up);
            if !behind {
                break;
            }
        }
        pass(&mut pipeline, false)?;
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    };
    let shutdown = CancellationToken::new();
    let collector = Arc::new(collector);
    let tail = {
        let (c, s) = (collector.clone(), shutdown.clone());
        rt.spawn(async move { c.run_tail(s, STATUS_EVERY).await })
    };
    cancel_on_signal(&rt, &shutdown);
    loop {
        pass(&mut pipeline, true)?;
        if tail.is_finished() {
            break;
        }
        if sleep_unless_cancelled(&rt, &shutdown, every) {
            break;
        }
    }
    shutdown.cancel();
    let r = rt.block_on(tail).context("collector task")?;
    // Whatever the tails delivered last is archived before exit.
    pass(&mut pipeline, true)?;
    r?;
    Ok(ExitCode::SUCCESS)
}

/// `run --every` with file sources only: a pass every `every` until Ctrl-C / SIGTERM, then one last pass
/// (files, archive, sinks) before exit.
pub(crate) fn repeat(mut pipeline: Pipeline, every: Duration) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let shutdown = CancellationToken::new();
    cancel_on_signal(&rt, &shutdown);
    loop {
        pass(&mut pipeline, true)?;
        if sleep_unless_cancelled(&rt, &shutdown, every) {
            break;
        }
    }
    pass(&mut pipeline, true)?;
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
fn cancel_on_signal(rt: &tokio::runtime::Runtime, shutdown: &CancellationToken) {
    let s = shutdown.clone();
    rt.spawn(async move {
        stop_signal().await;
        s.cancel();
    });
}

/// Sleeps for `every`; true when `shutdown` was cancelled first.
fn sleep_unless_cancelled(
    rt: &tokio::runtime::Runtime,
    shutdown: &CancellationToken,
    every: Duration,
) -> bool {
    rt.block_on(async {
        tokio::select! {
            () = shutdown.cancelled() => true,
            () = tokio::time::sleep(every) => false,
        }
    })
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// File sources once, then archive, sinks and log trimming, each reported. With `keep_going` (a repeating
/// run) a failing sink is reported and tried again next pass (its offset has not moved) instead of ending
/// the run.
pub(crate) fn pass(pipeline: &mut Pipeline, keep_going: bool) -> anyhow::Result<()> {
    for (id, r) in pipeline.run_sources(Progress::default())? {
        output::line(&format!(
            "source {id}: {} files, {} records, {} appended, {} duplicates, {} quarantined",
            r.files, r.records, r.outcome.appended, r.outcome.duplicates, r.outcome.quarantined
        ));
    }
    let a = pipeline.archive()?;
    output::line(&format!(
        "archive: {} records archived (offset {} -> {})",
        a.records, a.from, a.to
    ));
    match pipeline.drain_sinks() {
        Ok(reports) => {
            for (id, r) in reports {
                output::line(&format!(
                    "sink {id}: {} records delivered (offset {} -> {})",
                    r.records, r.from, r.to
                ));
            }
        }
        Err(e) if keep_going => {
            output::line(&format!(
                "sink error, retried next pass (nothing skipped): {:#}",
                anyhow::Error::from(e)
            ));
        }
        Err(e) => return Err(e.into()),
    }
    crate::alerts::report_detection(pipeline.detect(), keep_going)?;
    crate::health::report_watch(pipeline.watch(), keep_going)?;
    pipeline.trim_log()?;
    Ok(())
}

/// Prints one line per category; true when any category failed.
fn print_polls(polls: &[(String, PollReport)]) -> bool {
    let mut failed = false;
    for (id, report) in polls {
        for c in &report.categories {
            let a = &c.accepted;
            let mut line = format!(
                "source {id} {}: {} pages, {} records ({} new, {} revised, {} duplicate, {} quarantined)",
                c.category, c.pages, c.seen, a.new, a.revised, a.duplicates, a.quarantined
            );
            if let Some(e) = &c.error {
                failed = true;
                line.push_str(&format!("; FAILED: {e}"));
            }
            output::line(&line);
        }
    }
    failed
}

/// `entrail backfill`: every Graph source's categories (or those named) from `since` to where the tail
/// starts, with a progress bar per category, then archive. Resumable: run it again after a crash.
pub(crate) fn backfill(
    mut pipeline: Pipeline,
    since: &str,
    categories: &[String],
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let collector = pipeline.collector()?;
    anyhow::ensure!(
        !collector.is_empty(),
        "no Graph source is configured: add a [[sources]] type = \"graph\" section (docs/configuration.md)"
    );
    let cats = categories
        .iter()
        .map(|c| model::Category::from_name(c).with_context(|| format!("unknown category {c:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rt = runtime()?;
    let now = rt
        .block_on(collector.sources()[0].sync_clock())
        .context("reaching the first Graph source")?;
    let since = parse_since(since, now)?;
    let progress: Vec<Arc<BackfillProgress>> = collector
        .sources()
        .iter()
        .map(|_| Arc::new(BackfillProgress::new()))
        .collect();
    let reports = with_progress(&rt, &progress, quiet, || {
        rt.block_on(collector.backfill(since, &cats, &progress))
    })?;
    let mut failed = false;
    for (id, r) in &reports {
        for c in &r.categories {
            let a = &c.accepted;
            let mut line = format!(
                "backfill {id} {}: {} pages, {} records ({} new, {} revised, {} duplicate, {} quarantined), {} slices{}",
                c.category,
                c.pages,
                c.records,
                a.new,
                a.revised,
                a.duplicates,
                a.quarantined,
                c.slices_done,
                if c.resumed_seconds > 0 {
                    format!(" ({}s resumed from an earlier run)", c.resumed_seconds)
                } else {
                    String::new()
                }
            );
            if let Some(e) = &c.error {
                failed = true;
                line.push_str(&format!("; FAILED: {e}"));
            }
            output::line(&line);
        }
    }
    pass(&mut pipeline, false)?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `work` while progress bars (unless `quiet`) show `progress`.
pub(crate) fn with_progress<T>(
    rt: &tokio::runtime::Runtime,
    progress: &[Arc<BackfillProgress>],
    quiet: bool,
    work: impl FnOnce() -> T,
) -> T {
    let done = CancellationToken::new();
    let display = (!quiet).then(|| rt.spawn(show_progress(progress.to_vec(), done.clone())));
    let result = work();
    done.cancel();
    if let Some(h) = display {
        let _ = rt.block_on(h);
    }
    result
}

/// `30d`, `12h` (before `now`) or an RFC 3339 time.
pub(crate) fn parse_since(since: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(since) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = humantime::parse_duration(since).with_context(|| {
        format!("--since {since:?}: neither a duration (30d) nor an RFC 3339 time")
    })?;
    Ok(now - chrono::TimeDelta::from_std(d).context("--since is too long")?)
}

async fn show_progress(progress: Vec<Arc<BackfillProgress>>, done: CancellationToken) {
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:32} [{bar:30}] {percent:>3}% {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut bars: BTreeMap<String, ProgressBar> = BTreeMap::new();
    loop {
        for p in progress.iter().flat_map(|p| p.snapshot()) {
            let bar = bars.entry(p.category.clone()).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(1000));
                b.set_style(style.clone());
                b.set_prefix(p.category.clone());
                b
            });
            let frac = if p.total_seconds > 0 {
                p.done_seconds as f64 / p.total_seconds as f64
            } else {
                1.0
            };
            bar.set_position((frac * 1000.0) as u64);
            let eta = p
                .eta_seconds
                .map(|s| humantime::format_duration(Duration::from_secs(s as u64)).to_string())
                .unwrap_or_else(|| "?".into());
            bar.set_message(format!(
                "{} records, {:.0}/s, ETA {eta}{}",
                p.records,
                p.records_per_s,
                p.error
                    .as_deref()
                    .map(|e| format!(", error: {e}"))
                    .unwrap_or_default()
            ));
        }
        tokio::select! {
            () = done.cancelled() => break,
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    for b in bars.values() {
        b.finish();
    }
}
