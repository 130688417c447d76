//! The command line as the user typed it (clap only). `commands` turns it into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps a multi-site server deployment recoverable.
///
/// Declare in KDL what must be backed up, how often, where copies live and what the standby
/// site must mirror; standby reads the declaration, compares it with reality and reports what
/// is missing, stale or out of sync.
#[derive(Debug, Parser)]
#[command(
    name = "standby",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory holding the desired state: every *.kdl file in it, read in name order.
    #[arg(long, global = true, value_name = "DIR", default_value = "desired")]
    pub desired: PathBuf,

    /// Directory of standby's own state: observed.json, catalog.json.
    #[arg(long, global = true, value_name = "DIR", default_value = "state")]
    pub state: PathBuf,

    /// When to colour output. `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only problems: no summary line when all is well.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse the desired state and check every name and reference in it.
    ///
    /// Reports every mistake at once, each with its file, line and column. Exits 0 when the
    /// desired state is valid, 1 when it has errors. Nothing is written.
    Validate(ValidateArgs),

    /// Observe the backup stores and filesets and save what was seen.
    ///
    /// Lists every declared store and fileset source, hashes new and changed backup files
    /// (cached in state/catalog.json) and writes the snapshot to state/observed.json, which
    /// `plan --observed` and `check --observed` can read later without access to the sites.
    Discover(DiscoverArgs),

    /// Show what is wrong and the actions that would fix it.
    ///
    /// Exits 0 unless an error stops it; with --detailed-exitcode, 0 when in sync, 2 when
    /// there are warning or critical findings or planned actions, 1 on error.
    Plan(PlanArgs),

    /// Check that everything is backed up, fresh and copied; for CI and monitoring.
    ///
    /// Exits 0 when in sync (info findings alone are in sync), 2 on warning or critical
    /// findings, 1 on error.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// How much backup content to re-read: `changed` (new and changed files only), `full`
    /// (everything: finds silent corruption), `N/T` (slice N of T, so T runs cover every
    /// file) or `none` (no reading: unknown files stay unverified).
    #[arg(long, value_name = "MODE", default_value = "changed")]
    pub verify: crate::observe::VerifyMode,

    /// Evaluate freshness as of this time (RFC 3339, e.g. 2026-11-22T06:00:00Z) instead of
    /// now. For reproducing a past run, or planning against a saved snapshot.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub observe: ObserveArgs,

    /// Where to write the snapshot (default: observed.json in the state directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Read the observation from FILE (written by `discover`) instead of observing now.
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,

    /// Only addresses matching GLOB, and everything below them (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub target: Vec<String>,

    #[command(flatten)]
    pub observe: ObserveArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit 2 when there is drift or anything to do, 0 when in sync.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Summary line, findings grouped by site, then actions.
    Table,
    /// `format_version`, `summary`, `findings`, `ignored` (and `actions` for plan).
    Json,
    /// Summary first, details collapsible: for a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format: `table` for people (diagnostics on stderr), `json` for editors and CI.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Table)]
    pub format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Table,
    Json,
}
