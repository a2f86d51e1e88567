//! `entrail verify`, `entrail retention plan` and `entrail integrity keygen`: tamper evidence and retention
//! from the command line (docs/integrity.md).

use crate::cli::Cli;
use crate::commands::load_config;
use crate::output;
use anyhow::{Context, bail};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use store::seal::{VerifyOptions, VerifyReport};

/// `entrail retention ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RetentionAction {
    /// What retention will delete and when: per partition (table, day) files, rows, bytes, the date it
    /// becomes deletable, and whether a legal hold keeps it.
    Plan {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `entrail integrity ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum IntegrityAction {
    /// Generate an Ed25519 key pair: `<dir>/signing.pem` (PKCS#8, mode 0600) signs checkpoints,
    /// `<dir>/verify.pem` (SPKI) verifies them. Keep the signing key away from whoever can write the data
    /// directory, and the verify key where `entrail verify` runs.
    Keygen {
        /// Directory for the two files (created).
        #[arg(long, default_value = "entrail-keys")]
        dir: PathBuf,
    },
}

/// `entrail verify`: exit 0 when everything is as sealed, 1 on any finding.
pub(crate) fn verify(
    cli: &Cli,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
    published: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let integrity = config.integrity.clone().unwrap_or_default();
    let verify_key = integrity
        .verify_key_file
        .as_deref()
        .map(store::seal::load_verifying_key)
        .transpose()?;
    let now = chrono::Utc::now();
    let time = |s: Option<&str>, flag: &str| -> anyhow::Result<Option<i64>> {
        s.map(|s| {
            crate::collect::parse_since(s, now)
                .map(|t| t.timestamp_micros())
                .with_context(|| format!("--{flag}"))
        })
        .transpose()
    };
    let opts = VerifyOptions {
        data_dir: config.data_dir.clone(),
        verify_key,
        published: published
            .map(Path::to_path_buf)
            .or(integrity.publish_file.clone()),
        from_us: time(from, "from")?,
        to_us: time(to, "to")?,
    };
    if !config.data_dir.is_dir() {
        bail!(
            "data directory {} does not exist",
            config.data_dir.display()
        );
    }
    let started = Instant::now();
    let report = store::seal::verify(&opts)?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        output::line(&serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &opts, secs);
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(r: &VerifyReport, opts: &VerifyOptions, secs: f64) {
    let signed = if r.signatures_checked {
        format!(
            "signed through entry {} ({} unsigned after it)",
            r.signed_through, r.unsigned_tail
        )
    } else {
        "signatures NOT checked: set [integrity] verify_key_file to detect a rewritten chain"
            .to_owned()
    };
    output::line(&format!(
        "chain: {} entries, {} checkpoints, {signed}",
        r.entries, r.checkpoints
    ));
    match &opts.published {
        Some(p) => output::line(&format!(
            "published heads: {} compared ({})",
            r.published_heads,
            p.display()
        )),
        None => output::line("published heads: none configured ([integrity] publish_file)"),
    }
    output::line(&format!(
        "files: {} checked, {} hashed in {secs:.2} s ({:.0} MiB/s)",
        r.files_checked,
        output::bytes(r.bytes_hashed),
        r.bytes_hashed as f64 / (1024.0 * 1024.0) / secs.max(1e-9)
    ));
    if !r.deleted_by_policy.is_empty() {
        output::line(&format!(
            "deleted by policy (OK): {}",
            r.deleted_by_policy.len()
        ));
        for d in &r.deleted_by_policy {
            output::line(&format!(
                "  ok {} deleted by policy ({}; {}), chain entry {}",
                d.path, d.reason, d.detail, d.seq
            ));
        }
    }
    if r.findings.is_empty() {
        output::line("OK: every sealed file is as sealed, and nothing unsealed was found");
    } else {
        output::line(&format!("FINDINGS: {}", r.findings.len()));
        for f in &r.findings {
            output::line(&format!("  {f}"));
        }
    }
}

/// `entrail retention plan`.
pub(crate) fn retention_plan(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let pipeline = pipeline::Pipeline::open(load_config(cli)?)?;
    let archive = pipeline.open_archive()?;
    let now = chrono::Utc::now();
    let plan = archive.retention_plan(now);
    let status = |p: &store::archive::PlannedDeletion| {
        if p.legal_hold {
            "kept: legal hold".to_owned()
        } else if p.due {
            "due now".to_owned()
        } else {
            format!("in {} days", (p.delete_after - now).num_days())
        }
    };
    if json {
        for p in &plan {
            output::line(
                &serde_json::json!({
                    "table": p.table, "day": p.day, "files": p.files, "rows": p.rows,
                    "bytes": p.bytes, "retention_days": p.retention_days,
                    "delete_after": p.delete_after.to_rfc3339(), "due": p.due,
                    "legal_hold": p.legal_hold, "status": status(p),
                })
                .to_string(),
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if plan.is_empty() {
        output::line("nothing will be deleted: no archived category has a finite retention");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "table",
        "day",
        "files",
        "rows",
        "bytes",
        "retention",
        "deletable after",
        "status",
    ]);
    for p in &plan {
        t.add_row(vec![
            p.table.clone(),
            p.day.clone(),
            p.files.to_string(),
            p.rows.to_string(),
            output::bytes(p.bytes),
            format!("{} days", p.retention_days),
            p.delete_after.format("%Y-%m-%d %H:%M UTC").to_string(),
            status(p),
        ]);
    }
    output::line(&t.to_string());
    let due: Vec<_> = plan.iter().filter(|p| p.due).collect();
    output::line(&format!(
        "{} partition(s) due now ({} rows, {}); the next `entrail run`/`import` deletes them and records each deletion in the integrity chain",
        due.len(),
        due.iter().map(|p| p.rows).sum::<u64>(),
        output::bytes(due.iter().map(|p| p.bytes).sum())
    ));
    Ok(ExitCode::SUCCESS)
}

/// `entrail integrity keygen`.
pub(crate) fn keygen(dir: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let private = dir.join("signing.pem");
    let public = dir.join("verify.pem");
    let id = store::seal::generate_key_pair(&private, &public)?;
    output::line(&format!(
        "wrote {} (private, 0600) and {} (public); key id {id}\nadd to entrail.toml:\n[integrity]\nsigning_key_file = {:?}\nverify_key_file = {:?}",
        private.display(),
        public.display(),
        private.display().to_string(),
        public.display().to_string()
    ));
    Ok(ExitCode::SUCCESS)
}
