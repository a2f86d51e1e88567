//! `entrail`: collect, normalize, keep, detect and forward Entra ID and Azure security logs.
//! The binary is thin: it parses the command line, loads the config, calls into `pipeline` and `store`,
//! prints, and maps errors to exit codes (0 ok, 1 failure, 2 bad usage or config).
mod alerts;
mod bench;
mod bench_blob;
mod bench_eventhubs;
mod bench_graph;
mod bench_hunt;
mod bench_ingest;
mod bench_log;
mod bench_query;
mod bench_seal;
mod bench_sinks;
mod bench_syslog;
mod cli;
mod collect;
mod commands;
mod coverage;
mod demo;
mod demo_graph;
mod demo_sources;
mod health;
mod hunt;
mod hunt_columns;
mod output;
mod query;
mod replay;
mod report;
mod silence;
mod verify;

use clap::Parser;

/// mimalloc: decoding and archiving allocate many short-lived strings; the system allocator cost ~15% of
/// ingest CPU in profiles (docs/benchmarks.md). The `system-alloc` feature leaves it out, so that heap profilers
/// that hook `malloc` (heaptrack) see every allocation.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENTRAIL_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(if cli.verbose { "info" } else { "warn" })
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
