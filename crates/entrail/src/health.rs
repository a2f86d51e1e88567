//! entrail's own health: `entrail clock check` (the host clock against the `[clock]` SNTP servers, once),
//! what `entrail run` prints of each round of health checks (ingest lag, clock, silence: docs/lag.md), and
//! the ingest-lag, clock and silence sections of `entrail status`.

use crate::output;
use clap::Subcommand;
use pipeline::Status;
use std::process::ExitCode;

/// `entrail clock ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ClockAction {
    /// Measure the host clock against every `[clock] servers` entry (or `--server`) once with SNTP and print
    /// offset and round-trip delay per server; exit 1 when |offset| > `max_offset_ms` or no server answered.
    Check {
        /// Servers to ask instead of the configured ones (`host:port`, repeatable).
        #[arg(long)]
        server: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `entrail clock`.
pub(crate) fn clock(config: &pipeline::Config, action: &ClockAction) -> anyhow::Result<ExitCode> {
    let ClockAction::Check { server, json } = action;
    let mut c = config.watch.clock.clone();
    if !server.is_empty() {
        c.servers = Vec::new();
        for s in server {
            c.servers.push(
                pipeline::clock::server_address(s)
                    .ok_or_else(|| anyhow::anyhow!("--server {s}: not host:port"))?,
            );
        }
    }
    anyhow::ensure!(
        !c.servers.is_empty(),
        "no time server: set [clock] servers in the config or pass --server host:port"
    );
    let status = pipeline::clock::check(&c);
    // Kept for `entrail status` (the data directory may not exist yet on a fresh machine).
    if std::fs::create_dir_all(&config.data_dir).is_ok() {
        pipeline::clock::save_status(&config.data_dir, &status);
    }
    if *json {
        output::line(&serde_json::to_string_pretty(&status)?);
    } else {
        print_clock(&status);
    }
    Ok(if status.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_clock(c: &pipeline::clock::ClockStatus) {
    match c.offset_ms {
        Some(o) => output::line(&format!(
            "clock: offset {o:+.1} ms (round trip {:.1} ms, {}) at {}: {}",
            c.delay_ms.unwrap_or_default(),
            c.server.as_deref().unwrap_or("?"),
            c.checked_at,
            if c.ok {
                format!("ok (limit {:.0} ms)", c.max_offset_ms)
            } else {
                format!("OFF (limit {:.0} ms)", c.max_offset_ms)
            }
        )),
        None => output::line(&format!("clock: no server answered at {}", c.checked_at)),
    }
    let mut t = output::table(&["server", "offset ms", "delay ms", "stratum", "error"]);
    for s in &c.servers {
        t.add_row(vec![
            s.server.clone(),
            s.offset_ms.map(|o| format!("{o:+.1}")).unwrap_or_default(),
            s.delay_ms.map(|d| format!("{d:.1}")).unwrap_or_default(),
            s.stratum.map(|x| x.to_string()).unwrap_or_default(),
            s.error.clone().unwrap_or_default(),
        ]);
    }
    output::line(&t.to_string());
}

fn secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{:.1}m", s / 60.0)
    } else {
        format!("{:.1}h", s / 3600.0)
    }
}

/// The health sections of `entrail status`.
pub(crate) fn print_status(s: &Status) {
    if !s.lag.is_empty() {
        let mut t = output::table(&[
            "source",
            "category",
            "records",
            "p50",
            "p95",
            "p99",
            "max",
            "threshold",
            "future",
            "state",
        ]);
        for l in &s.lag {
            let state = match (l.lagging, l.future_alert) {
                (true, true) => "LAGGING, FUTURE",
                (true, false) => "LAGGING",
                (false, true) => "FUTURE",
                (false, false) => "ok",
            };
            t.add_row(vec![
                l.source.clone(),
                l.category.clone(),
                l.records.to_string(),
                secs(l.p50_s),
                secs(l.p95_s),
                secs(l.p99_s),
                secs(l.max_s),
                l.threshold_s.map_or_else(|| "off".into(), secs),
                l.future.to_string(),
                state.into(),
            ]);
        }
        output::line(&format!(
            "ingest lag (received - event time) over the last {} as of {}:",
            secs(s.lag.first().map_or(0, |l| l.window_s) as f64),
            s.lag.first().map_or("", |l| l.at.as_str())
        ));
        output::line(&t.to_string());
    }
    if let Some(c) = &s.clock {
        print_clock(c);
    }
    for p in &s.silent {
        output::line(&format!(
            "silent: {}/{} {} since {} ({} of {:.0} expected records)",
            p.source, p.category, p.kind, p.since, p.observed, p.expected
        ));
    }
}

/// Prints what a round of health checks in `entrail run` raised and delivered; with `keep_going` an error
/// is printed and retried next pass.
pub(crate) fn report_watch(
    result: Result<pipeline::watch::WatchReport, pipeline::PipelineError>,
    keep_going: bool,
) -> anyhow::Result<()> {
    let r = match result {
        Ok(r) => r,
        Err(e) if keep_going => {
            output::line(&format!(
                "health checks failed, retried next pass: {:#}",
                anyhow::Error::from(e)
            ));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = &r.clock
        && !c.ok
    {
        print_clock(c);
    }
    for a in &r.alerts {
        output::line(&format!(
            "health alert [{}] {}: {}",
            a.finding_info.analytic.uid, a.severity, a.message
        ));
    }
    for d in &r.deliveries {
        if let Some(e) = &d.error {
            output::line(&format!(
                "alerts -> {}: {} delivered, then failed (retried next pass, nothing skipped): {e}",
                d.destination, d.delivered
            ));
        }
    }
    Ok(())
}

/// Heads given to `entrail verify --head`, written to a temporary JSON-lines file (removed on drop).
pub(crate) struct HeadFile(std::path::PathBuf);

impl HeadFile {
    /// Where the heads are.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for HeadFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `--head`: JSON text when it starts with `{` or `[`, else a file; see [`pipeline::watch::parse_heads`].
pub(crate) fn head_file(arg: &str) -> anyhow::Result<HeadFile> {
    let text = if arg.trim_start().starts_with(['{', '[']) {
        arg.to_owned()
    } else {
        let file = std::fs::File::open(arg).map_err(|e| anyhow::anyhow!("--head {arg}: {e}"))?;
        let bytes = model::limits::read_capped(file, 64 << 20)
            .map_err(|e| anyhow::anyhow!("--head {arg}: {e}"))?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("--head {arg}: not UTF-8"))?
    };
    let heads = pipeline::watch::parse_heads(&text).map_err(|e| anyhow::anyhow!("--head: {e}"))?;
    let path = std::env::temp_dir().join(format!(
        "entrail-heads-{}-{}.jsonl",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    let mut body = String::new();
    for h in heads {
        body.push_str(&h.to_string());
        body.push('\n');
    }
    std::fs::write(&path, body).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(HeadFile(path))
}
