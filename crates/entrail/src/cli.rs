//! The command line: every command and flag, documented in `docs/cli.md`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Collect, normalize, keep, detect and forward Entra ID and Azure security logs.
#[derive(Debug, Parser)]
#[command(name = "entrail", version, about)]
pub(crate) struct Cli {
    /// Config file (default: ./entrail.toml if it exists, else built-in defaults).
    #[arg(short, long, global = true, env = "ENTRAIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory, overriding `data_dir` from the config.
    #[arg(short, long, global = true, env = "ENTRAIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log progress details to stderr (or set ENTRAIL_LOG=debug).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// A text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a commented config file with every key and its default.
    Init {
        /// Where to write it.
        #[arg(default_value = "entrail.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check the config and report every problem at once.
    Validate,
    /// Read every configured source, then archive and feed the sinks.
    Run {
        /// Repeat every this often (e.g. `5m`) instead of running once.
        #[arg(long)]
        every: Option<String>,
    },
    /// Pull past data from the Graph sources: parallel time slices within the rate limits, resumable.
    Backfill {
        /// How far back: a duration before now (`30d`, `12h`) or an RFC 3339 time.
        #[arg(long)]
        since: String,
        /// Only these categories (comma-separated; default: every category of each Graph source).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Do not show progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Import exported files (JSON lines, JSON arrays, {"records":[...]}, Graph pages, CSV), then archive.
    Import {
        /// Files, directories or glob patterns.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Category of every record (default: detected per record).
        #[arg(long)]
        category: Option<String>,
        /// Wire shape of every record: graph, diagnostic, log_analytics (default: detected).
        #[arg(long)]
        shape: Option<String>,
        /// Source name recorded in `_Source`.
        #[arg(long, default_value = "import")]
        source: String,
        /// Do not show a progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Run SQL over the archive; tables are named as in Log Analytics (SigninLogs, AuditLogs, ...).
    Query {
        /// The SQL statement.
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Show every revision of a record, not only the latest per key.
        #[arg(long)]
        all_revisions: bool,
    },
    /// Show consumers, offsets and lag, per-category counts and the quarantine.
    Status {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// List, show and retry quarantined input.
    Quarantine {
        /// What to do.
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Generate a simulated tenant's day, ingest, archive and query it. Needs no Azure.
    Demo {
        /// Users in the simulated tenant.
        #[arg(long, default_value_t = 500)]
        users: u32,
        /// Simulated days.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Random seed (same seed, same data).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Directory for the demo's exports and data (replaced if it holds an earlier demo).
        #[arg(long, default_value = "entrail-demo")]
        dir: PathBuf,
        /// Where the day is collected from: `graph` (Graph over HTTP, the rest imported), `eventhub` (mock
        /// Kafka cluster), `blob` (Azurite) or `all` (the three at once into one pipeline).
        #[arg(long, value_enum, default_value = "graph")]
        source: crate::demo_sources::DemoSource,
    },
    /// Is every required log exported and arriving? Reads diagnostic settings through ARM; one row per
    /// category with its verdict (pass, missing, silent, not_licensed). Exit 0 only when every required
    /// category passes.
    Coverage {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Show the diagnostic-setting change (the ARM PUT) that exports the missing categories, and apply it
        /// after confirmation.
        #[arg(long, requires = "to")]
        fix: bool,
        /// Destination of the fix: an event hub authorization rule id or a storage account id.
        #[arg(long)]
        to: Option<String>,
        /// Event hub name for an event hub destination (default: one hub per category).
        #[arg(long)]
        event_hub_name: Option<String>,
        /// Apply the fix without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Run Sigma rules over the archive (or `--input` files): a backtest with a results table (docs/alerts.md).
    Hunt(crate::hunt::HuntArgs),
    /// Send a time range of the archive to one sink again, through its routes; resumable.
    Replay(crate::replay::ReplayArgs),
    /// Volume and cost per category and sink (`report volume`), or one self-contained HTML page with
    /// coverage, volume charts, ingest lag, alerts and sink volume (`report --html <file>`); docs/report.md.
    Report(crate::report::ReportArgs),
    /// List and show the alerts detection raised (docs/alerts.md).
    Alerts {
        /// What to do.
        #[command(subcommand)]
        action: crate::alerts::AlertsAction,
    },
    /// The host clock against the `[clock]` time servers (SNTP, docs/lag.md).
    Clock {
        /// What to do.
        #[command(subcommand)]
        action: crate::health::ClockAction,
    },
    /// Is each category still arriving from each source? Learns the expected volume per hour of week from
    /// the archive and replays the last day; exit 1 when one is silent now.
    Silence {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How much history teaches the baseline (at least 48h of it per source and category).
        #[arg(long, default_value = "14d")]
        history: String,
        /// Count records by event time instead of the time entrail received them.
        #[arg(long)]
        event_time: bool,
        /// Judge as of this RFC 3339 time instead of now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Sigma detection rules.
    Rules {
        /// What to do.
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Benchmarks over generated data (run with a release build).
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        which: crate::bench::BenchCommand,
    },
    /// Recompute the integrity chain and every sealed file; report each file or record range edited,
    /// removed, inserted, reordered or truncated, and any rewritten chain. Exit 1 on any finding.
    Verify {
        /// Only files sealed (log segments) or holding events (Parquet) from this time: `30d` or RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// ... up to this time.
        #[arg(long)]
        to: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Published heads file to compare with (default: `[integrity] publish_file`).
        #[arg(long)]
        published: Option<PathBuf>,
        /// A chain head kept outside (JSON text, or a file of heads or `entrail.chain_head` alerts) to
        /// compare with the chain instead of `--published`: `chain_rewritten` when they differ.
        #[arg(long, conflicts_with = "published")]
        head: Option<String>,
    },
    /// Archive retention.
    Retention {
        /// What to do.
        #[command(subcommand)]
        action: crate::verify::RetentionAction,
    },
    /// Integrity chain keys.
    Integrity {
        /// What to do.
        #[command(subcommand)]
        action: crate::verify::IntegrityAction,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesAction {
    /// Parse and lint every Sigma rule under a directory: one line per problem (file, rule, what); a bad rule
    /// never stops the others from loading. Exit 1 when any rule was not loaded.
    Check {
        /// Directory of `.yml` / `.yaml` rules (searched recursively).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum QuarantineAction {
    /// List quarantined items.
    List {
        /// Include resolved items.
        #[arg(long)]
        all: bool,
    },
    /// Show one item with its raw bytes.
    Show {
        /// Item id.
        id: u64,
    },
    /// Decode items again (after fixing the cause) and ingest the ones that now decode.
    Retry {
        /// Item ids (default: every open item).
        ids: Vec<u64>,
        /// Decode with this category.
        #[arg(long)]
        category: Option<String>,
        /// Decode with this shape.
        #[arg(long)]
        shape: Option<String>,
    },
}
