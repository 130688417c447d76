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
